"""What an imported model's embedding table holds resident once a session's tokens are embedded:
memory-mapped (as nib did) against read row by row (`model/runtime/rows.py`, as it does).

Each way in a process of its own: the first --files files of the split tokenized, every distinct
token's row looked up once, then the resident memory that the table's file (mapped) or the
kept rows (read) added. The file is in the page cache, as right after `nib model import`.

    python benchmarks/embedding_rows.py --models gemma3-270m qwen2.5-coder-0.5b --split fresh --files 20 \
        --json benchmarks/results/memory/embedding_rows.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from latency import write_report

# Run with -I: argv model, "mapped" or "read", then the files.
LOOKUP = """
import json, sys
from pathlib import Path
import numpy as np
from nib.model.runtime import artifacts
from nib.model.runtime.rows import Rows

def resident_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024

model_dir = artifacts.load(sys.argv[1])
bpe = model_dir.family.load_tokenizer(model_dir)
ids = sorted({i for name in sys.argv[3:] for i in bpe.encode(Path(name).read_text(errors="replace"))})
order = np.argsort(np.load(model_dir.file("vocab_order")))  # tokenizer id -> model id
path = model_dir.file("embedding")
table = np.load(path, mmap_mode="r") if sys.argv[2] == "mapped" else Rows(path)
before = resident_mb()
rows = np.asarray(table[order[np.asarray(ids)]])
print(json.dumps({"tokens": len(ids), "rows_mb": round(rows.nbytes / 2**20, 1),
                  "table_mb": round(path.stat().st_size / 2**20, 1), "resident_mb": round(resident_mb() - before - rows.nbytes / 2**20, 1)}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["gemma3-270m", "qwen2.5-coder-0.5b"])
    parser.add_argument("--split", default="fresh")
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    from nib.model.eval import heldout

    files = sorted(str(p) for p in heldout.fetch(args.split).rglob("*.py"))[: args.files]
    report: dict = {"command": "python benchmarks/embedding_rows.py " + " ".join(sys.argv[1:]), "mib": {}}
    for model in args.models:
        for way in ("mapped", "read"):
            run = subprocess.run(
                [sys.executable, "-I", "-c", LOOKUP, model, way, *files], capture_output=True, text=True, check=True
            )
            report["mib"][f"{model} {way}"] = json.loads(run.stdout)
            print(model, way, report["mib"][f"{model} {way}"])
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
