"""The shared daemon (`nib serve --tcp`): one process, its models loaded once, for its owner only.

Any local process can open a TCP connection, and any local process can listen on the port
while the daemon is down; so before any LSP message each side proves that it holds the owner's
secret without sending it (32 random bytes in a file only the owner can read: 0600, in a 0700
folder). `nib connect` (what editors start instead of `nib serve`) reads it and bridges the
editor's stdio to the daemon:

    client -> daemon   nib-hello <client nonce>
    daemon -> client   nib-daemon <daemon nonce> <HMAC(secret, "daemon" client nonce daemon nonce)>
    client -> daemon   nib-client <HMAC(secret, "client" client nonce daemon nonce)>

A client that cannot prove it is refused before anything of it is read as LSP; a listener that
cannot (not the daemon) gets nothing of the editor's, neither the secret nor a line of code.
The daemon binds loopback addresses only, unless its owner allows others.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
import secrets
import socket
import stat
import threading
from pathlib import Path

from .stdio import LINE_LIMIT, InOrder

log = logging.getLogger("nib.daemon")

HELLO, DAEMON, CLIENT = b"nib-hello ", b"nib-daemon ", b"nib-client "
HANDSHAKE_S = 5.0  # a side that has not proved it holds the token by then is dropped
LINE_MAX = 256  # a handshake line's bytes at most
NONCE_BYTES = 32


class DaemonError(Exception):
    """The daemon cannot start, or a client cannot reach it: a message for the user."""


def token_path() -> Path:
    """The owner's daemon token: $NIB_HOME/daemon/token (the folder of imported models' parent)."""
    from nib.model.runtime.artifacts import nib_home

    return nib_home() / "daemon" / "token"


def load_or_create_token(path: Path) -> str:
    """The token in path, created (0600 in a 0700 folder) if there is none; DaemonError if others
    could read or replace it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _private(path.parent, 0o077)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_token(path)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return read_token(path)


def read_token(path: Path) -> str:
    try:
        _private(path, 0o077)
        token = path.read_text().strip()
    except FileNotFoundError:
        raise DaemonError(f"no daemon token at {path}: start the daemon (`nib serve --tcp`) first") from None
    if len(token) < 32:
        raise DaemonError(f"{path} holds no daemon token: remove it and restart the daemon")
    return token


def _private(path: Path, others: int) -> None:
    st = path.stat()
    if st.st_uid != os.getuid() or stat.S_IMODE(st.st_mode) & others:
        raise DaemonError(
            f"{path} is not private to its owner (mode {stat.S_IMODE(st.st_mode):o}, owner "
            f"{st.st_uid}): remove it, then start the daemon again"
        )


def check_bind(address: str, allow_remote: bool) -> None:
    """DaemonError unless address is a loopback address (or the owner allowed others)."""
    if allow_remote:
        return
    try:
        infos = socket.getaddrinfo(address, None)
    except socket.gaierror as e:
        raise DaemonError(f"cannot resolve {address!r}: {e}") from None
    if not all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos):
        raise DaemonError(
            f"{address} is not a loopback address: the daemon would be reachable from other "
            "machines (each still needs the token); pass --allow-remote to mean it"
        )


def proof(token: str, side: bytes, client_nonce: bytes, daemon_nonce: bytes, address: bytes) -> bytes:
    """What side ("daemon" or "client") sends to prove it holds token, for these nonces (hex) on a
    connection to the daemon's address (`endpoint`): a proof relayed from another address (a
    listener on ::1 passing it on to the daemon on 127.0.0.1) does not hold.

    Example: proof("t" * 64, b"daemon", b"01", b"02", b"::1 7400") != proof("t" * 64, b"daemon", b"01", b"02", b"127.0.0.1 7400")
    """
    message = b" ".join((side, client_nonce, daemon_nonce, address))
    return hmac.new(token.encode(), message, "sha256").hexdigest().encode()


def endpoint(sockaddr) -> bytes:
    """The daemon's end of a connection, as both sides see it (an IPv4 address mapped into IPv6 as itself).

    Example: endpoint(("::ffff:127.0.0.1", 7400, 0, 0)) == endpoint(("127.0.0.1", 7400)) == b"127.0.0.1 7400"
    """
    host = str(sockaddr[0]).removeprefix("::ffff:")
    return f"{host} {sockaddr[1]}".encode()


def nonce() -> bytes:
    return secrets.token_hex(NONCE_BYTES).encode()


async def admitted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, token: str) -> bool:
    """Whether the client proved it holds the token (the handshake above), the daemon's proof sent."""
    try:
        client_nonce = _field(await _line(reader), HELLO)
        if client_nonce is None:
            return False
        daemon_nonce, address = nonce(), endpoint(writer.get_extra_info("sockname"))
        writer.write(
            DAEMON + daemon_nonce + b" " + proof(token, b"daemon", client_nonce, daemon_nonce, address) + b"\n"
        )
        await writer.drain()
        answer = _field(await _line(reader), CLIENT)
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return False
    expected = proof(token, b"client", client_nonce, daemon_nonce, address)
    return answer is not None and hmac.compare_digest(answer, expected)


async def _line(reader: asyncio.StreamReader) -> bytes:
    return (await asyncio.wait_for(reader.readuntil(b"\n"), HANDSHAKE_S)).strip()


def _field(line: bytes, prefix: bytes) -> bytes | None:
    """The hex after prefix on a handshake line; None for any other line.

    Example: _field(b"nib-hello 0a1b", HELLO) == b"0a1b" and _field(b"nib-hello x", HELLO) is None
    """
    if len(line) > LINE_MAX or not line.startswith(prefix):
        return None
    value = line[len(prefix) :]
    return value if value and all(c in b"0123456789abcdef" for c in value) else None


async def serve_tcp(make_session, address: str, port: int, token: str) -> None:
    """Each admitted connection is its own LSP session (`make_session()` -> server); all share the model hosts."""
    from pygls.io_ import run_async

    async def session(reader, writer):
        peer = writer.get_extra_info("peername")
        if not await admitted(reader, writer, token):
            log.warning("refused a client at %s: it did not prove it holds the daemon's token", peer)
            writer.close()
            return
        server = make_session()
        server.protocol.set_writer(writer)
        log.info("client connected")
        try:
            await run_async(threading.Event(), InOrder(reader), server.protocol, log, server.report_server_error)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            server.end_session()
            writer.close()
            log.info("client disconnected")

    listener = await asyncio.start_server(session, address, port, limit=LINE_LIMIT)
    bound = listener.sockets[0].getsockname()
    log.info("listening on %s:%d", bound[0], bound[1])
    async with listener:
        await listener.serve_forever()
