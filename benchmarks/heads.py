"""What an output head costs: imported model directories that differ in the tokens their head
scores (`pretrained/vocab.py`), each timed on this machine as the server runs it (the int8 ONNX
graph, `model.threads`): a 448-token cold prompt scoring every position or the last one only
(`Runtime.prefill(every=False)`), and one decode step after it.

    python benchmarks/heads.py /tmp/qwen-pruned ~/.cache/nib/models/qwen2.5-coder-0.5b \
        --json benchmarks/results/pretrained/heads_qwen_cost.json

The quality side is `nib eval fresh-dev --model A --model B --name-lines-only` on the same directories.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from latency import write_report
from levers import timed

from nib.model.eval.heldout import fetch
from nib.model.eval.points import python_files
from nib.model.runtime import load_tokenizer, open_runtime

PROMPT_TOKENS = 448  # the models' default window (`model.contextTokens`)


def figures(model: str, threads: int, text: str, repeat: int) -> dict:
    runtime, model_dir = open_runtime(model, threads=threads)
    ids = load_tokenizer(model_dir).encode(text)[:PROMPT_TOKENS]
    types = [0] * len(ids)
    _, state = runtime.prefill(ids, types)
    return {
        "model": model,
        "kept": model_dir.manifest["architecture"]["kept"],
        "graph_scores_chosen_positions": "scored" in getattr(runtime, "input_names", ()),
        "prefill_every_position_ms": timed(lambda: runtime.prefill(ids, types), repeat),
        "prefill_last_position_ms": timed(lambda: runtime.prefill(ids, types, every=False), repeat),
        "decode_step_ms": timed(lambda: runtime.step(state, ids[-1], 0), repeat * 10),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model directories or names")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    text = "\n".join(f.read_text(errors="replace") for f in python_files(fetch("fresh-dev"))[:3])
    rows = [figures(m, args.threads, text, args.repeat) for m in args.models]
    report = {"command": "python benchmarks/heads.py " + " ".join(sys.argv[1:]), "threads": args.threads, "rows": rows}
    print(json.dumps(report, indent=1))
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
