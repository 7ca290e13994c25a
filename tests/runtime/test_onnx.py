"""The ONNX Runtime session nib serves from: its threads rest once a run ends."""

import resource
import time

from nib.model.runtime import open_runtime


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def test_the_session_s_threads_stop_spinning_when_a_run_ends():
    runtime, _ = open_runtime("bundled", threads=2)
    options = runtime.session.get_session_options()
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"
    ids = list(range(1, 65))
    _, state = runtime.prefill(ids, [0] * len(ids))
    burnt = []
    for _ in range(3):
        step = state
        for token in ids[:8]:  # a statement's passes, one after the other
            _, step = runtime.step(step, token, 0)
        before = cpu_seconds()
        time.sleep(0.5)
        burnt.append(cpu_seconds() - before)
    # spinning on after a run burns tens of ms of CPU on most processors once the model is idle; at rest, none
    assert min(burnt) < 0.005, burnt
