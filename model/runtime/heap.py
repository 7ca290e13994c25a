"""The C heap of a serving process (glibc's malloc; elsewhere this does nothing).

A model's prompt states and activations are buffers of megabytes, made and freed on every
keystroke from several threads. glibc serves them from its arenas once such a buffer has been
freed (its mmap threshold rises to their size), and an arena keeps what is freed inside it
resident: a server's memory grows by a hundred megabytes or more of free heap. Returned to the
system when requests stop (`service.py`), it costs the first request after that the pages it
touches; a fixed threshold instead, which maps each large buffer afresh, cost every keystroke
that (`benchmarks/results/memory/`).
"""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def return_freed() -> None:
    """Give the heap's free memory back to the system: after loading a model, which frees much,
    and once requests stop."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
