"""`nib serve` over stdio, its pipe read by the event loop itself.

pygls reads stdin on a thread of its pool (`StdinAsyncReader`): three hand-offs between threads
for each message (its header, the blank line, its body), each waking that thread and then the
event loop, and on 2 cores busy with the ghost text's model each wake-up waits its turn. A pipe
or a socket is read here as the daemon reads its connections: by the loop (`connect_read_pipe`).
Any other stdin (a file; a terminal, whose non-blocking mode would be the shell's too) is read
as pygls reads it.
"""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import threading

from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

LINE_LIMIT = 2**24  # a header line longer than this is dropped, not kept growing (here and in the daemon)


class InOrder:
    """pygls's reader over an asyncio StreamReader (stdin's pipe, a daemon's connection) that
    yields to the loop before each line, and drops an over-long header line (pygls's loop would
    end on its error)."""

    def __init__(self, reader: asyncio.StreamReader):
        self.reader = reader

    async def readline(self) -> bytes:
        # The loop's turn first: the handler of the message just read starts (and takes the
        # document as it is) before the next message is handled, as when each read was a thread's.
        await asyncio.sleep(0)
        try:
            return await self.reader.readline()
        except ValueError:  # over the reader's limit: asyncio dropped what it had of it
            return b"dropped\r\n"  # not a header pygls knows: the next line is read

    async def readexactly(self, n: int) -> bytes:
        return await self.reader.readexactly(n)


def own_pipe(stdin, stdout) -> bool:
    """Whether stdin is a pipe or a socket that is not also stdout (non-blocking mode is the open
    file's: stdout's writes would fail on a full buffer). POSIX only: Windows's loops read pipes
    their own way."""
    if os.name != "posix":
        return False
    try:
        got, out = os.fstat(stdin.fileno()), os.fstat(stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    shared = (got.st_dev, got.st_ino) == (out.st_dev, out.st_ino)
    return (stat.S_ISFIFO(got.st_mode) or stat.S_ISSOCK(got.st_mode)) and not shared


async def _serve(server, stdin, stdout) -> None:
    reader: InOrder | StdinAsyncReader
    transport = None
    if own_pipe(stdin, stdout):
        lines = asyncio.StreamReader(limit=LINE_LIMIT)
        protocol = asyncio.StreamReaderProtocol(lines)
        transport, _ = await asyncio.get_running_loop().connect_read_pipe(lambda: protocol, stdin)
        reader = InOrder(lines)
    else:
        reader = StdinAsyncReader(stdin, server.thread_pool)
    server.protocol.set_writer(StdoutWriter(stdout))
    try:
        await run_async(threading.Event(), reader, server.protocol, None, server.report_server_error)
    finally:
        if transport is not None:  # on the loop it belongs to, before asyncio.run closes it
            transport.close()


def serve(server, stdin=None, stdout=None) -> None:
    """Serve server over stdin and stdout until the client exits or closes stdin (pygls's
    `start_io`, with the loop reading a pipe)."""
    try:
        asyncio.run(_serve(server, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer))
    except (BrokenPipeError, EOFError):
        pass  # the client went away (EOFError: asyncio's, in the middle of a message)
    except (KeyboardInterrupt, SystemExit):
        pass  # `exit` (its code is the protocol's) or a signal
    finally:
        server.shutdown()
