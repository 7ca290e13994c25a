"""The identifier n-gram of the open documents (Hellendoorn and Devanbu)."""

import sys
import threading

import numpy as np
import pytest

from nib.model.listing.identifiers import IdentifierNgram


def test_identifiers_predicts_from_the_tokens_before_the_name():
    ngram = IdentifierNgram()
    text = "self.total = 0\nself.count = 1\nself.total += 2\nx = count\n\nself."
    probs = ngram.probabilities("a", text, len(text), ["self", "."], ["total", "count", "other"])
    # trigram (self . total) x2 and (self . count) x1, bigram likewise; unigrams total 2, count 2
    assert probs["other"] == 0.0 and probs["total"] > probs["count"] > 0
    assert np.isclose(sum(probs.values()), 1.0)


def test_identifiers_does_not_count_the_line_being_typed():
    ngram = IdentifierNgram()
    probs = ngram.probabilities("a", "import os\nos.pat", 16, ["os", "."], ["pat", "path"])
    assert probs == {"pat": 0.0, "path": 0.0}


def test_identifiers_other_documents_count_at_a_lower_weight():
    ngram = IdentifierNgram()
    ngram.around("other", "helper_function()\n", None)
    probs = ngram.probabilities("a", "x = 1\n", 6, ["", ""], ["helper_function", "x"])
    assert probs["helper_function"] > 0 and probs["x"] > probs["helper_function"]


def hammer(ngram, rounds: int = 2000) -> list[str]:
    """Two threads count documents in and out of the n-gram while two read it until they are
    done, switching threads every microsecond: the errors the readers and writers raised."""
    texts = [f"value_{i} = other_{i}\nvalue_{i} += 1\n" for i in range(8)]
    names = [f"value_{i}" for i in range(8)] * 20  # each name walks the other documents: a long read
    errors = []
    done = threading.Event()

    def write(first: int) -> None:
        for j in range(rounds):
            k = (first + j) % 8
            ngram.around(f"doc{k}", texts[k], None)  # a new key: the oldest one leaves the table
            ngram.forget(f"doc{(k + 3) % 8}")

    def read() -> None:
        while not done.is_set() and not errors:
            ngram.probabilities("typed", "value_1 = 2\nvalue_", 20, ["", "\n"], names)

    def run(step, *args) -> None:
        try:
            step(*args)
        except Exception as e:  # noqa: BLE001 - what the test reports
            errors.append(f"{type(e).__name__}: {e}")

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        writers = [threading.Thread(target=run, args=(write, first)) for first in (0, 4)]
        readers = [threading.Thread(target=run, args=(read,)) for _ in range(2)]
        for t in writers + readers:
            t.start()
        for t in writers:
            t.join()
        done.set()
        for t in readers:
            t.join()
    finally:
        sys.setswitchinterval(old)
    return errors


def test_the_files_names_extending_what_is_typed_are_the_codes_most_counted_first():
    ngram = IdentifierNgram()
    text = (
        'def total_of(items):\n    """Total the items, then return the total."""\n'
        "    total = 0  # the running total, then the tax\n"
        "    for item in items:\n        total += item.price\n    return total\n\nt = to\ntax_rate = 0.2\n"
    )
    cursor = text.index("t = to") + len("t = to")
    # `then` and `the` are only prose's; `to` itself is what is typed; `tax_rate` is below the cursor
    assert ngram.names("a", text, cursor, "t", 10) == ["total", "total_of", "tax_rate"]
    assert ngram.names("a", text, cursor, "to", 1) == ["total"]
    assert ngram.names("a", text, cursor, "total", 10) == ["total", "total_of"]  # the name typed whole too
    assert ngram.names("a", text, cursor, "x", 10) == []


def test_a_string_opened_on_the_cursor_s_line_or_far_above_it_is_not_taken_for_code():
    ngram = IdentifierNgram()
    # the cursor's line opens a string: its closing quotes below are no opening
    text = 'total_rows = 0\nrows = conn.fetch("""\n    SELECT name FROM tally\n""")\nt'
    cursor = text.index("fetch") + 3
    assert ngram.names("a", text, cursor, "t", 10) == ["total_rows", "t"]  # `t`: the last line's name
    # a docstring that opens more than the n-gram's window above the cursor (ABOVE characters)
    doc = '"""' + "the words of a long docstring\n" * 3000 + '"""\n'
    text = "value_1 = 1\n" + doc + "value_2 = value_1 * value_1\nval"
    assert text.index('"""') < len(text) - 60_000 < text.rindex('"""')
    assert ngram.names("b", text, len(text), "val", 10) == ["value_1", "value_2"]
    assert ngram.names("b", text, len(text), "wor", 10) == []


def test_identifiers_can_be_counted_and_read_from_several_threads_at_once():
    """The event loop counts a document while the list's and the statement's inference threads
    read the n-gram (before: "dictionary changed size during iteration" in a reader)."""
    ngram = IdentifierNgram(max_documents=4)
    assert hammer(ngram) == []
    assert len(ngram._docs) <= 4
    text = "value_1 = 2\nvalue_"
    assert ngram.probabilities("typed", text, len(text), ["", "\n"], ["value_1", "nothing"]) == {
        "value_1": 1.0,
        "nothing": 0.0,
    }


@pytest.mark.parametrize(
    "text, typed, expected",
    [
        ("os.path.join(a)\nos.path.exists(b)\nos.path.join(c)\nos.path.", "", ["join", "exists"]),  # most used first
        ("os.path.join(a)\ncfg.path.strip()\ncfg.path.", "", ["strip"]),  # the whole chain, not its last name
        ("os.path.join(a)\nos . path . exists(b)\nos.path.e", "e", ["exists"]),
        ("items.append(1)\n# items.extend is prose\nitems.", "", ["append"]),
        ("f().x\nf().", "", []),  # a call's result: nothing known of it
        ("d['k'].x\nd['k'].", "", []),
        ("obj.x\nbobj.y\nobj.", "", ["x"]),
        ("x = 1\nx", "x", []),  # no `.`: not an attribute
    ],
)
def test_the_names_the_file_uses_after_the_same_receiver(text, typed, expected):
    assert IdentifierNgram().attributes("a", text, len(text), typed) == expected


def test_after_self_only_the_attributes_of_the_class_that_holds_the_cursor():
    text = (
        "class Cart:\n    def add(self, item):\n        self.items.append(item)\n        self.total += 1\n\n"
        "class User:\n    def rename(self, name):\n        self.name = name\n        self.\n"
        "    def greet(self):\n        return self.greeting\n\nclass Other:\n    def f(self):\n        self.other = 1\n"
    )
    cursor = text.index("self.\n") + 5
    assert IdentifierNgram().attributes("a", text, cursor, "") == ["name", "greeting"]
    assert IdentifierNgram().attributes("a", "self.x = 1\nself.", 16, "") == []  # outside a class: another object
