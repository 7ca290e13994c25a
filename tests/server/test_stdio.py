"""stdio read by the event loop where stdin is a pipe, as pygls reads it elsewhere: the same answers."""

import json
import os
import threading

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
