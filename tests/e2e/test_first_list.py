"""The first list at a new place in a document, while jedi is still working there: the names jedi
gave at a name at the module's level before, ranked by the model, not the model's guesses alone."""

import asyncio
import os
import time

import pytest_lsp
from fixtures import SERVER, SLOW_JEDI
from lsp import complete, open_doc, type_text
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

# jedi answers at once, but 60 s late where a name starts after `total = `: the list's own call there
LATE_THERE = {
    **os.environ,
    "NIB_JEDI_WORKER": " ".join(SLOW_JEDI),
    "NIB_JEDI_DELAY_S": "60",
    "NIB_JEDI_LATE_AT": "total = ",
}
TEXT = """from os import *


def compute_totals(orders):
    return sum(o.amount for o in orders)


def report(orders):
    total = co"""
AT_MODULE = TEXT[: TEXT.index("def report")] + "co"  # a name typed at the module's level first


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER + ["--test-requests"], server_env=LATE_THERE))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def test_jedi_late_at_a_new_place_the_list_has_the_names_jedi_gave_at_the_modules_level(client: LanguageClient):
    open_doc(client, AT_MODULE)
    deadline = time.monotonic() + 30
    while (await memory(client))["jedi_scopes"] == 0:  # each list jedi was late for asks it again
        assert time.monotonic() < deadline, "jedi never answered at the module's level"
        await complete(client, 7, 2)
        await asyncio.sleep(0.1)
    assert type_text(client, AT_MODULE, 7, 0, "def report(orders):\n    total = ", 2) == TEXT
    result = await complete(client, 8, 14)
    K, guess = types.CompletionItemKind, "nib · the model's guess"
    assert [(i.label, i.kind, i.detail) for i in result.items] == [
        ("compute_totals", K.Function, "nib · function"),
        ("copy", K.Text, guess),
        ("count", K.Text, guess),
        ("confstr_names", K.Variable, "nib · statement"),  # os's, as jedi gave them: not read from the text
        ("compile", K.Function, "nib · function"),  # builtins the file does not use: below (corrections.py)
        ("counts", K.Text, guess),  # not jedi's `continue` from the module's level: no keyword after `= `
        ("confstr", K.Function, "nib · function"),
        ("complex", K.Class, "nib · class"),
        ("copy_file_range", K.Function, "nib · function"),
        ("copyright", K.Variable, "nib · statement"),  # a builtin too, though jedi calls it a variable
        ("counts1", K.Text, guess),
        ("counted", K.Text, guess),
    ]
    assert result.is_incomplete  # jedi's own answer here comes later: the editor asks again


async def memory(client: LanguageClient) -> dict:
    return (await client.protocol.send_request_async("nib/_memory", {}))._asdict()
