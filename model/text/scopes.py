"""Which blocks the cursor is in, read from indentation alone (a file being typed rarely parses).

The list keeps jedi's names per scope (`listing/ranker.py`): the names valid at one place of a
function are, but for a few locals, those valid at any other place of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_HEADER = re.compile(r"[ \t]*((?:async[ \t]+)?(?:def|class)[ \t]+\w+)")


def enclosing_scopes(text: str, cursor: int) -> tuple[str, ...]:
    """The headers (`def f`, `class C`) of the blocks that hold the cursor, outermost first; ()
    at the module's level. A line less indented than the cursor's closes the blocks below it,
    unless it goes on a statement: it opens with a closing bracket (`) -> int:` of a signature
    split over lines) or follows a backslash. (A string's lines at column 0 still close them.)

    Example: enclosing_scopes("class C:\\n    def f(self):\\n        ", 34) == ("class C", "def f")
    """
    return tuple(reversed([header for _, header in _headers(text, cursor)]))


def enclosing_defs(text: str, cursor: int) -> list[int]:
    """Where the header line of each `def` that holds the cursor starts, innermost first, up to the
    first class (a method does not see its class's names): none at the module's level or right in
    a class's body.

    Example: enclosing_defs("class C:\\n    def f(self):\\n        def g():\\n            ", 55) == [26, 9]
    """
    starts = []
    for start, header in _headers(text, cursor):
        if header.startswith("class "):
            break
        starts.append(start)
    return starts


def class_span(text: str, cursor: int) -> tuple[int, int] | None:
    """(where its header line starts, where it ends) of the innermost class that holds the cursor:
    it ends before the first line after the cursor's that is indented no more than its header (the
    text's end if none); None outside any class.

    Example: class_span("class C:\\n    def f(self):\\n        x\\nclass D:\\n    pass\\n", 35) == (0, 36)
    """
    start, header = next(((s, h) for s, h in _headers(text, cursor) if h.startswith("class ")), (None, ""))
    if start is None:
        return None
    row = _line_at(text, start)
    indent = len(row) - len(row.lstrip(" \t"))
    line = text.find("\n", cursor)
    while line >= 0:
        following = _line_at(text, line + 1)
        body = following.lstrip(" \t\f").rstrip("\r")
        if body and body[0] not in "#)]}" and len(following) - len(following.lstrip(" \t\f")) <= indent:
            return start, line + 1
        line = text.find("\n", line + 1)
    return start, len(text)


def _headers(text: str, cursor: int) -> Iterator[tuple[int, str]]:
    """(where its line starts, its header) of each `def` or `class` that holds the cursor, innermost first."""
    line_start = text.rfind("\n", 0, cursor) + 1
    line = text[line_start:cursor]
    indent = len(line) - len(line.lstrip(" \t"))
    end = line_start - 1
    while end > 0 and indent > 0:
        start = text.rfind("\n", 0, end) + 1
        row = text[start:end].rstrip("\r")
        body = row.lstrip(" \t\f")
        if body and body[0] not in "#)]}" and not _continues(text, start) and len(row) - len(body) < indent:
            indent = len(row) - len(body)
            header = _HEADER.match(row)
            if header is not None:
                yield start, re.sub(r"[ \t]+", " ", header.group(1))
        end = start - 1


def at_module_level(text: str, cursor: int) -> bool:
    """Whether the cursor is at the module's level: at column 0, or indented under a line at column 0
    that opens a block or a bracket (`if __name__ == "__main__":`, `CONFIG = {`). False under any
    other (the last line of a string at column 0, say), where the scopes above cannot be told.

    Example: at_module_level("if x:\\n    ", 10) and not at_module_level("x = 1\\n    ", 10)
    """
    line_start = text.rfind("\n", 0, cursor) + 1
    if not text[line_start:cursor][:1].isspace():
        return True
    end = line_start - 1
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        row = text[start:end].rstrip("\r")
        if row.strip() and not row[:1].isspace() and not row.startswith("#"):
            return row.split("  #")[0].rstrip().endswith((":", "(", "[", "{", ",", "\\"))
        end = start - 1
    return False


def _continues(text: str, start: int) -> bool:
    """Whether the line starting at `start` goes on the one above it, which ends with a backslash
    (not inside a comment: a rough test, a `#` anywhere on that line)."""
    above_start = text.rfind("\n", 0, max(0, start - 1)) + 1
    above = text[above_start : max(0, start - 1)].rstrip("\r")
    return above.endswith("\\") and "#" not in above


def _line_at(text: str, start: int) -> str:
    end = text.find("\n", start)
    return text[start : end if end >= 0 else len(text)]
