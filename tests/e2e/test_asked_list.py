"""A list the user asks for where nothing of a name is typed (Ctrl+Space: triggerKind Invoked) waits
for jedi as long as after `.` (`jedi.budgetMs`); one an editor asks by typing (a trigger character)
waits the name's 30 ms (`jedi.nameBudgetMs`) and is answered without jedi's own names there when
jedi is late (those it gave elsewhere, and those read from the text)."""

import asyncio
import os
import time

import pytest_lsp
from fixtures import SERVER, SLOW_JEDI
from lsp import open_doc
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

# jedi answers at once, but 1 s late where the cursor's line holds `sum(` (the list's own call there)
LATE_THERE = {**os.environ, "NIB_JEDI_WORKER": " ".join(SLOW_JEDI), "NIB_JEDI_DELAY_S": "1", "NIB_JEDI_LATE_AT": "sum("}
TEXT = """def report(orders, discount):
    subtotal = 1
    total = sum(


def rate(x):
    return x
"""
K = types.CompletionItemKind


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER + ["--test-requests"], server_env=LATE_THERE))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(), initialization_options={"jedi": {"budgetMs": 5000}}
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_ctrl_space_where_nothing_is_typed_waits_for_jedi_and_typing_does_not(client: LanguageClient):
    """After `sum(` in a function jedi has not answered in yet: typed, the list does not wait for
    jedi; it has the names jedi gave elsewhere (the document's end, in `rate`), completed with the
    function's parameters and locals read from the text, with the kinds jedi gives them. Asked for,
    it waits for jedi's own names there: the same first five."""
    by_typing = types.CompletionContext(types.CompletionTriggerKind.TriggerCharacter, "(")
    typed = await listed(client, "file:///typed.py", by_typing, 1)
    asked = await listed(client, "file:///asked.py", types.CompletionContext(types.CompletionTriggerKind.Invoked), 2)
    first = [
        ("orders", K.Variable, "nib · param"),
        ("report", K.Function, "nib · function"),
        ("rate", K.Function, "nib · function"),
        ("discount", K.Variable, "nib · param"),
        ("subtotal", K.Variable, "nib · statement"),
    ]
    assert [(i.label, i.kind, i.detail) for i in typed.items[:5]] == first
    assert [(i.label, i.kind, i.detail) for i in asked.items[:5]] == first
    timed = (await client.protocol.send_request_async("nib/_timings", {})).list
    assert [t.jedi_wait_ms > 900 for t in timed] == [False, True]  # jedi answers 1 s late there


async def listed(client: LanguageClient, uri: str, context, scopes: int) -> types.CompletionList:
    """The list after `sum(` in TEXT opened at uri, once jedi has answered where the document ends
    (the server then keeps scopes of them, all documents together)."""
    open_doc(client, TEXT, uri)
    deadline = time.monotonic() + 30
    while (await client.protocol.send_request_async("nib/_memory", {}))._asdict()["jedi_scopes"] < scopes:
        assert time.monotonic() < deadline, "jedi never answered at the opened document's module level"
        await asyncio.sleep(0.1)
    return await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(2, 16), context)
    )


async def test_a_trigger_character_a_space_comes_after_gets_an_empty_incomplete_list(client: LanguageClient):
    """`x =` typed: the space comes next, which would close the list, so the name's first key asks."""
    open_doc(client, "total = 1\nx =", "file:///space.py")
    by_typing = types.CompletionContext(types.CompletionTriggerKind.TriggerCharacter, "=")
    answered = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier("file:///space.py"), types.Position(1, 3), by_typing)
    )
    assert (answered.is_incomplete, list(answered.items)) == (True, [])
