"""What the objects in a scope are, as far as its annotations and constructor calls say.

The project context shows a class's stub when the code around the cursor uses an object of that
class: `def run(ctx: InvocationContext): ... ctx.` needs InvocationContext's attributes, and
`self.trace.` the class of what `__init__` stored in `self.trace`. This reads text with regular
expressions, not `ast`, because the function being typed rarely parses; nothing is inferred
beyond what is written (a parameter's or an attribute's annotation, quoted or not, `x = Class(...)`,
`x = module.Class(...)`, `with Class(...) as x`, `isinstance(x, (A, B))`).
"""

from __future__ import annotations

import re

_TYPE = r"([A-Za-z_][\w.]*(?:\[[^\]\n=]{0,200}\])?(?:[ \t]*\|[ \t]*[A-Za-z_][\w.]*)*)"
# `name: Type` (a parameter, a class attribute, `self.name: Type = ...`), not in a dict literal's "key": value
_ANNOTATED = re.compile(r"(?<![\w.\"'])((?:self\.)?[A-Za-z_]\w*)[ \t]*:[ \t]*[\"']?" + _TYPE)
# `name = Class(`, `self.name = Class(`, `name = module.Class(`: a constructor, by the capital letter
_CONSTRUCTED = re.compile(r"(?<![\w.])((?:self\.)?[A-Za-z_]\w*)[ \t]*=[ \t]*(?:[a-z_]\w*\.)*([A-Z]\w*)\(")
# `with Class(...) as name` (one line, the call's arguments at most 200 characters)
_ENTERED = re.compile(r"(?<![\w.])(?:[a-z_]\w*\.)*([A-Z]\w*)\([^\n]{0,200}?\)[ \t]+as[ \t]+([A-Za-z_]\w*)")
# isinstance(x, Class) and isinstance(x, (A, B))
_NARROWED = re.compile(r"isinstance\(\s*((?:self\.)?[A-Za-z_]\w*)\s*,\s*(\([\w.,\s]{0,200}\)|[A-Z][\w.]*)\s*\)")
_COPIED = re.compile(r"(?<![\w.])(self\.[A-Za-z_]\w*)[ \t]*=[ \t]*([A-Za-z_]\w*)[ \t]*$", re.MULTILINE)
# the object before a `.` at the end of a line: `ctx.` `self.trace.` `user.profile.`
_OBJECT_AT_END = re.compile(r"(?<![\w.])((?:self\.)?[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.\s*[A-Za-z_]?\w*$")
_WORD = re.compile(r"[A-Za-z_]\w*")


def types_of(text: str) -> dict[str, frozenset[str]]:
    """The type names each variable (or `self.` attribute) of text is annotated, constructed or
    narrowed (`isinstance(x, Class)`) with.

    Example: types_of("def f(ctx: Context, n: int):\\n    self.log = Log(n)") ==
             {"ctx": frozenset({"Context"}), "n": frozenset({"int"}), "self.log": frozenset({"Log"})}
    """
    found: dict[str, set[str]] = {}
    for m in _ANNOTATED.finditer(text):
        found.setdefault(m[1], set()).update(names(m[2]))
    for m in _CONSTRUCTED.finditer(text):
        found.setdefault(m[1], set()).add(m[2])
    for m in _ENTERED.finditer(text):
        found.setdefault(m[2], set()).add(m[1])
    for m in _NARROWED.finditer(text):
        found.setdefault(m[1], set()).update(names(m[2]))
    for m in _COPIED.finditer(text):  # `self.trace = trace` for a parameter `trace: Trace`
        found.setdefault(m[1], set()).update(found.get(m[2], ()))
    return {name: frozenset(kinds) for name, kinds in found.items() if kinds}


def names(annotation: str) -> set[str]:
    """The identifiers of an annotation, the last part of a dotted one: `Optional[models.User] | None`
    names Optional, User and None."""
    return {word.rsplit(".", 1)[-1] for word in re.findall(r"[A-Za-z_][\w.]*", annotation)}


def object_at_end(line: str) -> list[str]:
    """The names of the object the line ends in an attribute of, outermost first ([] for none).

    Example: object_at_end("    x = self.trace.st") == ["self", "trace"]
    """
    m = _OBJECT_AT_END.search(line)
    return _WORD.findall(m[1]) if m else []
