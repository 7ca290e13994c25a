"""`nib connect HOST:PORT`: an editor's stdio, bridged to the shared daemon.

Editors start it where they would start `nib serve`: it reads the owner's daemon token,
presents it, then copies bytes both ways until either side closes. Nothing of LSP is
parsed here, so any client that speaks LSP over stdio can share the daemon.
"""

from __future__ import annotations

import io
import socket
import sys
import threading
from pathlib import Path
from typing import cast

from .daemon import PREFIX, DaemonError, read_token, token_path


def connect(address: str, token_file: Path | None = None) -> int:
    host, _, port = address.rpartition(":")
    try:
        token = read_token(token_file or token_path())
        sock = socket.create_connection((host or "127.0.0.1", int(port)))
    except (DaemonError, OSError, ValueError) as e:
        print(f"nib connect: {e}", file=sys.stderr)
        return 2
    sock.sendall(PREFIX + token.encode() + b"\n")
    upstream = threading.Thread(target=_pump_stdin, args=(sock,), daemon=True, name="nib-connect-stdin")
    upstream.start()
    out = sys.stdout.buffer
    while data := sock.recv(65536):
        out.write(data)
        out.flush()
    return 0


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
