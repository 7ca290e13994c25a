"""Stop rules: where a statement ends, and what repeats the text after the cursor."""

import pytest

from nib.model.text.stops import bracket_depth, cut_suffix_repeat, statement_end, sure_part


@pytest.mark.parametrize(
    "line, gen, depth, lines, expected",
    [
        ("x = f(", "a,\n b)\ny = 2", 0, "auto", "a,\n b)"),
        ("x = ", "1\ny = 2", 0, "auto", "1"),
        ("s = ", '"""a\nb"""\nx', 0, "auto", '"""a\nb"""'),
        ("    a,", " b)\n", 1, "auto", " b)"),  # the line is inside a bracket opened above
        ("    foo(a,", " b)\n", 1, "auto", None),
        ("if x", ":\n    y = 1\n    z = 2\nfoo", 0, "multi", ":\n    y = 1\n    z = 2"),
        ("if x", ":\n    y = 1\n", 0, "auto", ":"),
        ("x = [", "1, 2", 0, "auto", None),
        ("x = '", "a\nb", 0, "auto", "a"),  # a one-line string ends at the line end
        ("y = 1  ", "# note\nz", 0, "auto", "# note"),
        ("    ", "for x in y:\n        f(x)\n    z", 0, "auto", "for x in y:\n        f(x)"),  # an empty line: the body
        ("    ", "for x in y:\n        f(x)\n    z", 0, "single", "for x in y:"),
        ("x = f(", "a,\n b)\ny = 2", 0, "single", "a,"),  # one line, whatever is open
        ("x = f(", "a)  \r\ny", 0, "single", "a)  "),
        ("    x = 1", "\n", 0, "multi", ""),
        # a body that repeats a line of the statement ends before it (a small model's loop)
        (
            "    ",
            "for r in sys.path:\n        for r in sys.path:\n            f(r)\n    z",
            0,
            "auto",
            "for r in sys.path:",
        ),
        (
            "    ",
            "for d in a:\n        if f(d):\n            raise E(d)\n        if g(d):\n            raise E(d)\n    z",
            0,
            "auto",
            "for d in a:\n        if f(d):\n            raise E(d)",  # `if g(d):` goes too: no body left
        ),
        # a name said four times in a row: the loop goes, with the unfinished line it starts in
        ("    app = ", "ledger.ledger.ledger.ledger.", 0, "auto", ""),
        ("    app = ", "ledger.ledger.ledger.ledger.ledger", 0, "auto", ""),  # from where the repetition starts
        ("    app = ", "ledger.ledger.ledger.ledger.led", 0, "auto", ""),  # wherever a token (or a chunk) ends
        ("    total = ", "store.books.books.books.books", 0, "auto", "store"),
        ("x: ", "AnyTypeTypeTypeType", 0, "auto", "Any"),
        ("x = f(", "a,\n  b.item.item.item.item", 0, "auto", "a,"),
        ("x = f(", "\n    a.item.item.item.item", 0, "auto", ""),  # the loop's line was the first after the cursor's
        ("for x in y", ":\n    a.b.item.item.item.item", 0, "multi", ""),  # in a block's body too, the header with it
        ("for x in y", ":\n    f()\n    f()\n    f()\n    f()", 0, "multi", ""),
        ("x = f(", "a, b.item.item.item", 0, "auto", None),  # three times is not a loop yet
    ],
)
def test_statement_end(line, gen, depth, lines, expected):
    end = statement_end(line, gen, depth, lines)
    assert (gen[:end] if end is not None else None) == expected


@pytest.mark.parametrize(
    "line, gen",
    [  # what repeats in real code: three times, numbers, punctuation, the constants, strings, comments
        ("root = ", "Path(__file__).resolve().parent.parent.parent"),
        ("d = ", "os.path.dirname(os.path.dirname(os.path.dirname("),
        ("a = ", "np.zeros((n, n, n, n"),
        ("t = ", "['f8', 'f8', 'f8', 'f8'"),
        ("x = [", "0, 0, 0, 0, 0, 0"),
        ('print("', "=-=-=-=-=-=-=-"),
        ("    return ", "None, None, None, None, None"),
        ("x = [", "True, True, True, True, True"),
        ("a, ", "_, _, _, _, _ = f("),
        ("mask = ", "0xFFFFFFFFFFFFFFFFFFFF"),
        ("s = ", "'xxxxxxxxxxxxxxx"),
        ("q = ", '"VALUES (%s, %s, %s, %s, %s'),
        ("x = 1", "  # ha ha ha ha ha ha"),
    ],
)
def test_what_repeats_in_real_code_is_no_loop(line, gen):
    """At every point of it, as the decoder asks after each token: the statement goes on."""
    assert [statement_end(line, gen[:i]) for i in range(1, len(gen) + 1)] == [None] * len(gen)


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
        # auto-paired closers: cut where the model writes them, whatever follows
        ('.py"):', '")', ".py"),
        ("path)\n", ")", "path"),
        ("a[0]]:", "]:", "a[0]"),
        ("x, f(y)):", "):", "x, f(y)"),
        ("hello", '"', "hello"),
        ("don't'", "'", "don't"),  # the last quote of the line closes the string
        ("a) + f(b)", ")", "a"),  # a bracket: the first place it closes the call at the cursor
    ],
)
def test_cut_suffix_repeat(gen, suffix, expected):
    assert cut_suffix_repeat(gen, suffix) == expected


def test_bracket_depth_ignores_strings():
    assert bracket_depth("f(a, [b, '(") == 2


@pytest.mark.parametrize(
    "said, next_piece, start, sure",
    [
        ("x = self.get_", "value", 0, "x = self."),  # a name half written is left out
        ("x = self.get", "(", 0, "x = self.get"),  # a whole name stays
        ("return", " value", 0, "return"),
        ("f(a, ", "b", 0, "f(a, "),
        ("pa", "th", 2, "pa"),  # what healing reproduces stays: nothing is shown after it
        ("if ok:\n    ret", "urn", 0, "if ok:"),  # an unfinished last line goes, as a cut statement's
    ],
)
def test_the_sure_part_of_a_statement_ends_where_a_word_or_a_line_does(said, next_piece, start, sure):
    assert sure_part(said, next_piece, start) == sure
