"""The statements being decoded now, by document and place: a list the user asks for waits for one.

Where nothing of a name is typed, the list's small model ranks far worse than the statement's first
name (`benchmarks/results/first_list/typed0/`). An editor asks for the ghost text with the list, and when the user asked
(Ctrl+Space) the list waits for jedi anyway: it waits for the statement at its place in the same
time, so that the name the statement goes on with comes first (`ghost.py`). Nothing starts a
statement for the list: it only waits for one the editor asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import time


class Decoding:
    def __init__(self) -> None:
        self._now: dict[str, list[tuple[str, int, asyncio.Future]]] = {}  # doc -> (text, cursor, done)

    @contextlib.contextmanager
    def running(self, doc: str, text: str, cursor: int):
        """The block decodes the statement at text's cursor in doc (on the event loop's thread)."""
        entry = (text, cursor, asyncio.get_running_loop().create_future())
        self._now.setdefault(doc, []).append(entry)
        try:
            yield
        finally:
            entry[2].set_result(None)
            self._now[doc].remove(entry)
            if not self._now[doc]:
                del self._now[doc]

    async def wait(self, doc: str, text: str, cursor: int, until: float) -> float:
        """Until the statements being decoded at text's cursor in doc end, or time.monotonic() reaches
        until, whichever comes first; the ms waited (0 where none is)."""
        ends = [done for t, c, done in self._now.get(doc, ()) if c == cursor and t == text]
        left = until - time.monotonic()
        if not ends or left <= 0:
            return 0.0
        started = time.monotonic()
        await asyncio.wait(ends, timeout=left)
        return (time.monotonic() - started) * 1e3
