"""What users ask of a completion tool, through the real server over stdio with the bundled model:
single- and multi-line ghost text, a manual trigger, excluded files and the status that says so."""

import asyncio
import os
import signal
import tempfile
from datetime import date
from pathlib import Path

import jedi
import pytest
import pytest_lsp
from fixtures import DEMO, SERVER
from lsp import apply_edit, complete, configure, inline, open_doc, started, type_text
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from nib.server.stats import Row, report

TEXT = DEMO.read_text()
LINES = TEXT.split("\n")
FAST = {"jedi": {"enable": False}, "statement": {"minConfidence": 0, "maxTokens": 128, "budgetMs": 10_000}}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    lsp_client.statuses = []

    @lsp_client.feature("nib/status")
    def status(params):
        lsp_client.statuses.append(params._asdict())

    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("neovim"), initialization_options=FAST)
    )
    yield
    await lsp_client.shutdown_session()


def cut(line: int, before: str, uri: str) -> str:
    """The demo with line `line` cut to `before`, opened at uri."""
    return apply_edit(TEXT, line, len(before), len(LINES[line]), "")


async def statement(client, line: int, before: str, uri: str) -> str | None:
    open_doc(client, cut(line, before, uri), uri=uri)
    result = await inline(client, line, len(before), uri=uri)
    return result.items[0].insert_text if result and result.items else None


@pytest.mark.parametrize(
    "lines, line, before, expected",
    [
        # an empty line: a statement that opens a block comes with its body, but for `single`
        ("auto", 8, "        ", "if os.path.exists(dirpath):\n            return os.path.join(dirpath, dirpath)"),
        ("single", 8, "        ", "if os.path.exists(dirpath):"),
        # a block header being typed: its body only with `multi`
        ("auto", 9, "            if ", "not os.path.exists(dir):"),
        (
            "multi",
            9,
            "            if ",
            'not os.path.exists(dir):\n                raise ValueError("unsupported file")',
        ),
    ],
)
async def test_statement_lines(client, lines, line, before, expected):
    configure(client, {"statement": {"lines": lines}})
    assert await statement(client, line, before, f"file:///tmp/lines_{lines}_{line}.py") == expected


async def test_manual_trigger_answers_only_when_asked(client):
    configure(client, {"statement": {"trigger": "manual"}})
    uri = "file:///tmp/manual.py"
    open_doc(client, cut(16, "    for path in ", uri), uri=uri)
    assert await inline(client, 16, len("    for path in "), uri=uri) is None  # as typing asks
    asked = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(16, len("    for path in ")),
        )
    )
    assert [item.insert_text for item in asked.items] == ["args:"]
    assert client.statuses[-1]["uri"] == uri and client.statuses[-1]["shown"] is True


async def test_a_ghost_text_asked_by_typing_keeps_its_budget_and_one_asked_for_is_prefilled_whole(client):
    """With a 10 ms budget at a place the server has not seen: typing's request gets nothing (its
    prompt's prefill stopped at the budget); the user's own request, at the same place, the
    whole prompt prefilled and the first token (the budget then bounds the decoding)."""
    configure(client, {"statement": {"budgetMs": 10}})
    handlers = "".join(f"def handler_{i}(request):\n    return send(request.body[{i}])\n\n" for i in range(12))
    uri, text = "file:///tmp/cold.py", handlers + "def handler_12(request):\n    return send(request.bo"
    line, column = text.count("\n"), len(text) - text.rfind("\n") - 1
    open_doc(client, text, uri=uri)
    typed = await inline(client, line, column, uri=uri)
    assert list(typed.items) == [] and client.statuses[-1]["shown"] is False
    asked = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, column),
        )
    )
    assert [item.insert_text for item in asked.items] == ["body"]


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[*SERVER, "--test-requests"]))
async def inspected(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("neovim"), initialization_options=FAST)
    )
    yield
    await lsp_client.shutdown_session()


async def test_where_the_cursor_rests_the_prompt_is_ready_before_the_first_key(inspected):
    """`nib/cursor`: the editor's cursor rests at a place the server has not seen (moved there, no
    key typed). The prompt there is prefilled meanwhile, so typing's first ghost text there, on a
    10 ms budget, has no prompt left to prefill; at a place the cursor only reached by the same
    request, the budget ends in the prefill (`unfilled`). Malformed positions are ignored."""
    client = inspected
    configure(client, {"statement": {"budgetMs": 10}})
    handlers = "".join(f"def handler_{i}(request):\n    return send(request.body[{i}])\n\n" for i in range(12))
    unfilled = {}
    for uri, rests in (("file:///tmp/reached.py", False), ("file:///tmp/rested.py", True)):
        # different first lines: the second prompt shares nothing with the state the first kept
        text = f"# {uri}\n" + handlers + "def handler_12(request):\n    return send(request.bo"
        line, column = text.count("\n"), len(text) - text.rfind("\n") - 1
        open_doc(client, text, uri=uri)
        if rests:
            for bad in ({"textDocument": {"uri": uri}}, {"textDocument": {"uri": uri}, "position": {"line": -1}}, []):
                client.protocol.notify("nib/cursor", bad)
            where = {"textDocument": {"uri": uri}, "position": {"line": line, "character": column}}
            client.protocol.notify("nib/cursor", where)
            await until_warmed(client, 2)  # the first document's request kept its own
        await inline(client, line, column, uri=uri)
        unfilled[uri] = (await client.protocol.send_request_async("nib/_last", {})).timings.unfilled
    assert unfilled["file:///tmp/reached.py"] > 0
    assert unfilled["file:///tmp/rested.py"] == 0


