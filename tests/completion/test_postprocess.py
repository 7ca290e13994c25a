"""From decoded text to edits over the typed part of the word."""

import pytest

from nib.model.completion.postprocess import to_edit


@pytest.mark.parametrize("gen, removed, cursor, whole, expected", [
    (" ==", " =", 10, False, ("==", 9, "==")),  # `x =|` completes to `==`: replaces the typed `=`
    ("(x", "(", 10, False, ("x", 10, "x")),  # after `(`: inserts the next token
    ("pri" + "nt", "pri", 10, False, ("print", 7, "print")),  # mid-word: replaces `pri`
    ("\n    return", "\n    ", 10, False, ("return", 10, "return")),  # healed indentation is context
    ("pri" + "nt(x)", "pri", 10, True, ("print(x)", 7, "print(x)")),  # a statement from mid-word
    ("))\n", "))", 10, False, None),
])
def test_edit(gen, removed, cursor, whole, expected):
    c = to_edit(gen, removed, cursor, whole)
    assert (None if c is None else (c.text, c.start, c.label)) == expected
