"""How much of the previous keystroke's prompt each FIM layout reuses, typing across a line break.

    python benchmarks/fim_reuse.py --layouts off line psm --keys 40 \
        --json benchmarks/results/qwen/fim_reuse.json

Opens one file of the fresh split at a point after an opening bracket, removes the next --keys
characters and types them again, asking for the statement on each keystroke (nothing shown
or remembered between keystrokes: every one decodes); records the prompt's length, the tokens
of it a stored KV state covered, and the time, per keystroke.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from nib.model.completion.local import LocalCompleter
from nib.model.completion.request import Mode, Options, Request
from nib.model.eval.heldout import fetch
from nib.model.pretrained import registry


def replay(engine: LocalCompleter, text: str, at: int, keys: int) -> list[dict]:
    """Each keystroke's prompt tokens, the tokens reused, ms and the key."""
    seen: list[tuple[int, int]] = []
    best = engine.states.best

    def counted(ids, types):
        reused, shared = best(ids, types)
        seen.append((len(ids), shared))
        return reused, shared

    engine.states.best = counted
    typed, doc, out = text[at : at + keys], text[:at] + text[at + keys :], []
    for i, key in enumerate(typed):
        doc = doc[: at + i] + key + doc[at + i :]
        engine.shown.clear()
        engine._statement_memo.clear()
        start = time.perf_counter()
        engine.complete(Request(doc, at + i + 1, Mode.STATEMENT, Options()))
        tokens, shared = seen[-1]
        out.append(
            {"key": key, "prompt": tokens, "reused": shared, "ms": round((time.perf_counter() - start) * 1e3, 1)}
        )
    engine.states.best = best
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layouts", nargs="+", default=["off", "line", "psm"])
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--file", type=int, default=2, help="which of the fresh split's first 8 files")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    path = sorted(fetch("fresh").rglob("*.py"))[args.file]
    text = path.read_text()
    at = text.index("(", text.index("\n", len(text) // 2) + 1) + 1  # after a bracket past the middle
    runs = {}
    for layout in args.layouts:
        engine = LocalCompleter.load(registry.get("qwen2.5-coder-0.5b").dir)
        engine.defaults = {**engine.defaults, "fim": layout}
        runs[layout] = replay(engine, text, at, args.keys)
        line_break = [k for k in runs[layout] if k["key"] == "\n"]
        print(
            layout,
            "line break:",
            line_break,
            "others reused all but:",
            {k["prompt"] - k["reused"] for k in runs[layout][1:] if k["key"] != "\n"},
        )
    report = {"command": "python benchmarks/fim_reuse.py " + " ".join(sys.argv[1:]), "file": path.name, "at": at}
    args.json.write_text(json.dumps(report | {"keystrokes": runs}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
