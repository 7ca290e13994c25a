"""Which blocks the cursor is in, read from indentation alone (a file being typed rarely parses).

The list keeps jedi's names per scope (`listing/ranker.py`): the names valid at one place of a
function are, but for a few locals, those valid at any other place of it.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"[ \t]*((?:async[ \t]+)?(?:def|class)[ \t]+\w+)")


def enclosing_scopes(text: str, cursor: int) -> tuple[str, ...]:
    """The headers (`def f`, `class C`) of the blocks that hold the cursor, outermost first; ()
    at the module's level. A line less indented than the cursor's closes the blocks below it,
    unless it goes on a statement: it opens with a closing bracket (`) -> int:` of a signature
    split over lines) or follows a backslash. (A string's lines at column 0 still close them.)

    Example: enclosing_scopes("class C:\\n    def f(self):\\n        ", 34) == ("class C", "def f")
    """
    line_start = text.rfind("\n", 0, cursor) + 1
    line = text[line_start:cursor]
    indent = len(line) - len(line.lstrip(" \t"))
    headers = []
    end = line_start - 1
    while end > 0 and indent > 0:
        start = text.rfind("\n", 0, end) + 1
        row = text[start:end].rstrip("\r")
        body = row.lstrip(" \t\f")
        if body and body[0] not in "#)]}" and not _continues(text, start) and len(row) - len(body) < indent:
            indent = len(row) - len(body)
            header = _HEADER.match(row)
            if header is not None:
                headers.append(re.sub(r"[ \t]+", " ", header.group(1)))
        end = start - 1
    return tuple(reversed(headers))


def _continues(text: str, start: int) -> bool:
    """Whether the line starting at `start` goes on the one above it, which ends with a backslash."""
    above = text[max(0, start - 3) : max(0, start - 1)].rstrip("\r")
    return above.endswith("\\")
