"""How long the torch runtime (`model.device` cuda, or auto) takes to load an imported model, each
load in a process of its own, as a server's first (torch's and transformers' imports included):
the weights read again from the pinned GGUF through transformers, three ways, alternating:
  with hf_config  what nib does: the import's `hf_config` (one parse of the GGUF's metadata)
  without         a copy imported before the manifest kept it: the config parsed from the GGUF too
  before          nib before 2026-12-04: that, and the GGUF's tokenizer (which the runtime never used)

    python benchmarks/torch_load.py qwen2.5-coder-0.5b --device cpu --repeats 3 --json FILE
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

KINDS = ("with hf_config", "without", "before")


def child(name: str, device: str, kind: str) -> float:
    """Seconds to build the model's torch runtime in this process, the kind's way."""
    started = time.perf_counter()
    from nib.model.runtime import artifacts, embedded_torch
    from nib.model.runtime.families import family
    from nib.model.runtime.torch import load_hf

    model_dir = artifacts.load(name)
    if kind != "with hf_config":
        model_dir.manifest.pop("hf_config", None)
    if kind == "before":
        embedded_torch.load_hf_model = lambda gguf, config: load_hf(gguf)[0]
    family(model_dir.manifest["architecture"]["name"]).torch(model_dir, device)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="an imported model's name or directory")
    parser.add_argument("--device", default="cpu", help="torch's device: cpu or cuda")
    parser.add_argument("--repeats", type=int, default=3, help="loads of each kind, alternating")
    parser.add_argument("--json", type=Path, dest="json_out")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)  # one load, in this process
    args = parser.parse_args()
    if args.child:
        print(child(args.model, args.device, args.child))
        return 0
    seconds: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for _ in range(args.repeats):
        for kind in KINDS:
            cmd = [sys.executable, __file__, args.model, "--device", args.device, "--child", kind]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            seconds[kind].append(round(float(out.split()[-1]), 2))
            print(f"{kind}: {seconds[kind][-1]} s", flush=True)
    report = {
        "command": "python benchmarks/torch_load.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "model": args.model,
        "device": args.device,
        "seconds": seconds,
    }
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
