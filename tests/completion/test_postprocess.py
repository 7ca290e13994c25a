"""From decoded text to edits over the typed part of the word; what was typed since an edit was made."""

import pytest

from nib.model.completion.postprocess import statement_item, to_edit
from nib.model.completion.result import typed_since


@pytest.mark.parametrize(
    "gen, removed, cursor, whole, expected",
    [
        (" ==", " =", 10, False, ("==", 9, "==")),  # `x =|` completes to `==`: replaces the typed `=`
        ("(x", "(", 10, False, ("x", 10, "x")),  # after `(`: inserts the next token
        ("pri" + "nt", "pri", 10, False, ("print", 7, "print")),  # mid-word: replaces `pri`
        ("\n    return", "\n    ", 10, False, ("return", 10, "return")),  # healed indentation is context
        ("pri" + "nt(x)", "pri", 10, True, ("print(x)", 7, "print(x)")),  # a statement from mid-word
        ("))\n", "))", 10, False, None),
    ],
)
def test_edit(gen, removed, cursor, whole, expected):
    c = to_edit(gen, removed, cursor, whole)
    assert (None if c is None else (c.text, c.start, c.label)) == expected


@pytest.mark.parametrize(
    "before, at, text, cursor, typed",
    [
        ("xs.a = 1", 4, "xs.app = 1", 6, "pp"),  # typed on at the cursor, the text after it kept
        ("xs.", 3, "xs.a", 4, "a"),
        ("xs.a", 4, "ys.ap", 5, None),  # the text before changed
        ("xs.a = 1", 4, "xs.ap = 2", 5, None),  # the text after changed
        ("xs.ap", 5, "xs.a", 4, None),  # the cursor moved back
        ("xs.a", 4, "xs.a", 4, None),  # nothing typed
    ],
)
def test_typed_since(before, at, text, cursor, typed):
    assert typed_since(before, at, text, cursor) == typed


@pytest.mark.parametrize(
    "gen, suffix_line, next_line, expected",
    [
        # nothing after the cursor on its line: a middle is cut where the next line's text would follow
        ("str, converter: Converter) -> str:", "", ") -> str:", "str, converter: Converter"),
        ("b)", "", ")", "b)"),  # a line of closers: it may close what the line above opened, not the middle's
        ('"data")', "", ")", '"data")'),  # `default=Path(|` above `)`: the middle's `)` closes Path(
        ("password = x", "", "pass", "password = x"),  # the next line's word inside a longer name
        ("x = 1\n        pass", "", "        pass", "x = 1"),
        ("foo()\n    bar()", "", "    bar()", "foo()"),  # the next line written again after a newline
        ("print(x)", "", ")", "print(x)"),  # the middle's own bracket: kept whole
        ("x = 1", "", "y = 2", "x = 1"),  # the next line not written: unchanged
        ("4))  # twelve", "))", "x = 1", "4"),  # text after the cursor on its line comes first
    ],
)
def test_a_filled_middle_never_writes_the_text_after_it(gen, suffix_line, next_line, expected):
    item = statement_item(gen, -0.5, "", suffix_line, 10, filled=True, next_line=next_line)
    assert item is not None and (item.text, item.start, item.kind) == (expected, 10, "statement")
    plain = statement_item(gen, -0.5, "", "", 10, filled=False, next_line=next_line)
    assert plain is not None and plain.text == gen.rstrip()  # without FIM the model never saw that line
