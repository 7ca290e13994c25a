"""The lexer: types of partial code, and spans that always cover the text."""

import random
import sysconfig
from pathlib import Path

import pytest

from nib.model.text.lexer import TYPES, lex


def types_and_text(src: str):
    data = src.encode()
    return [(t.type, data[t.start : t.end].decode()) for t in lex(src)]


def assert_covers(src: str):
    tokens = lex(src)
    data = src.encode("utf-8", "surrogatepass")
    pos = 0
    for tok in tokens:
        assert tok.start == pos, (src[-80:], tok)
        assert tok.end > tok.start
        assert tok.type in TYPES
        pos = tok.end
    assert pos == len(data)


@pytest.mark.parametrize(
    "src, expected",
    [
        (
            "f(a=x.y",
            [
                ("NAME", "f"),
                ("LPAR", "("),
                ("KWARG", "a"),
                ("EQUAL", "="),
                ("NAME", "x"),
                ("DOT", "."),
                ("ATTRIBUTE", "y"),
            ],
        ),
        (
            "def f(a, b=1):\n    return a.b(c)\n",
            [
                ("KEYWORD", "def"),
                ("WHITESPACE", " "),
                ("DEF_NAME", "f"),
                ("LPAR", "("),
                ("PARAM", "a"),
                ("COMMA", ","),
                ("WHITESPACE", " "),
                ("PARAM", "b"),
                ("EQUAL", "="),
                ("NUMBER", "1"),
                ("RPAR", ")"),
                ("COLON", ":"),
                ("EOL", "\n"),
                ("INDENT", "    "),
                ("KEYWORD", "return"),
                ("WHITESPACE", " "),
                ("NAME", "a"),
                ("DOT", "."),
                ("CALL", "b"),
                ("LPAR", "("),
                ("NAME", "c"),
                ("RPAR", ")"),
                ("EOL", "\n"),
            ],
        ),
        # an unclosed bracket: every token up to the end is kept
        (
            "foo(a, b",
            [("NAME", "foo"), ("LPAR", "("), ("NAME", "a"), ("COMMA", ","), ("WHITESPACE", " "), ("NAME", "b")],
        ),
        # an unclosed string is a STRING to the end of its line; the next line lexes normally
        (
            "s = 'abc\nx = 1",
            [
                ("NAME", "s"),
                ("WHITESPACE", " "),
                ("EQUAL", "="),
                ("WHITESPACE", " "),
                ("STRING", "'abc"),
                ("EOL", "\n"),
                ("NAME", "x"),
                ("WHITESPACE", " "),
                ("EQUAL", "="),
                ("WHITESPACE", " "),
                ("NUMBER", "1"),
            ],
        ),
        # an f-string is one STRING, on every Python version
        (
            'x = f"{a!r:>{w}}"',
            [("NAME", "x"), ("WHITESPACE", " "), ("EQUAL", "="), ("WHITESPACE", " "), ("STRING", 'f"{a!r:>{w}}"')],
        ),
        (
            "import os.path as p",
            [
                ("KEYWORD", "import"),
                ("WHITESPACE", " "),
                ("IMPORT", "os"),
                ("DOT", "."),
                ("IMPORT", "path"),
                ("WHITESPACE", " "),
                ("KEYWORD", "as"),
                ("WHITESPACE", " "),
                ("IMPORT", "p"),
            ],
        ),
        (
            "x **= 2 # c",
            [
                ("NAME", "x"),
                ("WHITESPACE", " "),
                ("DOUBLESTAREQUAL", "**="),
                ("WHITESPACE", " "),
                ("NUMBER", "2"),
                ("WHITESPACE", " "),
                ("COMMENT", "# c"),
            ],
        ),
        ("é = '😀'", [("NAME", "é"), ("WHITESPACE", " "), ("EQUAL", "="), ("WHITESPACE", " "), ("STRING", "'😀'")]),
        ('"""doc\nstill', [("STRING", '"""doc\nstill')]),
        ("x = $", [("NAME", "x"), ("WHITESPACE", " "), ("EQUAL", "="), ("WHITESPACE", " "), ("ERRORTOKEN", "$")]),
    ],
)
def test_types(src, expected):
    assert types_and_text(src) == expected


def test_spans_are_bytes():
    assert [(t.start, t.end) for t in lex("é=1")] == [(0, 2), (2, 3), (3, 4)]


@pytest.mark.parametrize(
    "src",
    [
        "",
        "\n",
        "  x\n y\n",
        "if x:\n\tpass\n  pass\n",
        "\\\n",
        "a\r\nb\rc",
        "x = '''",
        "f'{",
        "def f(\n",
        "@",
        "\x00\x01",
        "\ufeffx = 1",
        "x\u2028y",
    ],
)
def test_odd_inputs_are_covered(src):
    assert_covers(src)


def sample_files():
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return [stdlib / "textwrap.py", stdlib / "json" / "encoder.py", stdlib / "dataclasses.py", stdlib / "shlex.py"]


@pytest.mark.parametrize("path", sample_files(), ids=lambda p: p.name)
def test_every_prefix_lexes_and_covers(path):
    """Lexing must never raise on any prefix of a real file (the text while it is typed)."""
    text = path.read_text()
    rng = random.Random(0)
    # every cut in the first 1500 characters, then 300 seeded cuts over the rest
    cuts = list(range(min(1500, len(text)))) + sorted(rng.sample(range(len(text)), min(300, len(text))))
    for cut in cuts:
        assert_covers(text[:cut])
