"""What the user just saw: a bounded ring of chunks of the files they opened and edited.

As llama.vim's ring buffer: chunks of CHUNK_LINES lines, the oldest dropped past `size`, a new
chunk replacing any it nearly duplicates (the same place seen twice); the prompt takes the chunks
most similar to the text around the cursor. Memory is bounded by size x CHUNK_LINES lines.
"""

from __future__ import annotations

import keyword
import re
import threading
from collections import deque
from dataclasses import dataclass

CHUNK_LINES = 64
NEAR_DUPLICATE = 0.9  # a chunk sharing this share of its lines with a new one is replaced by it
MIN_SIMILARITY = 0.2  # a chunk holding fewer of the identifiers around the cursor is not shown
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
_COMMON = {*keyword.kwlist, "self", "cls"}


@dataclass(frozen=True)
class Chunk:
    path: str
    first_line: int
    text: str


def chunk_at(text: str, line: int, lines: int = CHUNK_LINES) -> str:
    """The `lines` lines of text around line (0-based), blank edges dropped.

    Example: chunk_at("a\\nb\\nc\\nd\\n", 3, 2) == "c\\nd"
    """
    all_lines = text.split("\n")
    start = max(0, min(line - lines // 2, len(all_lines) - lines))
    return "\n".join(all_lines[start : start + lines]).strip("\n")


def similarity(chunk: str, around: str) -> float:
    """The share of the identifiers around the cursor (3 characters or more, keywords aside) that
    chunk holds: a chunk of 64 lines is not penalised for its own many names, as it is by Jaccard's.

    Example: similarity("def save(user): return user", "user.save(now)") == 2 / 3
    """
    x, y = _names(chunk), _names(around)
    return len(x & y) / len(y) if x and y else 0.0


def _names(text: str) -> set[str]:
    return set(_IDENTIFIER.findall(text)) - _COMMON


class Recent:
    """The ring. Thread-safe: the event loop adds, a model's thread picks."""

    def __init__(self, size: int = 16):
        self.size = size
        self._chunks: deque[Chunk] = deque()
        self._lock = threading.Lock()

    def add(self, path: str, text: str, line: int) -> None:
        """Keep the chunk of text (the file at path) around line, replacing its near duplicates."""
        chunk = Chunk(path, line, chunk_at(text, line))
        if sum(1 for x in chunk.text.split("\n") if x.strip()) < 3:
            return  # nothing worth a place
        new_lines = set(chunk.text.split("\n"))
        with self._lock:
            kept = [c for c in self._chunks if _line_share(c.text, new_lines) < NEAR_DUPLICATE]
            self._chunks = deque([*kept, chunk][-self.size :])

    def pick(self, around: str, exclude: str | None, most: int) -> list[Chunk]:
        """The chunks most similar to `around` (best first), none from `exclude` (the file being edited)."""
        with self._lock:
            chunks = list(self._chunks)
        scored = [(similarity(c.text, around), -i, c) for i, c in enumerate(reversed(chunks)) if c.path != exclude]
        scored = [s for s in scored if s[0] >= MIN_SIMILARITY]
        return [c for _, _, c in sorted(scored, key=lambda s: (s[0], s[1]), reverse=True)[:most]]

    def drop(self, path: str) -> None:
        """Forget every chunk of path (a file now excluded)."""
        self.keep(lambda p: p != path)

    def keep(self, wanted) -> None:
        """Keep only the chunks of the paths for which wanted(path) is true."""
        with self._lock:
            self._chunks = deque(c for c in self._chunks if wanted(c.path))

    def __len__(self) -> int:
        return len(self._chunks)


def _line_share(text: str, lines: set[str]) -> float:
    own = set(text.split("\n"))
    return len(own & lines) / max(len(own), 1)
