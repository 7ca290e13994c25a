"""The CPU priority of a model's inference threads (Linux; elsewhere this does nothing).

Where the statement has a model of its own, its passes (a cold prompt of Gemma 3 270M is a
second of prefill on 2 cores) share the cores with the list's model and jedi, whose answers
take a few milliseconds. Sharing them equally doubled the first list at a new place; its
inference thread at a lower priority lets the short work go first and costs the long work
little, since it runs at full speed whenever nothing else wants the cores
(benchmarks/results/priority/).

Linux keeps a nice value per thread, and a thread inherits its creator's: ONNX Runtime's pool,
started when the session is made on the lowered thread, runs lower too.
"""

from __future__ import annotations

import os
import sys
import threading

LOWER_BY = 10  # a nice value of 10 more weighs a tenth as much (Linux's CFS: 1024 against 110)
NICEST = 19


def lower(by: int = LOWER_BY) -> int | None:
    """Lower the calling thread's CPU priority by `by` (raising a nice value needs no
    privilege, lowering it back does: the thread keeps it for good) -> its nice value now, or
    None where threads have no nice value of their own (not Linux) or the system refuses."""
    if sys.platform != "linux":  # elsewhere setpriority's id is a process's: it would lower nib whole
        return None
    tid = threading.get_native_id()
    try:
        nice = min(NICEST, os.getpriority(os.PRIO_PROCESS, tid) + by)
        os.setpriority(os.PRIO_PROCESS, tid, nice)
    except OSError:  # a sandbox that forbids it: the thread runs as it was
        return None
    return nice
