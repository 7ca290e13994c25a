"""The first list at a new position, ranked as `nib serve` answers it over stdio.

At identifier points of held-out code (`nib eval`'s points: the text before the cut is the
document), each point in a document the server has not seen, one character of the name is
typed and the list asked for, as an editor does (`--ghost-text`: with the ghost text asked on
each key too, as editors with inline completions ask); MRR@5 and top-1 of the gold name, and the
list's latency. Scenarios (each in a new server):

- open: the first character typed at once after the document is opened;
- pause: typed after a pause (--pause-ms, 300) with nothing typed;
- typing: the character before the name typed after the pause, then the name's first
  character one keystroke later (--cps, 8 a second): where a person types into a name;
- shown (with --ghost-text): as `typing`, but the name's first character typed once the ghost
  text asked with the key before is answered (on screen): a person who reads it, then types on;
- rested: the cursor put where the name starts (`nib/cursor`, as nib's editor plugins send it
  once it rests: the server warms its models there), the first character typed --rest-ms (1000)
  later: a person who clicks into a file just opened and thinks before typing;
- waited: as `open`, but the list waits for jedi as long as it takes (`jedi.nameBudgetMs`
  5 s): what the list ranks when jedi's names are in it, the reference.

--real-paths opens each document at its file's own path (jedi finds the package's other modules
beside it), as an editor does; by default each point has a path of its own under /bench/.

--typed 0 asks the list where the name starts, before any of it is typed, as Ctrl+Space asks it
(triggerKind Invoked), in `open`, `pause`, `rested` and `waited` (no key: `typing` and `shown`
type one, and an editor asks by typing only after a name's character or a trigger character).
--typed 2 types the name's first two characters at --cps, the list asked on each, and ranks the
second: what typing on into a name gets (a list narrowed from the first, or computed anew).

    python benchmarks/first_list.py --split fresh --points 100 --json benchmarks/results/first_list/fresh.json
    python benchmarks/first_list.py --compare BEFORE.json AFTER.json   # paired, on the same points
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from latency import inline_request, list_request, plain, position, start, stats, stop, write_report
from lsprotocol import types

from nib.model.eval.heldout import fetch
from nib.model.eval.points import identifier_points, python_files
from nib.model.eval.ranking import reciprocal_rank

SCENARIOS = ("open", "pause", "typing", "shown", "rested", "waited")
WAITED = {"jedi": {"nameBudgetMs": 5000}}  # the setting's upper bound


def merged(base: dict, over: dict) -> dict:
    """Settings `over` on `base`, section by section.

    Example: merged({"list": {"statement": False}}, {"list": {"model": ""}}) == {"list": {"statement": False, "model": ""}}
    """
    out = dict(base)
    for key, value in over.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def labels_of(answer) -> list[str]:
    items = answer.items if isinstance(answer, types.CompletionList) else (answer or [])
    items = [i for i in items if i.kind != types.CompletionItemKind.Snippet]  # the statement's item, if any
    return [i.label for i in sorted(items, key=lambda i: i.sort_text or "")]


async def point(client, uri: str, text: str, gold: str, scenario: str, pace=(0.0, 0.0, 0.0), ghost=False, typed=1):
    """(labels, ms, the ghost texts of the keys before) of the list asked once the name's first
    `typed` characters (0, 1 or 2) are typed at the end of text, the list asked on each of them as
    an editor asks it (timed on the last); pace: (the pause, a key's interval, the rest) in seconds;
    ghost: the ghost text asked with each key too, as an editor with inline completions asks."""
    pause_s, pace_s, rest_s = pace
    typed = min(typed, len(gold))  # a name of one character: that one typed
    opened = text[:-1] if scenario in ("typing", "shown") and text else text
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=opened))
    )
    keys = ([text[-1]] if opened != text else []) + list(gold[:typed])
    doc, ghosts, lists = types.TextDocumentIdentifier(uri), [], []
    if scenario in ("pause", "typing", "shown"):
        await asyncio.sleep(pause_s)
    if scenario == "rested":
        where = position(opened, len(opened))
        where = {"line": where.line, "character": where.character}
        client.protocol.notify("nib/cursor", {"textDocument": {"uri": uri}, "position": where})
        await asyncio.sleep(rest_s)
    for i, ch in enumerate(keys):
        if i and scenario == "shown" and ghosts:
            await asyncio.wait_for(asyncio.shield(ghosts[-1]), 30)  # a person who reads the ghost text first
        elif i:
            await asyncio.sleep(pace_s)
        at = position(opened, len(opened))
        opened += ch
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
                [types.TextDocumentContentChangePartial(range=types.Range(at, at), text=ch)],
            )
        )
        if i < len(keys) - 1 and i >= len(keys) - typed:  # a name's character before the last: its list asked too
            lists.append(asyncio.ensure_future(list_request(client, doc, position(opened, len(opened)))))
        if ghost and i < len(keys) - 1:
            ghosts.append(asyncio.ensure_future(inline_request(client, doc, position(opened, len(opened)))))
    t = time.perf_counter()
    listed = list_request(client, doc, position(opened, len(opened)))  # sent here, then the ghost text's
    ghosts += [asyncio.ensure_future(inline_request(client, doc, position(opened, len(opened))))] if ghost else []
    answer = await asyncio.wait_for(listed, 30)
    ms = (time.perf_counter() - t) * 1e3
    await asyncio.wait_for(asyncio.gather(*lists), 30)
    answered = await asyncio.wait_for(asyncio.gather(*ghosts), 30)  # the next point starts on an idle server
    client.text_document_did_close(types.DidCloseTextDocumentParams(doc))
    return labels_of(answer), ms, [inserted(a) for a in answered[:-1]]


async def steps(client) -> dict | None:
    """Where the timed list's time went in the server (`Timings`; its last list answered), with
    --test-requests; the requests' timings are then cleared for the next point."""
    answered = await client.protocol.send_request_async("nib/_timings", {})
    lists = [plain(t) for t in (getattr(answered, "list", None) or [])]
    return {k: v for k, v in lists[-1].items() if v} if lists else None


def inserted(answer) -> str | None:
    """The ghost text's first item as inserted (from its range's start), None for none."""
    items = getattr(answer, "items", answer) or []
    return items[0].insert_text if items and isinstance(items[0].insert_text, str) else None


async def scenario_run(
    cmd, texts, points, scenario: str, settings: dict, pace: tuple, ghost: bool, paths=None, typed=1
) -> list:
    """Each point's record; paths: each file's own, where its points' documents open (jedi then finds
    the package's other modules beside it), else a path of its own under /bench/."""
    client = await start(cmd, merged(settings, WAITED) if scenario == "waited" else settings)
    await point(client, "file:///bench/warm.py", "import os\nos.pa", "path", "open", ghost=ghost)  # loads the models
    records = []
    for n, p in enumerate(points):
        text = texts[p.file][: p.offset]
        uri = paths[p.file].as_uri() if paths else f"file:///bench/{scenario}/{n}.py"
        labels, ms, before = await point(client, uri, text, p.gold, scenario, pace, ghost, typed)
        record = {"kind": p.kind, "gold": p.gold, "labels": labels[:10], "ms": round(ms, 2)}
        record |= {"ghost_text_before": before[0]} if before else {}
        records.append(record | ({"server": await steps(client)} if "--test-requests" in cmd else {}))
    await stop(client)
    return records


def summarise(records: list[dict], seed: int = 0, resamples: int = 2000) -> dict:
    rr = np.array([reciprocal_rank(r["labels"], r["gold"]) for r in records])
    rng = np.random.default_rng(seed)
    means = rr[rng.integers(0, len(rr), (resamples, len(rr)))].mean(axis=1)
    return {
        "points": len(rr),
        "mrr5": round(float(rr.mean()), 4),
        "mrr5_ci95": [round(float(np.percentile(means, 2.5)), 4), round(float(np.percentile(means, 97.5)), 4)],
        "top1": round(float((rr == 1.0).mean()), 4),
        "ms": stats([r["ms"] for r in records]),
    }


def compare(before: dict, after: dict, seed: int = 0, resamples: int = 4000) -> None:
    """Each scenario's MRR@5 in two reports of the same points, and their paired difference with
    its bootstrap 95% interval; then the same where the name is longer than what is typed (a name
    typed whole, `t` with one character typed, is ranked only once the list may hold it), unless every name is."""
    rng = np.random.default_rng(seed)
    typed = after.get("typed", 1)
    if before.get("typed", 1) != typed:
        raise SystemExit(f"the reports typed {before.get('typed', 1)} and {typed} characters: not the same points")
    for name, old in before["scenarios"].items():
        new = after["scenarios"].get(name)
        if new is None:
            continue
        a, b = (np.array([reciprocal_rank(r["labels"], r["gold"]) for r in s["records"]]) for s in (old, new))
        longer = np.array([len(r["gold"]) > typed for r in new["records"]])
        subsets = [(f"{name:7}", np.ones_like(longer))] + (
            [("  longer", longer)] if 0 < longer.sum() < len(longer) else []
        )
        for label, keep in subsets:  # (the longer names alone where they are some of the points, not all)
            diff = b[keep] - a[keep]
            means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(axis=1)
            lo, hi = np.percentile(means, [2.5, 97.5])
            print(
                f"{label} MRR@5 {a[keep].mean():.3f} -> {b[keep].mean():.3f}  difference {diff.mean():+.3f} "
                f"[{lo:+.3f}, {hi:+.3f}]  ({int((diff != 0).sum())} of {len(diff)} points changed)"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="fresh", choices=("dev", "fresh-dev", "test", "fresh"))
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--pause-ms", type=float, default=300)
    parser.add_argument("--cps", type=float, default=8, help="the pace of the typing scenario's two keys")
    parser.add_argument("--rest-ms", type=float, default=1000, help="the rested scenario's pause before the name")
    parser.add_argument("--settings", type=json.loads, default={}, help="nib's settings, as JSON")
    parser.add_argument("--model", help="the model nib serves for the statement (default: nib's default here)")
    parser.add_argument("--ghost-text", action="store_true", help="ask for the ghost text with each key too")
    parser.add_argument(
        "--real-paths", action="store_true", help="open each point's document at its file's own path, not under /bench/"
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="keep where the server's time went for each timed list (its steps)"
    )
    parser.add_argument(
        "--typed",
        type=int,
        default=1,
        choices=(0, 1, 2),
        help="the name's characters typed before the timed list (0: invoked; 2: a list asked on the first too)",
    )
    parser.add_argument("--json", type=Path, dest="json_out")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"), help="two reports, paired")
    args = parser.parse_args()
    if args.compare:
        compare(*(json.loads(p.read_text()) for p in args.compare))
        return 0
    if "shown" in args.scenarios and not args.ghost_text:
        parser.error("the shown scenario waits for a ghost text: add --ghost-text")
    if {"typing", "shown"} & set(args.scenarios) and not args.typed:
        parser.error("the typing and shown scenarios type the name's first character: they need --typed 1")

    files = python_files(fetch(args.split))
    texts = [f.read_bytes().decode("utf-8", "replace") for f in files]
    points = [p for p in identifier_points(texts, args.points, args.seed) if p.offset > 0]
    cmd = [sys.executable, "-I", "-m", "nib.server.cli", "serve", "--log-level", "warning"]
    cmd += ["--model", args.model] if args.model else []
    cmd += ["--test-requests"] if args.breakdown else []
    settings = merged({"list": {"statement": False}}, args.settings)
    report: dict = {
        "command": "python benchmarks/first_list.py " + " ".join(sys.argv[1:]),
        # what the server inherits that changes it (NIB_JEDI_WORKER: a jedi held late)
        "environment": {k: v for k, v in os.environ.items() if k.startswith("NIB_")},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "split": args.split,
        "settings": settings,
        "model": args.model or "nib's default here",
        "ghost_text": args.ghost_text,
        "typed": args.typed,
        "scenarios": {},
    }
    for scenario in args.scenarios:
        paths = files if args.real_paths else None
        pace = (args.pause_ms / 1e3, 1 / args.cps, args.rest_ms / 1e3)
        run = scenario_run(cmd, texts, points, scenario, settings, pace, args.ghost_text, paths, args.typed)
        records = asyncio.run(run)
        report["scenarios"][scenario] = {**summarise(records, args.seed), "records": records}
        s = report["scenarios"][scenario]
        lo, hi = s["mrr5_ci95"]
        print(
            f"{scenario:7} MRR@5 {s['mrr5']:.3f} [{lo:.3f}, {hi:.3f}]  top-1 {s['top1']:.3f}  "
            f"ms p50 {s['ms']['p50']:.1f} p95 {s['ms']['p95']:.1f}  ({s['points']} points)",
            flush=True,
        )
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
