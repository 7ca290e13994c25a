"""How often completions are shown and accepted, kept in a SQLite file on the user's machine.

Counts only, per local day, model and kind ("statement": ghost text, "list": a completion list):
completions shown and accepted, characters accepted, of those the characters still in the document
a minute later, and characters the user added to documents. Never code, file names or identifiers:
the one name stored is the model's. Nothing leaves the machine; `nib stats` reads the file, and
`nib stats --forget` deletes it. Why: to answer "how much of what I write comes from nib, and from
which model?" from the user's own history rather than a benchmark's.

Schema version 1 (`PRAGMA user_version`, so a later schema can migrate): one table `counts` keyed by
(day, model, kind). A day's typed characters are the row (day, '', 'typed'), which uses only the
typed_chars column; completion rows leave it at 0. Sessions of one process share a Stats (a lock);
processes share the file: a flush adds its counts with one upsert in one transaction, so no process
reads a count and writes it back.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

VERSION = 1
KINDS = ("statement", "list")
TIMEOUT_S = 5.0  # how long a flush waits for another process's write before giving up

_SCHEMA = """CREATE TABLE IF NOT EXISTS counts (
    day TEXT NOT NULL, model TEXT NOT NULL, kind TEXT NOT NULL,
    shown INTEGER NOT NULL DEFAULT 0, accepted INTEGER NOT NULL DEFAULT 0,
    accepted_chars INTEGER NOT NULL DEFAULT 0, retained_chars INTEGER NOT NULL DEFAULT 0,
    typed_chars INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, model, kind))"""
_ADD = """INSERT INTO counts (day, model, kind, shown, accepted, accepted_chars, retained_chars, typed_chars)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, model, kind) DO UPDATE SET
    shown = shown + excluded.shown, accepted = accepted + excluded.accepted,
    accepted_chars = accepted_chars + excluded.accepted_chars, retained_chars = retained_chars + excluded.retained_chars,
    typed_chars = typed_chars + excluded.typed_chars"""
_REPORT = """SELECT c.day, c.model, c.kind, c.shown, c.accepted, c.accepted_chars, c.retained_chars,
    COALESCE(t.typed_chars, 0) FROM counts c LEFT JOIN counts t ON t.day = c.day AND t.model = '' AND t.kind = 'typed'
WHERE NOT (c.model = '' AND c.kind = 'typed') ORDER BY c.day, c.model, c.kind"""

log = logging.getLogger("nib")


class StatsError(Exception):
    """The statistics cannot be read or plotted: a corrupt file, one from a newer nib, no matplotlib."""


def stats_path() -> Path:
    """$XDG_DATA_HOME/nib/stats.sqlite3, else ~/.local/share/nib/stats.sqlite3.

    The user's data directory, not a cache: it is the user's history, not something to rebuild."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "nib" / "stats.sqlite3"


@dataclass(frozen=True)
class Row:
    """One day's counts for one model and kind; typed_chars is the whole day's, the same in each of its rows."""

    day: str
    model: str
    kind: str
    shown: int
    accepted: int
    accepted_chars: int
    retained_chars: int
    typed_chars: int
    share: float  # accepted_chars / typed_chars: the part of what the user added that this model wrote


class Stats:
    """Counts kept in memory and added to the SQLite file by flush(), shared by sessions and processes.

    A failure to write is logged once as a warning and never raised: statistics must never break completion."""

    def __init__(self, path: Path | None = None, today: Callable[[], str] = lambda: date.today().isoformat()):
        self.path = path or stats_path()
        self.today = today  # local time: a day is the user's day
        self._lock = threading.RLock()  # reentrant: SIGTERM's handler may save while the loop holds it
        self._counts: dict[tuple[str, str, str], list[int]] = {}  # (day, model, kind) -> the five counts
        self._warned = False

    def _add(self, model: str, kind: str, counts, day: str | None = None) -> None:
        """Add counts (shown, accepted, accepted_chars, retained_chars, typed_chars) to the day's for model and kind."""
        assert kind in KINDS or (model, kind) == ("", "typed"), kind
        key = (day or self.today(), model, kind)
        with self._lock:
            mine = self._counts.setdefault(key, [0, 0, 0, 0, 0])
            mine[:] = [a + b for a, b in zip(mine, counts, strict=True)]

    def shown(self, model: str, kind: str) -> None:
        """A completion of kind "statement" (ghost text) or "list" (a completion list) was shown."""
        self._add(model, kind, (1, 0, 0, 0, 0))

    def accepted(self, model: str, kind: str, chars: int) -> None:
        """One completion of chars characters was accepted."""
        self._add(model, kind, (0, 1, chars, 0, 0))

    def retained(self, model: str, kind: str, chars: int) -> None:
        """Of the characters accepted, chars were still in the document a minute later."""
        self._add(model, kind, (0, 0, 0, chars, 0))

    def typed(self, chars: int) -> None:
        """The user added chars characters to a document (all inserted text, accepted completions included)."""
        self._add("", "typed", (0, 0, 0, 0, chars))

    def flush(self) -> None:
        """Add the counts in memory to the file and clear them; none: nothing is written.

        On failure the counts stay in memory for the next flush."""
        with self._lock:
            counts, self._counts = self._counts, {}
        if not counts:
            return
        try:
            _write(self.path, [(*key, *values) for key, values in counts.items()])
        except (OSError, sqlite3.Error, StatsError) as e:
            for (day, model, kind), values in counts.items():
                self._add(model, kind, values, day)
            if not self._warned:
                self._warned = True
                log.warning("nib: statistics not saved to %s (further failures not logged): %s", self.path, e)


