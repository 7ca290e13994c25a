"""A yielding host's inference thread, and the ONNX Runtime pool its model starts, run at a
lower CPU priority (Linux's per-thread nice value); any other host's run as the process does."""

import os
import sys
import threading

from nib.model.runtime import priority
from nib.model.service.hosts import ModelHost, ModelKey


def nice_values() -> dict[int, int]:
    """This process's threads: id -> nice value (field 19 of /proc/<pid>/task/<tid>/stat)."""
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # after the thread's name, which may hold spaces
        except FileNotFoundError:  # a thread that ended meanwhile (a closed host's)
            continue
        out[int(tid)] = int(fields[16])
    return out


def started_by(key: ModelKey) -> list[int]:
    """The nice values of the threads that loading key's model started (its inference thread, ORT's pool)."""
    before = nice_values()
    host = ModelHost(key)
    try:
        host.load().result(timeout=60)
        return sorted(nice for tid, nice in nice_values().items() if tid not in before)
    finally:
        host.close()


def test_elsewhere_than_linux_nothing_is_lowered(monkeypatch):
    """There setpriority's id is a process's: lowering would lower nib whole."""
    before = nice_values()[threading.get_native_id()]
    monkeypatch.setattr(sys, "platform", "darwin")
    assert priority.lower() is None
    assert nice_values()[threading.get_native_id()] == before


def test_a_yielding_hosts_threads_and_its_models_pool_run_lower():
    base = os.getpriority(os.PRIO_PROCESS, 0)
    lowered = min(priority.NICEST, base + priority.LOWER_BY)
    assert lowered > base, "run the tests at a nice value under 19: nothing could be lowered"
    yielding, plain = (started_by(ModelKey("bundled", "cpu", 3, yields=k)) for k in (True, False))
    # the inference thread and ORT's pool (threads=3: 2 of its own; ORT's import adds 2 idle ones once)
    assert len(yielding) >= 3 and len(plain) >= 3
    assert (set(yielding), set(plain)) == ({lowered}, {base})
