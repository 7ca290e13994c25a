"""The `nib` command: the server, one-off completions, settings, and (from model/) the model pipeline."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__


def main(argv: list[str] | None = None) -> int:
    from nib.model.eval import cli as eval_cli
    from nib.model.pretrained import cli as pretrained_cli
    from nib.model.train import cli as train_cli

    parser = argparse.ArgumentParser(prog="nib", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"nib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    add_serve(sub)

    p = sub.add_parser("connect", help="bridge an editor's stdio to a `nib serve --tcp` daemon (presents its token)")
    p.add_argument("address", metavar="HOST:PORT")
    p.add_argument("--token-file", type=Path, help="the daemon's token (default: $NIB_HOME/daemon/token)")
    p.set_defaults(run=connect)

    p = sub.add_parser("info", help="nib's version and the model it would load (editors' health checks use it)")
    p.add_argument("--model", type=Path, help="model directory or imported name (default: the bundled model)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=info)

    p = sub.add_parser("complete", help="one completion without an editor")
    p.add_argument("file", type=Path)
    p.add_argument("--line", type=int, required=True, help="0-based line")
    p.add_argument("--column", type=int, required=True, help="0-based column, in characters")
    p.add_argument("--mode", choices=("list", "statement"), default="list")
    p.add_argument("--json", action="store_true")
    p.add_argument("--model", type=Path)
    p.add_argument("--healing", choices=("off", "prefix", "exact"), default="exact")
    p.add_argument("--no-jedi", action="store_true", help="the model's own items only, without jedi's names")
    p.set_defaults(run=complete)

    p = sub.add_parser("settings", help="the editors' settings mirrors, generated from the server's settings")
    p.add_argument("--write", action="store_true", help="regenerate the stale ones")
    p.add_argument("--check", action="store_true", help="exit 1 if one is stale")
    p.set_defaults(run=settings)

    p = sub.add_parser("stats", help="how often completions were shown and accepted (counts kept on this machine)")
    p.add_argument("--plot", type=Path, metavar="FILE.png", help="also plot them per day (needs nib[plot])")
    p.add_argument("--json", action="store_true", help="the rows as JSON")
    p.add_argument("--forget", action="store_true", help="delete them")
    p.set_defaults(run=stats)

    train_cli.register(sub)
    eval_cli.register(sub)
    pretrained_cli.register(sub)
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    return args.run(args) or 0


def add_serve(sub) -> None:
    p = sub.add_parser("serve", help="run the language server (stdio by default)")
    p.add_argument(
        "--tcp",
        metavar="HOST:PORT",
        help="a shared daemon: listen on TCP so several editors share the loaded models; clients "
        "present the token in --token-file (`nib connect` does)",
    )
    p.add_argument(
        "--token-file", type=Path, help="the daemon's token (default: $NIB_HOME/daemon/token, created 0600 if missing)"
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="let --tcp bind an address other machines reach (clients still need the token)",
    )
    p.add_argument(
        "--engine-url",
        default="",
        help="the daemon's inference engine for every session's "
        "statement (engine.api openai); clients cannot change it",
    )
    p.add_argument("--engine-key-env", default="", help="with --engine-url: the variable holding its API key")
    p.add_argument("--engine-model", default="", help="with --engine-url: the model name sent to it")
    p.add_argument("--model", type=Path, help="model directory (default: the bundled model)")
    p.add_argument(
        "--log-level",
        default=None,
        choices=("debug", "info", "warning", "error"),
        help="the log level of sessions that do not set log.level (default: info)",
    )
    p.add_argument("--stdio", action="store_true", help="accepted for clients that pass it: stdio is the default")
    p.add_argument(
        "--test-requests",
        action="store_true",
        help="also answer nib/_document and nib/_memory (the test suite reads the server's state)",
    )
    p.set_defaults(run=serve)


def serve(args) -> int:
    from .app import Daemon, serve
    from .daemon import DaemonError

    if not args.tcp and (args.engine_url or args.allow_remote or args.token_file):
        print("nib: --engine-url, --allow-remote and --token-file are for a daemon (--tcp)", file=sys.stderr)
        return 2
    daemon = (
        Daemon(args.tcp, args.token_file, args.allow_remote, args.engine_url, args.engine_key_env, args.engine_model)
        if args.tcp
        else None
    )
    try:
        return serve(args.model, daemon, args.log_level, args.test_requests)
    except DaemonError as e:
        print(f"nib: {e}", file=sys.stderr)
        return 2


def connect(args) -> int:
    from .connect import connect

    return connect(args.address, args.token_file)


def complete(args) -> int:
    where = _cursor(args.file, args.line, args.column)
    if where is None:
        return 2
    text, cursor = where
    result = _complete_once(args, text, cursor)
    if result is None:
        return 2
    _print_candidates(result, text, cursor, args.json)
    return 0


def _cursor(file: Path, line: int, column: int) -> tuple[str, int] | None:
    """The file's text and the offset of (line, column) in it; None, with a message, when either is missing."""
    try:
        text = file.read_bytes().decode("utf-8", "replace")
    except OSError as e:
        print(f"nib: {e}", file=sys.stderr)
        return None
    lines = text.split("\n")
    if not 0 <= line < len(lines) or not 0 <= column <= len(lines[line]):
        print(f"nib: {file} has no line {line} column {column}", file=sys.stderr)
        return None
    return text, sum(len(before) + 1 for before in lines[:line]) + column


