"""A training step of `nib finetune` on the CPU in fp32 and in bf16 (`--dtype`), on the same batches.

The imported model's weights (the pinned GGUF, read by transformers as `nib finetune` reads them),
LoRA adapters of rank 8 in fp32 over them, batches of nib's corpus as `nib finetune` makes them
(at most --max-tokens a batch); the two precisions take turns, round after round, so that a slow
minute of a noisy machine falls on both. bf16 is fast only where the CPU multiplies it natively
(AMX, AVX-512 BF16): the report names the CPU's flags.

    python benchmarks/finetune_dtype.py --corpus /tmp/corpus --json benchmarks/results/qwen/finetune_dtype.json
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
from pathlib import Path

import torch
from latency import write_report

from nib.model.pretrained import finetune, registry
from nib.model.pretrained.convert import vocabulary_order
from nib.model.sources import read_corpus
from nib.model.train import fim, lora


def cpu_flags() -> list[str]:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return sorted(f for f in flags if f.startswith(("amx", "avx512_bf16", "avx512_vnni")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="qwen2.5-coder-0.5b")
    ap.add_argument("--corpus", type=Path, required=True, help="a `nib corpus --out` directory")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batches", type=int, default=4, help="timed batches a precision a round")
    ap.add_argument("--max-tokens", type=int, default=2048)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    fp32, tokenizer, dev = finetune._load(args.model, "cpu", "fp32")
    kept = registry.get(args.model).kept()
    tokens = fim.Tokens.of(tokenizer, vocabulary_order(kept, len(tokenizer)), len(kept))
    texts = [text for _, text in read_corpus(args.corpus)]
    order = fim.batches(fim.mixed(texts, tokens, 16 * args.batches * args.rounds, 1), args.max_tokens, random.Random(1))
    if len(order) < 1 + args.rounds * args.batches:
        sys.exit(f"{len(order)} batches, fewer than the {1 + args.rounds * args.batches} asked for")
    models = {"fp32": fp32, "bf16": copy.deepcopy(fp32).to(torch.bfloat16)}
    steps = {}
    for name, model in models.items():  # adapters in fp32 over either, as `nib finetune` attaches them
        torch.manual_seed(0)
        params = [p for a in lora.attach(model, 8, alpha=16.0).values() for p in (a.a, a.b)]
        steps[name] = (model.train(), torch.optim.AdamW(params, lr=1e-4))
    seconds: dict[str, list[float]] = {name: [] for name in models}
    for r in range(args.rounds):
        chunk = order[1 + r * args.batches : 1 + (r + 1) * args.batches]
        for name, (model, opt) in steps.items():
            step(model, opt, order[0], dev)  # the first step allocates: not timed
            started = time.monotonic()
            for batch in chunk:
                step(model, opt, batch, dev)
            seconds[name].append((time.monotonic() - started) / sum(len(b) for b in chunk))
            print(f"round {r} {name}: {seconds[name][-1]:.2f} s an example", flush=True)
    report = {
        "command": " ".join(["python", *sys.argv]),
        "model": args.model,
        "cpu_flags": cpu_flags(),
        "threads": torch.get_num_threads(),
        "seconds_an_example": {name: [round(s, 3) for s in xs] for name, xs in seconds.items()},
        "ratio_of_medians": round(
            sorted(seconds["fp32"])[args.rounds // 2] / sorted(seconds["bf16"])[args.rounds // 2], 2
        ),
    }
    print(report)
    write_report(args.json, report)
    return 0


def step(model, opt, batch, dev) -> None:
    per, _, _ = fim.loss(model, batch, dev)
    opt.zero_grad(set_to_none=True)
    per.mean().backward()
    opt.step()


if __name__ == "__main__":
    sys.exit(main())
