"""Prompt states kept at half precision: does a statement that continues one come out the same?

At identifier starts of a held-out split, each model prefills the cut's prompt, then another
file's (which sends the first to the store at half precision, `runtime/states.py`), then
answers the statement at the cut, continuing the stored state. The same with the store kept
at full precision is the reference: the same text at how many cuts, the statement's latency
both ways, and the cost of storing and restoring one state.

    python benchmarks/half_states.py --models gemma3-270m qwen2.5-coder-0.5b --points 100 \
        --json benchmarks/results/memory/half_states.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from latency import stats, write_report

from nib.model.completion.local import LocalCompleter
from nib.model.completion.request import Mode, Options, Request
from nib.model.eval.heldout import fetch
from nib.model.eval.points import identifier_line_points, python_files
from nib.model.runtime import states
from nib.model.runtime.states import PromptStates


def statements(engine: LocalCompleter, texts: list[str], cuts, stored) -> tuple[list[str], list[float]]:
    """The statement at each cut after its prompt went to the store at precision `stored`."""
    states.STORED = stored
    options = Options(statement_budget_ms=10_000, statement_min_confidence=0)  # every statement, to compare
    out, ms = [], []
    for i, p in enumerate(cuts):
        engine.states = PromptStates()
        engine._statement_memo.clear()
        engine.shown.clear()
        text = texts[p.file][: p.offset]
        engine.warm(text, p.offset, options)
        other = texts[(p.file + 1) % len(texts)]
        engine.warm(other, len(other), options)  # the cut's state is now a stored one
        t0 = time.perf_counter()
        result = engine.complete(Request(text, p.offset, Mode.STATEMENT, options))
        ms.append((time.perf_counter() - t0) * 1e3)
        out.append(result.candidates[0].text if result.candidates else "")
        print(f"\r{stored.__name__} {i + 1}/{len(cuts)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return out, ms


def state_copy_ms(engine: LocalCompleter, text: str) -> dict:
    """Storing and restoring the state of a prompt of the model's default length."""
    ids = engine.bpe.encode(text)[: engine.defaults["context_tokens"]]
    _, state = engine.runtime.prefill(ids, [0] * len(ids))
    t0 = time.perf_counter()
    half = states._stored(state)
    store = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    states._in_use(half)
    restore = (time.perf_counter() - t0) * 1e3
    full_bytes = int(state.keys.nbytes + state.values.nbytes)
    return {
        "tokens": len(state),
        "bytes_full": full_bytes,
        "store_ms": round(store, 2),
        "restore_ms": round(restore, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["gemma3-270m", "qwen2.5-coder-0.5b"])
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--split", default="dev", help="the held-out split (a check, not a choice: dev)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    texts = [f.read_text() for f in python_files(fetch(args.split))]
    cuts = identifier_line_points(texts, args.points, 0)
    report = {"command": "python benchmarks/half_states.py " + " ".join(sys.argv[1:]), "split": args.split}
    for model in args.models:
        engine = LocalCompleter.load(model, threads=args.threads)
        full, full_ms = statements(engine, texts, cuts, np.float32)
        half, half_ms = statements(engine, texts, cuts, np.float16)
        same = sum(a == b for a, b in zip(full, half, strict=True))
        report[model] = {
            "cuts": len(cuts),
            "same_text": same,
            "differing": [{"full": a, "half": b} for a, b in zip(full, half, strict=True) if a != b],
            "statement_ms_full": stats(full_ms),
            "statement_ms_half": stats(half_ms),
            "one_state": state_copy_ms(engine, texts[0]),
        }
        print(model, f"same text at {same} of {len(cuts)}", report[model]["one_state"])
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
