"""jedi's kinds of the names a function and its module define, read from the text while jedi is late."""

import pytest

from nib.model.text.local_kinds import local_kinds

METHOD = """LIMIT: int = 10
a, b = 1, 2
    indented = 3

class Cart:
    def total(self, items: list[int], key=lambda v: (v, 1), *extra, **options) -> int:
        subtotal = 0
        call(
            keyword=3,
        )
        with open(path) as handle:
            count += 1
        if (found := 3) > 2:
            pass
        for k, (v, w) in options.items():
            rows[0] = 1
            self.cached = 2
            same == 3
        """


def test_parameters_and_the_names_assigned_above_in_the_function_and_at_the_modules_level():
    assert local_kinds(METHOD, len(METHOD)) == {
        "LIMIT": "statement",
        "a": "statement",
        "b": "statement",
        "subtotal": "statement",
        "handle": "statement",
        "count": "statement",
        "found": "statement",
        "k": "statement",
        "v": "statement",
        "w": "statement",
        "self": "param",
        "items": "param",
        "key": "param",
        "extra": "param",
        "options": "param",
    }


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", {}),
        ("x = 1\ny", {"x": "statement"}),
        ("class C:\n    size = 1\n    ", {}),  # a class's body: jedi's names there are not these
        ("def f(a,\n      b", {}),  # the header not closed yet: none of its parameters is sure
        ("def f():\n    x = 1\n\n\ndef g(y):\n    ", {"y": "param"}),  # another function's variable is not in scope
        ("def f():\n    later = 1", {}),  # the cursor's own line: not yet assigned
        ("def f(x):\n    ok = (\n        x\n        >= 2\n    )\n    ", {"ok": "statement", "x": "param"}),  # `>=`
        ("def f(\n    a,  # the count, total (\n    n,\n):\n    ", {"a": "param", "n": "param"}),  # a comment's
        ("def f():\n    if a:\n        pass\n    else: x = 1\n    ", {}),  # not `else` (nor `x`: Black splits it)
        ("def f():\n    x = '" + "a" * 20000 + "'\n    ", {"x": "statement"}),  # a long word, read once
        ("def f():\n    s = '" + "for " * 5000 + "'\n    ", {"s": "statement"}),
    ],
)
def test_what_is_not_taken(text, expected):
    assert local_kinds(text, len(text)) == expected
