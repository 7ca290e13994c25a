"""What the objects of a scope are, read from its text (it may not parse): annotations, constructors, isinstance."""

from nib.model.text.types import object_at_end, types_of


def test_annotations_constructors_and_narrowing_give_the_types():
    text = (
        "def run(self, ctx: Optional[agents.Context] = None, *, n: int):\n"
        "    self.trace = trace\n"
        '    data = {"key": value}\n'
        "    self.log = Log(n)\n"
        "    if isinstance(item, Entry):\n"
    )
    assert types_of(text) == {
        "ctx": frozenset({"Optional", "Context"}),  # not its default's None
        "n": frozenset({"int"}),
        "self.log": frozenset({"Log"}),
        "item": frozenset({"Entry"}),
    }


def test_quoted_annotations_module_constructors_with_and_isinstance_tuples():
    text = (
        'def f(a: "Foo", b, engine):\n'
        "    x = models.User(1)\n"
        "    with Session(engine, echo=True) as s:\n"
        "        if isinstance(b, (A, mod.B)):\n"
    )
    assert types_of(text) == {
        "a": frozenset({"Foo"}),
        "x": frozenset({"User"}),
        "s": frozenset({"Session"}),
        "b": frozenset({"A", "B"}),
    }


def test_long_lines_are_read_in_linear_time():
    assert types_of("with X(" + "a" * 100_000 + " as y") == {}
    assert types_of("isinstance(x, (" + "a," * 100_000) == {}
    assert types_of("x = " + "a." * 50_000 + "B(") == {"x": frozenset({"B"})}


def test_an_attribute_stored_from_a_parameter_takes_its_type():
    text = "def __init__(self, trace: Trace | None):\n    self.trace = trace\n"
    assert types_of(text)["self.trace"] == frozenset({"Trace", "None"})


def test_the_object_the_line_ends_in_an_attribute_of():
    assert object_at_end("    x = self.trace.st") == ["self", "trace"]
    assert object_at_end("result = executor.") == ["executor"]
    assert object_at_end("return value") == []
