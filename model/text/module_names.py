"""The names a module defines for all its scopes, read from the text alone: what jedi's list offers
at a name besides the function's own (`local_kinds.py`) and the builtins.

While jedi is late at a name in a file just opened, the list has no names in scope but the file's
that extend what is typed, most counted first: another function's locals among them, and not the
module `abc` imported but used once, or `timedelta`. These are read by lines: the imports (at any
indentation: under a module's `try:` too), and the functions and classes at column 0 (above the
cursor or below it: a function's body sees both). Read, not parsed: `from m import *` gives nothing.
"""

from __future__ import annotations

import re

_NAME = r"[^\W\d]\w*"
_LINE = r"(?:\\\r?\n|[^\r\n#;\\])+"  # to the statement's end (a backslash goes on)
_IMPORT = re.compile(rf"^[ \t]*import[ \t]+({_LINE})", re.M)  # `import a.b, c as d`
_FROM = re.compile(rf"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]*(\([^)]{{0,2000}}\)?|{_LINE})", re.M)
_ALIAS = re.compile(rf"({_NAME})(?:\.[\w.]*)?(?:[ \t\\\r\n]+as[ \t\\\r\n]+({_NAME}))?")  # `a.b` binds a; `a as b`, b
_DEFINED = re.compile(rf"^(?:async[ \t]+)?(def|class)[ \t]+({_NAME})[ \t]*[(:\[]", re.M)  # not `class of things`
_COMMENT = re.compile(r"#[^\n]*")
AROUND_CHARS = 250_000  # read on each side of the cursor at most


def module_names(text: str, cursor: int) -> dict[str, str]:
    """The names the module imports ("module" for `import m`, else jedi's likely kind of what a
    `from` gives: "class" capitalised, "function" not), and its functions and classes at column 0.

    Example: module_names("import os.path, re as r\\nfrom a import (B,\\n  c as d)\\ndef f(): pass\\nx", 66) == {"os": "module", "r": "module", "B": "class", "d": "function", "f": "function"}
    """
    around = text[max(0, cursor - AROUND_CHARS) : cursor + AROUND_CHARS]
    names: dict[str, str] = {}
    for m in _IMPORT.finditer(around):
        names.update((name, "module") for name in _bound(m.group(1)))
    for m in _FROM.finditer(around):
        names.update((name, "class" if name[0].isupper() else "function") for name in _bound(m.group(1)))
    names.update((m.group(2), "class" if m.group(1) == "class" else "function") for m in _DEFINED.finditer(around))
    return names


def _bound(imported: str) -> list[str]:
    """The names an import's list binds: `a.b` binds a, `a as b` b."""
    parts = _COMMENT.sub("", imported).strip(" \t()\\\r\n").split(",")
    return [m.group(2) or m.group(1) for part in parts if (m := _ALIAS.fullmatch(part.strip(" \t\\\r\n()")))]