def _create(path: Path) -> None:
    """The folder (0700) and an empty file (0600) for SQLite to fill; its -wal and -shm take the file's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _version(db: sqlite3.Connection, path: Path) -> int:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > VERSION:
        raise StatsError(f"{path} has statistics version {version}, from a newer nib; this one reads {VERSION}")
    return version


def _write(path: Path, rows: list[tuple]) -> None:
    if not path.exists():
        _create(path)
    db = sqlite3.connect(path, timeout=TIMEOUT_S, isolation_level=None)  # transactions spelled out below
    try:
        db.execute("PRAGMA journal_mode = WAL")  # readers (nib stats) never block a server's write
        db.execute("BEGIN IMMEDIATE")  # the write lock first: another process's flush waits up to the timeout
        if _version(db, path) < VERSION:
            db.execute(_SCHEMA)
            db.execute(f"PRAGMA user_version = {VERSION}")
        db.executemany(_ADD, rows)
        db.execute("COMMIT")
    finally:  # closing an open transaction rolls it back
        db.close()


def _share(accepted_chars: int, typed_chars: int) -> float:
    """Example: _share(5, 40) == 0.125; _share(5, 0) == 0.0"""
    return accepted_chars / typed_chars if typed_chars else 0.0


def report(path: Path | None = None) -> list[Row]:
    """Every day's counts, by day, model and kind; [] when there is no file yet. Raises StatsError."""
    path = path or stats_path()
    if not path.exists():
        return []
    try:
        try:
            return _read(sqlite3.connect(path, timeout=TIMEOUT_S), path)
        except sqlite3.OperationalError:
            if os.access(path.parent, os.W_OK):
                raise
            # A folder nib cannot write has no room for the -shm a WAL reader makes: read the file as it
            # is, which is whole, since no process can write there either.
            return _read(sqlite3.connect(path.as_uri() + "?immutable=1", uri=True), path)
    except sqlite3.Error as e:
        raise StatsError(f"{path}: {e}") from e


def _read(db: sqlite3.Connection, path: Path) -> list[Row]:
    try:
        if _version(db, path) < VERSION:  # created, never written
            return []
        found = db.execute(_REPORT).fetchall()
    finally:
        db.close()
    return [Row(d, m, k, s, a, ac, rc, tc, _share(ac, tc)) for d, m, k, s, a, ac, rc, tc in found]


_HEADER = ("day", "model", "kind", "shown", "accepted", "accepted chars", "retained chars", "typed chars", "share")


def table(rows: list[Row]) -> str:
    """A plain text table, one line per row after the header; the share as a percentage."""
    if not rows:
        return "No statistics yet: nib records them while the setting stats.enable is on."
    cells = [_HEADER] + [
        (r.day, r.model, r.kind, *map(str, (r.shown, r.accepted, r.accepted_chars, r.retained_chars, r.typed_chars)))
        + (f"{100 * r.share:.1f}%",)
        for r in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_HEADER))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in cells
    )


def plot(rows: list[Row], png: Path) -> None:
    """Per day: completions shown and accepted (bars), and the share of typed characters from nib (a line)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError as e:
        raise StatsError(f"plotting needs matplotlib: pip install 'nib[plot]' ({e})") from e
    days = sorted({r.day for r in rows})
    shown = [sum(r.shown for r in rows if r.day == d) for d in days]
    accepted = [sum(r.accepted for r in rows if r.day == d) for d in days]
    typed = {r.day: r.typed_chars for r in rows}
    share = [100 * _share(sum(r.accepted_chars for r in rows if r.day == d), typed[d]) for d in days]
    figure = Figure(figsize=(max(6.0, 0.5 * len(days)), 4), layout="constrained")
    FigureCanvasAgg(figure)  # Agg without pyplot: no display, no global backend
    counts = figure.subplots()
    x = range(len(days))
    counts.bar([i - 0.2 for i in x], shown, width=0.4, label="shown")
    counts.bar([i + 0.2 for i in x], accepted, width=0.4, label="accepted")
    counts.set_xticks(list(x), days, rotation=45, ha="right")
    counts.set_ylabel("completions")
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    percent = counts.twinx()
    percent.plot(list(x), share, color="black", marker="o", label="typed characters from nib")
    percent.set_ylabel("% of typed characters from nib")
    percent.set_ylim(bottom=0)
    figure.legend(loc="outside upper center", ncols=3)
    figure.savefig(png, format="png")


def forget(path: Path | None = None) -> bool:
    """Delete the statistics (the file, its -wal and -shm); True if there was a file."""
    path = path or stats_path()
    existed = path.exists()
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)
    return existed
