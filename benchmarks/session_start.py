"""The first completion of a session, as an editor that opens a file asks for it.

Each point of held-out code (`nib eval`'s points: the text before the cut is the document) on a
server just started over stdio: the document opened and the cursor put where the name starts
(`nib/cursor`) at once, while the models still load, as nib's plugins do when the editor opens
a file; the name's first character typed --rest-ms (3000) later, the list and the ghost text
asked together. The list's and the ghost text's latency at the client, the list's steps in the
server (`nib/_timings`: none computed when it was narrowed from the list speculated at the
rest) and MRR@5 of the gold name.

    python benchmarks/session_start.py --split fresh --points 20 --json benchmarks/results/rest/session_start/fresh.json
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import numpy as np
from first_list import labels_of, steps
from latency import inline_request, list_request, position, start, stats, stop, together, write_report
from lsprotocol import types

from nib.model.eval.heldout import fetch
from nib.model.eval.points import identifier_points, python_files
from nib.model.eval.ranking import reciprocal_rank


async def first_completion(cmd: list[str], uri: str, text: str, gold: str, rest_s: float) -> dict:
    """One point on a server of its own: opened and rested at once, the first character typed rest_s later."""
    client = await start(cmd, {})
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    where = position(text, len(text))
    client.protocol.notify(
        "nib/cursor", {"textDocument": {"uri": uri}, "position": {"line": where.line, "character": where.character}}
    )
    await asyncio.sleep(rest_s)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [types.TextDocumentContentChangePartial(range=types.Range(where, where), text=gold[0])],
        )
    )
    doc, at = types.TextDocumentIdentifier(uri), position(text + gold[0], len(text) + 1)
    answers = await together(
        {"list": lambda: list_request(client, doc, at), "ghost": lambda: inline_request(client, doc, at)}
    )
    (list_ms, listed, _), (ghost_ms, _, _) = answers["list"], answers["ghost"]
    server = await steps(client)
    await stop(client)
    return {
        "gold": gold,
        "labels": labels_of(listed)[:10],
        "list_ms": round(list_ms, 2),
        "ghost_ms": round(ghost_ms, 2),
    } | ({"server": server} if server else {})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="fresh", choices=("dev", "fresh-dev", "test", "fresh"))
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--rest-ms", type=float, default=3000)
    parser.add_argument("--model", default="gemma3-270m", help="the model nib serves for the statement")
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    files = python_files(fetch(args.split))
    texts = [f.read_bytes().decode("utf-8", "replace") for f in files]
    points = [p for p in identifier_points(texts, 100, 0) if p.offset > 0][: args.points]
    cmd = [sys.executable, "-I", "-m", "nib.server.cli", "serve", "--log-level", "warning", "--test-requests"]
    cmd += ["--model", args.model]
    records = []
    for n, p in enumerate(points):
        uri = f"file:///bench/session_start/{n}.py"
        run = first_completion(cmd, uri, texts[p.file][: p.offset], p.gold, args.rest_ms / 1e3)
        records.append(asyncio.run(run) | {"kind": p.kind})
    rr = [reciprocal_rank(r["labels"], r["gold"]) for r in records]
    report = {
        "command": "python benchmarks/session_start.py " + " ".join(sys.argv[1:]),
        "list_ms": stats([r["list_ms"] for r in records]),
        "ghost_ms": stats([r["ghost_ms"] for r in records]),
        "narrowed": sum("decode_list_ms" not in r.get("server", {"decode_list_ms": 1}) for r in records),
        "mrr5": round(float(np.mean(rr)), 4),
        "records": records,
    }
    print(
        f"list p50 {report['list_ms']['p50']:.1f} ms, ghost text p50 {report['ghost_ms']['p50']:.1f} ms, "
        f"narrowed {report['narrowed']} of {len(records)}, MRR@5 {report['mrr5']:.3f}"
    )
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
