"""A one-line progress bar on stderr with rate and ETA, for long stages."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: float, unit: str = "it", label: str = "", stream=sys.stderr, done: float = 0.0):
        self.total, self.unit, self.label, self.stream = total, unit, label, stream
        self.done = self.initial = done  # a resumed job's rate counts only this run's work
        self.start = time.monotonic()
        self._last = 0.0

    def update(self, n: float = 1, note: str = "") -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= 0.5 or self.done >= self.total:
            self._last = now
            self.stream.write("\r" + self.line(now, note))
            self.stream.flush()

    def line(self, now: float, note: str = "") -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = (self.done - self.initial) / elapsed
        frac = min(self.done / self.total, 1.0) if self.total else 1.0
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        bar = "#" * int(frac * 30)
        return (f"{self.label} [{bar:<30}] {frac:6.1%} {rate:,.0f} {self.unit}/s ETA {_fmt(eta)} {note}").rstrip()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def _fmt(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"
