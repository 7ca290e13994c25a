"""`nib corpus | tokenizer | encode | train | export | reproduce`: the model pipeline.

    nib corpus -> nib tokenizer -> nib encode -> nib train -> nib export -> nib eval
Each stage writes under data/ or runs/ (resumable or cheap to rerun); `nib reproduce`
runs them all with the bundled model's exact settings and checks its corpus hash.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DATA = Path("data")
# The bundled model's training run: `nib reproduce` repeats it, and the manifest records it.
SHIPPED = {
    "plain": True,
    "budget_tokens": 8 * 512 * 2441,
    "layers": 6,
    "width": 256,
    "block_size": 512,
    "batch_size": 8,
    "seed": 1337,
    "int8_block": 32,  # exported before nib's own models went to blocks of 16 (`train/export.py`)
}


def register(sub) -> None:
    p = sub.add_parser("corpus", help="collect the training corpus from its manifest")
    p.add_argument("--manifest", type=Path, default=None)
    p.add_argument("--out", type=Path, default=DATA / "corpus")
    p.set_defaults(run=corpus)

    p = sub.add_parser("tokenizer", help="train the byte-level BPE")
    p.add_argument("--corpus", type=Path, default=DATA / "corpus")
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--out", type=Path, default=DATA / "tokenizer.json")
    p.add_argument("--measure", metavar="DIR", help="also print tokens/byte on DIR (or the dev split) for 4k/8k/16k")
    p.set_defaults(run=tokenizer)

    p = sub.add_parser("encode", help="encode the corpus into token and type streams")
    p.add_argument("--corpus", type=Path, default=DATA / "corpus")
    p.add_argument("--tokenizer", type=Path, default=DATA / "tokenizer.json")
    p.add_argument("--out", type=Path, default=DATA / "encoded")
    p.set_defaults(run=encode)

    p = sub.add_parser("train", help="train (resumes from OUT/ckpt.pt)")
    p.add_argument("--data", type=Path, default=DATA / "encoded")
    p.add_argument("--out", type=Path, default=Path("runs/typed"))
    p.add_argument("--plain", action="store_true", help="no type stream (the ablation)")
    p.add_argument("--budget-tokens", type=int, default=SHIPPED["budget_tokens"], help="default: 10.0M tokens")
    p.add_argument("--budget-seconds", type=float, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--layers", type=int, default=SHIPPED["layers"])
    p.add_argument("--width", type=int, default=SHIPPED["width"])
    p.add_argument("--block-size", type=int, default=SHIPPED["block_size"])
    p.add_argument("--batch-size", type=int, default=SHIPPED["batch_size"])
    p.add_argument("--seed", type=int, default=SHIPPED["seed"])
    p.set_defaults(run=train)

    p = sub.add_parser("export", help="export a checkpoint to an int8 ONNX model directory")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--tokenizer", type=Path, default=DATA / "tokenizer.json")
    p.add_argument("--corpus", type=Path, default=DATA / "corpus")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--keep-fp32", action="store_true", help="also write model.fp32.onnx")
    p.add_argument("--parity", metavar="DIR", help="check parity on the .py files in DIR (or the dev split)")
    p.add_argument(
        "--int8-block", type=int, choices=(16, 32, 64, 128), help="weights per int8 scale (default: 16, nib's own)"
    )
    p.set_defaults(run=export)

    p = sub.add_parser("reproduce", help="every stage in order, with the bundled model's settings")
    p.add_argument("--out", type=Path, default=Path("runs/reproduced"))
    p.add_argument("--threads", type=int, default=0)
    p.set_defaults(run=reproduce)


def corpus(args) -> int:
    from nib.model.train import corpus

    info = corpus.build(args.out, args.manifest or corpus.DEFAULT_MANIFEST)
    print(json.dumps({k: v for k, v in info.items() if k != "manifest"}, indent=2))
    return 0


def tokenizer(args) -> int:
    from nib.model.eval.heldout import folder
    from nib.model.net import tokenizer
    from nib.model.sources import read_corpus

    files = read_corpus(args.corpus)
    sizes = [4096, 8192, 16384] if args.measure else [args.vocab]
    if args.measure:
        held = [p.read_text() for p in sorted(folder(args.measure).rglob("*.py"))]
        held_bytes = sum(len(t.encode()) for t in held)
        print(f"{'vocab':>6} {'tokens/byte':>12}")
    for size in sizes:
        tok = tokenizer.train((t for _, t in files), size)
        if args.measure:
            n = sum(len(ids) for ids in tokenizer.BPE(tok).encode_batch(held))
            print(f"{size:>6} {n / held_bytes:>12.3f}")
        if size == args.vocab:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            tok.save(str(args.out))
    print(f"wrote {args.out}")
    return 0


def encode(args) -> int:
    from nib.model.net.tokenizer import BPE
    from nib.model.train import dataset

    print(json.dumps(dataset.encode(args.corpus, BPE.load(args.tokenizer), args.out)))
    return 0


def train(args) -> int:
    from nib.model.net.network import Config
    from nib.model.text.lexer import TYPES
    from nib.model.train.train import TrainConfig, train

    encoded = json.loads((args.data / "encoded.json").read_text())
    cfg = TrainConfig(
        data=str(args.data),
        out=str(args.out),
        model=Config(
            vocab_size=encoded.get("vocab_size", 8192),
            n_types=len(TYPES),
            type_stream=not args.plain,
            n_layer=args.layers,
            d_model=args.width,
            d_ff=args.width * 11 // 4 // 64 * 64,
            block_size=args.block_size,
        ),
        batch_size=args.batch_size,
        seed=args.seed,
        budget_tokens=0 if args.budget_seconds else args.budget_tokens,
        budget_seconds=args.budget_seconds or 3600.0,
        threads=args.threads,
        device=args.device,
    )
    train(cfg)
    return 0


def export(args) -> int:
    from nib.model.eval.heldout import folder
    from nib.model.train.export import OWN_BLOCK, export

    extra = {}
    corpus_info = args.corpus / "corpus.json"
    if corpus_info.exists():
        extra["corpus"] = json.loads(corpus_info.read_text())
    summary = args.checkpoint.parent / "summary.json"
    if summary.exists():
        s = json.loads(summary.read_text())
        extra["training"] = {k: s[k] for k in ("steps", "tokens", "seconds", "val_loss", "device")}
    block = OWN_BLOCK if args.int8_block is None else args.int8_block
    parity_text = None
    if args.parity:
        parity_text = "\n".join(p.read_text() for p in sorted(folder(args.parity).rglob("*.py")))[:200_000]
    manifest = export(args.checkpoint, args.tokenizer, args.out, extra, args.keep_fp32, parity_text, block_size=block)
    print(f"wrote {args.out} ({manifest['files']['model']['bytes'] / 1e6:.1f} MB int8)")
    if "parity" in manifest:
        print(json.dumps(manifest["parity"], indent=2))
    return 0


def steps(out: Path, threads: int) -> list[list[str]]:
    """The stages `nib reproduce` runs, as `nib` arguments, with the bundled model's settings."""
    s = SHIPPED
    return [
        ["corpus"],
        ["tokenizer"],
        ["encode"],
        [
            "train",
            "--out",
            "runs/plain",
            "--threads",
            str(threads),
            "--budget-tokens",
            str(s["budget_tokens"]),
            "--layers",
            str(s["layers"]),
            "--width",
            str(s["width"]),
            "--block-size",
            str(s["block_size"]),
            "--batch-size",
            str(s["batch_size"]),
            "--seed",
            str(s["seed"]),
        ]
        + (["--plain"] if s["plain"] else []),
        ["export", "runs/plain/ckpt.pt", "--out", str(out), "--parity", "dev", "--int8-block", str(s["int8_block"])],
    ]


def stage(argv: list[str]) -> int:
    """Run one stage as `nib ARGV` would, through this module's commands."""
    parser = argparse.ArgumentParser(prog="nib")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.run(args) or 0


def reproduce(args) -> int:
    """corpus -> (hash checked) -> tokenizer -> encode -> train -> export, as the bundled model was made."""
    from nib.model.runtime import artifacts

    shipped = artifacts.load().manifest
    for step in steps(args.out, args.threads):
        print(f"== nib {' '.join(step)}", flush=True)
        if stage(step):
            return 1
        if step == ["corpus"]:
            built = json.loads((DATA / "corpus" / "corpus.json").read_text())["sha256"]
            if built != shipped["corpus"]["sha256"]:
                print(
                    f"nib: the corpus hashes to {built}, the bundled model's manifest says "
                    f"{shipped['corpus']['sha256']} (another Python's stdlib, or a changed manifest)",
                    file=sys.stderr,
                )
                return 1
    made = json.loads((args.out / artifacts.MANIFEST_FILE).read_text())["files"]
    for name in ("tokenizer", "model"):
        same = made[name]["sha256"] == shipped["files"][name]["sha256"]
        print(f"{name}: {'identical to' if same else 'differs from'} the bundled model's")
    return 0
