"""Code like the cursor's in the files beside it: the retrieval of RepoCoder (Zhang et al., EMNLP 2023).

The lines before the cursor are compared with windows of the other Python files in the cursor
file's folder (the Jaccard similarity of their identifiers); the most similar window is shown
with the lines after it. A sibling module often holds the line being written in another place:
the same call with the same arguments, the same keyword names, the same chain of attributes,
which a stub of the definition does not show.

Files are read only inside the workspace (`Workspace.version`), never imported or run, and
only for a file inside it. Each file is indexed once per change on disk: its lines and, for each
name, the windows holding it. The index is bounded by an estimate of its size (CACHE_BYTES,
the least recently used file dropped first); a query reads at most READ_BYTES of a folder, the
first FOLDER_FILES files by name.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .workspace import MAX_FILE_BYTES, Workspace

QUERY_LINES = 8  # the lines that end the text before the cursor (the cursor's own line's start the last)
WINDOW_LINES = 8  # a window compared with them, every STRIDE lines
STRIDE = 2
AFTER_LINES = 4  # shown after the window: where the line being written may be
MIN_SIMILARITY = (
    0.3  # a window less alike rarely held the line (README, project context): the budget would go for nothing
)
FOLDER_FILES = 256  # a folder's files compared at most, by name, and
READ_BYTES = 1 << 20  # their source at most: the file that would pass it is not read (a generated folder)
CACHE_BYTES = 16 << 20  # the index's estimated size at most (`_cost`)
_NAME = re.compile(r"[A-Za-z_]\w*")


@dataclass(frozen=True)
class Window:
    path: Path
    text: str  # the window and the lines after it
    similarity: float


@dataclass(frozen=True)
class _Index:
    key: tuple[int, int]  # (mtime, size) when read
    lines: list[str]
    sizes: np.ndarray  # the names in each window
    postings: dict[str, np.ndarray]  # a name -> the windows holding it
    cost: int  # `_cost`


class Similar:
    """The workspace files' windows, indexed per change on disk. Thread-safe."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._files: dict[Path, _Index] = {}
        self._lock = threading.Lock()

    def best(self, path: Path, before: str, least: float = MIN_SIMILARITY) -> Window | None:
        """The window of another file in path's folder most like the lines of `before` (the text
        before the cursor) that end it, with the lines after it; None when no window is `least`
        alike, or path is not inside the workspace."""
        query = set(_NAME.findall("\n".join(before.split("\n")[-QUERY_LINES:])))
        own = Path(os.path.realpath(path))
        if not query or not self.workspace.holds(own):
            return None
        try:
            files = sorted(own.parent.glob("*.py"))[:FOLDER_FILES]
        except (OSError, ValueError):  # a name too long for the file system, an unreadable folder
            return None
        found: tuple[float, Path, _Index, int] | None = None
        read = 0
        for file in files:
            version = self.workspace.version(file)
            if version is None or version[0] == own:  # the file itself, under its own name or a link's
                continue
            read += version[1][1]
            if read > READ_BYTES:
                break
            index = self._index(*version)
            if index is None or not len(index.sizes):
                continue
            shared = np.zeros(len(index.sizes), np.int32)
            for name in query:
                if name in index.postings:
                    shared[index.postings[name]] += 1
            scores = shared / (len(query) + index.sizes - shared)
            i = int(np.argmax(scores))
            if scores[i] >= least and (found is None or scores[i] > found[0]):
                found = (float(scores[i]), file, index, i * STRIDE)
        if found is None:
            return None
        score, file, index, start = found
        text = "\n".join(index.lines[start : start + WINDOW_LINES + AFTER_LINES]).strip("\n")
        return Window(file, text, score)

    def _index(self, real: Path, key: tuple[int, int]) -> _Index | None:
        """The index of the workspace file at real (its version key), made once per change on disk."""
        with self._lock:
            cached = self._files.pop(real, None)
            if cached is not None and cached.key == key:
                self._files[real] = cached  # the most recently used now
                return cached
        try:
            with open(real, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)  # it may have grown since its size was read
        except OSError:  # gone or unreadable since the folder was listed
            return None
        if len(data) > MAX_FILE_BYTES:
            return None
        lines = data.decode("utf-8", "replace").split("\n")
        windows = [
            set(_NAME.findall("\n".join(lines[i : i + WINDOW_LINES])))
            for i in range(0, max(len(lines) - WINDOW_LINES, 0) + 1, STRIDE)
        ]
        holding: dict[str, list[int]] = {}
        for i, names in enumerate(windows):
            for name in names:
                holding.setdefault(name, []).append(i)
        postings = {name: np.array(found, np.int32) for name, found in holding.items()}
        index = _Index(key, lines, np.array([len(w) for w in windows], np.int32), postings, _cost(data, postings))
        with self._lock:
            self._files[real] = index
            while sum(i.cost for i in self._files.values()) > CACHE_BYTES and len(self._files) > 1:
                self._files.pop(next(iter(self._files)))
        return index


def _cost(data: bytes, postings: dict[str, np.ndarray]) -> int:
    """An index's size in memory, over-estimated: its text, each window index (4 bytes), each name
    (its string, array and dictionary entry) and each line (its string's header).

    Example: _cost(b"a = b\\n", {"a": np.zeros(1), "b": np.zeros(1)}) == 12 + 8 + 500 + 120
    """
    return (
        2 * len(data) + 4 * sum(len(p) for p in postings.values()) + 250 * len(postings) + 60 * (data.count(b"\n") + 1)
    )
