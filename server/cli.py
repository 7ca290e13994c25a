"""The `nib` command: the server, one-off completions, and the model pipeline.

Pipeline stages (each resumable or cheap to rerun):
    nib corpus -> nib tokenizer -> nib encode -> nib train -> nib export -> nib eval
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__

DATA = Path("data")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nib", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"nib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the language server (stdio by default)")
    p.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP so several editors share one model")
    p.add_argument("--model", type=Path, help="model directory (default: the bundled model)")
    p.add_argument("--log-level", default=None)
    p.add_argument("--stdio", action="store_true", help="accepted for clients that pass it: stdio is the default")
    p.add_argument("--test-requests", action="store_true",
                   help="also answer nib/_document and nib/_memory (the test suite reads the server's state)")

    p = sub.add_parser("info", help="nib's version and the model it would load (editors' health checks use it)")
    p.add_argument("--model", type=Path, help="model directory (default: the bundled model)")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("complete", help="one completion without an editor")
    p.add_argument("file", type=Path)
    p.add_argument("--line", type=int, required=True, help="0-based line")
    p.add_argument("--column", type=int, required=True, help="0-based column, in characters")
    p.add_argument("--mode", choices=("list", "statement"), default="list")
    p.add_argument("--json", action="store_true")
    p.add_argument("--model", type=Path)
    p.add_argument("--healing", choices=("off", "prefix", "exact"), default="exact")
    p.add_argument("--no-static", action="store_true", help="the model's own items only, without jedi's names")

    p = sub.add_parser("corpus", help="collect the training corpus from its manifest")
    p.add_argument("--manifest", type=Path, default=None)
    p.add_argument("--out", type=Path, default=DATA / "corpus")

    p = sub.add_parser("tokenizer", help="train the byte-level BPE")
    p.add_argument("--corpus", type=Path, default=DATA / "corpus")
    p.add_argument("--vocab", type=int, default=8192)
    p.add_argument("--out", type=Path, default=DATA / "tokenizer.json")
    p.add_argument("--measure", metavar="DIR", type=Path, help="also print tokens/byte on DIR for 4k/8k/16k")

    p = sub.add_parser("encode", help="encode the corpus into token and type streams")
    p.add_argument("--corpus", type=Path, default=DATA / "corpus")
    p.add_argument("--tokenizer", type=Path, default=DATA / "tokenizer.json")
    p.add_argument("--out", type=Path, default=DATA / "encoded")

    p = sub.add_parser("train", help="train (resumes from OUT/ckpt.pt)")
    p.add_argument("--data", type=Path, default=DATA / "encoded")
    p.add_argument("--out", type=Path, default=Path("runs/typed"))
    p.add_argument("--plain", action="store_true", help="no type stream (the ablation)")
    p.add_argument("--budget-tokens", type=int, default=8 * 512 * 2441, help="default: 10.0M tokens")
    p.add_argument("--budget-seconds", type=float, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--layers", type=int, default=6)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--block-size", type=int, default=512)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seed", type=int, default=1337)

    p = sub.add_parser("export", help="export a checkpoint to an int8 ONNX model directory")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--tokenizer", type=Path, default=DATA / "tokenizer.json")
    p.add_argument("--corpus", type=Path, default=DATA / "corpus")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--keep-fp32", action="store_true", help="also write model.fp32.onnx")
    p.add_argument("--parity", type=Path, metavar="DIR", help="check parity on the .py files in DIR")

    p = sub.add_parser("reproduce", help="every stage in order, with the defaults the bundled model used")
    p.add_argument("--out", type=Path, default=Path("model/weights"))
    p.add_argument("--threads", type=int, default=0)

    p = sub.add_parser("eval", help="measure completion quality on a folder of .py files")
    p.add_argument("dir", type=Path)
    p.add_argument("--model", type=Path, action="append", help="model directory (repeatable)")
    p.add_argument("--trigram", type=Path, metavar="CORPUS", help="also evaluate a trigram baseline trained on CORPUS")
    p.add_argument("--json", type=Path, dest="json_out")
    p.add_argument("--points", type=int, default=300, help="completion points per metric")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--no-healing", action="store_true", help="skip the mid-token healing table")
    p.add_argument("--healing-only", action="store_true", help="only the mid-token healing table")
    p.add_argument("--ranking", action="store_true",
                   help="only the completion list's ranking: jedi, model, cache and combined (weights tuned on dev points)")
    p.add_argument("--static-ms", type=int, default=200, help="jedi's time budget in the combined ranking")
    p.add_argument("--typed", type=int, nargs="+", default=[0, 1],
                   help="characters of the name typed before the list is asked for (each measured)")

    args = parser.parse_args(argv)
    return COMMANDS[args.command](args) or 0


def cmd_serve(args) -> int:
    from .app import serve

    return serve(args.model, args.tcp, args.log_level, args.test_requests)


def cmd_complete(args) -> int:
    from nib.model.engine import Engine, Options
    from nib.model.errors import ModelError

    try:
        text = args.file.read_bytes().decode("utf-8", "replace")
        engine = Engine.load(args.model)
    except (OSError, ModelError) as e:
        print(f"nib: {e}", file=sys.stderr)
        return 2
    lines = text.split("\n")
    if not 0 <= args.line < len(lines) or not 0 <= args.column <= len(lines[args.line]):
        print(f"nib: {args.file} has no line {args.line} column {args.column}", file=sys.stderr)
        return 2
    cursor = sum(len(line) + 1 for line in lines[: args.line]) + args.column
    options = Options(healing=args.healing)
    if args.mode == "list":
        from nib.model.listing import ListRanker
        from nib.model.static import StaticCompleter

        static = StaticCompleter(budget_ms=10_000)  # one request: wait for jedi rather than race it
        try:
            result = ListRanker(static).complete(engine, text, cursor, options, key=str(args.file),
                                                 path=str(args.file.resolve()), use_static=not args.no_static)
        finally:
            static.close()
    else:
        result = engine.complete(text, cursor, args.mode, options)
    if args.json:
        print(json.dumps({
            "candidates": [{"kind": c.kind, "label": c.label, "text": c.text, "replace_from": c.start,
                            "cursor": cursor, "score": round(c.score, 4)} for c in result.candidates],
            "timings_ms": {k: round(v, 2) for k, v in result.timings.items()},
        }, indent=2))
        return 0
    for c in result.candidates:
        typed = text[c.start:cursor]
        print(f"{c.kind:9} {c.score:8.3f}  {typed!r} -> {c.text!r}")
    return 0


def cmd_info(args) -> int:
    from nib.model import artifacts
    from nib.model.errors import ModelError

    info = {"version": __version__, "python": sys.executable}
    try:
        model = artifacts.load(args.model)
        arch = model.manifest["architecture"]
        info.update(model=str(model.path), ok=True, format_version=model.manifest["format_version"],
                    parameters=arch["params"], vocabulary=arch["vocab_size"], context=arch["block_size"],
                    model_bytes=model.manifest["files"]["model"]["bytes"])
    except ModelError as e:
        info.update(model=str(args.model or artifacts.DEFAULT_DIR), ok=False, error=str(e))
    if args.json:
        print(json.dumps(info))
    else:
        for key, value in info.items():
            print(f"{key}: {value}")
    return 0 if info["ok"] else 2


def cmd_corpus(args) -> int:
    from nib.model import corpus

    info = corpus.build(args.out, args.manifest or corpus.DEFAULT_MANIFEST)
    print(json.dumps({k: v for k, v in info.items() if k != "manifest"}, indent=2))
    return 0


def cmd_tokenizer(args) -> int:
    from nib.model import corpus, tokenizer

    files = corpus.load(args.corpus)
    sizes = [4096, 8192, 16384] if args.measure else [args.vocab]
    if args.measure:
        held = [p.read_text() for p in sorted(args.measure.rglob("*.py"))]
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


def cmd_encode(args) -> int:
    from nib.model import dataset
    from nib.model.tokenizer import BPE

    print(json.dumps(dataset.encode(args.corpus, BPE.load(args.tokenizer), args.out)))
    return 0


def cmd_train(args) -> int:
    from nib.model.lexer import TYPES
    from nib.model.network import Config
    from nib.model.train import TrainConfig, train

    encoded = json.loads((args.data / "encoded.json").read_text())
    cfg = TrainConfig(
        data=str(args.data), out=str(args.out),
        model=Config(vocab_size=encoded.get("vocab_size", 8192), n_types=len(TYPES), type_stream=not args.plain, n_layer=args.layers, d_model=args.width,
                     d_ff=args.width * 11 // 4 // 64 * 64, block_size=args.block_size),
        batch_size=args.batch_size, seed=args.seed,
        budget_tokens=0 if args.budget_seconds else args.budget_tokens,
        budget_seconds=args.budget_seconds or 3600.0, threads=args.threads, device=args.device,
    )
    train(cfg)
    return 0


def cmd_export(args) -> int:
    from nib.model.export import export

    extra = {}
    corpus_info = args.corpus / "corpus.json"
    if corpus_info.exists():
        extra["corpus"] = json.loads(corpus_info.read_text())
    summary = args.checkpoint.parent / "summary.json"
    if summary.exists():
        s = json.loads(summary.read_text())
        extra["training"] = {k: s[k] for k in ("steps", "tokens", "seconds", "val_loss", "device")}
    parity_text = None
    if args.parity:
        parity_text = "\n".join(p.read_text() for p in sorted(args.parity.rglob("*.py")))[:200_000]
    manifest = export(args.checkpoint, args.tokenizer, args.out, extra, args.keep_fp32, parity_text)
    print(f"wrote {args.out} ({manifest['files']['model']['bytes'] / 1e6:.1f} MB int8)")
    if "parity" in manifest:
        print(json.dumps(manifest["parity"], indent=2))
    return 0


def cmd_eval(args) -> int:
    from nib.model import evaluate

    if args.ranking:
        from nib.model import evaluate_ranking
        from nib.model.engine import Engine

        engine = Engine.load((args.model or [None])[0], threads=args.threads)
        report = evaluate_ranking.run(engine, args.dir, args.points, args.seed, args.static_ms, tuple(args.typed))
        print(evaluate_ranking.table(report))
        if args.json_out:
            args.json_out.parent.mkdir(parents=True, exist_ok=True)
            args.json_out.write_text(json.dumps(report, indent=2) + "\n")
        return 0
    report = evaluate.run(args.dir, args.model or [None], args.trigram, args.points, args.seed, args.threads,
                          healing=not args.no_healing, healing_only=args.healing_only)
    print(evaluate.table(report))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def cmd_reproduce(args) -> int:
    """corpus -> tokenizer -> encode -> train -> export; training resumes if interrupted."""
    steps = [["corpus"], ["tokenizer"], ["encode"],
             # the shipped model is the plain one: at equal budget it completed lines better (README)
             ["train", "--plain", "--out", "runs/plain", "--threads", str(args.threads)],
             ["export", "runs/plain/ckpt.pt", "--out", str(args.out), "--parity", "benchmarks/heldout"]]
    for step in steps:
        print(f"== nib {' '.join(step)}", flush=True)
        if main(step):
            return 1
    return 0


COMMANDS = {
    "serve": cmd_serve, "complete": cmd_complete, "corpus": cmd_corpus, "tokenizer": cmd_tokenizer,
    "encode": cmd_encode, "train": cmd_train, "export": cmd_export, "eval": cmd_eval,
    "reproduce": cmd_reproduce, "info": cmd_info,
}

if __name__ == "__main__":
    sys.exit(main())
