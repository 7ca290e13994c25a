"""The rows of a table in a `.npy` file, read from the file the first time they are asked for
and kept: a pretrained model's embedding, of which a session uses a few thousand rows.

Not memory-mapped: a page fault in a mapped file maps the file's neighbouring pages as well
(the kernel's fault-around, which `MADV_RANDOM` does not stop), so a few thousand scattered
tokens made most of the table resident (`benchmarks/embedding_rows.py`,
`benchmarks/results/memory/embedding_rows.json`). Each row is read once with `pread` and kept
in one growing array: at most the table's size, as the mapping was.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np

FIRST = 1024  # rows kept before the first growth; each growth doubles


class Rows:
    """A table's rows by index, `rows[ids]` as numpy indexes it (ids a 1-D integer array)."""

    def __init__(self, path: Path):
        self.path = path
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, fortran, self.dtype = read_header(f)
            self._offset = f.tell()
        if len(shape) != 2 or fortran:
            raise ValueError(f"{path}: a table of rows was expected, found shape {shape}")
        self.shape = shape
        self._row_bytes = shape[1] * self.dtype.itemsize
        self._fd = os.open(path, os.O_RDONLY)  # the file as opened: a later import writes a new one
        self._slot = np.full(shape[0], -1, dtype=np.int32)  # row -> its place in _kept, -1 until read
        self._kept = np.empty((0, shape[1]), dtype=self.dtype)
        self._count = 0
        self._lock = threading.Lock()  # the statement's and a background prefill's threads both embed

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def read(self) -> int:
        """How many distinct rows have been read from the file."""
        return self._count

    def __getitem__(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        with self._lock:
            slots = self._slot[ids]  # an id outside the table raises IndexError here
            if (slots < 0).any():
                self._read_rows(np.unique(ids[slots < 0] % self.shape[0]))  # -1 is the last row
                slots = self._slot[ids]
            return self._kept[slots]

    def _read_rows(self, rows: np.ndarray) -> None:
        needed = self._count + len(rows)
        if needed > len(self._kept):
            grown = np.empty((min(max(needed, 2 * len(self._kept), FIRST), self.shape[0]), self.shape[1]), self.dtype)
            grown[: self._count] = self._kept[: self._count]
            self._kept = grown
        for row in rows.tolist():
            data = os.pread(self._fd, self._row_bytes, self._offset + row * self._row_bytes)
            if len(data) != self._row_bytes:
                raise ValueError(f"{self.path} ends before row {row} of {self.shape[0]}: import the model again")
            self._kept[self._count] = np.frombuffer(data, dtype=self.dtype)
            self._slot[row] = self._count
            self._count += 1

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)
