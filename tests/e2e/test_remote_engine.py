"""The statement from a real inference engine: llama.cpp's server (llama-cpp-python, built by
tests/engine_tools.sh, which the README's test command runs) serving Gemma 3 270M's GGUF, behind
`nib serve` over stdio with engine.api openai. No engine is mocked: down is a port nobody
listens on, slow is a real request over a 10 ms budget, garbage is a real server's 404 page."""

import asyncio
import os

import pytest
import pytest_lsp
from fixtures import DEMO, ROOT, SERVER, heldout_file
from lsp import JEDI_WAITED, URI, complete, configure, inline, open_doc
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient

from nib.model.pretrained.llama_server import free_port, llama_server

LINE = 10  # "                found.append(os.path.join(dirpath, name))" in the demo file
FALLBACK = "; statements come from the local model until it answers again"


def sent_to(url: str) -> str:
    """What a session says, once, before its first statement goes to the engine at url."""
    return (
        f"nib: statements come from the engine at {url}: the code before the cursor in the files you edit is "
        "sent there (engine.url)"
    )


@pytest.fixture(scope="module")
def engine_url():
    with llama_server() as url:
        yield url


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER + ["--test-requests"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(), initialization_options=JEDI_WAITED)
    )
    yield
    await lsp_client.shutdown_session()


def engine(url: str, **more) -> dict:
    """Settings for the engine at url; a generous timeout unless a test is about it (a test
    machine's other work must not turn the engine's answer into the local model's)."""
    return {"engine": {"api": "openai", "url": url, "timeoutMs": 30_000, **more}}


async def in_flight(client) -> None:
    """Until the session has a request open at the engine."""
    for _ in range(200):
        stats = await client.protocol.send_request_async("nib/_engine", {})
        if stats is not None and stats.open:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no request reached the engine")


async def statements(client, line: int, character: int) -> list[tuple[str, types.Range]]:
    result = await inline(client, line, character)
    return [(i.insert_text, i.range) for i in result.items]


def at(line: int, start: int, end: int) -> types.Range:
    return types.Range(types.Position(line, start), types.Position(line, end))


async def test_ghost_text_from_the_engine_at_a_token_boundary_and_mid_word(client: LanguageClient, engine_url):
    text = DEMO.read_text()
    configure(client, engine(engine_url))
    open_doc(client, text)
    start = text.split("\n")[LINE].index("found")
    assert await statements(client, LINE, start) == [("found.append(name)", at(LINE, start, start))]
    # mid-word: "found.ap|" backs off "ap", which the engine must reproduce (a GBNF grammar):
    # the item replaces what was typed of the word and starts with it, never repeating it
    assert [(m.type, m.message) for m in client.messages] == [(types.MessageType.Info, sent_to(engine_url))]
    col = start + len("found.ap")
    assert await statements(client, LINE, col) == [("append(name)", at(LINE, col - 2, col))]
    # "fo|": " fo" backed off; unhealed, the engine would go on from "fo" as if it were a word
    assert await statements(client, LINE, start + 2) == [("found.append(name)", at(LINE, start, start + 2))]
    stats = await client.protocol.send_request_async("nib/_engine", {})
    assert (stats.requests, stats.answered, stats.failed, stats.open) == (3, 3, 0, 0)
    assert [m.message for m in client.messages] == [sent_to(engine_url)]  # once, not per statement


async def test_unhealed_the_engine_goes_on_from_the_split_word(client: LanguageClient, engine_url):
    """engine.healing off: the same cursor, the prompt cut at the cursor mid-word, and the
    engine goes on from "ap" as if it were a token's end (what healing fixes)."""
    text = DEMO.read_text()
    configure(client, engine(engine_url, healing="off"))
    open_doc(client, text)
    col = text.split("\n")[LINE].index("found.ap") + len("found.ap")
    assert await statements(client, LINE, col) == [("ivide(dirpath, dirnames)", at(LINE, col, col))]


