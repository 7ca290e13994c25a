"""Stop rules: where a statement ends, and what repeats the text after the cursor."""

import pytest

from nib.model.text.stops import bracket_depth, cut_suffix_repeat, statement_end


@pytest.mark.parametrize(
    "line, gen, depth, block, expected",
    [
        ("x = f(", "a,\n b)\ny = 2", 0, False, "a,\n b)"),
        ("x = ", "1\ny = 2", 0, False, "1"),
        ("s = ", '"""a\nb"""\nx', 0, False, '"""a\nb"""'),
        ("    a,", " b)\n", 1, False, " b)"),  # the line is inside a bracket opened above
        ("    foo(a,", " b)\n", 1, False, None),
        ("if x", ":\n    y = 1\n    z = 2\nfoo", 0, True, ":\n    y = 1\n    z = 2"),
        ("if x", ":\n    y = 1\n", 0, False, ":"),
        ("x = [", "1, 2", 0, False, None),
        ("x = '", "a\nb", 0, False, "a"),  # a one-line string ends at the line end
        ("y = 1  ", "# note\nz", 0, False, "# note"),
    ],
)
def test_statement_end(line, gen, depth, block, expected):
    end = statement_end(line, gen, depth, block)
    assert (gen[:end] if end is not None else None) == expected


@pytest.mark.parametrize(
    "gen, suffix, expected",
    [
        ("a, b)", ")", "a, b"),
        ("bar()", ")", "bar()"),  # its own closer: kept
        ("bar())", ")", "bar()"),
        ("x", "", "x"),
        ("items]", "]", "items"),
        ("name, value)", ")  # comment", "name, value)"),
        ("value", "value", ""),
    ],
)
def test_cut_suffix_repeat(gen, suffix, expected):
    assert cut_suffix_repeat(gen, suffix) == expected


def test_bracket_depth_ignores_strings():
    assert bracket_depth("f(a, [b, '(") == 2
