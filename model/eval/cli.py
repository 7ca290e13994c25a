"""`nib eval` (quality and the list's ranking on a held-out split) and `nib heldout` (fetch a split)."""

from __future__ import annotations

import json
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("heldout", help="fetch a held-out split (pinned wheels, SHA-256 checked); print its folder")
    p.add_argument("split", choices=("dev", "test", "fresh", "fresh-dev"))
    p.set_defaults(run=heldout)

    p = sub.add_parser("eval", help="measure completion quality on a held-out split (or a folder of .py files)")
    p.add_argument("dir", help="test (reported figures), dev (what is tuned), or a folder")
    p.add_argument("--model", type=Path, action="append", help="model directory (repeatable)")
    p.add_argument(
        "--engine",
        metavar="URL",
        help="also evaluate the statement from an OpenAI-compatible engine (e.g. http://127.0.0.1:8080/v1): lines only",
    )
    p.add_argument("--engine-model", default="", help="the model name sent to the engine")
    p.add_argument("--engine-healing", default="grammar", choices=("grammar", "regex", "off"))
    p.add_argument("--trigram", type=Path, metavar="CORPUS", help="also evaluate a trigram baseline trained on CORPUS")
    fill_in_the_middle(p)
    p.add_argument("--json", type=Path, dest="json_out")
    p.add_argument("--points", type=int, default=300, help="completion points per metric")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument(
        "--device",
        default="cpu",
        choices=("cpu", "auto", "cuda"),
        help="model.device for the local models (cpu: int8 ONNX; auto, cuda: torch, fp32 from the imported weights)",
    )
    p.add_argument("--no-healing", action="store_true", help="skip the mid-token healing table")
    p.add_argument("--healing-only", action="store_true", help="only the mid-token healing table")
    p.add_argument("--context-tokens", type=int, help="the prompt's token budget (default: the model's own)")
    p.add_argument(
        "--name-lines-only",
        action="store_true",
        help="only the rest of the line at identifier starts, with the minConfidence curve",
    )
    p.add_argument(
        "--ranking",
        action="store_true",
        help="only the completion list's ranking: jedi, model, identifiers and combined "
        "(weights tuned on the dev split)",
    )
    repository(p)
    p.add_argument("--jedi-ms", type=int, default=200, help="jedi's time budget in the combined ranking")
    p.add_argument(
        "--name-jedi-ms",
        type=int,
        help="jedi's budget at a name, not after `.` or in an import "
        "(as the server's jedi.nameBudgetMs; default: --jedi-ms)",
    )
    p.add_argument(
        "--typed",
        type=int,
        nargs="+",
        default=[0, 1],
        help="characters of the name typed before the list is asked for (each measured)",
    )
    writers(p)
    p.set_defaults(run=evaluate)


def writers(p) -> None:
    """The flags that write a measurement into what ships (nothing figured by hand)."""
    p.add_argument(
        "--write-weights",
        action="store_true",
        help="with --ranking: ship the weights tuned on the dev split (model/listing/weights.json)",
    )
    p.add_argument(
        "--write-choice",
        action="store_true",
        help="on the dev split with --name-lines-only: rank the models for the default (model/runtime/choice.json)",
    )
    p.add_argument(
        "--write-manifest",
        action="store_true",
        help="write each --model's figures on the test split into its manifest's evaluation block",
    )


def repository(p) -> None:
    p.add_argument(
        "--repo",
        action="store_true",
        help="only the rest of the line at identifier starts, each package a workspace, with and without "
        "project context (--project-tokens), overall and where the line uses a name of another module",
    )
    p.add_argument(
        "--project-tokens",
        type=int,
        nargs="+",
        default=[0, 256],
        help="with --repo: the project context budgets measured (0: without)",
    )
    p.add_argument(
        "--similar",
        nargs="+",
        choices=("off", "on"),
        default=["on"],
        help="with --repo: without and with the window of a sibling file like the cursor's lines (default: on)",
    )
    p.add_argument(
        "--project-layout",
        action="append",
        choices=("repo", "comments"),
        help="with --repo: how the prompt shows the context (repeatable; default: repo, the model's own "
        "repository format where it has one, else comments)",
    )


def fill_in_the_middle(p) -> None:
    p.add_argument(
        "--fim",
        action="append",
        choices=("off", "psm", "spm", "line"),  # prompt.LAYOUTS, not imported here: the CLI starts fast
        help="evaluate each --model with this fill-in-the-middle layout (repeatable; default: the model's own)",
    )
    p.add_argument(
        "--after",
        action="store_true",
        help="statements see the code after the cut's line (cuts inside existing code), not only the text before",
    )
    p.add_argument(
        "--statement-healing",
        default="exact",
        choices=("exact", "prefix", "off"),
        help="the statements' healing of a cut that splits a token (default: exact, as the server)",
    )