async def test_the_list_statement_item_is_the_engines(client: LanguageClient, engine_url):
    text = DEMO.read_text()
    configure(client, engine(engine_url))
    open_doc(client, text)
    col = text.split("\n")[LINE].index("found.ap") + len("found.ap")
    assert await statements(client, LINE, col) == [("append(name)", at(LINE, col - 2, col))]
    result = await complete(client, LINE, col)
    last = result.items[-1]
    assert (last.label, last.kind, last.text_edit.new_text) == (
        "append(name)",
        types.CompletionItemKind.Snippet,
        "append(name)",
    )
    assert result.items[0].label == "append"  # the list itself is the local model's and jedi's


async def local_statement(client, text: str, line: int, character: int, settings: dict | None = None):
    configure(client, {"engine": {"api": "local"}, **(settings or {})})
    open_doc(client, text)
    found = await statements(client, line, character)
    assert found, "the local model gives a statement here"
    return found


async def test_engine_down_gives_the_local_statement_and_one_warning(client: LanguageClient):
    text = DEMO.read_text()
    col = text.split("\n")[LINE].index("found.ap") + len("found.ap")
    local = await local_statement(client, text, LINE, col)
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    configure(client, engine(url))
    assert await statements(client, LINE, col) == local
    assert await statements(client, LINE, col - 1) != []
    assert [m.message for m in client.messages] == [
        sent_to(url),
        f"nib: cannot reach the engine at {url}: ConnectError: All connection attempts failed" + FALLBACK,
    ]
    assert client.messages[1].type == types.MessageType.Warning


async def test_engine_slow_times_out_to_the_local_statement(client: LanguageClient, engine_url):
    text = heldout_file("attrs-26.1.0/attr/_make.py").read_text()[:6000]
    line = text.count("\n") - 1
    # the local statement decoded whole both times: within the usual budget, a busy machine cuts it anywhere
    unhurried = {"statement": {"budgetMs": 10_000}}
    # the fallback reads the window of the list's model (list.contextTokens), whose prompt state it shares
    local = await local_statement(client, text, line, 0, unhurried | {"model": {"contextTokens": 256}})
    configure(client, engine(engine_url, timeoutMs=10) | unhurried)
    assert await statements(client, line, 0) == local
    assert [m.message for m in client.messages] == [
        sent_to(engine_url),
        f"nib: the engine at {engine_url} did not answer within 10 ms (engine.timeoutMs)" + FALLBACK,
    ]
    stats = await client.protocol.send_request_async("nib/_engine", {})
    assert (stats.requests, stats.failed, stats.open) == (1, 1, 0)


async def test_while_the_engine_is_down_the_local_statement_reads_the_list_s_window(client: LanguageClient):
    """The list's model keeps one prompt state a document: the fallback statement reads the window
    its lists read, so that the two do not replace each other's state on every keystroke."""
    text = heldout_file("attrs-26.1.0/attr/_make.py").read_text()[:6000]
    line = text.count("\n") - 1
    configure(client, engine(f"http://127.0.0.1:{free_port()}/v1", timeoutMs=10) | {"statement": {"budgetMs": 10_000}})
    open_doc(client, text)
    await complete(client, line, 4)
    await statements(client, line, 4)
    timings = await client.protocol.send_request_async("nib/_timings", {})
    listed, made = timings.list[-1], timings.statement[-1]
    assert made.prompt_tokens == listed.prompt_tokens > 0  # (the statement's window read 222 tokens here)


async def test_an_engine_answering_garbage_gives_the_local_statement(client: LanguageClient, engine_url):
    """The engine's URL without /v1: a real server's 404 page, not a completion."""
    text = DEMO.read_text()
    col = text.split("\n")[LINE].index("found.ap") + len("found.ap")
    local = await local_statement(client, text, LINE, col)
    url = engine_url.removesuffix("/v1")
    configure(client, engine(url))
    assert await statements(client, LINE, col) == local
    told, message = client.messages
    assert told.message == sent_to(url)
    assert message.message.startswith(f"nib: the engine at {url} answered 404: ") and message.message.endswith(FALLBACK)


