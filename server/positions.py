"""LSP positions <-> character offsets, in the negotiated encoding (utf-16, utf-8, utf-32).

LSP lines end at \\n, \\r\\n or \\r only (not at the other breaks str.splitlines
knows). A character past the end of a line means the end of that line; a
line past the end means the end of the text; a utf-16 position inside a
surrogate pair rounds down to the character's start.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from nib.model.text.lines import LINE_BREAK


def line_starts(text: str) -> list[int]:
    """Example: line_starts("a\\r\\nb\\nc") == [0, 3, 5]"""
    return [0] + [m.end() for m in LINE_BREAK.finditer(text)]


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
        for m in LINE_BREAK.finditer(new_text, max(a - 2, 0), min(end + 2, len(new_text)))
        if a <= m.end() <= end and m.end() > 0
    ]
    delta = inserted - (b - a)
    return head + middle + [s + delta for s in starts[bisect_left(starts, b + 1) :]]


def _line_text(text: str, starts: list[int], line: int) -> str:
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    return text[starts[line] : end].rstrip("\r\n")


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")  # 2 utf-16 units each
_LONE = re.compile("[\ud800-\udfff]")  # a surrogate on its own: a client's JSON may hold one
_CONTINUATION = bytes(range(0x80, 0xC0))  # utf-8 bytes that do not start a character

# Counted at C speed (regular expressions, encode): a Python loop over a line's characters cost
# 374 ms a keystroke on a line of 1.9 M characters with one that is not ASCII.


def _utf16_index(content: str, character: int) -> int:
    """The index of the character at utf-16 unit `character` of content (inside a pair: its start)."""
    if _LONE.search(content) is None:  # no lone surrogate: the encoding's units map back one to one
        before = content.encode("utf-16-le", "surrogatepass")[: 2 * character].decode("utf-16-le", "surrogatepass")
        inside = before and "\ud800" <= before[-1] <= "\udbff"  # a pair cut in two: its high half alone
        return len(before) - 1 if inside else len(before)
    extra = 0  # astral characters before the one looked at: each a unit more than a character
    for m in _ASTRAL.finditer(content):
        units = m.start() + extra
        if units >= character:
            break
        if units + 1 == character:  # inside its surrogate pair: rounds down to its start
            return m.start()
        extra += 1
    return min(character - extra, len(content))


def _utf8_index(content: str, character: int) -> int:
    """The index of the character at utf-8 byte `character` of content (inside one: its start)."""
    data = content.encode("utf-8", "surrogatepass")
    starts = len(data[:character].translate(None, _CONTINUATION))  # characters begun before the byte
    inside = character < len(data) and data[character] in _CONTINUATION
    return starts - 1 if inside else starts


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
    character = max(0, character)
    if encoding == "utf-32" or content.isascii():
        return starts[line] + min(character, len(content))
    if encoding == "utf-16":
        return starts[line] + _utf16_index(content, character)
    return starts[line] + _utf8_index(content, character)


def position_at(text: str, starts: list[int], offset: int, encoding: str = "utf-16") -> tuple[int, int]:
    """The LSP (line, character) of a character offset.

    Example: position_at("a😀b", [0], 2) == (0, 3)
    """
    offset = max(0, min(offset, len(text)))
    line = bisect_right(starts, offset) - 1
    before = text[starts[line] : offset]
    if encoding == "utf-32" or before.isascii():
        return line, len(before)
    if encoding == "utf-16":
        return line, len(before) + len(_ASTRAL.findall(before))
    return line, len(before.encode("utf-8", "surrogatepass"))
