"""Completion results as LSP items: an incomplete list sends its best names, a complete one all."""

from lsprotocol import types

from nib.model.completion.result import Candidate, Timings
from nib.model.listing.jedi import JediAnswer, JediName
from nib.model.listing.ranker import Listing
from nib.server.convert import ITEMS_SENT, completion_list
from nib.server.documents import Document

TEXT = "import os\nos.p"


def _listing(position: str) -> Listing:
    names = [Candidate(f"p{i:03d}", 13, -i, "name", f"p{i:03d}") for i in range(150)]
    statement = Candidate("path.join(a, b)", 13, -1.0, "statement", "path.join(a, b)")
    jedi = JediAnswer([JediName(c.label, "statement", "statement") for c in names], position)
    return Listing(names + [statement], Timings(), jedi)


def _labels(result: types.CompletionList) -> list[str]:
    return [item.label for item in result.items]


def test_an_incomplete_list_sends_its_best_names_and_its_statement_item():
    result = completion_list(_listing("name"), Document("file:///a.py", TEXT, 1), len(TEXT), "utf-16")
    assert result.is_incomplete is True
    # and the best of the rest that a next character selects (`p1`): a name to show as it is typed
    assert _labels(result) == [f"p{i:03d}" for i in range(ITEMS_SENT)] + ["p100", "path.join(a, b)"]
    assert result.items[-1].sort_text == "0150"  # its rank among every candidate: last


def test_a_complete_list_sends_every_name_for_the_editor_to_filter():
    result = completion_list(_listing("attribute"), Document("file:///a.py", TEXT, 1), len(TEXT), "utf-16")
    assert result.is_incomplete is False
    assert _labels(result) == [f"p{i:03d}" for i in range(150)] + ["path.join(a, b)"]
