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


def test_an_attribute_stored_from_a_parameter_takes_its_type():
    text = "def __init__(self, trace: Trace | None):\n    self.trace = trace\n"
    assert types_of(text)["self.trace"] == frozenset({"Trace", "None"})


def test_the_object_the_line_ends_in_an_attribute_of():
    assert object_at_end("    x = self.trace.st") == ["self", "trace"]
    assert object_at_end("result = executor.") == ["executor"]
    assert object_at_end("return value") == []
