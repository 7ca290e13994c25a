"""stdio read by the event loop where stdin is a pipe, as pygls reads it elsewhere: the same answers."""

import asyncio
import gc
import json
import os
import threading
import warnings

from pygls.lsp.server import LanguageServer

from nib.server import stdio
from nib.server.protocol import NibProtocol


def _message(payload: dict) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
SHUTDOWN = {"jsonrpc": "2.0", "id": 2, "method": "shutdown"}
EXIT = {"jsonrpc": "2.0", "method": "exit"}


def _answers(out_path) -> list[dict]:
    data, answers = out_path.read_bytes(), []
    while data:
        header, _, rest = data.partition(b"\r\n\r\n")
        length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
        answers.append(json.loads(rest[:length]))
        data = rest[length:]
    return answers


def _serve(stdin, tmp_path) -> list[dict]:
    with open(tmp_path / "out", "wb") as stdout:
        stdio.serve(LanguageServer("test", "1", protocol_cls=NibProtocol), stdin, stdout)
    return [(a["id"], sorted(a)) for a in _answers(tmp_path / "out")]


EXPECTED = [(1, ["id", "jsonrpc", "result"]), (2, ["id", "jsonrpc", "result"])]


def test_a_pipe_is_read_by_the_loop_and_an_over_long_header_line_is_dropped(tmp_path):
    read, write = os.pipe()
    over_long = b"x" * (stdio.LINE_LIMIT + 10) + b"\r\n"  # then the client's messages go on

    def client():
        with os.fdopen(write, "wb") as pipe:
            pipe.write(_message(INITIALIZE) + over_long + _message(SHUTDOWN) + _message(EXIT))

    threading.Thread(target=client).start()
    with os.fdopen(read, "rb") as stdin, open(os.devnull, "wb") as null:
        assert stdio.own_pipe(stdin, null)
        assert _serve(stdin, tmp_path) == EXPECTED


def test_a_file_is_read_as_pygls_reads_it(tmp_path):
    (tmp_path / "in").write_bytes(_message(INITIALIZE) + _message(SHUTDOWN))  # its end ends the server
    with open(tmp_path / "in", "rb") as stdin, open(os.devnull, "wb") as null:
        assert not stdio.own_pipe(stdin, null)
        assert _serve(stdin, tmp_path) == EXPECTED


def test_stdin_that_is_also_stdout_is_not_made_non_blocking(tmp_path):
    read, write = os.pipe()
    with os.fdopen(read, "rb") as stdin, os.fdopen(os.dup(read), "rb") as same:
        assert not stdio.own_pipe(stdin, same)
    os.close(write)


async def test_in_order_gives_the_loop_its_turn_before_each_line_even_with_the_next_one_read():
    """A message's handler, scheduled as the line before it was handled, starts before the next
    line is handled (stdin's pipe and the daemon's connections): it takes the document as it was."""
    lines = asyncio.StreamReader()
    lines.feed_data(b"first\r\nsecond\r\n")  # both already read from the pipe
    reader, order = stdio.InOrder(lines), []

    async def handler():
        order.append("the first message's handler")

    asyncio.get_running_loop().create_task(handler())
    order.append(await reader.readline())
    assert order == ["the first message's handler", b"first\r\n"]


def test_the_pipe_is_closed_when_the_client_exits_with_its_end_still_open(tmp_path):
    read, write = os.pipe()
    os.write(write, _message(INITIALIZE) + _message(SHUTDOWN) + _message(EXIT))
    gc.collect()  # what earlier tests left: only this test's garbage is collected below
    with open(read, "rb", buffering=0) as stdin, warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always", ResourceWarning)  # an unclosed transport warns as it is collected
        assert _serve(stdin, tmp_path) == EXPECTED
        assert stdin.closed
        gc.collect()
    os.close(write)
    assert [str(w.message) for w in warned if "Transport" in str(w.message)] == []
