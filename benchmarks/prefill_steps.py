"""What prefilling a prompt in steps costs against one pass (a statement's prefill looks at its
cancel flag and its budget between two steps: `local.PREFILL_STEP`).

The prompt at the middle of each of the first files of a held-out split, as a statement's
request makes it (a new prompt: nothing reused), prefilled in one pass and in steps of each size,
the sizes alternated within each round so that a slower moment of the machine falls on all.

    python benchmarks/prefill_steps.py --split fresh --model gemma3-270m --json benchmarks/results/prefill/steps.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from latency import write_report

from nib.model.completion.local import LocalCompleter
from nib.model.completion.request import Options
from nib.model.completion.result import Timings
from nib.model.eval.heldout import fetch


def prefill_ms(engine: LocalCompleter, ids: list[int], types: list[int], step: int) -> float:
    """One prefill of ids from nothing, in steps of step tokens (0: one pass)."""
    started, state = time.perf_counter(), None
    for end in range(step, len(ids), step) if step else ():
        _, state = engine.runtime.prefill(ids[:end], types[:end], state, every=False)
    engine.runtime.prefill(ids, types, state, every=False)
    return (time.perf_counter() - started) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="fresh", choices=("test", "fresh"))
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--model", default="gemma3-270m")
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 32, 64, 128], help="0: one pass")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="write the raw figures here")
    args = parser.parse_args()
    engine = LocalCompleter.load(args.model)
    options = engine.own(Options())
    prompts = []
    for path in sorted(fetch(args.split).rglob("*.py"))[: args.files]:
        text = path.read_text(encoding="utf-8")
        state = engine._prompt(text[: len(text) // 2], len(text) // 2, options, Timings()).state
        prompts.append((path.name, list(state.tokens), list(state.types)))
    runs: dict[int, list[dict]] = {step: [] for step in args.steps}
    for _ in range(args.rounds):
        for name, ids, types in prompts:
            for step in args.steps:
                runs[step].append(
                    {"file": name, "tokens": len(ids), "ms": round(prefill_ms(engine, ids, types, step), 1)}
                )
    one = [r["ms"] for r in runs[args.steps[0]]]
    summary = {
        step: {
            "median_ms": round(statistics.median(r["ms"] for r in rows), 1),
            "median_ratio": round(statistics.median(r["ms"] / o for r, o in zip(rows, one, strict=True)), 3),
        }
        for step, rows in runs.items()
    }
    for step, s in summary.items():
        print(f"step {step or 'one pass'}: median {s['median_ms']} ms, {s['median_ratio']}x the first")
    write_report(
        args.json,
        {"model": args.model, "split": args.split, "summary": summary, "runs": runs, "python": sys.version.split()[0]},
    )


if __name__ == "__main__":
    main()
