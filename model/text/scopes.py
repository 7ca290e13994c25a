"""Which blocks the cursor is in, read from indentation alone (a file being typed rarely parses).

The list keeps jedi's names per scope (`listing/ranker.py`): the names valid at one place of a
function are, but for a few locals, those valid at any other place of it.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"[ \t]*((?:async[ \t]+)?(?:def|class)[ \t]+\w+)")


def enclosing_scopes(text: str, cursor: int) -> tuple[str, ...]:
    """The headers (`def f`, `class C`) of the blocks that hold the cursor, outermost first; ()
    at the module's level. A line less indented than the cursor's closes the blocks below it.

    Example: enclosing_scopes("class C:\\n    def f(self):\\n        ", 34) == ("class C", "def f")
    """
    line_start = text.rfind("\n", 0, cursor) + 1
    line = text[line_start:cursor]
    indent = len(line) - len(line.lstrip(" \t"))
    headers = []
    end = line_start - 1
    while end > 0 and indent > 0:
        start = text.rfind("\n", 0, end) + 1
        row = text[start:end]
        body = row.lstrip(" \t")
        if body and not body.startswith("#") and len(row) - len(body) < indent:
            indent = len(row) - len(body)
            header = _HEADER.match(row)
            if header is not None:
                headers.append(re.sub(r"[ \t]+", " ", header.group(1)))
        end = start - 1
    return tuple(reversed(headers))