async def test_where_the_cursor_rests_after_a_dot_the_first_keys_list_is_ready(inspected):
    """`nib/cursor` after an attribute's `.`: the list there is computed in the pause, jedi's
    answer waited for, so the attribute's first character narrows it (no model, no jedi): the
    names of `os` that begin with `p`, as jedi gives them."""
    client, uri = inspected, "file:///tmp/rests_after_a_dot.py"
    configure(client, {"jedi": {"enable": True}})
    text = "import os\n\nprint(os."
    first = "file:///tmp/first.py"  # the models loaded (a rest before waits for them), jedi started
    open_doc(client, "import os\nos.pa", uri=first)
    for _ in range(60):
        if "pardir" in [item.label for item in (await complete(client, 1, 5, uri=first)).items]:
            break
        await asyncio.sleep(0.5)
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(first)))
    open_doc(client, text, uri=uri)
    client.protocol.notify("nib/cursor", {"textDocument": {"uri": uri}, "position": {"line": 2, "character": 9}})
    for _ in range(300):
        if (await client.protocol.send_request_async("nib/_memory", {})).lists_kept == 1:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("no list was speculated where the cursor rests after 30 s")
    text = type_text(client, text, 2, 9, "p", 2, uri=uri)
    listed = await complete(client, 2, 10, uri=uri)
    assert (await client.protocol.send_request_async("nib/_last", {})).narrowed is True
    expected = {c.name for c in jedi.Script(text).complete(3, 10) if c.name.startswith("p")}  # it matches any case
    assert (
        len(expected) > 5 and {i.label for i in listed.items if i.kind != types.CompletionItemKind.Snippet} == expected
    )


@pytest.mark.parametrize("typed_over", [False, True])
async def test_a_rest_while_the_models_load_is_made_ready_once_they_have(inspected, typed_over):
    """An editor that opens a file rests its cursor there at once, before the session's models
    have loaded: once they have, the list there is speculated and the prompt prefilled, as at a
    rest later on; a rest typed over meanwhile is not."""
    client, uri, text = inspected, "file:///tmp/rests_at_start.py", "import os\n\n\ndef pick(paths):\n    return "
    open_doc(client, text, uri=uri)  # at once: the models load for longer than these take
    client.protocol.notify("nib/cursor", {"textDocument": {"uri": uri}, "position": {"line": 4, "character": 11}})
    if typed_over:
        type_text(client, text, 4, 11, "p", 2, uri=uri)
    open_doc(client, "import os\n", uri="file:///tmp/loaded.py")
    await inline(client, 1, 0, uri="file:///tmp/loaded.py")  # answered once the models have loaded
    for _ in range(10 if typed_over else 300):
        if (await client.protocol.send_request_async("nib/_memory", {})).lists_kept:
            break
        await asyncio.sleep(0.1)
    assert (await client.protocol.send_request_async("nib/_memory", {})).lists_kept == (0 if typed_over else 1)
    if not typed_over:
        await until_warmed(client, 1)


async def until_warmed(client, n: int) -> None:
    """Until n prompt states are kept and no warm-up is in flight (a request would stop it)."""
    for _ in range(300):
        memory = await client.protocol.send_request_async("nib/_memory", {})
        if memory.kv_states >= n and memory.warm_ups == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {n} prompt states, or a warm-up still running, after 30 s")