def heldout(args) -> int:
    from nib.model.eval.heldout import fetch

    print(fetch(args.split))
    return 0


def evaluate(args) -> int:
    from nib.model.eval.heldout import folder

    if args.write_choice and (
        args.dir != "dev" or not args.name_lines_only or args.fim or args.engine or args.trigram or not args.model
    ):
        raise SystemExit(
            "nib: the default is chosen on the dev split among imported models: "
            "nib eval dev --model NAME ... --name-lines-only --write-choice (no --fim, --engine or --trigram)"
        )
    target = folder(args.dir)
    if args.repo:
        from nib.model.eval import repo

        report = repo.run(
            target,
            args.model or [None],
            args.points,
            args.seed,
            args.threads,
            args.project_tokens,
            args.project_layout or ("repo",),
            tuple(s == "on" for s in args.similar),
        )
        text = repo.table(report)
    elif args.ranking:
        report, text = _ranking(args, target)
    else:
        report, text = _quality(args, target)
    report["command"] = "nib " + " ".join(args.argv)
    print(text)
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    if args.write_weights and args.ranking:
        from nib.model.listing.mixing import WEIGHTS_FILE, save_weights

        save_weights(report["weights"], {"command": report["command"], "dev_mrr5": report["dev_mrr5"]})
        print(f"wrote {WEIGHTS_FILE}")
    if args.write_choice:
        print(f"wrote {write_choice(report)}")
    if args.write_manifest and not (args.ranking or args.repo):
        if args.dir != "test":
            raise SystemExit("nib: a manifest's evaluation block is measured on the test split (nib eval test)")
        for model, result in zip(args.model or [None], report["results"], strict=False):
            print(f"wrote {write_evaluation(model, report, result)}")
    return 0


def _ranking(args, target: Path) -> tuple[dict, str]:
    from nib.model.eval import ranking
    from nib.model.eval.heldout import folder
    from nib.model.eval.predictors import ModelPredictor

    model = ModelPredictor((args.model or [None])[0], threads=args.threads)  # loaded as the server loads it
    try:
        report = ranking.run(
            model.engine,
            folder("dev"),
            target,
            args.points,
            args.seed,
            args.jedi_ms,
            tuple(args.typed),
            args.name_jedi_ms,
        )
    finally:
        model.close()
    text = ranking.table(report)  # from the whole report: compact cuts what each point keeps
    return ranking.compact(report), text


def _quality(args, target: Path) -> tuple[dict, str]:
    from nib.model.eval import quality

    engines = [(args.engine, args.engine_model, args.engine_healing)] if args.engine else []
    models = args.model or ([] if engines else [None])
    report = quality.run(
        target,
        models,
        args.trigram,
        args.points,
        args.seed,
        args.threads,
        healing=not args.no_healing,
        healing_only=args.healing_only,
        name_lines_only=args.name_lines_only,
        context_tokens=args.context_tokens,
        engines=engines,
        fims=args.fim or (None,),
        after=args.after,
        statement_healing=args.statement_healing,
        device=args.device,
    )
    return report, quality.table(report)


def write_choice(report: dict) -> Path:
    """The models from best to worst by the rest of the line at identifier starts on the dev split."""
    from nib.model.runtime.choice import CHOICE_FILE

    results = sorted(report["results"], key=lambda r: -r["name_line_exact_match"])
    choice = {
        "command": report["command"],
        "split": "dev",
        "points": report["points"],
        "order": [Path(r["name"]).name for r in results],
        "name_line_exact_match": {Path(r["name"]).name: r["name_line_exact_match"] for r in results},
    }
    CHOICE_FILE.write_text(json.dumps(choice, indent=2) + "\n")
    return CHOICE_FILE


def write_evaluation(model: Path | None, report: dict, result: dict) -> Path:
    """The evaluation block of a model's manifest, from a `nib eval test` report."""
    from nib.model.eval.heldout import packages
    from nib.model.runtime import artifacts

    path = artifacts.resolve(model)[0] / artifacts.MANIFEST_FILE
    manifest = json.loads(path.read_text())
    manifest["evaluation"] = {
        "command": report["command"],
        "split": "test",
        "heldout": [f"{p['name']}=={p['version']}" for p in packages("test")],
        "seed": report["seed"],
        "points": report["points"],
        **{k: v for k, v in result.items() if k not in ("name", "seconds")},
    }
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path