def _one_request(args):
    """The service's configuration for one request from the command line: jedi waited for."""
    from nib.model.completion.engine import EngineOptions
    from nib.model.completion.request import Options
    from nib.model.runtime.artifacts import default_model
    from nib.model.service.config import Config
    from nib.model.service.hosts import ModelKey

    key = ModelKey(str(args.model) if args.model else default_model(), "cpu", 0)
    wait = 10_000  # one request: wait for jedi rather than race it, and for the whole statement
    return Config(
        statement=key,
        listing=key,
        options=Options(healing=args.healing, statement_budget_ms=wait),
        engine=EngineOptions(),
        jedi=not args.no_jedi,
        jedi_ms=wait,
        name_jedi_ms=wait,
    )


def _complete_once(args, text: str, cursor: int):
    """The completion at cursor, or None when there is none or an error was reported (on stderr)."""
    import asyncio
    import logging

    from nib.model.completion.request import Mode
    from nib.model.listing.jedi import JediCompleter
    from nib.model.service.hosts import Hosts
    from nib.model.service.service import CompletionService

    config = _one_request(args)
    failed = []

    def notify(level, message, shown=None):
        print(shown or message, file=sys.stderr)
        failed.append(level >= logging.ERROR)

    jedi = JediCompleter(budget_ms=config.jedi_ms)
    service = CompletionService(Hosts(), jedi, config, notify, logging.getLogger("nib"))
    try:
        path = str(args.file.resolve())  # asked for: a statement's prompt is prefilled whole
        result = asyncio.run(service.complete(str(args.file), text, cursor, Mode(args.mode), path, invoked=True))
    finally:
        service.close()
        jedi.close()
    return None if any(failed) else result


def _print_candidates(result, text: str, cursor: int, as_json: bool) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "candidates": [
                        {
                            "kind": c.kind,
                            "label": c.label,
                            "text": c.text,
                            "replace_from": c.start,
                            "cursor": cursor,
                            "score": round(c.score, 4),
                        }
                        for c in result.candidates
                    ],
                    "timings": result.timings.as_dict(),
                },
                indent=2,
            )
        )
        return
    for c in result.candidates:
        typed = text[c.start : cursor]
        print(f"{c.kind:9} {c.score:8.3f}  {typed!r} -> {c.text!r}")


def info(args) -> int:
    from nib.model.errors import ModelError
    from nib.model.runtime import artifacts

    out: dict[str, object] = {"version": __version__, "python": sys.executable}
    if not args.model and not os.environ.get("NIB_MODEL"):  # the default: which model serves, and why
        choice = artifacts.default_choice()
        out.update(default=choice.name, why=choice.why)
    try:
        model = artifacts.load(args.model)
        arch = model.manifest["architecture"]
        out.update(
            model=str(model.path),
            ok=True,
            format_version=model.manifest["format_version"],
            parameters=arch["params"],
            vocabulary=arch["vocab_size"],
            context=arch["block_size"],
            model_bytes=model.manifest["files"]["model"]["bytes"],
        )
        if "licence" in model.manifest:  # an imported model: whose weights, on what terms
            out.update(source=model.manifest["source"], licence=model.manifest["licence"])
    except ModelError as e:
        out.update(model=str(artifacts.resolve(args.model)[0]), ok=False, error=str(e))
    if args.json:
        print(json.dumps(out))
    else:
        for key, value in out.items():
            print(f"{key}: {value}")
    return 0 if out["ok"] else 2


def settings(args) -> int:
    from .mirrors import stale

    found = stale(write=args.write)
    for path in found:
        print(f"{'wrote' if args.write else 'stale'}: {path}")
    return 1 if found and args.check else 0


def stats(args) -> int:
    import dataclasses

    from .stats import StatsError, forget, plot, report, stats_path, table

    path = stats_path()
    if args.forget:
        print(f"deleted {path}" if forget(path) else f"nothing to delete: there is no {path}")
        return 0
    try:
        rows = report(path)
        if args.plot:
            plot(rows, args.plot)
    except (OSError, StatsError) as e:
        print(f"nib: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in rows], indent=2))
        return 0
    print(table(rows))
    print(f"\nfile: {path}")
    if args.plot:
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
