"""N editors at once on one `nib serve --tcp`: per-request latency, throughput, and no edit lost or crossed.

Each simulated editor is an LSP session of its own over TCP that replays its own random
points of real files keystroke by keystroke, as `latency.py` does (a didChange per
keystroke, ghost text on every keystroke, the list where an editor asks), all editors at
once. Each session has settings of its own (a different `list.size`). After each point
the server's copy of the document (`nib/_document`, a test-only request) must equal what
that editor sent: an edit lost, or applied to another session's document, shows there.

    python benchmarks/load.py --editors 1 4 16 --json benchmarks/results/load.json

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
from pathlib import Path

from lsprotocol import types

from latency import Edit, new_times, point_edits, start, stats, stop, type_edit, write_report
from nib.model.eval.heldout import fetch


def wait_listening(port: int, server: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nib serve --tcp did not listen on port {port} (exit status {server.poll()})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def editor(port: int, n: int, edits: list[Edit], every_key: bool) -> tuple[dict, list[str]]:
    """One session replaying its edits: (latencies, the URIs whose document the server got wrong)."""
    client = await start([], {"list": {"size": 3 + n % 3}}, tcp_port=port)
    times, wrong = new_times(), []
    for edit in edits:
        uri = f"file:///load/editor{n}/{edit.name}"
        text = await type_edit(client, uri, edit, times, inline=True, every_key=every_key)
        held = await client.protocol.send_request_async("nib/_document", {"uri": uri})
        if held is None or held.text != text:
            wrong.append(uri)
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await stop(client)
    return times, wrong


async def run(port: int, editors: int, files: list[Path], points: int, keys: int, seed: int,
              every_key: bool) -> dict:
    """editors sessions at once, editor n replaying points of its own seed over the files."""
    plans = [point_edits(files, points, keys, random.Random(seed * 1000 + n)) for n in range(editors)]
    started = time.perf_counter()
    results = await asyncio.gather(*(editor(port, n, plan, every_key) for n, plan in enumerate(plans)))
    seconds = time.perf_counter() - started
    lists = [x for times, _ in results for x in times["list_first"] + times["list"]]
    statements = [x for times, _ in results for x in times["statement"]]
    wrong = [uri for _, w in results for uri in w]
    return {"editors": editors, "seconds": round(seconds, 2), "list": stats(lists), "statement": stats(statements),
            "requests_per_s": round((len(lists) + len(statements)) / seconds, 1),
            "documents_checked": sum(len(plan) for plan in plans), "documents_wrong": wrong}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: the first eight files of the test split")
    parser.add_argument("--editors", type=int, nargs="+", default=[1, 4, 16], help="editors at once, one run each")
    parser.add_argument("--points", type=int, default=1, help="random points per file and editor")
    parser.add_argument("--keys", type=int, default=25, help="keystrokes typed at each point")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every-key", action="store_true", help="the list on every keystroke")
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    files = args.files or sorted(fetch("test").rglob("*.py"))[:8]

    port = free_port()
    with tempfile.TemporaryFile() as log:  # the server's log: a file, so that it never blocks on a full pipe
        server = subprocess.Popen([sys.executable, "-m", "nib.server.cli", "serve", "--tcp", f"127.0.0.1:{port}",
                                   "--test-requests", "--log-level", "warning"], stderr=log)
        try:
            wait_listening(port, server)
            runs = [asyncio.run(run(port, n, files, args.points, args.keys, args.seed, args.every_key))
                    for n in args.editors]
        finally:
            server.kill()
            server.wait()
    report = {"command": "python benchmarks/load.py " + " ".join(sys.argv[1:]),
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
              "files": [str(f) for f in files], "runs": runs}
    print(f"{'editors':>7} {'request':10} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} "
          f"{'documents wrong':>16}")
    for r in runs:
        for kind in ("list", "statement"):
            s = r[kind]
            print(f"{r['editors']:>7} {kind:10} {s['n']:>6} {s['p50']:>8} {s['p95']:>8} {s['p99']:>8} "
                  f"{r['requests_per_s']:>7} {len(r['documents_wrong']):>6} of {r['documents_checked']}")
    write_report(args.json_out, report)
    return 1 if any(r["documents_wrong"] for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
