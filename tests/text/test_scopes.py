"""The blocks around the cursor, from indentation: the key under which the list keeps jedi's names."""

import pytest

from nib.model.text.scopes import at_module_level, enclosing_scopes

METHOD = "class Cart:\n    def total(self):\n        if self.items:\n            "


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", ()),
        ("x = 1\ny = ", ()),
        ("def f():\n    return ", ("def f",)),
        ("async  def  fetch(url):\n    data = ", ("async def fetch",)),
        (METHOD, ("class Cart", "def total")),
        (METHOD + "x\n\n        # a comment at another depth\n    ", ("class Cart",)),
        ("def f():\n    x = 1\n\n\ndef g():\n    ", ("def g",)),
        ("def f():\n    pass\n", ()),  # a new line at column 0: the module's level
        ("def outer():\n    def inner():\n        pass\n    ", ("def outer",)),
        ("def f(\n    a,\n) -> int:\n    ", ("def f",)),  # a signature over lines, as black writes it
        ("class C(\n    Base,\n):\n    def m(self):\n        ", ("class C", "def m")),
        ("def f():\n    x = 1 + \\\n2\n    ", ("def f",)),  # a backslash's next line
        ("def f():\r\n    x = 1\r\n\r\n    ", ("def f",)),  # CRLF, a blank line between
        ("def f():\n    x = 1  # C:\\\ndef g():\n    ", ("def g",)),  # a comment's backslash continues nothing
    ],
)
def test_the_headers_of_the_blocks_that_hold_the_cursor(text, expected):
    assert enclosing_scopes(text, len(text)) == expected


def test_the_cursor_may_be_inside_the_text():
    text = "def f():\n    a = \n\ndef g():\n    pass\n"
    assert enclosing_scopes(text, text.index("a = ") + 4) == ("def f",)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("x = ", True),  # column 0
        ('if __name__ == "__main__":\n    ', True),
        ("CONFIG = {\n    'a': 1,\n    ", True),
        ("total = compute(  # a comment\n    ", True),
        ('s = """\nend\n"""\n    ', False),  # under a string's last line: unknown
        ("x = 1\n    ", False),
    ],
)
def test_the_modules_level_where_no_header_is_found(text, expected):
    assert at_module_level(text, len(text)) is expected
