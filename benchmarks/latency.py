"""Replay real Python files keystroke by keystroke through `nib serve` over stdio, and
through jedi-language-server on the same replay, and report request latencies.

For each sampled line of each file, the line is emptied and typed again one
character at a time, with the whole file around it, as an editor would send it:
a didChange per keystroke, an inline (statement) request per keystroke, and a
completion (list) request where an editor asks for one (identifier characters
and trigger characters). Latency is from sending a request to its response.

    python benchmarks/latency.py [FILES...] --lines 8 --json benchmarks/results/latency.json

The default files are the first six of the held-out test split (`nib heldout test`).

Needs `pip install jedi-language-server` for the peer (skipped with --no-jedi).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from nib.model.eval.heldout import fetch

TRIGGERS = set(".([,=@")
REQUEST_TIMEOUT_S = 30  # a request that takes longer is a failure, not a data point


def sample_lines(text: str, n: int, rng: random.Random) -> list[int]:
    lines = text.split("\n")
    good = [i for i, line in enumerate(lines) if 12 <= len(line.strip()) <= 80 and not line.strip().startswith("#")]
    return sorted(rng.sample(good, min(n, len(good))))


async def replay(cmd: list[str], files: list[Path], lines_per_file: int, seed: int, inline: bool,
                 options: dict | None = None) -> dict:
    client = LanguageClient("nib-bench", "1")
    await client.start_io(*cmd)
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(
        general=types.GeneralClientCapabilities(position_encodings=["utf-16"])), initialization_options=options))
    client.initialized(types.InitializedParams())
    rng = random.Random(seed)
    times: dict[str, list[float]] = {"list_cold": [], "list": [], "statement": []}
    for n, path in enumerate(files):
        text = path.read_text()
        for line_no in sample_lines(text, lines_per_file, rng):
            lines = text.split("\n")
            target = lines[line_no]
            indent = len(target) - len(target.lstrip())
            lines[line_no] = target[:indent]
            uri = f"file:///bench/{n}_{line_no}_{path.name}"
            client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text="\n".join(lines))))
            first = True
            for col in range(indent, len(target)):
                ch = target[col]
                client.text_document_did_change(types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(uri=uri, version=col + 2),
                    [types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(line_no, col), types.Position(line_no, col)), text=ch)]))
                pos = types.Position(line_no, col + 1)
                doc = types.TextDocumentIdentifier(uri)
                # VS Code asks for ghost text on every keystroke, then for the list where it suggests
                if inline:
                    t0 = time.perf_counter()
                    await asyncio.wait_for(client.text_document_inline_completion_async(types.InlineCompletionParams(
                        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
                        text_document=doc, position=pos)), REQUEST_TIMEOUT_S)
                    times["statement"].append((time.perf_counter() - t0) * 1e3)
                if ch.isalnum() or ch == "_" or ch in TRIGGERS:
                    t0 = time.perf_counter()
                    await asyncio.wait_for(client.text_document_completion_async(types.CompletionParams(doc, pos)),
                                           REQUEST_TIMEOUT_S)
                    times["list_cold" if first else "list"].append((time.perf_counter() - t0) * 1e3)
                    first = False
            client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return times


def stats(xs: list[float]) -> dict:
    if not xs:
        return {"n": 0}
    a = np.array(xs)
    return {"n": len(xs), "p50": round(float(np.percentile(a, 50)), 2), "p95": round(float(np.percentile(a, 95)), 2),
            "p99": round(float(np.percentile(a, 99)), 2), "mean": round(float(a.mean()), 2)}


async def first_completion_after_open(cmd: list[str], files: list[Path], tokens: int = 2000) -> list[float]:
    """Open a file of ~2k tokens and ask for a list at its end: the cold path, five times."""
    source = "\n".join(p.read_text() for p in files)
    text = source[: tokens * 4]  # ~4 characters per token on this code
    out = []
    for i in range(5):
        client = LanguageClient("nib-bench", "1")
        await client.start_io(*cmd)
        await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
        client.initialized(types.InitializedParams())
        uri = f"file:///bench/cold{i}.py"
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=text)))
        last = text.split("\n")
        pos = types.Position(len(last) - 1, len(last[-1]))
        await client.text_document_completion_async(types.CompletionParams(types.TextDocumentIdentifier(uri), pos))
        # the model loads on the first request's path; measure the second document opened
        uri2 = uri + "2"
        client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
            uri=uri2, language_id="python", version=1, text=text[: len(text) - 7 * (i + 1)])))
        last2 = text[: len(text) - 7 * (i + 1)].split("\n")
        t0 = time.perf_counter()
        await client.text_document_completion_async(types.CompletionParams(
            types.TextDocumentIdentifier(uri2), types.Position(len(last2) - 1, len(last2[-1]))))
        out.append((time.perf_counter() - t0) * 1e3)
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: the first six files of the test split")
    parser.add_argument("--lines", type=int, default=4, help="lines replayed per file")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, dest="json_out")
    parser.add_argument("--no-jedi", action="store_true")
    parser.add_argument("--model", type=Path, help="the model directory nib serves (default: the bundled model)")
    args = parser.parse_args()
    args.files = args.files or sorted(fetch("test").rglob("*.py"))[:6]

    nib_cmd = [sys.executable, "-m", "nib.server.cli", "serve", "--log-level", "warning"]
    if args.model:
        nib_cmd += ["--model", str(args.model)]
    report = {"command": "python benchmarks/latency.py " + " ".join(sys.argv[1:]),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version()},
              "files": [str(f) for f in args.files], "lines_per_file": args.lines, "seed": args.seed}
    nib_times = asyncio.run(replay(nib_cmd, args.files, args.lines, args.seed, inline=True))
    report["nib"] = {k: stats(v) for k, v in nib_times.items()}
    cold = asyncio.run(first_completion_after_open(nib_cmd, args.files))
    report["nib"]["first_list_after_open_2k_tokens"] = stats(cold)
    # the list without jedi's names: the model's own items only (setting jedi.enable: false)
    alone = asyncio.run(replay(nib_cmd, args.files, args.lines, args.seed, inline=True,
                               options={"jedi": {"enable": False}}))
    report["nib, model only"] = {k: stats(v) for k, v in alone.items() if k != "list_cold"}
    jedi = shutil.which("jedi-language-server")
    if not args.no_jedi and jedi:
        jedi_times = asyncio.run(replay([jedi], args.files, args.lines, args.seed, inline=False))
        report["jedi-language-server"] = {k: stats(v) for k, v in jedi_times.items() if v}
    elif not args.no_jedi:
        print("jedi-language-server not found: pip install jedi-language-server (or --no-jedi)", file=sys.stderr)
        return 2

    rows = [("nib", k, s) for k, s in report["nib"].items()]
    rows += [("nib, model only", k, s) for k, s in report["nib, model only"].items()]
    rows += [("jedi-language-server", k, s) for k, s in report.get("jedi-language-server", {}).items()]
    print(f"{'server':22} {'request':34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for server, kind, s in rows:
        if s["n"]:
            print(f"{server:22} {kind:34} {s['n']:>5} {s['p50']:>8} {s['p95']:>8} {s['p99']:>8}")
    if "jedi-language-server" in report and report["jedi-language-server"].get("list", {}).get("n"):
        ratio = report["nib"]["list"]["p50"] / report["jedi-language-server"]["list"]["p50"]
        report["ratio_list_p50_nib_over_jedi"] = round(ratio, 3)
        print(f"warm list p50, nib / jedi-language-server: {ratio:.2f}")
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
