"""The list agrees with the ghost text: the name the ghost text on screen goes on with comes first.

The statement's model (Gemma 3 270M, Qwen2.5-Coder 0.5B) ranks the names at a new position far
better than the list's small model (MRR@5 0.68-0.74 against 0.49-0.57 with one character typed),
but it takes 100 ms and more a keystroke where the list takes 5. An editor asks for both on each
keystroke, so the ghost text on screen when a list is asked was decoded at an earlier keystroke and
is being typed through: its first name is the big model's best guess here, and costs the list
nothing. One decoded ahead where the cursor rested (`LocalCompleter.ahead`) counts as on screen:
it is what the ghost text of the key the list is asked with shows, where it agrees with the key.
It goes first; the rest keep their order. Where jedi's names are the whole truth (after `.`, in
an import) it is moved up only if it is one of them: nothing is invented there.
"""

from __future__ import annotations

import re
from dataclasses import replace

from nib.model.completion.result import Candidate
from nib.model.text.lexeme import typed_name

from .jedi_answers import WHOLE
from .ranker import Listing

_NAME_HEAD = re.compile(r"\w*")


def ghost_name(statement: Candidate, text: str, cursor: int) -> tuple[str, int, str] | None:
    """(the name at cursor as statement completes it, the offset where it starts, the statement's
    text after it); None when none is a name. Where the statement goes on at once with what ends a
    name (`(`, a space), the name is the one typed whole. statement must extend text at cursor
    (`Candidate.extends`).

    Example: ghost_name(Candidate("print(total)", 0, 0.0, "statement"), "print(to", 8) == ("total", 6, ")");
             ghost_name(Candidate("t.cast(x)", 0, 0.0, "statement"), "t", 1) == ("t", 0, ".cast(x)")
    """
    typed = typed_name(text, text.rfind("\n", 0, cursor) + 1, cursor)
    head = _NAME_HEAD.match(statement.text, cursor - statement.start)
    assert head is not None  # \w* matches the empty string
    name, after = typed + head.group(), statement.text[head.end() :]
    if not name.isidentifier() or not (head.group() or after) or (after and (name + after[0]).isidentifier()):
        return None  # no name, nothing after it, or one \w stops short of (a combining mark goes on with it)
    return name, cursor - len(typed), after


def ghost_first(listing: Listing, statement: Candidate | None, text: str, cursor: int) -> Listing:
    """listing with the name the statement goes on with first. If no candidate has it, one is added
    for it where the list offers the model's own names (not after `.`, not in an import), unless it
    is the name typed whole (an item that inserts nothing is only a listed name's). A
    keyword argument's `name=` is preferred to `name` when the statement writes the `=`, and taken
    when no `name` is listed; where no candidate has the name and the statement's budget cut it
    inside the name (`Candidate.cut`), the best candidate that begins with it goes first."""
    if statement is None or listing.position[0] == "prose" or (found := ghost_name(statement, text, cursor)) is None:
        return listing
    name, start, after = found
    invent = listing.position[0] not in WHOLE and name != text[start:cursor]
    keyword = after.startswith("=") and not after.startswith("==")  # `f(name=1`: jedi's item is `name=`
    labels = [name + "=", name] if keyword else [name, name + "="]
    names = [c for c in listing.candidates if c.kind != "statement"]
    first = next((c for label in labels for c in names if c.label == label), None)
    if first is None and statement.cut and not after:  # its budget cut it in the name: the best that goes on
        first, invent = next((c for c in names if c.label.startswith(name)), None), False
    if first is None and not invent:
        return listing
    if first is None:
        first = Candidate(name, start, 0.0, "token", name)
    return replace(listing, candidates=[first] + [c for c in listing.candidates if c is not first])
