"""completionItem/resolve over stdio: the item an editor focuses gets jedi's signature and docstring."""

import asyncio
import os

import attrs
import pytest_lsp
from fixtures import SERVER, SLOW_JEDI
from lsp import JEDI_WAITED, MODELS_OWN, configure, static_list
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

TEXT = '''def area(w, h=2):
    """The area of a w by h rectangle.

    Both in metres."""
    return w * h


class Box:
    """A box."""

    def __init__(self, side: int):
        self.side = side


count = 3
total = '''
WAITED = {"jedi": {"budgetMs": 5000, "nameBudgetMs": 5000}}
# jedi lists at once but describes 2 s late: past the resolve's 1 s wait (`server/resolve.py`)
LATE_DESCRIPTION = {
    **os.environ,
    "NIB_JEDI_WORKER": " ".join(SLOW_JEDI),
    "NIB_JEDI_DELAY_S": "0",
    "NIB_JEDI_DESCRIBE_DELAY_S": "2",
}
AREA_DOC = types.MarkupContent(types.MarkupKind.PlainText, "The area of a w by h rectangle.\n\nBoth in metres.")


async def started(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"), initialization_options=JEDI_WAITED
        )
    )


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    await started(lsp_client)
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=LATE_DESCRIPTION))
async def late_client(lsp_client: LanguageClient):
    await started(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def listed(client: LanguageClient, typed: str) -> dict[str, types.CompletionItem]:
    """The list's items by label after `total = ` and typed."""
    text = TEXT + typed
    result = await static_list(client, text, 16, len("total = ") + len(typed), WAITED)
    return {item.label: item for item in result.items}


async def test_a_name_jedi_lists_gets_its_signature_and_docstring_and_keeps_its_edit_and_command(client):
    items = await listed(client, "a")
    area = items["area"]
    assert (area.kind, area.detail, area.documentation) == (types.CompletionItemKind.Function, "nib · function", None)
    resolved = await client.completion_item_resolve_async(area)
    assert resolved == attrs.evolve(area, detail="nib · def area(w, h=2)", documentation=AREA_DOC)
    assert resolved.command is not None and resolved.command.command == "nib.accepted"


async def test_a_class_gets_its_constructors_signature(client):
    box = (await listed(client, "B"))["Box"]
    resolved = await client.completion_item_resolve_async(box)
    doc = types.MarkupContent(types.MarkupKind.PlainText, "A box.")
    assert resolved == attrs.evolve(box, detail="nib · class Box(side: int)", documentation=doc)


async def test_what_jedi_has_nothing_on_comes_back_as_it_was(client):
    items = await listed(client, "c")
    count = items["count"]  # a variable without a docstring
    assert await client.completion_item_resolve_async(count) == count
    guesses = [item for item in items.values() if item.kind in MODELS_OWN]  # the model's, a keyword, a literal
    assert guesses
    for item in guesses:
        assert await client.completion_item_resolve_async(item) == item
    gone = attrs.evolve(count, label="no_such_name")  # a name not in scope there (an edit since)
    assert await client.completion_item_resolve_async(gone) == gone


async def test_a_document_that_gets_no_list_gets_no_description(client):
    area = (await listed(client, "a"))["area"]
    configure(client, {"enable": False})
    assert await client.completion_item_resolve_async(area) == area


async def test_a_description_too_late_for_one_resolve_is_kept_for_the_next(late_client):
    area = (await listed(late_client, "a"))["area"]
    assert await late_client.completion_item_resolve_async(area) == area  # jedi still working: as it was
    described = attrs.evolve(area, detail="nib · def area(w, h=2)", documentation=AREA_DOC)
    for _ in range(20):  # jedi's answer comes 2 s after it was asked, then each resolve finds it
        await asyncio.sleep(0.5)
        if (resolved := await late_client.completion_item_resolve_async(area)) != area:
            break
    assert resolved == described
