"""What jedi would call the names defined around the cursor, read from the text alone.

While jedi is late at a name, the list's correction (`listing/corrections.py`) lacks jedi's kinds:
the function's parameters ("param") and the variables it and the module assign ("statement")
weigh more than a name used elsewhere. These are found here by lines, as Black writes them: an
assignment has a space before its `=` (a keyword argument on a call's own line has none). Read,
not parsed: a nested function's names count as the outer one's, and a `lambda`'s parameters in a
default or a `)` in a default's string are misread; jedi's answer, when it comes, replaces them.
"""

from __future__ import annotations

import keyword
import re

from .scopes import innermost_def

_NAME = r"(?<!\w)[^\W\d]\w*"  # from a word's start only: a long word is not rescanned from each character
_IDENTIFIER = re.compile(_NAME)
_TARGETS = rf"((?:{_NAME}[ \t]*,[ \t]*)*{_NAME})[ \t]*(?:,[ \t]*)?"  # `a, b` (a trailing comma too)
_AUGMENTED = r"(?:[-+*/%@&|^]|//|\*\*|>>|<<)?"  # `+=`; not `>=`, a comparison on a condition's own line
# `x = `, `a, b = `, `x: int = `, `n += `: the variables a function assigns
_ASSIGNED = re.compile(rf"^[ \t]*{_TARGETS}(?::[^=\n]*)?[ \t]{_AUGMENTED}=(?!=)", re.M)
# and those it binds otherwise: a loop's (a comprehension's too), `with`'s and `except`'s `as`, `:=`
_BOUND = re.compile(
    rf"\bfor[ \t]+([\w, \t()]{{1,200}}?)[ \t]+in\b|^[ \t]*(?:with|except|async[ \t]+with)\b.*?\bas[ \t]+({_NAME})|({_NAME})[ \t]*:=",
    re.M,
)
_AT_COLUMN_0 = re.compile(rf"^{_TARGETS}(?::[^=\n]*)?[ \t]=(?!=)", re.M)  # the module's variables
_COMMENT = re.compile(r"#[^\n]*")
HEADER_CHARS = 4000  # read of a def's header at most (its parameters)
MODULE_CHARS = 250_000  # scanned above the cursor for the module's variables at most


def local_kinds(text: str, cursor: int) -> dict[str, str]:
    """The parameters of the innermost `def` that holds the cursor ("param"), and the names assigned
    or bound in its body above the cursor and at the module's level ("statement").

    Example: local_kinds("N = 3\\ndef f(a, *b, c=1):\\n    for i in a:\\n        x = i\\n    ", 59) == {"N": "statement", "i": "statement", "x": "statement", "a": "param", "b": "param", "c": "param"}
    """
    kinds = {name: "statement" for name in _module_variables(text, cursor)}
    start = innermost_def(text, cursor)
    if start is not None:
        params, body = _parameters(text, start, cursor)
        kinds.update((name, "statement") for name in _assigned(text[body : text.rfind("\n", 0, cursor) + 1]))
        kinds.update((name, "param") for name in params)
    return {name: kind for name, kind in kinds.items() if not keyword.iskeyword(name)}  # `else: x = 1`


def _module_variables(text: str, cursor: int) -> list[str]:
    above = text[max(0, cursor - MODULE_CHARS) : text.rfind("\n", 0, cursor) + 1]
    return [n for m in _AT_COLUMN_0.finditer(above) for n in _IDENTIFIER.findall(m.group(1))]


def _assigned(body: str) -> list[str]:
    names = [n for m in _ASSIGNED.finditer(body) for n in _IDENTIFIER.findall(m.group(1))]
    for m in _BOUND.finditer(body):
        names += _IDENTIFIER.findall(m.group(1) or m.group(2) or m.group(3))
    return names


def _parameters(text: str, start: int, cursor: int) -> tuple[list[str], int]:
    """The parameters of the def whose header starts at start, and where its body starts (none, and
    cursor, where the header is not closed before it)."""
    header = text[start : min(cursor, start + HEADER_CHARS)]
    header = _COMMENT.sub(lambda m: " " * len(m.group()), header)  # blanked, not cut: offsets hold
    opened = header.find("(")
    if opened < 0:
        return [], cursor
    depth, params, part = 0, [], ""
    for i, char in enumerate(header[opened:], opened):
        depth += (char in "([{") - (char in ")]}")
        if depth == 0 or (depth == 1 and char == ","):
            params += _IDENTIFIER.findall(part.lstrip(" \t\r\n*"))[:1]
            part = ""
            if depth == 0:
                return params, start + i + 1
        elif depth >= 1 and (depth > 1 or char != "("):
            part += char
    return [], cursor
