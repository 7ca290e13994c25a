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


def statement(text: str, start: int = START, cut: bool = False) -> Candidate:
    return Candidate(text, start, -0.5, "statement", text, cut)


def labels(ranked: Listing) -> list[str]:
    return [c.label for c in ranked.candidates]


def test_the_ghost_texts_name_is_what_is_typed_and_its_identifier_characters_after_the_cursor():
    assert ghost_name(statement("total)"), TEXT, CURSOR) == ("total", START, ")")
    assert ghost_name(statement("tal)", CURSOR), TEXT, CURSOR) == ("total", START, ")")  # not healed
    assert ghost_name(statement("total_2 + 1)"), TEXT, CURSOR) == ("total_2", START, " + 1)")
    assert ghost_name(statement("to)"), TEXT, CURSOR) == ("to", START, ")")  # the name typed whole
    assert ghost_name(statement("('x')", 5), "print", 5) == ("print", 0, "('x')")
    assert ghost_name(statement("", CURSOR), TEXT, CURSOR) is None  # nothing after it: no word of the model's
    assert ghost_name(statement("1)", 6), "print(", 6) is None  # not a name
    assert ghost_name(statement("cafe\u0301)", 6), "print(", 6) is None  # a combining mark: \w stops short


def test_the_ghost_texts_name_goes_first_and_the_rest_keep_their_order():
    before = listing(names("tomorrow", "top", "total", "to_do"))
    after = ghost_first(before, statement("total)"), TEXT, CURSOR)
    assert labels(after) == ["total", "tomorrow", "top", "to_do"]
    assert after.candidates[0] is before.candidates[2]  # jedi's item as it was: its kind and detail


def test_the_name_typed_whole_goes_first_where_the_ghost_text_goes_on_past_it():
    # the ghost text says `to` is the whole name: Enter on the list keeps it rather than taking `total`
    before = listing(names("total", "to", "top"))
    assert labels(ghost_first(before, statement("to)"), TEXT, CURSOR)) == ["to", "total", "top"]


def test_a_name_no_candidate_has_is_added_where_the_list_invents_and_not_after_a_dot():
    before = listing(names("tomorrow", "top"))
    added = ghost_first(before, statement("totals)"), TEXT, CURSOR)
    assert added.candidates == [Candidate("totals", START, 0.0, "token", "totals")] + before.candidates
    after_a_dot = listing(before.candidates, ("attribute", True))
    assert ghost_first(after_a_dot, statement("totals)"), TEXT, CURSOR) is after_a_dot


def test_a_keyword_arguments_item_is_taken_for_the_name_and_preferred_when_the_statement_writes_the_equals():
    before = listing(names("total", "total="), ("kwarg", True))
    assert labels(ghost_first(before, statement("total=1)"), TEXT, CURSOR)) == ["total=", "total"]
    assert labels(ghost_first(before, statement("total == 1)"), TEXT, CURSOR)) == ["total", "total="]
    only_keyword = listing(names("tomorrow", "total="), ("kwarg", True))
    assert labels(ghost_first(only_keyword, statement("total = 1)"), TEXT, CURSOR)) == ["total=", "tomorrow"]


def test_a_statement_cut_inside_the_name_takes_the_name_else_the_best_that_begins_with_it_and_adds_none():
    before = listing(names("tomorrow", "top", "totally", "total_count", "tot"))
    assert labels(ghost_first(before, statement("tot", cut=True), TEXT, CURSOR)) == [
        "tot",
        "tomorrow",
        "top",
        "totally",
        "total_count",
    ]
    assert labels(ghost_first(before, statement("tota", cut=True), TEXT, CURSOR)) == [
        "totally",
        "tomorrow",
        "top",
        "total_count",
        "tot",
    ]
    assert ghost_first(before, statement("totem", cut=True), TEXT, CURSOR) is before
    ended = statement("tote)", cut=True)  # cut after the name: the name is whole
    assert labels(ghost_first(before, ended, TEXT, CURSOR)) == ["tote", *labels(before)]


def test_no_ghost_text_no_name_or_prose_leaves_the_list_as_it_is():
    before = listing(names("tomorrow", "total"))
    assert ghost_first(before, None, TEXT, CURSOR) is before
    assert ghost_first(before, statement("to)"), TEXT, CURSOR) is before  # `to` typed whole: moved up, never added
    prose = listing([], ("prose", False))
    assert ghost_first(prose, statement("total)"), TEXT, CURSOR) is prose
