"""Completion results as LSP items: an incomplete list sends its best names, a complete one all."""

import json

from lsprotocol import types
from pygls.protocol import default_converter

from nib.model.completion.result import Candidate, Timings
from nib.model.listing.jedi_answers import JediAnswer, JediName
from nib.model.listing.ranker import Listing
from nib.server.convert import ITEMS_SENT, completion_list
from nib.server.documents import Document

TEXT = "import os\nos.p"


def _listing(position: str) -> Listing:
    names = [Candidate(f"p{i:03d}", 13, -i, "name", f"p{i:03d}") for i in range(150)]
    statement = Candidate("path.join(a, b)", 13, -1.0, "statement", "path.join(a, b)")
    jedi = JediAnswer([JediName(c.label, "statement", "statement") for c in names], position)
    return Listing(names + [statement], Timings(), jedi)


def _labels(result: dict) -> list[str]:
    return [item["label"] for item in result["items"]]


def test_an_incomplete_list_sends_its_best_names_and_its_statement_item():
    result = completion_list(_listing("name"), Document("file:///a.py", TEXT, 1), len(TEXT), "utf-16")
    assert result["isIncomplete"] is True
    # and the best of the rest that a next character selects (`p1`): a name to show as it is typed
    assert _labels(result) == [f"p{i:03d}" for i in range(ITEMS_SENT)] + ["p100", "path.join(a, b)"]
    assert result["items"][-1]["sortText"] == "0150"  # its rank among every candidate: last


def test_a_complete_list_sends_every_name_for_the_editor_to_filter():
    result = completion_list(_listing("attribute"), Document("file:///a.py", TEXT, 1), len(TEXT), "utf-16")
    assert result["isIncomplete"] is False
    assert _labels(result) == [f"p{i:03d}" for i in range(150)] + ["path.join(a, b)"]


def test_the_list_is_json_that_lsprotocol_reads_back_unchanged():
    """The list is built as plain JSON (`protocol.Wire`): it must be the CompletionList an
    editor's client reads, field for field, with the range in the client's encoding."""
    text = "s = '😀'; os.pa"
    names = [Candidate("path", 12, -0.1, "name", "path"), Candidate("pardir", 12, -0.2, "name", "pardir")]
    names.append(Candidate("parse", 12, -0.3, "token", "parse"))  # decoded by the model, not scored as a name
    statement = Candidate("path.join(\n    a)", 12, -1.0, "statement", "path.join(\n    a)")
    jedi = JediAnswer([JediName("path", "module", "module os.path")], "attribute")
    accept = lambda i: types.Command(title="nib: accepted", command="nib.accepted", arguments=[7, i])  # noqa: E731
    wire = completion_list(
        Listing(names + [statement], Timings(), jedi), Document("file:///a.py", text, 1), len(text), "utf-16", accept
    )
    converter = default_converter()
    read = converter.structure(wire, types.CompletionList)
    assert converter.unstructure(read) == wire
    assert json.loads(json.dumps(wire)) == wire
    assert wire["items"][0] == {
        "label": "path",
        "kind": types.CompletionItemKind.Module.value,
        "detail": "nib · module os.path",
        "sortText": "0000",
        "filterText": "path",
        "insertTextFormat": types.InsertTextFormat.PlainText.value,
        "textEdit": {
            "range": {"start": {"line": 0, "character": 13}, "end": {"line": 0, "character": 15}},
            "newText": "path",
        },
        "command": {"title": "nib: accepted", "command": "nib.accepted", "arguments": [7, 0]},
    }
    assert [(i["label"], i["detail"], i["kind"]) for i in wire["items"][1:]] == [
        ("pardir", "nib · in this file", types.CompletionItemKind.Text.value),  # not jedi's: the file's
        ("parse", "nib · the model's guess", types.CompletionItemKind.Text.value),
        ("path.join( …", "nib: rest of the statement", types.CompletionItemKind.Snippet.value),
    ]
