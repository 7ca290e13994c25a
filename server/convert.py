"""Completion results -> LSP items, with ranges in the client's position encoding."""

from __future__ import annotations

import keyword

from lsprotocol import types

from nib.model.text.lexeme import literal
from nib.server.protocol import Wire

K = types.CompletionItemKind
# An incomplete list's names sent at most: the editor asks again as the name grows, and the rest
# (of jedi's ~200 names in scope at a name), rarely chosen, cost the server and the editor time
# to write and read every keystroke (clangd's --limit-results is 100 too).
ITEMS_SENT = 100
KINDS = {
    "module": K.Module,
    "class": K.Class,
    "instance": K.Variable,
    "function": K.Function,
    "param": K.Variable,
    "keyword": K.Keyword,
    "property": K.Property,
    "statement": K.Variable,
    "path": K.File,
}


def lsp_range(doc, start: int, end: int, encoding: str) -> types.Range:
    """An LSP range, in the client's encoding, for character offsets of doc."""
    return types.Range(types.Position(*doc.position(start, encoding)), types.Position(*doc.position(end, encoding)))


def kind_and_detail(c, jedi_names: dict) -> tuple[types.CompletionItemKind, str]:
    """What an item is: the statement, a name jedi knows (its kind, from jedi), a keyword or
    literal, a name the file itself uses that jedi did not give (late, or knowing nothing of the
    object: `ranker._nearby`), or a name only the model proposes (marked as its guess)."""
    if c.kind == "statement":
        return K.Snippet, "nib: rest of the statement"
    known = jedi_names.get(c.label)
    if known is not None:
        return KINDS.get(known.kind, K.Text), f"nib · {known.detail}"
    if keyword.iskeyword(c.label) or keyword.issoftkeyword(c.label):
        return K.Keyword, "nib · keyword"
    if literal(c.label):
        return K.Value, "nib · literal"
    if c.kind == "name":  # scored as a name: jedi's, or one the file uses (`ListRanker._nearby`)
        return K.Text, "nib · in this file"
    return K.Text, "nib · the model's guess"


def completion_list(listing, doc, cursor: int, encoding: str, command=None) -> Wire:
    """The CompletionList's JSON (`protocol.Wire`). command(i): the accept command of the i-th
    item (`Session.commands`), or None for none. An incomplete list sends its best names
    (`_best`) and its statement item."""
    jedi_names = {n.name: n for n in listing.jedi.names} if listing.jedi else {}
    shown = list(enumerate(listing.candidates))
    if not listing.complete:
        names = [(rank, c) for rank, c in shown if c.kind != "statement"]
        shown = _best(names, cursor) + [(rank, c) for rank, c in shown if c.kind == "statement"]
    ranges: dict[int, dict] = {}  # most items replace the same word: one range each start
    items = []
    for rank, c in shown:
        if c.start not in ranges:
            ranges[c.start] = _range_json(doc, c.start, cursor, encoding)
        kind, detail = kind_and_detail(c, jedi_names)
        item = {
            "label": c.label.split("\n")[0] + (" …" if "\n" in c.label else ""),
            "kind": kind.value,
            "detail": detail,
            "sortText": f"{rank:04d}",
            "filterText": c.text,
            "insertTextFormat": types.InsertTextFormat.PlainText.value,
            "textEdit": {"range": ranges[c.start], "newText": c.text},
        }
        if command is not None:
            accept = command(rank)
            item["command"] = {"title": accept.title, "command": accept.command, "arguments": accept.arguments}
        items.append(item)
    # Complete where jedi's names are the whole truth (after `.`, in an import): the editor
    # filters on its side as the name grows. Elsewhere the model may find more: ask again.
    return Wire(isIncomplete=not listing.complete, items=items)


def _range_json(doc, start: int, end: int, encoding: str) -> dict:
    (a_line, a_char), (b_line, b_char) = doc.position(start, encoding), doc.position(end, encoding)
    return {"start": {"line": a_line, "character": a_char}, "end": {"line": b_line, "character": b_char}}


def _best(names: list, cursor: int) -> list:
    """The first ITEMS_SENT of (rank, candidate), and the best of the rest for each character
    that may be typed next: an editor that filters the list it has while it asks again (Neovim's)
    then still shows a name, instead of closing the popup."""
    sent = names[:ITEMS_SENT]
    nexts = {c.text[cursor - c.start : cursor - c.start + 1] for _, c in sent}
    for rank, c in names[ITEMS_SENT:]:
        if (after := c.text[cursor - c.start : cursor - c.start + 1]) not in nexts:
            sent.append((rank, c))
            nexts.add(after)
    return sent


def inline_list(result, doc, cursor: int, encoding: str, command=None) -> types.InlineCompletionList:
    return types.InlineCompletionList(
        items=[
            types.InlineCompletionItem(
                insert_text=c.text,
                range=lsp_range(doc, c.start, cursor, encoding),
                command=command(i) if command else None,
            )
            for i, c in enumerate(result.candidates)
        ]
    )
