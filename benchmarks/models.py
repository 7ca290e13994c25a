"""The bundled model against an imported pretrained one, in the same run, as an editor meets them:
ghost text on every keystroke of the random-point replay (`latency.py`), the first ghost text
after opening a 2k-token file, and the server's resident memory after the replay (and a pause).

    python benchmarks/models.py --models bundled gemma3-270m --seeds 0 1 \
        --json benchmarks/results/pretrained/models.json

Each model is a `nib serve` of its own over stdio (`--test-requests` for its memory), run one
after the other on the same keystrokes; jedi is off (this compares the models' statements).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

from latency import IDLE_S, new_times, point_edits, position, start, stats, stop, type_edit, write_report
from lsprotocol import types

from nib.model.eval.heldout import fetch


async def replay(cmd: list[str], edits, options: dict) -> tuple[dict, dict]:
    """Ghost-text latencies over the edits, and the server's resident memory at the end (rss_mb),
    after a pause (`latency.IDLE_S`) and its peak, in MB."""
    client = await start(cmd, options)
    times = new_times()
    for edit in edits:
        uri = f"file:///bench/{edit.name}"
        await type_edit(client, uri, edit, times, inline=True, every_key=False)
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    at_once = await client.protocol.send_request_async("nib/_memory", {})
    await asyncio.sleep(IDLE_S)
    memory = await client.protocol.send_request_async("nib/_memory", {})
    await stop(client)
    mb = {"rss_mb": at_once.rss_bytes, "rss_after_pause_mb": memory.rss_bytes, "peak_rss_mb": memory.peak_rss_bytes}
    return times, {k: round(v / 1e6) for k, v in mb.items()}


async def cold_statement(cmd: list[str], files: list[Path], options: dict, tokens: int = 2000) -> list[float]:
    """Open a ~2k-token file and ask for ghost text at its end (the model already loaded): five times."""
    text = "\n".join(p.read_text() for p in files)[: tokens * 4]
    out = []
    for i in range(5):
        client = await start(cmd, options)
        for j, doc in enumerate(("import os\n", text[: len(text) - 7 * (i + 1)])):  # the first loads the model
            uri = f"file:///bench/cold{i}_{j}.py"
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(
                    types.TextDocumentItem(uri=uri, language_id="python", version=1, text=doc)
                )
            )
            t0 = time.perf_counter()
            await client.text_document_inline_completion_async(
                types.InlineCompletionParams(
                    context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
                    text_document=types.TextDocumentIdentifier(uri),
                    position=position(doc, len(doc)),
                )
            )
        out.append((time.perf_counter() - t0) * 1e3)
        await stop(client)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["bundled", "gemma3-270m"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--keys", type=int, default=25)
    parser.add_argument("--settings", type=json.loads, default={}, help="nib's settings for every model, as JSON")
    parser.add_argument("--split", default="test", choices=("test", "fresh"), help="the held-out split replayed")
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    files = sorted(fetch(args.split).rglob("*.py"))[:8]
    edits = [e for s in args.seeds for e in point_edits(files, 1, args.keys, random.Random(s))]
    options = {"jedi": {"enable": False}, "list": {"enable": False}, **args.settings}
    report = {
        "command": "python benchmarks/models.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "files": [str(f) for f in files],
        "seeds": args.seeds,
        "keys": args.keys,
        "models": {},
    }
    print(f"{'model':14} {'ghost text p50 / p95 / p99 ms':30} {'n':>5} {'cold 2k p50 ms':>15} {'RSS MB':>7}")
    for model in args.models:
        cmd = [sys.executable, "-I", "-m", "nib.server.cli", "serve", "--log-level", "warning", "--test-requests"]
        opts = {**options, "model": {**options.get("model", {}), "path": model}}
        times, memory = asyncio.run(replay(cmd, edits, opts))
        cold = stats(asyncio.run(cold_statement(cmd, files, opts)))
        row = {"statement": stats(times["statement"]), "cold_statement_2k_tokens": cold, **memory}
        report["models"][model] = row
        s = row["statement"]
        print(
            f"{model:14} {s['p50']:>8} / {s['p95']:>7} / {s['p99']:>7}       {s['n']:>5} {cold['p50']:>15} "
            f"{row['rss_mb']:>7} ({row['rss_after_pause_mb']} after a pause, peak {row['peak_rss_mb']})"
        )
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
