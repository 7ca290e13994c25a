"""From decoded text to edits: the lexeme or statement offered, over the part already typed."""

from __future__ import annotations

from nib.model.text.lexeme import lexeme_span, listable
from nib.model.text.stops import CLOSERS, cut_at_suffix, cut_suffix_repeat

from .result import Candidate


def to_edit(gen: str, removed_text: str, cursor: int, whole: bool = False) -> Candidate | None:
    """The edit for generated text gen, which starts at the back-off point (len(removed_text)
    before the cursor) and reproduces removed_text first.

    The edit replaces only the typed part of the lexeme the cursor is in (nothing, if the
    cursor is between lexemes); the label is the lexeme offered (list) or the text (statement).

    Example: to_edit(" ==", " =", 3) == Candidate("==", start=2, score=0.0, kind="", label="==")
    """
    c0 = len(removed_text)
    span = lexeme_span(gen, c0)
    start = span[0] if span is not None and span[0] < c0 else c0
    if whole:
        new = gen[start:]
        label = new.strip()
    else:
        if span is None:
            return None
        new = gen[start : span[1]]
        label = gen[span[0] : span[1]].strip()
    if not new.strip():
        return None
    return Candidate(new, cursor - (c0 - start), 0.0, "", label)


def lexeme_items(decoded: list[tuple[str, float]], removed_text: str, text: str, cursor: int) -> list[Candidate]:
    """The model's own next lexemes as list items: names, keywords and literals, one line each,
    each inserting something."""
    items = []
    for gen, score in decoded:
        edit = to_edit(gen, removed_text, cursor)
        if (
            edit is not None
            and "\n" not in edit.text
            and edit.text != text[edit.start : cursor]
            and listable(edit.label)
        ):
            edit.score, edit.kind = score, "token"
            items.append(edit)
    return items


def statement_item(
    gen: str, score: float, removed_text: str, suffix_line: str, cursor: int, filled: bool = False, next_line: str = ""
) -> Candidate | None:
    """The statement as an edit, cut where it would repeat the text after the cursor (filled: a
    middle the model wrote knowing that text, cut where it would follow; where nothing follows on
    the cursor's line, where the next line's text would: `converter: C) -> str:` before a line
    `) -> str:` is `converter: C`); None if it adds nothing."""
    c0 = len(removed_text)
    middle = gen[c0:]
    if filled and suffix_line.strip():  # a middle before text on the same line ends on that line
        middle = middle.split("\n")[0]
    elif filled and next_line.strip() and not set(next_line.strip()) <= CLOSERS:
        # (a line of closers closes brackets opened above the cursor's line, which the middle's own may not)
        middle = cut_at_suffix(middle, " " + next_line.strip()).rstrip()
    gen = gen[:c0] + (cut_at_suffix if filled else cut_suffix_repeat)(middle, suffix_line)
    edit = to_edit(gen, removed_text, cursor, whole=True)
    if edit is None or not edit.text.strip() or len(gen) <= c0:
        return None
    edit.score, edit.kind = score, "statement"
    return edit
