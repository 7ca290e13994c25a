"""The C heap of a serving process (glibc's malloc; elsewhere this does nothing).

A model's prompt states and activations are buffers of megabytes, made and freed on every
keystroke from several threads. glibc serves them from its arenas once such a buffer has been
freed (its mmap threshold rises to their size), and an arena keeps what is freed inside it
resident. Returned to the system when requests stop (`service.py`), the free memory costs the
first request after that the pages it touches again; a fixed threshold instead, which maps each
large buffer afresh, cost every keystroke that (`benchmarks/results/memory/`).
"""

from __future__ import annotations

import ctypes
import functools
import threading

_trimming = threading.Lock()  # one trim at a time: a daemon's sessions each ask for one


@functools.cache
def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None
    if not hasattr(libc, "malloc_trim"):
        return None
    libc.malloc_trim.argtypes, libc.malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    return libc


def available() -> bool:
    """Whether this process's heap is glibc's, whose free memory can be returned."""
    return _libc() is not None


def return_freed() -> None:
    """Give the heap's free memory back to the system: after loading a model, which frees much,
    and once requests stop. A trim already under way makes this one unneeded."""
    libc = _libc()
    if libc is not None and _trimming.acquire(blocking=False):
        try:
            libc.malloc_trim(0)
        finally:
            _trimming.release()
