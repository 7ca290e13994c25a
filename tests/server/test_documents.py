"""Open documents in step with the client's incremental edits: offsets, clamping, line starts."""

import pytest

from nib.server import positions
from nib.server.documents import Document, Documents


def doc(text: str) -> Document:
    return Document("file:///t.py", text, 1)


def test_an_edit_replaces_its_range_and_keeps_the_line_starts_right():
    d = doc("import os\nx = 1\ny = 2\n")
    d.apply((1, 4), (2, 3), "fetch(\n    url)\nz =", "utf-16")
    assert d.text == "import os\nx = fetch(\n    url)\nz = 2\n"
    assert d.starts == positions.line_starts(d.text)
    assert d.position(d.text.index("url"), "utf-16") == (2, 4)


def test_a_whole_text_change_replaces_everything():
    d = doc("a\nb\n")
    d.apply(None, None, "c", "utf-16")
    assert (d.text, d.starts) == ("c", [0])


@pytest.mark.parametrize(
    "start, end, expected",
    [
        ((0, 99), (0, 99), "ab!\ncd"),  # past the end of a line is its end
        ((9, 0), (9, 5), "ab\ncd!"),  # past the last line is the end of the text
        ((1, 1), (0, 1), "ab\nc!d"),  # an end before its start inserts at the start
    ],
)
def test_positions_out_of_range_clamp(start, end, expected):
    d = doc("ab\ncd")
    d.apply(start, end, "!", "utf-16")
    assert d.text == expected and d.starts == positions.line_starts(d.text)


@pytest.mark.parametrize("encoding, column", [("utf-16", 4), ("utf-8", 6), ("utf-32", 3)])
def test_columns_count_in_the_clients_encoding(encoding, column):
    d = doc('s = "😀"\nt')  # the emoji: 2 UTF-16 units, 4 UTF-8 bytes, 1 code point
    at = d.text.index('"', 5)  # the closing quote
    assert d.position(at, encoding) == (0, column + 3) and d.offset(0, column + 3, encoding) == at


def test_documents_open_close_and_count_their_characters():
    docs = Documents()
    docs.open("file:///a.py", "abc", 1)
    docs.open("file:///b.py", "de", 3)
    assert (docs.count(), docs.chars(), docs.uris()) == (2, 5, ["file:///a.py", "file:///b.py"])
    docs.close("file:///a.py")
    docs.close("file:///never-opened.py")
    assert (docs.get("file:///a.py"), docs.get("file:///b.py").version, docs.count()) == (None, 3, 1)
