"""The statements last answered: found again for the same spot, typed through while the user
types the start of one, bounded."""

from nib.model.completion.request import Mode, Options, Request
from nib.model.completion.result import Candidate
from nib.model.completion.shown import Shown

TEXT = "found = []\nfound."
APPEND = Candidate("append(name)", len(TEXT), -0.1, "statement", "append(name)")


def request(text: str, options: Options = Options(), doc: str = "file:///a.py") -> Request:
    return Request(text, len(text), Mode.STATEMENT, options, doc=doc)


def test_the_statement_answered_at_the_same_text_cursor_and_options():
    shown = Shown(4)
    shown.add(request(TEXT), APPEND)
    assert shown.at(TEXT, len(TEXT), Options()) is APPEND
    assert shown.at(TEXT, len(TEXT), Options(healing="off")) is None
    assert shown.at(TEXT + "a", len(TEXT) + 1, Options()) is None


def test_typing_the_start_of_the_statement_keeps_it_and_anything_else_does_not():
    shown = Shown(4)
    shown.add(request(TEXT), APPEND)
    assert shown.typed_through(request(TEXT + "app")) is APPEND
    assert shown.typed_through(request(TEXT + "appe")) is APPEND  # from the entry typed through last
    assert shown.typed_through(request(TEXT + "x")) is None
    assert shown.typed_through(request(TEXT + "append(name)")) is None  # all typed: nothing more to show
    assert shown.typed_through(request(TEXT + "app", Options(healing="off"))) is None


def test_a_spot_answered_with_nothing_is_not_typed_through():
    shown = Shown(4)
    shown.add(request(TEXT), None)
    assert shown.typed_through(request(TEXT + "a")) is None


def test_only_the_last_entries_are_kept():
    shown = Shown(2)
    for n in range(3):
        shown.add(request(f"x{n} = "), Candidate(f"{n}", 5, 0.0, "statement"))
    assert [shown.at(f"x{n} = ", 5, Options()) is not None for n in range(3)] == [False, True, True]
    shown.clear()
    assert shown.at("x2 = ", 5, Options()) is None


def test_a_closed_documents_statements_are_dropped_and_the_others_kept():
    shown = Shown(4)
    shown.add(request(TEXT), APPEND)
    shown.add(request("x = ", doc="file:///b.py"), Candidate("1", 4, 0.0, "statement"))
    shown.drop("file:///a.py")
    assert shown.at(TEXT, len(TEXT), Options()) is None and shown.at("x = ", 4, Options()) is not None


def test_showing_is_the_statement_on_screen_at_the_spot_or_typed_through_and_changes_nothing():
    shown = Shown(4)
    shown.add(request(TEXT), APPEND)
    assert shown.showing(TEXT, len(TEXT), Options(), "file:///a.py") is APPEND
    assert shown.showing(TEXT + "ap", len(TEXT) + 2, Options(), "file:///a.py") is APPEND
    assert shown.showing(TEXT + "x", len(TEXT) + 1, Options(), "file:///a.py") is None  # typed past it
    assert shown.showing(TEXT + "append(name)", len(TEXT) + 12, Options(), "file:///a.py") is None  # all typed
    assert shown.showing(TEXT + "ap", len(TEXT) + 2, Options(healing="off"), "file:///a.py") is None
    assert shown.showing(TEXT + "ap", len(TEXT) + 2, Options(), "file:///b.py") is None  # another document's
    assert shown.at(TEXT + "ap", len(TEXT) + 2, Options()) is None  # not added as typed_through adds


def test_showing_follows_the_last_answer_there_even_when_it_showed_nothing():
    shown = Shown(4)
    shown.add(request(TEXT), APPEND)
    shown.add(request(TEXT + "a"), None)  # answered anew at `a`, nothing shown
    assert shown.showing(TEXT + "ap", len(TEXT) + 2, Options(), "file:///a.py") is None
