"""Lexemes: where the first lexical token of a generated text ends, the typed name, the position kind."""

import pytest

from nib.model.text.lexeme import (
    attribute_may_start,
    first_lexeme,
    lexeme_span,
    listable,
    may_be_new,
    name_may_start,
    position_kind,
    space_comes_next,
    typed_name,
    unnamed,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        (" foo(", (" foo", True)),
        ("fo", ("fo", False)),
        ("=", ("=", False)),
        ("= ", ("=", True)),
        ("==", ("==", True)),
        ('"abc', ('"abc', False)),
        ('"abc" ', ('"abc"', True)),
        ("x.y", ("x", True)),
        ("\nfoo", None),
        ("", None),
        (" 12)", (" 12", True)),
        ('b"x"', ('b"x"', True)),
        ("**", ("**", False)),
        ("**k", ("**", True)),
        ("):", (")", True)),
        ("éa+", ("éa", True)),
        ("# c", None),
    ],
)
def test_first_lexeme(text, expected):
    assert first_lexeme(text) == expected


@pytest.mark.parametrize(
    "text, cursor, expected",
    [
        ("))\n", 2, None),
        ("pr", 1, (0, 2, False)),
        ("foo(x", 3, (3, 4, True)),
        (" ==", 2, (1, 3, True)),
        ("\n    return x", 5, (5, 11, True)),
        ("(x)", 1, (1, 2, True)),
        ("  x", 0, (2, 3, False)),
    ],
)
def test_lexeme_span(text, cursor, expected):
    assert lexeme_span(text, cursor) == expected


@pytest.mark.parametrize(
    "text, start, end, typed",
    [
        ("    os.pa", 0, None, "pa"),
        ("x = ", 0, None, ""),
        ("import os\nos.pat", 10, 16, "pat"),
        ("f(a, se", 0, None, "se"),
        ("été_x", 0, None, "été_x"),
        ("ab.cd", 0, 2, "ab"),
        ("", 0, None, ""),
    ],
)
def test_typed_name(text, start, end, typed):
    assert typed_name(text, start, end) == typed


@pytest.mark.parametrize(
    "line, kind",
    [
        ("    os.pa", "attribute"),
        ("x = self.", "attribute"),
        ("from os import pa", "import"),
        ("import o", "import"),
        ("from os.pa", "import"),
        ("print(x, se", "kwarg"),
        ("f(", "kwarg"),
        ("    return va", "name"),
        ("", "name"),
        ("x = ...", "name"),
    ],
)
def test_position_kind(line, kind):
    assert position_kind(line) == kind


@pytest.mark.parametrize(
    "line, expected",
    [
        ("    ", True),
        ("", True),
        ("f(", True),
        ("x = ", True),
        ("    return ", True),
        ("a, ", True),
        ("d = {", True),
        ("x: ", True),
        ("if not ", True),
        ("    except ", True),
        ("y = a + ", True),
        ("x ", False),
        ("x =", False),
        ("f(a)", False),
        ("foo", False),
        ("f(a) ", False),
        ("os.", False),
        ("f(a, key=", True),
        ("def f(a=", True),
        ("if (n:=", True),
        ("x==", True),
        ("    @", True),
        ("f(*", True),
        ("f(a, **", True),
        ("d = {**", True),
        ("        **", True),
        ("x ==", False),
        ("x +=", False),
        ("a @", False),
        ("x *", False),
        ("x**", False),
        ("f(***", False),
        ("-", False),
    ],
)
def test_name_may_start(line, expected):
    assert name_may_start(line) is expected


@pytest.mark.parametrize(
    "line, expected",
    [
        ("    p", True),  # a statement's start: `progress = ` may follow
        ("    red, green, b", True),
        ("    except Exit as e", True),
        ("    for ro", True),
        ("[x for x in xs for y", True),
        ("def re", True),
        ("class Ca", True),
        ("    call(x, k", True),  # a keyword argument's name
        ("    call(k", True),
        ("    return f", False),  # read, not bound: only what is in scope
        ("    total = s", False),
        ("    text: s", False),
        ("    @a", False),
        ("    if not d", False),
        ("    x = ca(y) + ob", False),
        ("    class_ = b", False),  # `class_` is not `class`
        ("    first, *re", True),
        ("def f(a, **kw", True),
        ("    f = lambda x", True),
        ("    x = 1; y", True),
    ],
)
def test_may_be_new(line, expected):
    assert may_be_new(line) is expected


@pytest.mark.parametrize(
    "line, expected",
    [
        ("def fo", True),  # jedi offers nothing here, on purpose
        ("class Fo", True),
        ("    async def f(a, *ar", True),
        ("def f(x: int, y", True),
        ("x = lambda a, b", True),
        ("    with open(p) as f", True),
        ("    except E as e", True),
        ("def f(a=b", False),  # a default: an expression
        ("def f(a, b=c", False),
        ("    f(a, b", False),
        ("    return HTML(f", False),
        ("    key=lambda x: x", False),
        ("    default_x", False),
    ],
)
def test_unnamed(line, expected):
    assert unnamed(line) is expected


@pytest.mark.parametrize(
    "line, expected",
    [
        ("os.", True),
        ("    self.", True),
        ("f(a).", True),
        ("x[0].", True),
        ("    x = y.", True),
        ("x_1.", True),
        ('", ".', True),
        ("b''.", True),
        ("from a.", True),
        ('msg = "see os.', True),
        ("x = 1e5.", False),
        ("1_000.", False),
        ("from .", False),
        ("from ..", False),
        ("x = 1.", False),
        ("0x1f.", False),
        ("...", False),
        ("x..", False),
        ("os.pa", False),
        ("x = ", False),
        ("", False),
    ],
)
def test_attribute_may_start(line, expected):
    assert attribute_may_start(line) is expected


@pytest.mark.parametrize(
    "line, expected",
    [
        ("f(a,", True),
        ("    x =", True),
        ("    x: int =", True),
        ("if a ==", True),
        ("if a !=", True),
        ("n +=", True),
        ("while (n :=", True),
        ("\tx =", True),
        ("def f(x: int =", True),
        ("x[:,", True),
        ('x = "a,', True),  # in a string too: the list offers nothing there either
        ("f(a=", False),  # a keyword argument: its value comes at once
        ("lambda x=", False),
        ("x=", False),
        ("d[k]=", False),
        ("x = ", False),
        ("f(a, ", False),
        ("f(", False),
        ("os.", False),
        ("x <", False),
        ("", False),
    ],
)
def test_space_comes_next(line, expected):
    assert space_comes_next(line) is expected


@pytest.mark.parametrize(
    "lexeme, expected",
    [
        ("name1", True),
        ("if", True),
        ("0x1f", True),
        ("1.5", True),
        ('f"{x}"', True),
        ("'a", True),
        ("*", False),
        ("**", False),
        ("/", False),
        ("(", False),
        (")", False),
        ("->", False),
        ("==", False),
    ],
)
def test_listable(lexeme, expected):
    assert listable(lexeme) is expected
