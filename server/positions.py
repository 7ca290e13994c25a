"""LSP positions <-> character offsets, in the negotiated encoding (utf-16, utf-8, utf-32).

LSP lines end at \\n, \\r\\n or \\r only (not at the other breaks str.splitlines
knows). A character past the end of a line means the end of that line; a
line past the end means the end of the text; a utf-16 position inside a
surrogate pair rounds down to the character's start.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

_BREAK = re.compile(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """Example: line_starts("a\\r\\nb\\nc") == [0, 3, 5]"""
    return [0] + [m.end() for m in _BREAK.finditer(text)]


def edit_line_starts(starts: list[int], new_text: str, a: int, b: int, inserted: int) -> list[int]:
    """The line starts of new_text, which is the old text with [a, b) replaced by `inserted` characters,
    from the old starts: O(lines + inserted) instead of rescanning the whole text on every keystroke.

    Whether p starts a line depends only on the characters at p-1 and p, so starts
    before a are kept, starts from b+1 on shift, and [a, a+inserted] is rescanned.
    Example: edit_line_starts([0, 2], "a\\nxb", 2, 2, 1) == [0, 2]
    """
    end = a + inserted
    head = starts[: bisect_left(starts, a)] or [0]
    middle = [
        m.end()
        for m in _BREAK.finditer(new_text, max(a - 2, 0), min(end + 2, len(new_text)))
        if a <= m.end() <= end and m.end() > 0
    ]
    delta = inserted - (b - a)
    return head + middle + [s + delta for s in starts[bisect_left(starts, b + 1) :]]


def _line_text(text: str, starts: list[int], line: int) -> str:
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    return text[starts[line] : end].rstrip("\r\n")


def _units(ch: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(ch.encode("utf-8", "surrogatepass"))
    if encoding == "utf-16":
        return 2 if ord(ch) > 0xFFFF else 1
    return 1


def offset_at(text: str, starts: list[int], line: int, character: int, encoding: str = "utf-16") -> int:
    """The character offset of an LSP position (clamped into the text). A character outside the
    Basic Multilingual Plane, such as an emoji, is 2 utf-16 units.

    Example: offset_at("a😀b", [0], 0, 3) == 2
    """
    if line < 0:
        return 0
    if line >= len(starts):
        return len(text)
    content = _line_text(text, starts, line)
    if encoding == "utf-32" or content.isascii():
        return starts[line] + max(0, min(character, len(content)))
    units = 0
    for i, ch in enumerate(content):
        units += _units(ch, encoding)
        if units > character:
            return starts[line] + i
    return starts[line] + len(content)


def position_at(text: str, starts: list[int], offset: int, encoding: str = "utf-16") -> tuple[int, int]:
    """The LSP (line, character) of a character offset.

    Example: position_at("a😀b", [0], 2) == (0, 3)
    """
    offset = max(0, min(offset, len(text)))
    line = bisect_right(starts, offset) - 1
    before = text[starts[line] : offset]
    if encoding == "utf-32" or before.isascii():
        return line, len(before)
    return line, sum(_units(ch, encoding) for ch in before)
