"""jedi's kinds of the names a function and its module define, read from the text while jedi is late."""

import pytest

from nib.model.text import local_kinds as local_kinds_module
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
        ("def f(a,\n      b", {}),  # the header not closed yet: none of its parameters is sure
        ("def f():\n    x = 1\n\n\ndef g(y):\n    ", {"y": "param"}),  # another function's variable is not in scope
        ("def f():\n    later = 1", {}),  # the cursor's own line: not yet assigned
        ("def f(x):\n    ok = (\n        x\n        >= 2\n    )\n    ", {"ok": "statement", "x": "param"}),  # `>=`
        ("def f(\n    a,  # the count, total (\n    n,\n):\n    ", {"a": "param", "n": "param"}),  # a comment's
        ("def f():\n    if a:\n        pass\n    else: x = 1\n    ", {}),  # not `else` (nor `x`: Black splits it)
        ("def f():\n    x = '" + "a" * 20000 + "'\n    ", {"x": "statement"}),  # a long word, read once
        ("def f():\n    s = '" + "for " * 5000 + "'\n    ", {"s": "statement"}),
        # a function's locals in a block at the module's level, its header closed on a line of its own
        ("if X:\n    def f(\n        a,\n    ):\n        leak = 1\n", {"f": "function"}),
        (
            "if X:\n    def f(\n        a,\n    ) -> int:\n        leak = 1\n    ok = 2\n",
            {"f": "function", "ok": "statement"},
        ),
        (
            "if X:\n    def main():\n#        old = 1\n        result = run()\n",
            {"main": "function"},
        ),  # a comment at column 0
        ("with lock:  # held as long as needed\n    pass\n", {}),  # a comment's words
        ('"""Tool.\n\nfor each item in the list:\n    result = compute()\n"""\n', {}),  # a docstring's prose
    ],
)
def test_what_is_not_taken(text, expected):
    assert local_kinds(text, len(text)) == expected


def test_right_in_a_class_its_own_names_above_and_in_a_function_its_nested_definitions():
    """jedi's names in a class's body are its variables, annotations, methods and classes above (not
    its methods' locals, nor a docstring's `Attributes:`); in a function, the functions it defines."""
    text = (
        'class Cart:\n    """A cart.\n\n    Attributes:\n      size: how many.\n    """\n\n'
        "    size = 1\n    width: int\n\n    def total(self):\n        inner = 2\n\n"
        "    class Meta:\n        kind = 3\n\n    "
    )
    assert local_kinds(text, len(text)) == {
        "size": "statement",
        "width": "statement",
        "total": "function",
        "Meta": "class",
    }
    text = "def f(a):\n    def helper():\n        pass\n    async def fetch(): pass\n    class Row: pass\n    "
    assert local_kinds(text, len(text)) == {"helper": "function", "fetch": "function", "Row": "class", "a": "param"}


def test_a_closure_sees_its_outer_functions_parameters_and_variables_and_a_method_not_its_class():
    text = "def define(frozen, on_setattr=None):\n    seen = 1\n\n    def wrap(cls):\n        nonlocal frozen, "
    assert local_kinds(text, len(text)) == {"seen": "statement", "frozen": "param", "on_setattr": "param"} | {
        "wrap": "function",
        "cls": "param",
    }
    text = "class C:\n    size = 1\n\n    def total(self):\n        "
    assert local_kinds(text, len(text)) == {"self": "param"}


def test_starred_bracketed_and_chained_targets_each_as_of_a_with_annotations_and_not_a_docstrings_sections():
    text = (
        'def f(xs):\n    """Sum.\n\n    Args:\n      xs: the numbers.\n    """\n'
        "    first, *rest = xs\n    (left, right) = xs\n    [top] = xs\n    x[0] = f(z) == 1\n    total = count = 0\n    y: int\n"
        "    with open(a) as fa, open(b) as fb:\n        pass\n    if first == total:\n        pass\n    else:\n        "
    )
    assert local_kinds(text, len(text)) == {
        "first": "statement",
        "rest": "statement",
        "left": "statement",
        "right": "statement",
        "top": "statement",
        "total": "statement",
        "count": "statement",
        "y": "statement",
        "fa": "statement",
        "fb": "statement",
        "xs": "param",
    }


SCRIPT = """import sys
try:
    import ujson as json
    FAST = True
except ImportError:
    FAST = False
for item in sys.argv:
    total = item
\"\"\"Usage: wc FILE\"\"\"
if __name__ == "__main__":
    parser = make()

    def helper(x):
        inner = x

    if parser:
        deep = 2
    args = parser.parse_args()
    \"\"\"
    usage = 1
    \"\"\"
    """


def test_the_modules_names_in_its_blocks_and_their_functions_not_their_locals():
    """`if __name__ == "__main__":`, `try:`, a loop at the module's level: their names are the
    module's (a nested block's too), seen in its functions too; not a function's locals, or a docstring's."""
    module = {"FAST": "statement", "item": "statement", "total": "statement", "parser": "statement"}
    module |= {"helper": "function", "deep": "statement", "args": "statement"}
    assert local_kinds(SCRIPT, len(SCRIPT)) == module
    in_function = SCRIPT + "\ndef run(path):\n    "
    assert local_kinds(in_function, len(in_function)) == module | {"path": "param"}


def test_the_modules_names_are_read_from_a_lines_start_and_its_blocks_from_nearer_still(monkeypatch):
    """The module's lines are read MODULE_CHARS above the cursor at most, from a line's start (not a
    name's tail from a line cut there), and its blocks BLOCK_CHARS above at most (their lines cost more)."""
    monkeypatch.setattr(local_kinds_module, "BLOCK_CHARS", 20)
    text = "try:\n    far = 1\nvalue = 1\ntry:\n    near = 2\n"  # the first `try:` 45 characters up
    assert local_kinds(text, len(text)) == {"value": "statement", "near": "statement"}
    monkeypatch.setattr(local_kinds_module, "MODULE_CHARS", 30)
    text = "xxxxxxxxxxxxxxxxxxxx = 0\nsecond = 1\nthird = 2\nfourth = 3\n"
    assert local_kinds(text, len(text)) == {"third": "statement", "fourth": "statement"}  # not `cond` of `second`
    text = "far = 1\n" * 5 + "x" * 40  # no line starts within reach: nothing read
    assert local_kinds(text, len(text)) == {}
    monkeypatch.setattr(local_kinds_module, "MODULE_CHARS", 8)
    assert local_kinds("a = 1\nbb = 22\n", 14) == {"bb": "statement"}  # a line starting right there
