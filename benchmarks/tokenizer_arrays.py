"""An imported model's tokenizer from HF tokenizers against nib's arrays (`net/compact_bpe.py`):
resident memory, encoding time, and whether the tokens agree, on held-out code.

Each reading in a process of its own (the heap's free memory returned first, as the server
does): the tokenizer's growth of resident memory in MB; the time to encode a 2,000-character
window of a file never seen, the same window once a line at its end changed (a keystroke), and
every file of the split; and the files whose tokens differ between the two.

    python benchmarks/tokenizer_arrays.py --models gemma3-270m qwen2.5-coder-0.5b --split fresh \
        --json benchmarks/results/memory/tokenizer_arrays.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from latency import write_report

# One model, one tokenizer ("hf" or "arrays"): its resident memory and its encoding times.
READ = """
import json, statistics, sys, time
from pathlib import Path
import numpy as np
from tokenizers import Tokenizer
from nib.model.net.compact_bpe import CompactBPE
from nib.model.runtime import artifacts, heap

def resident():
    heap.return_freed()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6

model_dir, kind, files = artifacts.load(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
texts = [Path(f).read_text(encoding="utf-8", errors="replace") for f in files]
before = resident()
tok = CompactBPE.load(model_dir.file("tokenizer_arrays")) if kind == "arrays" else Tokenizer.from_file(str(model_dir.tokenizer))
tok.encode_special_tokens = True
mb = resident() - before

def ms(text):
    started = time.perf_counter()
    ids = tok.encode(text, add_special_tokens=False).ids
    return (time.perf_counter() - started) * 1e3, ids

cold, key = [], []
for text in texts[:40]:
    window = text[-2000:]
    cold.append(ms(window)[0])
    key.append(ms(window + "\\n    self.decod")[0])
started = time.perf_counter()
ids = [ms(t)[1] for t in texts]
print(json.dumps({"mb": round(mb, 1), "window_never_seen_ms_p50": round(statistics.median(cold), 2),
    "keystroke_ms_p50": round(statistics.median(key), 2), "all_files_s": round(time.perf_counter() - started, 2),
    "ids": ids}))
"""


def read(model: str, kind: str, files: list[str]) -> dict:
    run = subprocess.run(
        [sys.executable, "-I", "-c", READ, model, kind, json.dumps(files)], capture_output=True, text=True
    )
    if run.returncode != 0:
        raise SystemExit(f"{model} ({kind}): {run.stderr.strip().splitlines()[-1]}")
    return json.loads(run.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["gemma3-270m", "qwen2.5-coder-0.5b"])
    parser.add_argument("--split", default="fresh")
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    from nib.model.eval import heldout

    files = sorted(str(p) for p in heldout.fetch(args.split).rglob("*.py"))
    report: dict = {"command": "python benchmarks/tokenizer_arrays.py " + " ".join(sys.argv[1:]), "models": {}}
    for model in args.models:
        hf, arrays = read(model, "hf", files), read(model, "arrays", files)
        differ = sum(a != b for a, b in zip(hf.pop("ids"), arrays.pop("ids"), strict=True))
        report["models"][model] = {"files": len(files), "files_whose_tokens_differ": differ, "hf": hf, "arrays": arrays}
        print(model, json.dumps(report["models"][model]))
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
