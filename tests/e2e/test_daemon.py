"""The shared daemon, `nib serve --tcp`, reached as editors reach it: through `nib connect` over stdio.

It serves its owner only (a client without the token is refused before any LSP message is
read), binds loopback only, shares one model between sessions whose settings stay their
own, and no session's wait for jedi holds another's ghost text.
"""

import asyncio
import os
import socket
import stat
import subprocess
import sys
import time

from fixtures import ROOT, SERVER, SLOW_JEDI
from lsp import inline
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from nib.server.daemon import load_or_create_token, proof

CONNECT = [sys.executable, "-I", "-m", "nib.server.cli", "connect"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def tcp_server(tmp_path, *extra, env=None):
    """A `nib serve --tcp` on a free port, its token in tmp_path: (process, port, token file)."""
    port, token = free_port(), tmp_path / "daemon" / "token"
    proc = await asyncio.create_subprocess_exec(
        *SERVER,
        "--tcp",
        f"127.0.0.1:{port}",
        "--token-file",
        str(token),
        *extra,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    line = await asyncio.wait_for(proc.stderr.readline(), 30)
    assert b"listening on 127.0.0.1:" in line, line
    return proc, port, token


async def tcp_session(port, token, n, process_id=None, options=None, text="import os\nos.pa"):
    """A session through `nib connect` with a document open; without jedi unless options ask for it."""
    options = {"jedi": {"enable": False}, **(options or {})}
    c = LanguageClient("test", "1")
    await c.start_io(*CONNECT, f"127.0.0.1:{port}", "--token-file", str(token))
    await asyncio.wait_for(
        c.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(), process_id=process_id, initialization_options=options
            )
        ),
        10,
    )
    c.initialized(types.InitializedParams())
    c.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=f"file:///tmp/tcp{n}.py", language_id="python", version=1, text=text)
        )
    )
    return c


async def tcp_labels(c, n, line=1, character=5):
    result = await asyncio.wait_for(
        c.text_document_completion_async(
            types.CompletionParams(
                types.TextDocumentIdentifier(f"file:///tmp/tcp{n}.py"), types.Position(line, character)
            )
        ),
        30,
    )
    return [i.label for i in result.items]


async def tcp_inline(c, n, line=1, character=5):
    return await asyncio.wait_for(inline(c, line, character, uri=f"file:///tmp/tcp{n}.py"), 30)


async def tcp_end(c):
    await asyncio.wait_for(c.shutdown_async(None), 10)
    c.exit(None)
    await c.stop()


async def read_log_until(proc, text: bytes, count: int, log: bytes = b"") -> bytes:
    """The server's log so far (log, then what it writes), once it holds count times text."""
    while log.count(text) < count:
        log += await asyncio.wait_for(proc.stderr.readline(), 20)
    return log


def lsp_message(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


INITIALIZE = lsp_message(b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}')


async def test_a_client_without_the_token_is_refused_before_initialize_is_answered(tmp_path):
    proc, port, token = await tcp_server(tmp_path)
    try:
        for first in (INITIALIZE, b"nib-token " + token.read_text().strip().encode() + b"\n" + INITIALIZE):
            # no handshake, then the token itself as nib 0.2 sent it: neither proves anything now
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(first)
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), 10) == b""  # closed, nothing answered
            writer.close()
        # a hello, the daemon's proof, and a wrong proof back
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"nib-hello " + b"ab" * 32 + b"\n")
        line = await asyncio.wait_for(reader.readline(), 10)
        daemon_nonce = line.split()[1]
        assert line == b"nib-daemon %s %s\n" % (
            daemon_nonce,
            proof(token.read_text().strip(), b"daemon", b"ab" * 32, daemon_nonce, b"127.0.0.1 %d" % port),
        )
        writer.write(b"nib-client " + b"0" * 64 + b"\n" + INITIALIZE)
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
        log = await read_log_until(proc, b"did not prove it holds the daemon's token", 3)
        assert b"client connected" not in log
        # the owner's token file and its folder are the owner's alone
        assert (stat.S_IMODE(token.stat().st_mode), stat.S_IMODE(token.parent.stat().st_mode)) == (0o600, 0o700)
        # with the token, the same daemon serves
        client = await tcp_session(port, token, 0)
        assert "path" in await tcp_labels(client, 0)
        await tcp_end(client)
    finally:
        proc.kill()
        await proc.wait()


