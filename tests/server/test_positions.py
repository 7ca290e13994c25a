"""LSP positions in utf-16 and utf-8, and line starts kept in step with edits."""

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from nib.server.positions import edit_line_starts, line_starts, offset_at, position_at

TEXT = "a😀b\r\nxé\rz"


@pytest.mark.parametrize(
    "line, character, encoding, offset",
    [
        (0, 3, "utf-16", 2),
        (0, 2, "utf-16", 1),
        (0, 1, "utf-16", 1),
        (0, 3, "utf-8", 1),
        (0, 5, "utf-8", 2),
        (0, 99, "utf-16", 3),
        (1, 2, "utf-8", 6),
        (1, 3, "utf-8", 7),
        (2, 1, "utf-32", 9),
        (9, 0, "utf-16", 9),
        (-1, 0, "utf-16", 0),
    ],
)
def test_offset_at(line, character, encoding, offset):
    assert offset_at(TEXT, line_starts(TEXT), line, character, encoding) == offset


@pytest.mark.parametrize(
    "offset, encoding, position",
    [
        (2, "utf-16", (0, 3)),
        (2, "utf-8", (0, 5)),
        (7, "utf-8", (1, 3)),
        (10, "utf-16", (2, 1)),
        (99, "utf-16", (2, 1)),
    ],
)
def test_position_at(offset, encoding, position):
    assert position_at(TEXT, line_starts(TEXT), offset, encoding) == position


TEXTS = st.text(alphabet="ab\r\n😀", max_size=30)


@hsettings(max_examples=2000, deadline=None)
@given(TEXTS, TEXTS, st.data())
def test_edited_line_starts_equal_a_rescan(old, inserted, data):
    a = data.draw(st.integers(0, len(old)))
    b = data.draw(st.integers(a, len(old)))
    new = old[:a] + inserted + old[b:]
    assert edit_line_starts(line_starts(old), new, a, b, len(inserted)) == line_starts(new)


LINES = st.lists(st.sampled_from(["a", "é", "€", "😀", "𝔘", "\ud83d", "\ude00", "\n", "\r", "\r\n"]), max_size=14)


@given(LINES, st.sampled_from(["utf-8", "utf-16", "utf-32"]), st.data())
def test_positions_are_those_counted_character_by_character(parts, encoding, data):
    """The counts at C speed (for long lines) give what counting each character's units gives,
    lone surrogates included (a client's JSON may hold one)."""
    text = "".join(parts)
    starts = line_starts(text)
    line, character = data.draw(st.integers(-1, len(starts))), data.draw(st.integers(-2, 40))
    assert offset_at(text, starts, line, character, encoding) == _offset_by_characters(
        text, starts, line, character, encoding
    )
    offset = data.draw(st.integers(0, len(text)))
    line = max(i for i, s in enumerate(starts) if s <= offset)
    assert position_at(text, starts, offset, encoding) == (
        line,
        sum(_units(c, encoding) for c in text[starts[line] : offset]),
    )


def _units(ch: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(ch.encode("utf-8", "surrogatepass"))
    return 2 if encoding == "utf-16" and ord(ch) > 0xFFFF else 1


def _offset_by_characters(text, starts, line, character, encoding) -> int:
    if line < 0:
        return 0
    if line >= len(starts):
        return len(text)
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    content, units = text[starts[line] : end].rstrip("\r\n"), 0
    for i, ch in enumerate(content):
        units += _units(ch, encoding)
        if units > character:
            return starts[line] + i
    return starts[line] + len(content)
