"""The list and the ghost text while a user types: what the list offers, and what is not recomputed.

The real server over stdio with the bundled model and jedi; `nib/_last` (a test-only
request) says how the last answer was made.
"""

import asyncio
import re

import pytest_lsp
from fixtures import SERVER
from lsp import K, complete, configure, inline, open_doc, static_list, type_text
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

# a name or keyword, a number, a string literal: what a list item may be
LISTABLE = re.compile(r"[^\W\d]\w*|\d[\w.]*|\.\d\w*|(?i:[rbuf]{0,2})['\"].*")
GUESS = "nib · the model's guess"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER + ["--test-requests"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def last(client):
    """How the last completion was made: .narrowed, .timings.<step>_ms (pygls reads the JSON as objects)."""
    return await client.protocol.send_request_async("nib/_last", {})


def names(result) -> list[tuple]:
    return [
        (i.label, i.kind, i.detail, i.text_edit.new_text, i.text_edit.range)
        for i in result.items
        if i.kind != K.Snippet
    ]


async def test_a_parameter_list_offers_names_not_operators(client: LanguageClient):
    """After `def __init__(self, ` the model likes `*`, `**` and `/`: typed faster than chosen, not list items."""
    configure(client, {"jedi": {"enable": False}})
    text = "class Point:\n    def __init__(self, "
    open_doc(client, text)
    result = await complete(client, 1, len("    def __init__(self, "))
    labels = [i.label for i in result.items if i.kind != K.Snippet]
    assert labels and all(LISTABLE.fullmatch(label) for label in labels), labels


async def test_where_jedi_is_silent_the_models_names_are_marked_as_guesses(client: LanguageClient):
    text = "import os\n\nresult = undefined_thing."
    await static_list(client, "import os\nos.", 1, 3, {"jedi": {"budgetMs": 5000}})  # jedi loaded
    open_doc(client, text, uri="file:///tmp/guess.py")
    result = await complete(client, 2, len("result = undefined_thing."), uri="file:///tmp/guess.py")
    items = names(result)
    assert items and all(detail == GUESS and kind == K.Text for _, kind, detail, _, _ in items), items
    assert result.is_incomplete is True  # jedi knows nothing here: another request may find more


async def test_at_a_name_items_are_jedis_kinds_keywords_or_guesses(client: LanguageClient):
    text = "import os\n\n\ndef walk(root):\n    for name in os.listdir(root):\n        pri"
    result = await static_list(client, text, 5, 11, {"jedi": {"budgetMs": 5000, "nameBudgetMs": 5000}})
    assert result.is_incomplete is True
    by_label = {label: (kind, detail) for label, kind, detail, _, _ in names(result)}
    # jedi's `print` with jedi's kind; the model's new names (the bundled model's) marked as its guesses
    assert by_label == {
        "print": (K.Function, "nib · function"),
        "printfile": (K.Text, GUESS),
        "prints": (K.Text, GUESS),
        "print_zip": (K.Text, GUESS),
        "print_": (K.Text, GUESS),
    }


async def test_after_a_dot_the_list_is_complete_and_narrows_as_the_name_grows(client: LanguageClient):
    """jedi's attributes are the whole truth after `.`: isIncomplete is false, and the next
    keystroke's list is the last one narrowed (no model, no jedi), with what a fresh one has."""
    text = "import os\nos.pathsep\nos.path.join(a, b)\nos.pa"
    first = await static_list(client, text, 3, 5, {"jedi": {"budgetMs": 5000}})
    assert first.is_incomplete is False and not (await last(client)).narrowed
    text = type_text(client, text, 3, 5, "t", version=2)
    second = await complete(client, 3, 6)
    made = await last(client)
    assert made.narrowed and made.timings.prefill_ms == 0 and made.timings.jedi_wait_ms == 0
    assert second.is_incomplete is False
    r = types.Range(types.Position(3, 3), types.Position(3, 6))
    expected = [
        (label, kind, detail, new, r)
        for label, kind, detail, new, _ in names(first)
        if new.startswith("pat") and new != "pat"
    ]
    assert sorted(names(second)) == sorted(expected) and len(expected) >= 3
    open_doc(client, text, uri="file:///tmp/fresh.py")  # the same text computed afresh: the same names
    fresh = await complete(client, 3, 6, uri="file:///tmp/fresh.py")
    assert not (await last(client)).narrowed
    assert sorted(n[0] for n in names(fresh)) == sorted(n[0] for n in names(second))


async def test_typing_through_the_ghost_text_keeps_it(client: LanguageClient):
    """Typing the next character of the ghost text answers the same edit, not a new decode."""
    text = "import os\nos.pa"
    open_doc(client, text)
    first = await inline(client, 1, 5)
    [item] = first.items
    assert item.insert_text == "path.dirname(path.dirname)"  # the bundled model's, as in test_server
    type_text(client, text, 1, 5, "t", version=2)
    second = await inline(client, 1, 6)
    assert [(i.insert_text, i.range) for i in second.items] == [
        ("path.dirname(path.dirname)", types.Range(types.Position(1, 3), types.Position(1, 6)))
    ]
    made = await last(client)
    assert made.timings.prompt_tokens == 0 and made.timings.decode_statement_ms == 0
    type_text(client, text, 1, 6, "x", version=3)  # off the ghost text: decoded afresh
    third = await inline(client, 1, 7)
    assert (await last(client)).timings.prompt_tokens > 0
    assert all(not i.insert_text.startswith("path") for i in third.items)


async def test_where_a_name_starts_the_list_is_ready_before_its_first_character(client: LanguageClient):
    """A space after `=` is where a name starts: the list is computed in the pause before the next
    key (speculation), and the first character's request narrows it."""
    await static_list(client, "import os\nos.", 1, 3, {"jedi": {"budgetMs": 5000}})  # jedi loaded
    text = "import os\n\nwhere ="
    open_doc(client, text, uri="file:///tmp/spec.py")
    text = type_text(client, text, 2, 7, " ", version=2, uri="file:///tmp/spec.py")
    await asyncio.sleep(2)  # a pause in typing
    type_text(client, text, 2, 8, "o", version=3, uri="file:///tmp/spec.py")
    result = await complete(client, 2, 9, uri="file:///tmp/spec.py")
    assert (await last(client)).narrowed
    assert ("os", K.Module, "nib · module os") in [(i.label, i.kind, i.detail) for i in result.items]


async def test_each_answered_request_leaves_its_timings_by_mode(client: LanguageClient):
    """`nib/_timings` (test-only) hands over the answered requests' timings since it was last
    asked: what the latency benchmark's breakdown reads (`--breakdown`)."""
    await client.protocol.send_request_async("nib/_timings", {})
    text = "import os\nos.pa"
    open_doc(client, text, uri="file:///tmp/timings.py")
    await inline(client, 1, 5, uri="file:///tmp/timings.py")  # decodes the statement (the list then reuses it)
    await complete(client, 1, 5, uri="file:///tmp/timings.py")
    timings = (await client.protocol.send_request_async("nib/_timings", {}))._asdict()
    assert sorted(timings) == ["list", "statement"] and len(timings["list"]) == len(timings["statement"]) == 1
    statement = timings["statement"][0]._asdict()
    assert statement["prefill_ms"] > 0 and statement["passes"] > 0
    assert (await client.protocol.send_request_async("nib/_timings", {}))._asdict() == {}
