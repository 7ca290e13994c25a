"""The engine client's own steps: what it backs off, how it asks for it back, where it cuts.
The engine itself is real in tests/e2e/test_remote_engine.py."""

import pytest

from nib.model.completion.engine import Cut, EngineError, _choice, constraint, gbnf_literal, own, word_backoff
from nib.model.completion.request import Options


@pytest.mark.parametrize(
    "prefix, removed",
    [
        ("x = os.pa", "pa"),  # the word the cursor is in
        ("x = fo", " fo"),  # with the blank before it: `▁fo` / ` fo` is one token in most vocabularies
        ("f(", "("),
        ("x = a ==", " =="),
        ("    ", "    "),  # indentation: the engine picks the indent token
        ("x = 1\n", ""),
        ("", ""),
        ("y = " + "a" * 40, ""),  # longer than MAX_BACKOFF: sent as it is
    ],
)
def test_word_backoff(prefix, removed):
    assert word_backoff(prefix) == removed


def test_gbnf_literal_escapes_what_gbnf_reads_specially():
    assert gbnf_literal('a"b\\c') == '"a\\"b\\\\c"'
    assert gbnf_literal("\n\t") == '"\\x0a\\x09"'
    assert gbnf_literal("é𝔘") == '"é𝔘"'


def test_constraint_per_engine():
    assert constraint("pa", "grammar") == {"grammar": 'root ::= "pa" .*'}
    assert constraint("a.b", "regex") == {"structured_outputs": {"regex": "a\\.b[\\s\\S]*"}}
    assert constraint("pa", "off") == {} and constraint("", "grammar") == {}


def test_cut_ends_the_statement_by_nibs_rules():
    cut = Cut("ap", "    found.ap", 0, "auto")
    assert cut.consistent("a") and cut.consistent("append") and not cut.consistent("x")
    assert cut.end("a") is None and cut.end("append(name") is None
    assert cut.end("append(name)\n    return") == len("append(name)")
    inside = Cut("", "x = f(", 0, "auto")
    assert inside.end("a,\n b)\ny = 2") == 6  # a newline inside the brackets does not end it
    assert cut.end("append(name.name.name.name") is None and cut.end("append(name.name.name.name.name") == len(
        "append("
    )


def test_a_chunk_that_is_not_a_completion_is_an_engine_error():
    assert _choice('{"choices": [{"text": "x", "finish_reason": null}]}', "u") == ("x", None)
    for data in ("not json", '{"error": "overloaded"}', '{"choices": []}', '{"choices": [{"text": 3}]}'):
        with pytest.raises(EngineError, match="answered something that is not a completion"):
            _choice(data, "u")


def test_what_the_settings_leave_to_an_engine():
    o = own(Options())
    assert (o.context_tokens, o.statement_min_confidence) == (448, 0)
    assert own(Options(context_tokens=1024, statement_min_confidence=20)) == Options(
        context_tokens=1024, statement_min_confidence=20
    )


def test_after_a_failure_the_engine_rests():
    """Nothing listens on the port: the first request fails; the next ones are not sent for a
    second (REST_S), so a keystroke gets the local model's statement at once."""
    import asyncio
    import socket

    from nib.model.completion.engine import EngineCompleter
    from nib.model.completion.request import Request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    engine = EngineCompleter(url)

    async def twice():
        errors = []
        for cursor in (5, 6):
            try:
                await engine.complete(Request("x = 1\ny", cursor, "statement"))
            except EngineError as e:
                errors.append(str(e))
        return errors

    first, second = asyncio.run(twice())
    assert first == second and first.startswith(f"cannot reach the engine at {url}: ConnectError")
    assert (engine.stats["requests"], engine.stats["failed"], engine.stats["skipped"]) == (1, 1, 1)


def test_the_http_client_is_made_off_the_event_loop_once_for_concurrent_first_requests(monkeypatch):
    """httpx's import and the client's SSL context, made on the loop, stalled every request on it."""
    import asyncio
    import threading

    import httpx

    from nib.model.completion.engine import EngineCompleter

    made, real_client = [], httpx.AsyncClient
    monkeypatch.setattr(httpx, "AsyncClient", lambda **kw: made.append(threading.current_thread()) or real_client(**kw))
    engine = EngineCompleter("http://gpu:8080/v1")
    assert made == []  # nothing made before a statement asks

    async def clients():
        first = await asyncio.gather(engine._http(), engine._http())
        later = await engine._http()
        await engine.aclose()
        return first + [later]

    clients_made = asyncio.run(clients())
    assert len(made) == 1 and made[0] is not threading.main_thread()
    assert all(client is clients_made[0] for client in clients_made) and clients_made[0].is_closed


def test_a_client_made_for_an_engine_closed_meanwhile_is_closed_and_the_request_fails(monkeypatch):
    import asyncio

    import httpx

    from nib.model.completion.engine import EngineCompleter

    made, real_client = [], httpx.AsyncClient
    monkeypatch.setattr(httpx, "AsyncClient", lambda **kw: made.append(real_client(**kw)) or made[-1])
    engine = EngineCompleter("http://gpu:8080/v1")

    async def closed_while_made():
        asking = asyncio.ensure_future(engine._http())
        await asyncio.sleep(0)  # the client is being made on its thread
        await engine.aclose()
        with pytest.raises(EngineError, match="no longer used"):
            await asking

    asyncio.run(closed_while_made())
    assert [client.is_closed for client in made] == [True]


FIRST_REQUEST = """
import asyncio, socket, sys
from nib.model.completion.engine import EngineCompleter, EngineError
from nib.model.completion.request import Request

async def main():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    engine = EngineCompleter(url)
    await engine._http()
    before = set(sys.modules)
    try:
        await engine.complete(Request("x = 1\\ny", 7, "statement"))
    except EngineError as e:
        print(sorted(set(sys.modules) - before), str(e).split(": ")[1])

asyncio.run(main())
"""


def test_the_first_connection_imports_nothing_on_the_event_loop():
    """What httpx's first connection imports (anyio's backend) is imported with the client, on its thread."""
    import subprocess
    import sys

    ran = subprocess.run([sys.executable, "-c", FIRST_REQUEST], capture_output=True, text=True, timeout=60)
    assert ran.stdout.strip() == "[] ConnectError", ran.stderr[-2000:]
