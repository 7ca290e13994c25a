"""What all sessions of one process share: the model hosts, jedi's worker, the limits, the statistics."""

from __future__ import annotations

import threading

from nib.model.listing.jedi import JediCompleter
from nib.model.service.hosts import Hosts

from .limits import STDIO, Limits
from .stats import Stats

FLUSH_S = 30.0  # the statistics in memory at most this long: a crash loses little, a keystroke writes nothing


class Shared:
    """What all sessions of one process share: the model hosts, jedi's worker process, the limits,
    the acceptance statistics (written to their file every FLUSH_S seconds, and at the end)."""

    def __init__(self, limits: Limits = STDIO):
        self.limits = limits
        self.hosts = Hosts(limits.models)
        self.jedi = JediCompleter()
        self.stats = Stats()
        self._closed = threading.Event()
        threading.Thread(target=self._flush_every, name="nib-stats", daemon=True).start()

    def _flush_every(self) -> None:
        while not self._closed.wait(FLUSH_S):
            self.stats.flush()

    def close(self) -> None:
        self._closed.set()
        self.stats.flush()
        self.jedi.close()
