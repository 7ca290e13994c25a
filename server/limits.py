"""What one client may hold of the process: nothing is capped for a stdio server, which serves
its own editor alone; a shared daemon caps each session and the models it keeps loaded, so
that one client cannot exhaust the owner's memory or stall the other sessions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    documents: int = 0  # open documents per session; 0: no limit
    document_chars: int = 0  # characters of all of a session's open documents together; 0: no limit
    models: int = 0  # model hosts loaded at once in the process; 0: no limit
    # the longest any list asked for waits for jedi, whatever a session's settings ask; 0: no limit (a list
    # speculated in a pause waits up to candidates.STUCK_MS, on the event loop: no request or thread waits with it)
    jedi_ms: int = 0

    def jedi(self, ms: int) -> int:
        """A session's jedi budget, within this process's cap.

        Example: Limits(jedi_ms=500).jedi(5000) == 500 and Limits().jedi(5000) == 5000
        """
        return min(ms, self.jedi_ms) if self.jedi_ms else ms


STDIO = Limits()
# A daemon's sessions are its owner's editor windows: room for large projects, not for a runaway client.
DAEMON = Limits(documents=512, document_chars=64_000_000, models=4, jedi_ms=1000)
