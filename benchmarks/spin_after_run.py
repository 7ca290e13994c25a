"""The CPU a model's session burns once it goes idle: ONNX Runtime's threads spinning on after a run.

A statement's passes (8 decoding steps after a 448-token prompt of held-out code), then the
process's own CPU time over the next second, nothing running; repeated. Once with the session as
nib opens it (`runtime/onnx.py`: `session.force_spinning_stop`), once with ONNX Runtime's default
(spinning on after a run). CPU time, not wall time: other processes on the machine cannot add to it.

    python benchmarks/spin_after_run.py --json benchmarks/results/breakdown/spin_after_run_gemma.json
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from latency import write_report

from nib.model.eval.heldout import fetch
from nib.model.eval.points import python_files
from nib.model.runtime import load_tokenizer, open_runtime

PROMPT_TOKENS = 448  # the models' default window (`model.contextTokens`)
PASSES = 8


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def default_session(runtime, model_dir, threads: int):
    """The same graph in a session with ONNX Runtime's default spinning, nothing else changed."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads, opts.log_severity_level = threads, 1, 3
    opts.enable_cpu_mem_arena = runtime.memory_arena
    return ort.InferenceSession(str(model_dir.onnx), opts, providers=["CPUExecutionProvider"])


def burnt(runtime, ids: list[int], repeat: int) -> list[float]:
    """CPU seconds in the second after each burst of PASSES decoding steps."""
    _, state = runtime.prefill(ids[:PROMPT_TOKENS], [0] * PROMPT_TOKENS)
    out = []
    for _ in range(repeat):
        time.sleep(1.0)  # whatever the prefill or the last window left running ends first
        step = state
        for token in ids[PROMPT_TOKENS : PROMPT_TOKENS + PASSES]:
            _, step = runtime.step(step, token, 0)
        before = cpu_seconds()
        time.sleep(1.0)
        out.append(round(cpu_seconds() - before, 4))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gemma3-270m")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    runtime, model_dir = open_runtime(args.model, threads=args.threads)
    text = "\n".join(f.read_text(errors="replace") for f in python_files(fetch("fresh-dev"))[:3])
    ids = load_tokenizer(model_dir).encode(text)[: PROMPT_TOKENS + PASSES]
    as_served = burnt(runtime, ids, args.repeat)
    runtime.session = default_session(runtime, model_dir, args.threads)
    spinning = burnt(runtime, ids, args.repeat)
    report = {
        "command": "python benchmarks/spin_after_run.py " + " ".join(sys.argv[1:]),
        "model": args.model,
        "threads": args.threads,
        "passes": PASSES,
        "cpu_seconds_in_the_second_after": {"as_served": as_served, "ort_default_spinning": spinning},
    }
    print(report)
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
