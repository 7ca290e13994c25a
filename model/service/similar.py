"""Code like the cursor's in the files beside it: the retrieval of RepoCoder (Zhang et al., EMNLP 2023).

The lines before the cursor are compared with windows of the other Python files in the cursor
file's folder (the Jaccard similarity of their identifiers); the most similar window is shown
with the lines after it. A sibling module often holds the line being written in another place:
the same call with the same arguments, the same keyword names, the same chain of attributes,
which a stub of the definition does not show.

Files are read only inside the workspace (`Workspace.inside`), never imported or run. Each file
is indexed once per change on disk: its lines and, for each name, the windows holding it. The
index is bounded by the source it holds (CACHE_BYTES; the postings take about twice that), and a
query reads at most READ_BYTES of a folder.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .workspace import Workspace

QUERY_LINES = 8  # the lines before the cursor (its own line's start included) compared
WINDOW_LINES = 8  # a window compared with them, every STRIDE lines
STRIDE = 2
AFTER_LINES = 4  # shown after the window: where the line being written may be
MIN_SIMILARITY = 0.3  # a window less alike rarely held the line on fresh-dev: it would spend the budget for nothing
FOLDER_FILES = 256  # a folder's files compared at most, by name, and
READ_BYTES = 1 << 20  # their source at most (a huge generated folder is not read whole)
CACHE_BYTES = 1 << 20  # the indexed files' source kept, the least recently indexed dropped first
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


class Similar:
    """The workspace files' windows, indexed per change on disk. Thread-safe."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._files: dict[Path, _Index] = {}
        self._lock = threading.Lock()

    def best(self, path: Path, before: str, least: float = MIN_SIMILARITY) -> Window | None:
        """The window of another file in path's folder most like the lines of `before` (the text
        before the cursor) that end it, with the lines after it; None when no window is `least` alike."""
        query = set(_NAME.findall("\n".join(before.split("\n")[-QUERY_LINES:])))
        own = Path(os.path.realpath(path))
        found: tuple[float, Path, _Index, int] | None = None
        read = 0
        for file in sorted(own.parent.glob("*.py"))[:FOLDER_FILES] if query else ():
            index = self._index(file) if file != own else None
            if index is None or not len(index.sizes):
                continue
            read += index.key[1]
            if read > READ_BYTES:
                break
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

    def _index(self, file: Path) -> _Index | None:
        """file's index, made once per change on disk (None: not a workspace file, or too big)."""
        found = self.workspace.version(file)
        if found is None:
            return None
        real, key = found
        with self._lock:
            cached = self._files.get(real)
        if cached is not None and cached.key == key:
            return cached
        try:
            lines = real.read_bytes().decode("utf-8", "replace").split("\n")
        except OSError:  # gone or unreadable since the folder was listed
            return None
        windows = [
            set(_NAME.findall("\n".join(lines[i : i + WINDOW_LINES])))
            for i in range(0, max(len(lines) - WINDOW_LINES, 0) + 1, STRIDE)
        ]
        holding: dict[str, list[int]] = {}
        for i, names in enumerate(windows):
            for name in names:
                holding.setdefault(name, []).append(i)
        postings = {name: np.array(found, np.int32) for name, found in holding.items()}
        index = _Index(key, lines, np.array([len(w) for w in windows], np.int32), postings)
        with self._lock:
            self._files[real] = index
            while sum(i.key[1] for i in self._files.values()) > CACHE_BYTES and len(self._files) > 1:
                self._files.pop(next(iter(self._files)))
        return index
