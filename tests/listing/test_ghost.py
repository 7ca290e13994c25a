"""The list agrees with the ghost text on screen: the name it goes on with first, added only
where the list may offer the model's own names."""

from nib.model.completion.result import Candidate, Timings
from nib.model.listing.ghost import ghost_first, ghost_name
from nib.model.listing.ranker import Listing

TEXT = "total = 0\nprint(to"
CURSOR = len(TEXT)
START = CURSOR - 2


def names(*labels: str) -> list[Candidate]:
    return [Candidate(label, START, -float(i), "name", label) for i, label in enumerate(labels)]


def listing(candidates: list[Candidate], position=("name", True)) -> Listing:
    return Listing(candidates, Timings(), None, position)


def statement(text: str, start: int = START) -> Candidate:
    return Candidate(text, start, -0.5, "statement", text)


def test_the_ghost_texts_name_is_what_is_typed_and_its_identifier_characters_after_the_cursor():
    assert ghost_name(statement("total)"), TEXT, CURSOR) == ("total", START, ")")
    assert ghost_name(statement("tal)", CURSOR), TEXT, CURSOR) == ("total", START, ")")  # not healed
    assert ghost_name(statement("total_2 + 1)"), TEXT, CURSOR) == ("total_2", START, " + 1)")
    assert ghost_name(statement("to)"), TEXT, CURSOR) is None  # the name ends at the cursor
    assert ghost_name(statement("('x')", CURSOR), "print", 5) is None
    assert ghost_name(statement("1)", CURSOR), "print(", 6) is None  # not a name


def test_the_ghost_texts_name_goes_first_and_the_rest_keep_their_order():
    before = listing(names("tomorrow", "top", "total", "to_do"))
    after = ghost_first(before, statement("total)"), TEXT, CURSOR, invent=True)
    assert [c.label for c in after.candidates] == ["total", "tomorrow", "top", "to_do"]
    assert after.candidates[0] is before.candidates[2]  # jedi's item as it was: its kind and detail


def test_a_name_no_candidate_has_is_added_where_the_list_invents_and_not_after_a_dot():
    before = listing(names("tomorrow", "top"))
    added = ghost_first(before, statement("totals)"), TEXT, CURSOR, invent=True)
    assert added.candidates[0] == Candidate("totals", START, 0.0, "token", "totals")
    assert [c.label for c in added.candidates[1:]] == ["tomorrow", "top"]
    assert ghost_first(before, statement("totals)"), TEXT, CURSOR, invent=False) is before


def test_a_keyword_arguments_equals_sign_prefers_the_keyword_item():
    before = listing(names("total", "total="), ("kwarg", True))
    assert ghost_first(before, statement("total=1)"), TEXT, CURSOR, True).candidates[0].label == "total="
    assert ghost_first(before, statement("total == 1)"), TEXT, CURSOR, True).candidates[0].label == "total"


def test_no_ghost_text_no_name_or_prose_leaves_the_list_as_it_is():
    before = listing(names("tomorrow", "total"))
    assert ghost_first(before, None, TEXT, CURSOR, True) is before
    assert ghost_first(before, statement("to)"), TEXT, CURSOR, True) is before
    prose = listing([], ("prose", False))
    assert ghost_first(prose, statement("total)"), TEXT, CURSOR, True) is prose


def test_a_statement_cut_inside_the_name_moves_up_the_best_name_that_begins_with_it_and_adds_none():
    before = listing(names("tomorrow", "top", "totally", "total_count"))
    cut = Candidate("tot", START, -0.5, "statement", "tot", cut=True)
    assert [c.label for c in ghost_first(before, cut, TEXT, CURSOR, True).candidates] == [
        "totally",
        "tomorrow",
        "top",
        "total_count",
    ]
    assert ghost_first(before, Candidate("totem", START, -0.5, "statement", cut=True), TEXT, CURSOR, True) is before
    ended = Candidate("tot)", START, -0.5, "statement", cut=True)  # cut after the name: the name is whole
    assert ghost_first(before, ended, TEXT, CURSOR, True).candidates[0] == Candidate("tot", START, 0.0, "token", "tot")
