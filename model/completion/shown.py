"""The statements last answered: typed through (the user typing the ghost text) and reused by the list."""

from __future__ import annotations

import threading

from .request import Options, Request
from .result import Candidate, typed_since


class Shown:
    """The last `entries` statements answered, the latest first, with the text, cursor, options
    and document each was answered for. Several documents (or editors on one daemon) take turns."""

    def __init__(self, entries: int):
        self.entries = entries
        self._items: list[tuple] = []  # (text, cursor, options, statement or None, document); replaced, never changed
        self._lock = threading.Lock()  # one writer at a time: a close (the event loop) beside an answer (a worker)

    def add(self, request: Request, item: Candidate | None, replacing: tuple | None = None) -> None:
        entry = (request.text, request.cursor, request.options, item, request.doc)
        with self._lock:
            self._items = [entry] + [e for e in self._items if e is not replacing][: self.entries - 1]

    def clear(self) -> None:
        with self._lock:
            self._items = []

    def drop(self, doc: str) -> None:
        """A document closed: its statements go, and the copies of its text with them."""
        with self._lock:
            self._items = [e for e in self._items if e[4] != doc]

    def at(self, text: str, cursor: int, options: Options) -> Candidate | None:
        """The statement last answered for this very text, cursor and options."""
        return next(
            (
                item
                for text0, cursor0, options0, item, _ in self._items
                if cursor0 == cursor and options0 == options and text0 == text
            ),
            None,
        )

    def showing(self, text: str, cursor: int, options: Options, doc: str) -> Candidate | None:
        """The statement an editor shows at cursor in doc now: the last one answered at this text
        and cursor or at an earlier state that the text since types through; None when the last
        answered there showed nothing, or the user typed past it. Only reads (another thread's
        `add` replaces the list whole)."""
        for text0, cursor0, options0, item, doc0 in self._items:
            if (
                doc0 == doc
                and options0 == options
                and ((cursor0 == cursor and text0 == text) or typed_since(text0, cursor0, text, cursor) is not None)
            ):
                return item if item is not None and item.extends(text, cursor) else None
        return None

    def stands(self, text: str, cursor: int, options: Options, doc: str) -> bool:
        """Whether an answer stands at cursor in doc: one answered at this very text and cursor
        (with nothing too), or one the editor shows there (`showing`)."""
        answered = any(
            (text0, cursor0, options0, doc0) == (text, cursor, options, doc)
            for text0, cursor0, options0, _, doc0 in self._items
        )
        return answered or self.showing(text, cursor, options, doc) is not None

    def typed_through(self, request: Request) -> Candidate | None:
        """The last statement again when what was typed since is the start of it (the user
        typing through the ghost text): decoding from the longer prompt would mostly say the
        same, and the ghost text stays still instead of being recomputed per key."""
        text, cursor = request.text, request.cursor
        for entry in self._items:
            text0, cursor0, options0, item, _ = entry
            if (
                item is not None
                and options0 == request.options
                and typed_since(text0, cursor0, text, cursor) is not None
                and item.extends(text, cursor)
            ):
                self.add(request, item, replacing=entry)
                return item
        return None