async def test_cancelling_closes_the_request_to_the_engine(client: LanguageClient, engine_url):
    """$/cancelRequest, and an edit, each close the HTTP request (a long prompt: the engine is
    still reading it); nothing falls back, nothing stays open."""
    text = heldout_file("attrs-26.1.0/attr/_make.py").read_text()[:8000]
    line = text.count("\n") - 1
    configure(client, engine(engine_url))
    open_doc(client, text)
    pending = asyncio.ensure_future(
        client.protocol.send_request_async(
            "textDocument/inlineCompletion",
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
                text_document=types.TextDocumentIdentifier(URI),
                position=types.Position(line, 0),
            ),
            msg_id="the-statement",
        )
    )
    await in_flight(client)
    client.protocol.notify("$/cancelRequest", types.CancelParams(id="the-statement"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(pending, 5)
    superseded = asyncio.ensure_future(inline(client, line, 1))
    await in_flight(client)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            [types.TextDocumentContentChangePartial(range=at(line, 0, 0), text="x")],
        )
    )
    assert await asyncio.wait_for(superseded, 5) is None
    stats = await client.protocol.send_request_async("nib/_engine", {})
    assert (stats.requests, stats.cancelled, stats.failed, stats.open) == (2, 2, 0, 0)
    assert [m.message for m in client.messages] == [sent_to(engine_url)]


KEY = "nib-test-secret-4f1e"


@pytest.fixture(scope="module")
def locked_engine_url():
    with llama_server(api_key=KEY) as url:
        yield url


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER + ["--test-requests", "--log-level", "debug"],
        server_env={**os.environ, "NIB_TEST_KEY": KEY},
    )
)
async def keyed_client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def test_the_api_key_comes_from_the_named_variable_and_is_never_shown(
    keyed_client: LanguageClient, locked_engine_url, capfd
):
    client, url = keyed_client, locked_engine_url
    text = DEMO.read_text()
    start = text.split("\n")[LINE].index("found")
    configure(client, engine(url, apiKeyEnv="NIB_TEST_KEY"))
    open_doc(client, text)
    assert await statements(client, LINE, start) == [("found.append(name)", at(LINE, start, start))]
    assert [m.message for m in client.messages] == [sent_to(url)]
    configure(client, engine(url, apiKeyEnv="NIB_NO_SUCH_KEY"))
    assert await statements(client, LINE, start + 1) != []  # the local model's
    assert [m.message for m in client.messages] == [
        sent_to(url),
        "nib: engine.apiKeyEnv names NIB_NO_SUCH_KEY, which is not set in nib's environment: requests go without a key",
        f'nib: the engine at {url} answered 401: {{"detail":"Invalid API key"}}' + FALLBACK,
    ]
    assert KEY not in capfd.readouterr().err  # nib's log (its stderr, at debug level) never holds the key


def test_eval_measures_the_engine(engine_url, tmp_path):
    """`nib eval --engine` on 4 cuts of the demo file: lines only (no list, no probabilities)."""
    import json
    import subprocess
    import sys

    folder = tmp_path / "code"
    folder.mkdir()
    (folder / "demo.py").write_text(DEMO.read_text())
    out = tmp_path / "eval.json"
    run = subprocess.run(
        [
            sys.executable,
            "-I",
            "-m",
            "nib.server.cli",
            "eval",
            str(folder),
            "--engine",
            engine_url,
            "--points",
            "4",
            "--no-healing",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    [result] = json.loads(out.read_text())["results"]
    assert result["name"] == f"engine {engine_url}"
    assert (result["line_points"], result["name_line_points"]) == (4, 4)
    assert (result["line_exact_match"], result["name_line_exact_match"]) == (0.75, 0.25)
    assert "confidence_curve" not in result and "token_accuracy" not in result
