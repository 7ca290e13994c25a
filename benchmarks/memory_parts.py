"""Where a model's resident memory goes when it loads: its tokenizer, the bytes of its tokens,
its ONNX Runtime session. Each model in a process of its own; the heap's free memory is
returned before each reading, as the server does after loading.

    python benchmarks/memory_parts.py --models bundled gemma3-270m qwen2.5-coder-0.5b \
        --json benchmarks/results/memory/parts.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from latency import write_report

# Run with -I in a process of its own: one model, each part's growth of resident memory in MB.
PARTS = """
import json, sys
from nib.model.runtime import artifacts, heap
from nib.model.runtime.onnx import OnnxRuntime, session

def resident():
    heap.return_freed()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6

out = {"python and nib's imports": resident()}
model_dir = artifacts.load(sys.argv[1])
before = resident()
bpe = model_dir.family.load_tokenizer(model_dir)
out["tokenizer"] = resident() - before
before = resident()
bpe.token_bytes
out["token bytes"] = resident() - before
before = resident()
graph = session(model_dir, 2, OnnxRuntime.memory_arena)
out["ONNX Runtime session"] = resident() - before
out["model.onnx on disk"] = model_dir.onnx.stat().st_size / 1e6
print(json.dumps({k: round(v, 1) for k, v in out.items()}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["bundled", "gemma3-270m", "qwen2.5-coder-0.5b"])
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    report: dict = {"command": "python benchmarks/memory_parts.py " + " ".join(sys.argv[1:]), "mb": {}}
    for model in args.models:
        run = subprocess.run([sys.executable, "-I", "-c", PARTS, model], capture_output=True, text=True, check=True)
        report["mb"][model] = json.loads(run.stdout)
        print(model, report["mb"][model])
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
