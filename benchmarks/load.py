"""N editors at once on one `nib serve --tcp`: per-request latency, throughput, and no edit lost or crossed.

Each simulated editor is an LSP session of its own over TCP that replays its own random
points of real files keystroke by keystroke, as `latency.py` does (a didChange per
keystroke, ghost text on every keystroke, the list where an editor asks), all editors at
once. Each session has settings of its own (a different `list.size`). After each point
the server's copy of the document (`nib/_document`, a test-only request) must equal what
that editor sent: an edit lost, or applied to another session's document, shows there. With
an engine (`--engine`), the statement comes from it; `--mixed` gives every other editor the
local model instead, and each session must find its own (`nib/_engine`).

    python benchmarks/load.py --editors 1 4 16 --json benchmarks/results/load.json
    python benchmarks/load.py --engine llama --json benchmarks/results/load_engine.json   # the statement
        from llama.cpp's server (Gemma 3 270M), started here; or --engine URL for one running elsewhere

Exit status 1 when any document differs. The default files are the test split's first eight.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from latency import Edit, new_times, point_edits, start, stats, stop, type_edit, write_report
from lsprotocol import types

from nib.model.eval.heldout import fetch
from nib.model.pretrained.llama_server import free_port, llama_server


def wait_listening(port: int, server: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nib serve --tcp did not listen on port {port} (exit status {server.poll()})")


def connect(port: int, token: Path) -> list[str]:
    """What an editor starts to reach the daemon: `nib connect`, which presents its token."""
    return [sys.executable, "-I", "-m", "nib.server.cli", "connect", f"127.0.0.1:{port}", "--token-file", str(token)]


async def editor(
    port: int, token: Path, n: int, edits: list[Edit], every_key: bool, settings: dict
) -> tuple[dict, list[str]]:
    """One session replaying its edits: (latencies, what the server got wrong: the URIs whose
    document differs, and "editorN settings" if its statement came from another's engine)."""
    client = await start(connect(port, token), {"list": {"size": 3 + n % 3}, **settings})
    times, wrong = new_times(), []
    for edit in edits:
        uri = f"file:///load/editor{n}/{edit.name}"
        text = await type_edit(client, uri, edit, times, inline=True, every_key=every_key)
        held = await client.protocol.send_request_async("nib/_document", {"uri": uri})
        if held is None or held.text != text:
            wrong.append(uri)
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    uses_engine = await client.protocol.send_request_async("nib/_engine", {}) is not None
    if uses_engine != (settings.get("engine", {}).get("api") == "openai"):
        wrong.append(f"editor{n} settings")
    await stop(client)
    return times, wrong


async def engine_stats(client) -> dict:
    """What the daemon's engine over HTTP has done so far (nib/_engine), once the session has it."""
    for _ in range(100):
        stats = await client.protocol.send_request_async("nib/_engine", {})
        if stats is not None:
            return {k: getattr(stats, k) for k in ("requests", "answered", "cancelled", "failed", "skipped")}
        await asyncio.sleep(0.1)
    raise SystemExit("the daemon's session never had the engine")


async def run(
    port: int,
    token: Path,
    editors: int,
    files: list[Path],
    points: int,
    keys: int,
    seed: int,
    every_key: bool,
    settings: dict,
    mixed: bool = False,
) -> dict:
    """editors sessions at once, editor n replaying points of its own seed over the files
    (mixed: the odd ones with the local model, the even ones with the engine in settings)."""
    plans = [point_edits(files, points, keys, random.Random(seed * 1000 + n)) for n in range(editors)]
    # a session of its own holds the engine's host through the run, so its counts are the run's
    probe = await start(connect(port, token), settings) if settings else None
    before = await engine_stats(probe) if probe else None
    started = time.perf_counter()
    own = [{"engine": {"api": "local"}} if mixed and n % 2 else settings for n in range(editors)]
    results = await asyncio.gather(*(editor(port, token, n, plan, every_key, own[n]) for n, plan in enumerate(plans)))
    seconds = time.perf_counter() - started
    engine = None
    if probe is not None:  # the statements the engine answered; the rest came from the local model
        after = await engine_stats(probe)
        engine = {k: after[k] - before[k] for k in after}
        await stop(probe)
    lists = [x for times, _ in results for x in times["list_first"] + times["list"]]
    statements = [x for times, _ in results for x in times["statement"]]
    wrong = [uri for _, w in results for uri in w]
    return {
        "editors": editors,
        "seconds": round(seconds, 2),
        "list": stats(lists),
        "statement": stats(statements),
        "requests_per_s": round((len(lists) + len(statements)) / seconds, 1),
        "documents_checked": sum(len(plan) for plan in plans),
        "documents_wrong": wrong,
        **({"engine_requests": engine} if engine is not None else {}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: the first eight files of the test split")
    parser.add_argument("--editors", type=int, nargs="+", default=[1, 4, 16], help="editors at once, one run each")
    parser.add_argument("--points", type=int, default=1, help="random points per file and editor")
    parser.add_argument("--keys", type=int, default=25, help="keystrokes typed at each point")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every-key", action="store_true", help="the list on every keystroke")
    parser.add_argument(
        "--engine",
        metavar="URL|llama",
        help="the statement from this OpenAI-compatible engine "
        "(engine.url); llama: start llama.cpp's server with Gemma 3 270M here (llama_server.py)",
    )
    parser.add_argument("--mixed", action="store_true", help="with --engine: every other editor local")
    parser.add_argument("--engine-timeout-ms", type=int, help="engine.timeoutMs (default: the setting's default)")
    parser.add_argument("--engine-threads", type=int, default=2, help="the started llama.cpp server's threads")
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    files = args.files or sorted(fetch("test").rglob("*.py"))[:8]

    with ExitStack() as stack:
        url = stack.enter_context(llama_server(args.engine_threads)) if args.engine == "llama" else args.engine
        timeout = {"timeoutMs": args.engine_timeout_ms} if args.engine_timeout_ms else {}
        settings = {"engine": {"api": "openai", "url": url, **timeout}} if url else {}
        port = free_port()
        log = stack.enter_context(tempfile.TemporaryFile())  # a file: the server never blocks on a full pipe
        token = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "daemon" / "token"
        serve = [sys.executable, "-I", "-m", "nib.server.cli", "serve", "--tcp", f"127.0.0.1:{port}"]
        server = subprocess.Popen(
            [*serve, "--token-file", str(token), "--test-requests", "--log-level", "warning"],
            stderr=log,
        )
        try:
            wait_listening(port, server)
            runs = [
                asyncio.run(
                    run(port, token, n, files, args.points, args.keys, args.seed, args.every_key, settings, args.mixed)
                )
                for n in args.editors
            ]
        finally:
            server.kill()
            server.wait()
    report = {
        "command": "python benchmarks/load.py " + " ".join(sys.argv[1:]),
        "engine": args.engine or "local",
        "NIB_MODEL": os.environ.get("NIB_MODEL", ""),  # the daemon's default model, which the command omits
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "files": [str(f) for f in files],
        "runs": runs,
    }
    print(
        f"{'editors':>7} {'request':10} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} "
        f"{'documents wrong':>16}"
    )
    for r in runs:
        for kind in ("list", "statement"):
            s = r[kind]
            print(
                f"{r['editors']:>7} {kind:10} {s['n']:>6} {s['p50']:>8} {s['p95']:>8} {s['p99']:>8} "
                f"{r['requests_per_s']:>7} {len(r['documents_wrong']):>6} of {r['documents_checked']}"
            )
        if "engine_requests" in r:
            print(f"{'':>7} engine requests: {r['engine_requests']}")
    write_report(args.json_out, report)
    return 1 if any(r["documents_wrong"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
