"""A decoding step of B rows that continue one prompt: the prompt's cache shared (the serving
graph's prefix) against copied into every row (what a graph with one cache per row needs).

    python benchmarks/rows.py [--json benchmarks/results/typing/rows.json]

Both run the bundled model through ONNX Runtime on the same prompt; "copied" is
`CopiedPrefixRuntime.step_rows` (for a graph with one cache per row, as nib 0.1 exported),
which concatenates the prompt's cache into each row and runs the graph with an empty prefix.
Each figure is the median of 30 runs of 4 steps, per step.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from nib.model.runtime import open_runtime
from nib.model.runtime.base import CopiedPrefixRuntime


def per_step_ms(step, prompt, runtime, rows: int, steps: int = 4, runs: int = 30) -> float:
    times = []
    for _ in range(runs):
        keys, values = runtime.empty(rows)
        t0 = time.perf_counter()
        for _ in range(steps):
            _, keys, values = step(runtime, prompt, keys, values, [5] * rows, [0] * rows)
        times.append((time.perf_counter() - t0) / steps * 1e3)
    return float(np.median(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    results = []
    print(f"{'threads':>7} {'prompt':>6} {'rows':>4} {'shared ms':>10} {'copied ms':>10} {'ratio':>6}")
    for threads in (1, 2):
        runtime, _ = open_runtime(None, "onnx", threads, "cpu")
        for prompt_tokens in (128, 340, 448):
            _, prompt = runtime.prefill(rng.integers(100, 8000, prompt_tokens).tolist(), [0] * prompt_tokens)
            for rows in (1, 3, 5):
                shared = per_step_ms(type(runtime).step_rows, prompt, runtime, rows)
                copied = per_step_ms(CopiedPrefixRuntime.step_rows, prompt, runtime, rows)
                results.append(
                    {
                        "threads": threads,
                        "prompt_tokens": prompt_tokens,
                        "rows": rows,
                        "shared_ms": round(shared, 3),
                        "copied_ms": round(copied, 3),
                    }
                )
                print(
                    f"{threads:>7} {prompt_tokens:>6} {rows:>4} {shared:>10.2f} {copied:>10.2f} {copied / shared:>6.2f}"
                )
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(
            json.dumps(
                {
                    "command": "python benchmarks/rows.py " + " ".join(sys.argv[1:]),
                    "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
                    "results": results,
                },
                indent=1,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
