"""`nib connect HOST:PORT`: an editor's stdio, bridged to the shared daemon.

Editors start it where they would start `nib serve`: it reads the owner's daemon token,
proves it holds it and checks that the daemon does too (`daemon.py`: the token itself is never
sent, and nothing of the editor's is sent to a listener that is not the daemon), then copies
bytes both ways until either side closes. Nothing of LSP is parsed here, so any client that
speaks LSP over stdio can share the daemon.
"""

from __future__ import annotations

import hmac
import io
import socket
import sys
import threading
import time
from pathlib import Path
from typing import cast

from .daemon import (
    CLIENT,
    DAEMON,
    HANDSHAKE_S,
    HELLO,
    LINE_MAX,
    DaemonError,
    endpoint,
    nonce,
    proof,
    read_token,
    token_path,
)


def connect(address: str, token_file: Path | None = None) -> int:
    host, _, port = address.rpartition(":")
    try:
        token = read_token(token_file or token_path())
        sock = socket.create_connection((host or "127.0.0.1", int(port)))
    except (DaemonError, OSError, ValueError) as e:
        print(f"nib connect: {e}", file=sys.stderr)
        return 2
    try:
        _handshake(sock, token)
    except (DaemonError, OSError) as e:
        sock.close()
        print(f"nib connect: {e}", file=sys.stderr)
        return 2
    upstream = threading.Thread(target=_pump_stdin, args=(sock,), daemon=True, name="nib-connect-stdin")
    upstream.start()
    out = sys.stdout.buffer
    while data := sock.recv(65536):
        out.write(data)
        out.flush()
    return 0


def _handshake(sock: socket.socket, token: str) -> None:
    """Prove to the daemon that this side holds token, once it has proved the same for the address
    this connection reached (DaemonError if not; OSError when it takes over HANDSHAKE_S in all)."""
    client_nonce = nonce()
    sock.sendall(HELLO + client_nonce + b"\n")
    deadline = time.monotonic() + HANDSHAKE_S
    line = b""
    while not line.endswith(b"\n") and len(line) <= LINE_MAX:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        data = sock.recv(1)  # a byte at a time: what follows the line is LSP, not to be read here
        if not data:
            break
        line += data
    sock.settimeout(None)
    fields = line.strip().split(b" ")
    daemon_nonce = fields[1] if len(fields) == 3 and line.startswith(DAEMON) else b""
    address = endpoint(sock.getpeername())
    expected = proof(token, b"daemon", client_nonce, daemon_nonce, address)
    if not daemon_nonce or not hmac.compare_digest(fields[2], expected):
        raise DaemonError("what listens there is not nib's daemon (it does not hold the token): nothing was sent")
    sock.sendall(CLIENT + proof(token, b"client", client_nonce, daemon_nonce, address) + b"\n")


def _pump_stdin(sock: socket.socket) -> None:
    # A process's stdin.buffer is a BufferedReader (typeshed says BinaryIO, which has no read1):
    # read1 returns what has arrived instead of waiting for 64 KiB.
    source = cast(io.BufferedReader, sys.stdin.buffer)
    try:
        while data := source.read1(65536):
            sock.sendall(data)
    except OSError:
        pass
    try:
        sock.shutdown(socket.SHUT_WR)  # the editor is gone: the daemon ends this session
    except OSError:
        pass
