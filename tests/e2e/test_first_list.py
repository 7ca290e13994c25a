"""The first list at a new place in a document, while jedi is still working there: the names jedi
gave at the module's level when the document was opened, ranked by the model, not the model's
guesses alone."""

import asyncio
import os
import time

import pytest_lsp
from fixtures import SERVER, SLOW_JEDI
from lsp import complete, open_doc
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

# jedi answers at once, but 60 s late where a name starts after `total = ` or `import `: the list's own call there
LATE_THERE = {
    **os.environ,
    "NIB_JEDI_WORKER": " ".join(SLOW_JEDI),
    "NIB_JEDI_DELAY_S": "60",
    "NIB_JEDI_LATE_AT": "total = |import ",
}
TEXT = """import os


def compute_totals(orders):
    return sum(o.amount for o in orders)


def report(orders):
    total = co"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER + ["--test-requests"], server_env=LATE_THERE))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def test_jedi_late_at_a_new_place_the_list_has_the_modules_names_jedi_gave_at_open(client: LanguageClient):
    open_doc(client, TEXT)
    deadline = time.monotonic() + 30
    while (await memory(client))["jedi_scopes"] == 0:  # jedi's answer for the opened document (worker started first)
        assert time.monotonic() < deadline, "jedi never answered at the opened document's module level"
        await asyncio.sleep(0.1)
    result = await complete(client, 8, 14)
    K, guess = types.CompletionItemKind, "nib · the model's guess"
    assert [(i.label, i.kind, i.detail) for i in result.items] == [
        ("compute_totals", K.Function, "nib · function"),
        ("copy", K.Text, guess),
        ("count", K.Text, guess),
        ("compile", K.Function, "nib · function"),  # builtins the file does not use: below (corrections.py)
        ("counts", K.Text, guess),  # not jedi's `continue` from the module's level: no keyword after `= `
        ("complex", K.Class, "nib · class"),
        ("copyright", K.Variable, "nib · statement"),  # a builtin too, though jedi calls it a variable
        ("counts1", K.Text, guess),
        ("counted", K.Text, guess),
    ]
    assert result.is_incomplete  # jedi's own answer here comes later: the editor asks again


async def memory(client: LanguageClient) -> dict:
    return (await client.protocol.send_request_async("nib/_memory", {}))._asdict()


async def test_jedi_late_in_an_import_the_list_has_the_modules_that_exist(client: LanguageClient):
    """`import js` where jedi is late: the package the file imports from above and the standard
    library's `json`, not the model's guesses; incomplete, so the editor asks jedi again."""
    open_doc(client, "import jsonschema\n\nimport js")
    result = await complete(client, 2, 9)
    K = types.CompletionItemKind
    assert [(i.label, i.kind, i.detail) for i in result.items] == [
        ("json", K.Module, "nib · module json"),
        ("jsonschema", K.Module, "nib · module jsonschema"),
    ]
    assert result.is_incomplete
