"""What becomes of the completions a session shows: accepted or not, and still there a minute later.

Each item shown carries the command `nib.accepted` with an id (LSP runs an item's command when the
user accepts it: VS Code for ghost text and list items, Neovim's vim.lsp.completion for list items,
nib's plugin for ghost text, with the characters taken when only a word or a line is). The id
names an offer: where its text went and which model wrote it. From an accept on, the characters
nib added are followed through the edits; a minute later, those still there (the longest common
subsequence of the text and what stands in its place now: text written inside it removes nothing)
are counted as retained. Counts only go to
`stats.Stats`; the text followed stays in memory until it is counted.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from dataclasses import dataclass

from rapidfuzz.distance import LCSseq

from .stats import Stats

ACCEPTED = "nib.accepted"  # the command's name
RETAINED_AFTER_S = 60.0  # as Copilot's "still there" measure: long enough to have been read, and edited
OFFERS = 256  # items remembered for their command: the lists and ghost texts of the last keystrokes


@dataclass(frozen=True)
class Offer:
    uri: str
    kind: str  # "statement" (ghost text) or "list"
    model: str  # a short name: never an engine's URL (`stats_name`)
    text: str  # the item's text, which replaces [start, start + typed)
    start: int  # its offset in the document
    typed: int  # the characters before the cursor it replaces (the fragment it completes)


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

    def offer(self, offer: Offer) -> int:
        """The id of the command of an item shown."""
        n = next(self._ids)
        self._offers[n] = offer
        while len(self._offers) > OFFERS:
            self._offers.popitem(last=False)
        return n

    def accepted(self, n: int, chars: int | None = None, text_of=None) -> Offer | None:
        """The user accepted offer n (chars: only that many characters of its text, a word or a line);
        text_of(uri): a document's text now, or None. None: no such offer (too old, or accepted already)."""
        offer = self._offers.pop(n, None)
        if offer is None:
            return None
        inserted = offer.text if chars is None else offer.text[: max(0, chars)]
        added = inserted[offer.typed :]
        if added:
            self.stats.accepted(offer.model, offer.kind, len(added))
            start = offer.start + offer.typed
            end = start + len(added)
            now = text_of(offer.uri) if text_of else None
            waiting = now is not None and now[start:end] != added
            self._placed.append(Placed(offer, start, end, added, self.clock() + RETAINED_AFTER_S, waiting))
        return offer

    def edited(self, uri: str, start: int, end: int, inserted: str) -> None:
        """An edit of the document at uri replaced [start, end) with inserted."""
        delta = len(inserted) - (end - start)
        self.stats.typed(max(0, delta))
        for p in self._placed:
            if p.offer.uri != uri:
                continue
            if p.waiting:  # this may be the edit that writes it
                at = inserted.find(p.text)
                if at >= 0:
                    p.start, p.end, p.waiting = start + at, start + at + len(p.text), False
                continue
            if start >= p.end:
                continue
            if end <= p.start:  # before it: it moves
                p.start, p.end = p.start + delta, p.end + delta
            else:  # over it: what is left of it, with what was written inside
                p.start = min(p.start, start)
                p.end = max(p.start, p.end + delta)

    def due(self) -> float | None:
        """When the next placed text is to be counted (the clock's time), if any."""
        return min((p.due for p in self._placed), default=None)

    def count_due(self, text_of, everything_of: str | None = None) -> None:
        """Count the retained characters of what is due (text_of(uri): the document's text now, None
        if closed); everything_of: all of that document's now (it is being closed)."""
        now, kept = self.clock(), []
        for p in self._placed:
            if p.due > now and p.offer.uri != everything_of:
                kept.append(p)
                continue
            text = text_of(p.offer.uri)
            if text is not None:
                self.stats.retained(p.offer.model, p.offer.kind, LCSseq.similarity(p.text, text[p.start : p.end]))
        self._placed = kept


def stats_name(key) -> str:
    """A model as the statistics name it: its imported name or folder, or "engine" and the model
    the engine was asked for; never a path's folders or an engine's URL (the file keeps no place).

    Example: stats_name(type("K", (), {"remote": False, "path": "/m/qwen2.5-coder-0.5b", "name": ""})) == "qwen2.5-coder-0.5b"
    """
    if key.remote:
        return "engine" + (f" {key.name}" if key.name else "")
    return key.path.rstrip("/").rsplit("/", 1)[-1] or "bundled"
