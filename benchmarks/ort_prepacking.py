"""What ONNX Runtime's weight prepacking costs in memory and buys in speed, for an imported model.

Opens the model's int8 graph twice in fresh processes, with prepacking (the default) and without
(`session.disable_prepacking`), and times one decoding pass (one new token over a 448-token
prompt state) on 2 threads; resident memory is the process's after the session opened, heap trimmed.

    python benchmarks/ort_prepacking.py qwen2.5-coder-0.5b --json benchmarks/results/memory/ort_prepacking.json
"""

from __future__ import annotations

import argparse
import ctypes
import json
import subprocess
import sys
import time
from pathlib import Path

from latency import write_report

PROMPT = 448
PASSES = 30


def resident_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 1e6


def measure(name: str, prepacking: bool, threads: int) -> dict:
    """One process's figures (run in a child: a session's memory is never given back whole)."""
    import numpy as np
    import onnxruntime as ort

    from nib.model.runtime import artifacts

    model = artifacts.load(artifacts.models_dir() / name)
    before = resident_mb()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.inter_op_num_threads, opts.enable_cpu_mem_arena = threads, 1, False
    if not prepacking:
        opts.add_session_config_entry("session.disable_prepacking", "1")
    session = ort.InferenceSession(str(model.onnx), opts, providers=["CPUExecutionProvider"])
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    opened = resident_mb() - before
    inputs = {i.name: i.shape for i in session.get_inputs()}
    layers, _, heads, _, width = inputs["prefix_keys"]
    cache = np.zeros((layers, 1, heads, PROMPT, width), np.float32)
    empty = np.zeros((layers, 1, heads, 0, width), np.float32)
    feed = {
        "embeds": np.zeros((1, 1, inputs["embeds"][-1]), np.float32),
        "prefix_keys": cache,
        "prefix_values": cache,
        "past_keys": empty,
        "past_values": empty,
    }
    if "scored" in inputs:  # the graph's head over the one new token
        feed["scored"] = np.zeros(1, np.int64)
    times = []
    for n in range(PASSES + 3):
        start = time.perf_counter()
        session.run(None, feed)
        if n >= 3:  # the first passes allocate
            times.append((time.perf_counter() - start) * 1e3)
    return {
        "prepacking": prepacking,
        "session_mb": round(opened, 1),
        "pass_ms_p50": round(float(np.median(times)), 2),
        "pass_ms_min": round(min(times), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="an imported model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, dest="json_out")
    parser.add_argument("--child", choices=("on", "off"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.name, args.child == "on", args.threads)))
        return 0
    rows = []
    for mode in ("on", "off"):
        child = [sys.executable, __file__, args.name, "--threads", str(args.threads), "--child", mode]
        rows.append(json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout))
    report = {
        "command": "python benchmarks/ort_prepacking.py " + " ".join(sys.argv[1:]),
        "model": args.name,
        "rows": rows,
    }
    print(json.dumps(report, indent=2))
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
