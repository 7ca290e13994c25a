"""What a lower priority for the statement's thread buys the list (`model/runtime/priority.py`).

In-process, no server: the bundled model's prefill of a 300-token prompt (the list's, cold) alone,
and while Gemma 3 270M prefills a 448-token prompt (the first ghost text in a document) on a thread
whose nice value is raised by each of --nice (its ONNX Runtime pool made there, as a host does), and
Gemma's own prefill time beside it. Random token ids: the cost of a pass does not depend on them.

    python benchmarks/yield_cores.py --json benchmarks/results/priority/yield_cores.json
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from latency import write_report

from nib.model.runtime import open_runtime, priority


def prefill_ms(runtime, n: int, rng) -> float:
    tokens = rng.integers(10, 5000, n).tolist()
    started = time.perf_counter()
    runtime.prefill(tokens, [0] * n, every=False)
    return round((time.perf_counter() - started) * 1e3, 1)


def beside(nice: int, rounds: int, seed: int) -> dict:
    """The list's prefills alone and while Gemma prefills on a thread at nice +nice."""
    rng = np.random.default_rng(seed)
    with ThreadPoolExecutor(1, initializer=priority.lower, initargs=(nice,)) as gemma_thread:
        gemma = gemma_thread.submit(lambda: open_runtime("gemma3-270m")[0]).result()
        listing = open_runtime("bundled")[0]
        prefill_ms(listing, 64, rng), gemma_thread.submit(prefill_ms, gemma, 64, rng).result()  # warm-up
        alone = {
            "gemma_448": [gemma_thread.submit(prefill_ms, gemma, 448, rng).result() for _ in range(2)],
            "list_300": [prefill_ms(listing, 300, rng) for _ in range(3)],
        }
        lists, gemmas = [], []
        for _ in range(rounds):
            running = gemma_thread.submit(prefill_ms, gemma, 448, rng)
            for _ in range(2):
                time.sleep(0.05)
                lists.append(prefill_ms(listing, 300, rng))
            gemmas.append(running.result())
    return {"nice": nice, "alone": alone, "beside": {"list_300": lists, "gemma_448": gemmas}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nice", type=int, nargs="+", default=[0, 5, 10])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    if sys.platform != "linux":
        parser.error("a thread's own nice value is Linux's")
    runs = [beside(n, args.rounds, seed) for seed, n in enumerate(args.nice)]
    for r in runs:
        print(f"nice +{r['nice']}: alone {r['alone']}, beside {r['beside']}")
    command = "python benchmarks/yield_cores.py " + " ".join(sys.argv[1:])
    write_report(args.json_out, {"command": command, "cpus": os.cpu_count(), "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
