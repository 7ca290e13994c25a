"""What becomes of the completions a session shows: accepted or not, and still there a minute later.

Each answer with items is an offer: its items carry the command `nib.accepted` with the offer's
id and the item's index (LSP runs an item's command when the user accepts it: VS Code on a whole
accept of ghost text or a list item, Neovim's vim.lsp.completion for list items, nib's plugin for
ghost text, with the characters taken when only a word or a line is). From an accept on, the
characters the item added are followed through the document's edits; a minute later (or when
the document closes) the characters still there are counted as retained: the longest common
subsequence of the text and what stands in its place, so text written inside it removes nothing.
The minute follows the "retained" measures of completion tools' telemetry: long enough for an
accepted line to have been read and, if wrong, edited. Counts only go to `stats.Stats`; the text
followed stays in memory until it is counted.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from rapidfuzz.distance import LCSseq

from .stats import Stats

ACCEPTED = "nib.accepted"  # the command's name
RETAINED_AFTER_S = 60.0
OFFERS = 64  # answers remembered for their items' commands: those of the last keystrokes


@dataclass(frozen=True)
class Offer:
    """One answer's items, each (text, start): the text replaces [start, cursor)."""

    uri: str
    kind: str  # "statement" (ghost text) or "list"
    model: str  # a short name: never an engine's URL (`stats_name`)
    items: tuple[tuple[str, int], ...]
    cursor: int


@dataclass
class Placed:
    """Characters an accept added, followed through the document's edits until they are counted."""

    offer: Offer
    start: int
    end: int
    text: str
    due: float
    waiting: bool = False  # the command came before the edit that inserts it (VS Code's order)


class Acceptance:
    def __init__(self, stats: Stats, clock=time.monotonic):
        self.stats, self.clock = stats, clock
        self._offers: OrderedDict[int, Offer] = OrderedDict()
        self._ids = itertools.count(1)
        self._placed: list[Placed] = []
        self._lock = threading.RLock()  # the loop; the end (SIGTERM on the loop's thread, or the parent watch)

    def offer(self, offer: Offer) -> int:
        """The id of an answer shown, for its items' commands."""
        n = next(self._ids)
        self._offers[n] = offer
        while len(self._offers) > OFFERS:
            self._offers.popitem(last=False)
        return n

    def accepted(self, n: int, index: int, chars: int | None = None, text_of=None) -> Offer | None:
        """The user accepted item index of offer n (chars: only that many characters of its text, a
        word or a line); text_of(uri): a document's text now, or None. None: no such offer or item
        (too old, or accepted already)."""
        offer = self._offers.get(n)
        if offer is None or not 0 <= index < len(offer.items):
            return None
        del self._offers[n]
        text, start = offer.items[index]
        typed = max(0, offer.cursor - start)
        added = (text if chars is None else text[: max(0, chars)])[typed:]
        if added:
            self.stats.accepted(offer.model, offer.kind, len(added))
            start += typed
            now = text_of(offer.uri) if text_of else None
            waiting = now is not None and now[start : start + len(added)] != added
            placed = Placed(offer, start, start + len(added), added, self.clock() + RETAINED_AFTER_S, waiting)
            with self._lock:
                self._placed.append(placed)
        return offer

    def edited(self, uri: str, start: int, end: int, inserted: str) -> None:
        """An edit of the document at uri replaced [start, end) with inserted (end None: the whole text)."""
        delta = len(inserted) - (end - start)
        self.stats.typed(max(0, delta))
        with self._lock:
            for p in self._placed:
                if p.offer.uri == uri:
                    _follow(p, start, end, inserted)

    def replaced(self, uri: str, text: str) -> None:
        """The document at uri was sent whole: what was placed in it is looked for in it again."""
        with self._lock:
            for p in self._placed:
                if p.offer.uri == uri:
                    p.waiting = True
                    _follow(p, 0, 0, text)

    def count_due(self, text_of, everything_of: str | None = None, everything: bool = False) -> None:
        """Count the retained characters of what is due (text_of(uri): the document's text now, None
        if closed); everything_of: all of that document's now (it is being closed); everything: all."""
        now, kept = self.clock(), []
        with self._lock:
            placed, self._placed = self._placed, []
        for p in placed:
            if p.due > now and p.offer.uri != everything_of and not everything:
                kept.append(p)
                continue
            text = text_of(p.offer.uri)
            if text is not None:  # one never found in the document counts nothing
                still = 0 if p.waiting else LCSseq.similarity(p.text, text[p.start : p.end])
                self.stats.retained(p.offer.model, p.offer.kind, still)
        with self._lock:
            self._placed = kept + self._placed

    def clear(self) -> None:
        """Forget every offer and placed text (statistics turned off)."""
        with self._lock:
            self._offers.clear()
            self._placed = []


def _follow(p: Placed, start: int, end: int, inserted: str) -> None:
    """Move p's span through an edit that replaced [start, end) with inserted."""
    if p.waiting:  # this may be the edit that writes it
        at = inserted.find(p.text)
        if at >= 0:
            p.start, p.end, p.waiting = start + at, start + at + len(p.text), False
        return
    if start >= p.end:  # after it
        return
    if end <= p.start:  # before it: it moves
        delta = len(inserted) - (end - start)
        p.start, p.end = p.start + delta, p.end + delta
        return
    # over it: what is left of it, with what was written inside or over its ends
    p.end = p.end + len(inserted) - (end - start) if end <= p.end else start + len(inserted)
    p.start = min(p.start, start)


def stats_name(key) -> str:
    """A model as the statistics name it: its imported name or folder, or "engine" and the model
    the engine was asked for; never a path's folders or an engine's URL (the file keeps no place).

    Example: stats_name(type("K", (), {"remote": False, "path": "/m/qwen2.5-coder-0.5b", "name": ""})) == "qwen2.5-coder-0.5b"
    """
    if key.remote:
        return "engine" + (f" {key.name}" if key.name else "")
    return key.path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] or "bundled"