async def wait_status(client, uri: str, excluded: bool) -> dict:
    for _ in range(100):
        found = [s for s in client.statuses if s["uri"] == uri]
        if found and found[-1]["excluded"] is excluded:
            return found[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no nib/status with excluded={excluded} for {uri}: {client.statuses}")


async def test_an_excluded_file_gets_nothing_and_the_status_says_so(client):
    secret, plain = "file:///tmp/app/settings/secrets.py", "file:///tmp/app/demo.py"
    open_doc(client, TEXT, uri=secret)
    assert await wait_status(client, secret, True) == {
        "uri": secret,
        "excluded": True,
        "model": "",
        "ms": 0,
        "shown": False,
        "definitions": 0,
        "chunks": 0,
    }
    assert await complete(client, 16, 8, uri=secret) is None
    assert await inline(client, 16, 8, uri=secret) is None
    open_doc(client, TEXT, uri=plain)
    assert (await complete(client, 16, 8, uri=plain)).items

    configure(client, {"exclude": ["demo.py"]})  # a setting changed: the open documents follow it
    await wait_status(client, plain, True)
    await wait_status(client, secret, False)
    assert await complete(client, 16, 8, uri=plain) is None
    assert (await complete(client, 16, 8, uri=secret)).items


async def test_a_link_to_an_excluded_file_is_excluded_too(client, tmp_path):
    (tmp_path / ".env").write_text(TEXT)
    (tmp_path / "settings_local.py").symlink_to(tmp_path / ".env")  # a cloned repository's link
    uri = (tmp_path / "settings_local.py").as_uri()
    open_doc(client, TEXT, uri=uri)
    assert (await wait_status(client, uri, True))["excluded"] is True
    assert await complete(client, 16, 8, uri=uri) is None
    assert await inline(client, 16, 8, uri=uri) is None


STATS_HOME = tempfile.mkdtemp(prefix="nib-stats-")


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=SERVER, server_env={**os.environ, "XDG_DATA_HOME": STATS_HOME})
)
async def counted(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("visual-studio-code"), initialization_options=FAST)
    )
    yield
    # the statistics reach their file when the server ends: the test ends it, then reads them. Where it
    # failed before, it is killed here: pytest-lsp's teardown waits for the server's exit, forever
    if lsp_client._server is not None and lsp_client._server.returncode is None:
        lsp_client._server.kill()


async def test_accepts_are_counted_and_followed_for_what_is_kept(counted):
    uri, before = "file:///tmp/counted.py", "    for path in "
    open_doc(counted, cut(16, before, uri), uri=uri)
    listed = await complete(counted, 16, len(before), uri=uri)
    assert {item.command.command for item in listed.items} == {"nib.accepted"}
    item = (await inline(counted, 16, len(before), uri=uri)).items[0]
    assert (item.insert_text, item.command.title, item.command.command) == ("args:", "nib: accepted", "nib.accepted")
    type_text(counted, cut(16, before, uri), 16, len(before), "args:", 2, uri=uri)  # the editor accepts it
    await counted.workspace_execute_command_async(types.ExecuteCommandParams("nib.accepted", item.command.arguments))
    # again (an editor's retry), and with arguments nib never sent: neither counts
    await counted.workspace_execute_command_async(types.ExecuteCommandParams("nib.accepted", item.command.arguments))
    await counted.workspace_execute_command_async(types.ExecuteCommandParams("nib.accepted", ["x", {}]))
    at = types.Range(types.Position(16, len(before) + 3), types.Position(16, len(before) + 4))
    counted.text_document_did_change(  # "args:" -> "argv:", and a comment written inside it
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            [types.TextDocumentContentChangePartial(range=at, text="v  # changed")],
        )
    )
    counted.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await counted.shutdown_session()
    await counted.stop()

    day = date.today().isoformat()
    typed = len("args:") + len("  # changed")  # what the edits added: "s" -> "v" adds nothing
    assert report(Path(STATS_HOME) / "nib" / "stats.sqlite3") == [
        Row(day, "bundled", "list", 1, 0, 0, 0, typed, 0.0),
        # "args:" accepted; a minute later (here: at its close) "arg" and ":" of it are still there
        Row(day, "bundled", "statement", 1, 1, 5, 4, typed, 5 / typed),
    ]


async def test_an_editor_that_ends_nib_with_sigterm_loses_no_count(tmp_path):
    """VS Code and code-server may stop the server with SIGTERM, not `shutdown`: the counts are saved."""
    async with started(*SERVER, env={**os.environ, "XDG_DATA_HOME": str(tmp_path)}) as client:
        await client.initialize_session(
            types.InitializeParams(capabilities=client_capabilities("visual-studio-code"), initialization_options=FAST)
        )
        uri, before = "file:///tmp/terminated.py", "    for path in "
        open_doc(client, cut(16, before, uri), uri=uri)
        item = (await inline(client, 16, len(before), uri=uri)).items[0]
        type_text(client, cut(16, before, uri), 16, len(before), item.insert_text, 2, uri=uri)
        await client.workspace_execute_command_async(types.ExecuteCommandParams("nib.accepted", item.command.arguments))
        client._server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(client._server.wait(), 10) == 0
        assert report(tmp_path / "nib" / "stats.sqlite3") == [
            Row(date.today().isoformat(), "bundled", "statement", 1, 1, 5, 5, 5, 1.0)
        ]
