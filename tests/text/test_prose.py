"""Prose at the cursor (comments, triple-quoted non-f strings): against a table, against Python's
own tokenizer on whole files, and the checkpointed scan against a scan from the start."""

import io
import random
import tokenize
from pathlib import Path

import pytest

from nib.model.text.prose import Checkpoint, in_prose, without_prose

CASES = [
    ("x = 1  # a com", True),
    ("# ", True),
    ('x = """abc', True),
    ("r'''doc", True),
    ('x = """"', True),  # a quote inside, not yet the closing three
    ('x = """a\\"""b', True),  # an escaped quote does not close it
    ('def f():\n    """Return the', True),
    ('x = f"""ab', False),  # an f-string's braces hold code
    ('x = Rf"""ab', False),
    ('x = """a""" + y', False),
    ('x = """a\\\\"""b', False),  # an escaped backslash, then the closing quotes
    ('s = "hello wor', False),  # a one-line string: dict keys, names, paths
    ('x = ""', False),
    ("x = 1\n# c\ny = a", False),
    ('x = "#"; y', False),  # a `#` in a string is no comment
    ('x = 1  # say """\ny = a', False),  # quotes in a comment open no string
    ("", False),
    ("x = 1  # note\ry = wid", False),  # lines may end in \r alone
    ('s = "a\\\r\n# b" + wid', False),  # a backslash, then \r\n: the string goes on
    ("x = 1\r\n# c\r\ny = a", False),
    ('if"""Doc: the wid', True),  # a keyword before the quotes, not an f prefix
    ('def f():\n    """Sum.\n\n    >>> os.pa', False),  # a doctest line is code
    ('def f():\r    """Sum.\r    ... os.pa', False),
]


@pytest.mark.parametrize("text, expected", CASES)
def test_prose_at_the_end_of_the_text(text, expected):
    assert in_prose(text, len(text))[0] is expected


def _reference(source: str) -> list[tuple[int, int]]:
    """The character spans [first, last] where a cursor is in prose, by Python's tokenizer."""
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        start = starts[tok.start[0] - 1] + tok.start[1]
        end = starts[tok.end[0] - 1] + tok.end[1]
        if tok.type == tokenize.COMMENT:
            spans.append((start + 1, end))
        elif tok.type == tokenize.STRING:
            prefix = len(tok.string) - len(tok.string.lstrip("rRbBuUfF"))
            if tok.string[prefix : prefix + 3] in ('"""', "'''") and "f" not in tok.string[:prefix].lower():
                spans.append((start + prefix + 3, end - 1))
    return spans


@pytest.mark.parametrize("name", ["tokenize.py", "argparse.py", "dataclasses.py"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_prose_agrees_with_python_s_tokenizer_at_every_offset(name, newline):
    source = (Path(tokenize.__file__).parent / name).read_text().replace("\n", newline)
    spans = _reference(source)
    inside = bytearray(len(source) + 1)
    for first, last in spans:
        inside[first : last + 1] = b"\1" * (last + 1 - first)
    cursors = random.Random(0).sample(range(len(source) + 1), 3000)
    # not counted: doctest lines (code), and a cursor between \r and \n (no editor puts one there)
    doctest = [c for c in cursors if source[source.rfind("\n", 0, c) + 1 : c].lstrip().startswith((">>>", "..."))]
    cursors = [c for c in cursors if c not in doctest and source[c - 1 : c + 1] != "\r\n"]
    wrong = [c for c in cursors if in_prose(source, c)[0] != bool(inside[c])]
    assert wrong == [] and sum(inside[c] for c in cursors) > 300


def test_a_scan_from_a_checkpoint_answers_as_one_from_the_start():
    """Random edits near the cursor, as typing makes them, each answered from the last checkpoint."""
    rng = random.Random(1)
    text = (Path(tokenize.__file__).parent / "argparse.py").read_text()[:20000]
    checkpoint, cursor = Checkpoint(), 10000
    for _ in range(400):
        at = max(0, min(len(text), cursor + rng.randint(-300, 40)))
        insert = rng.choice(['"', "'", '"""', "#", "\n", "x", " ", "\\", "f", ""])
        text = text[:at] + insert + text[at + rng.choice([0, 0, 1]) :]
        cursor = min(len(text), at + len(insert))
        answer, checkpoint = in_prose(text, cursor, checkpoint)
        assert answer == in_prose(text, cursor)[0]
        assert text.startswith(checkpoint.prefix) and checkpoint.offset <= cursor


def test_a_checkpoint_is_not_taken_for_another_text():
    _, checkpoint = in_prose('x = """a"""\ny = 1', 16)
    assert checkpoint.offset == 11
    assert in_prose('"""a"""\n y = 1 # z', 17, checkpoint) == (True, Checkpoint('"""a"""\n', 7))


def test_a_checkpoint_after_two_quotes_is_not_taken_once_a_third_makes_them_a_docstring():
    _, checkpoint = in_prose('x = ""\n', 7)
    assert in_prose('x = """Doc', 10, checkpoint)[0] is True


def test_without_prose_blanks_comments_and_docstrings_and_keeps_code_strings():
    text = (
        'def area(w, h):\n    """The area of a rectangle."""\n'
        "    return w * h  # metres squared\n"
        "label = f'''{width} wide'''\nkey = d[\"height\"]\nnote = '''plain words'''\n"
    )
    assert without_prose(text) == (
        "def area(w, h):\n     \n    return w * h   \nlabel = f'''{width} wide'''\nkey = d[\"height\"]\nnote =  \n"
    )
