"""Which keywords may start where a name starts: the line alone decides, and only where it is clear."""

import pytest

from nib.model.text.keywords import AFTER_OPERAND, ALL, EXPRESSION, keywords_allowed, keywords_misplaced


@pytest.mark.parametrize(
    ("line_prefix", "allowed"),
    [
        # a statement's start, or a place the line alone does not settle: every keyword
        ("", ALL),
        ("        ", ALL),  # also a bracket's continuation line: not known here
        ("    if x: ", ALL),
        ("    a = 1; ", ALL),
        ("    match ", ALL),  # `match` may be a name: the line's first word stays open
        ("    x", ALL),  # a name goes on
        # an attribute
        ("    self.", frozenset()),
        ("x = f(a).", frozenset()),
        # an expression starts
        ("x = [", EXPRESSION),
        ("f(a, ", EXPRESSION),
        ("    n += ", EXPRESSION),
        ("def f() -> ", EXPRESSION),
        ("    @", EXPRESSION),
        ("        return ", EXPRESSION),
        ("    if ", EXPRESSION),
        ("eq = x is ", EXPRESSION),
        ("x = a if c else ", EXPRESSION),
        # after an operand and a space
        ("    if x ", AFTER_OPERAND),
        ("y = f(a) ", AFTER_OPERAND),
        ('s = "a" ', AFTER_OPERAND),
        ("n = 1 ", AFTER_OPERAND),
        ("x = None ", AFTER_OPERAND),
        ("    match command ", AFTER_OPERAND),
        ("from x.y ", AFTER_OPERAND),
        # the keywords that have their own followers
        ("    if x not ", EXPRESSION | {"in"}),
        ("    async ", frozenset({"def", "for", "with"})),
        ("from . ", frozenset({"import"})),
        ("from ..", frozenset({"import"})),
        ("import os, ", EXPRESSION),
        ("from a import b as ", frozenset()),
        ("def ", frozenset()),
        ("class ", frozenset()),
        ("    nonlocal ", frozenset()),
        ("    pass ", ALL),
        # places a first version got wrong (a review's list): each keyword here is valid Python
        ("    x = yield ", EXPRESSION | {"from"}),  # `yield from xs`
        ("    >>> ", ALL),  # a doctest's line is a statement's start
        ("    ...     ", ALL),
        ("weights = [1. ", AFTER_OPERAND),  # `[1. for _ in xs]`: a float, not an attribute's dot
        ("    return 0. ", AFTER_OPERAND),
        ("    for key, ", EXPRESSION | {"in"}),  # `for key, in pairs`
        ("    case a, ", EXPRESSION | {"if"}),  # `case a, if guard`
        ('    print("Press Enter to ', ALL),  # any word in a string
        ('    msg = f"{n} items to ', ALL),
        ("    s = '''a ", ALL),
        ("from. ", frozenset({"import"})),
        ('s = "a\\"b" ', AFTER_OPERAND),  # an escaped quote does not end the string
    ],
)
def test_the_keywords_allowed_where_a_name_starts(line_prefix, allowed):
    assert keywords_allowed(line_prefix) == allowed


def test_the_misplaced_ones_are_the_rest_with_the_typed_name_taken_off():
    assert keywords_misplaced("x = [f") == ALL - EXPRESSION
    assert keywords_misplaced("    for l") == ALL - EXPRESSION  # `for in` is not Python
    assert keywords_misplaced("    @c") == ALL - EXPRESSION  # no `@class`
    assert keywords_misplaced("    ret") == frozenset()
    assert sorted(keywords_misplaced("    if x not i")) == sorted(ALL - EXPRESSION - {"in"})