async def test_a_relay_from_another_address_gets_no_session(tmp_path):
    """Another local user listening on another address (127.0.0.2, as ::1 beside 127.0.0.1 could be),
    passing the bytes on to the daemon both ways: the daemon's proof is for its own address, so
    `nib connect` stops at the handshake, and no session starts."""
    proc, port, token = await tcp_server(tmp_path)

    async def relay(reader, writer):
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)

        async def pipe(source, sink):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer), return_exceptions=True)

    listener = await asyncio.start_server(relay, "127.0.0.2", 0)
    relay_port = listener.sockets[0].getsockname()[1]
    try:
        connect = await asyncio.create_subprocess_exec(
            *CONNECT,
            f"127.0.0.2:{relay_port}",
            "--token-file",
            str(token),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        connect.stdin.write(INITIALIZE)
        _, stderr = await asyncio.wait_for(connect.communicate(), 20)
        assert connect.returncode == 2 and b"not nib's daemon" in stderr
        log = await read_log_until(proc, b"did not prove it holds the daemon's token", 1)
        assert b"client connected" not in log
    finally:
        listener.close()
        proc.kill()
        await proc.wait()


def test_nib_connect_sends_nothing_to_a_listener_that_is_not_the_daemon(tmp_path):
    """Another local user listening on the daemon's port while it is down: `nib connect` sends it
    its hello and nothing else (neither the token nor the editor's messages), and says why it stops."""
    token = tmp_path / "daemon" / "token"
    load_or_create_token(token)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        connect = subprocess.Popen(
            [*CONNECT, f"127.0.0.1:{port}", "--token-file", str(token)],
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )
        connect.stdin.write(INITIALIZE)  # the editor's first message, waiting to be sent
        connect.stdin.flush()
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            hello = conn.recv(4096)
            conn.sendall(b"nib-daemon " + b"cd" * 32 + b" " + b"0" * 64 + b"\n")  # a guess at a proof
            received = hello
            while data := conn.recv(4096):
                received += data
        assert connect.wait(10) == 2
    assert received.startswith(b"nib-hello ") and received.count(b"\n") == 1 and len(received) == 75
    assert token.read_text().strip().encode() not in received
    assert b"not nib's daemon" in connect.stderr.read()


def test_a_bind_other_machines_reach_is_refused_unless_allowed(tmp_path):
    done = subprocess.run(
        [*SERVER, "--tcp", f"0.0.0.0:{free_port()}", "--token-file", str(tmp_path / "t")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr.strip()) == (
        2,
        (
            "nib: 0.0.0.0 is not a loopback address: the daemon would be reachable from other machines (each still "
            "needs the token); pass --allow-remote to mean it"
        ),
    )


def test_a_token_file_others_can_read_is_refused(tmp_path):
    token = tmp_path / "daemon" / "token"
    token.parent.mkdir(mode=0o700)
    token.write_text("a" * 64)
    token.chmod(0o644)
    done = subprocess.run(
        [*SERVER, "--tcp", f"127.0.0.1:{free_port()}", "--token-file", str(token)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr.strip()) == (
        2,
        (
            f"nib: {token} is not private to its owner (mode 644, owner {os.getuid()}): remove it, then start the "
            "daemon again"
        ),
    )
    done = subprocess.run(
        [*CONNECT, "127.0.0.1:1", "--token-file", str(tmp_path / "none")], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr.strip()) == (
        2,
        (f"nib connect: no daemon token at {tmp_path / 'none'}: start the daemon (`nib serve --tcp`) first"),
    )


async def test_one_sessions_long_wait_for_jedi_does_not_hold_anothers_ghost_text(tmp_path):
    """Session A asks for jedi's names after `.` with a 5 s budget while jedi is late (2 s a call);
    session B, on the same model (one inference thread), gets its ghost text meanwhile as fast as
    when alone. Before the wait moved off the inference thread, B waited out A's jedi."""
    env = {**os.environ, "NIB_JEDI_WORKER": " ".join(SLOW_JEDI), "NIB_JEDI_DELAY_S": "2"}
    proc, port, token = await tcp_server(tmp_path, env=env)
    try:
        a = await tcp_session(
            port, token, 0, options={"jedi": {"enable": True, "budgetMs": 5000}}, text="import os\nos."
        )
        b = await tcp_session(port, token, 1)
        alone = []
        for _ in range(5):
            started = time.perf_counter()
            assert (await tcp_inline(b, 1)).items
            alone.append(time.perf_counter() - started)
        started = time.perf_counter()
        waiting = asyncio.ensure_future(tcp_labels(a, 0, 1, 3))
        await asyncio.sleep(0.2)  # A's list is waiting for jedi now
        assert not waiting.done()
        during = time.perf_counter()
        assert (await tcp_inline(b, 1)).items
        during = time.perf_counter() - during
        labels = await waiting
        a_took = time.perf_counter() - started
        # A did wait for jedi, up to the daemon's 1 s cap; past it, nothing invented after `.`
        assert labels == [] and a_took >= 0.9
        assert during <= max(alone) + 0.3, (during, alone)
        await tcp_end(a)
        await tcp_end(b)
    finally:
        proc.kill()
        await proc.wait()


async def test_tcp_sessions_share_one_model_and_outlive_a_client(tmp_path):
    """Two editor sessions at once over TCP share one loaded model; the death of the first one's
    client process does not end the shared server; when no session is left, the model is unloaded."""
    proc, port, token = await tcp_server(tmp_path)
    try:
        editor = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        first = await tcp_session(port, token, 0, process_id=editor.pid)
        second = await tcp_session(port, token, 1)
        labels = [await tcp_labels(first, 0), await tcp_labels(second, 1)]
        editor.kill()
        editor.wait()
        await tcp_end(first)
        await asyncio.sleep(1.0)  # four times the watch interval of a stdio server
        labels.append(await tcp_labels(second, 1))
        assert labels[0] and labels[0] == labels[1] == labels[2]
        await tcp_end(second)
        log = await read_log_until(proc, b"client disconnected", 2)
        log = await read_log_until(proc, b"unloaded", 1, log)
        assert proc.returncode is None  # a client's exit ends its session, not the server
        assert (log.count(b"model loaded"), log.count(b"the bundled model (cpu) unloaded")) == (1, 1)
    finally:
        proc.kill()
        await proc.wait()


async def test_tcp_session_settings_are_their_own_but_the_owners_engine_is_fixed(tmp_path):
    """One client's model and log level do not change another's: each model identity is
    loaded once, for the sessions that use it, and unloaded with the last of them. The engine
    the daemon's owner fixed (--engine-url) is every session's, whatever a client asks."""
    import shutil

    other = tmp_path / "model"
    shutil.copytree(ROOT / "model" / "weights", other)
    proc, port, token = await tcp_server(tmp_path, "--engine-url", "http://127.0.0.1:9/v1")
    try:
        plain = await tcp_session(port, token, 0)
        before = await tcp_labels(plain, 0)
        own = await tcp_session(
            port,
            token,
            1,
            options={
                "model": {"path": str(other)},
                "list": {"model": ""},
                "log": {"level": "error"},
                "engine": {"api": "local", "url": "http://attacker.example/v1"},
            },
        )
        assert await tcp_labels(own, 1) == before  # the same weights, loaded apart
        assert await tcp_labels(plain, 0) == before
        await tcp_inline(own, 1)  # goes to the owner's engine (nobody listens there: the local model answers)
        await tcp_end(own)
        log = await read_log_until(proc, f"{other} (cpu) unloaded".encode(), 1)
        assert log.count(b"model loaded") == 2 and log.count(b"the bundled model (cpu) unloaded") == 0
        assert b"attacker" not in log
        assert await tcp_labels(plain, 0) == before  # its model, and its info log lines, are untouched
        await tcp_inline(plain, 0)
        await tcp_end(plain)
        log = await read_log_until(proc, b"statements come from the engine at http://127.0.0.1:9/v1", 1, log)
        assert log.count(b"list tcp0.py") == 3 and b"list tcp1.py" not in log  # that session logs errors only
    finally:
        proc.kill()
        await proc.wait()
