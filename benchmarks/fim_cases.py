"""The cuts where two fill-in-the-middle layouts disagree, with what each wrote: what a table's
difference is made of.

    python benchmarks/fim_cases.py fresh-dev --cuts 80 --fim off --fim line \
        --json benchmarks/results/qwen/fresh-dev_fim_line_cases.json

The same cuts and predictor as `nib eval SPLIT --after --name-lines-only` (identifier starts,
the lines after the cut's line in the document), the first --cuts of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nib.model.eval.heldout import fetch
from nib.model.eval.points import identifier_line_points, python_files
from nib.model.eval.predictors import ModelPredictor


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("split")
    parser.add_argument("--cuts", type=int, default=80)
    parser.add_argument("--fim", action="append", required=True, help="two layouts (off, psm, spm, line)")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args()
    if len(args.fim) != 2:
        parser.error("give two layouts: --fim A --fim B")
    folder = fetch(args.split)
    files = python_files(folder)
    texts = [f.read_bytes().decode("utf-8", "replace") for f in files]
    points = identifier_line_points(texts, 150, 0)[: args.cuts]  # `nib eval`'s cuts (150, seed 0)
    wrote = {}
    for layout in args.fim:
        predictor = ModelPredictor(args.model, 2, None, layout, True, "exact", "cpu")
        try:
            wrote[layout] = [predictor.line(texts[p.file], p.offset)[0] for p in points]
        finally:
            predictor.close()
    cases = [
        {"file": str(files[p.file].relative_to(folder)), "gold": p.gold}
        | {layout: wrote[layout][i] for layout in args.fim}
        | {"next line": (texts[p.file][p.offset :].split("\n")[1:2] or [""])[0]}
        for i, p in enumerate(points)
    ]
    exact = {layout: sum(c[layout].split() == c["gold"].split() for c in cases) for layout in args.fim}
    report = {"command": "python benchmarks/fim_cases.py " + " ".join(sys.argv[1:]), "exact": exact, "cases": cases}
    args.json.write_text(json.dumps(report, indent=1) + "\n")
    a, b = args.fim[:2]
    for c in cases:
        if (c[a].split() == c["gold"].split()) != (c[b].split() == c["gold"].split()):
            print(f"gold {c['gold']!r}\n  {a}: {c[a]!r}\n  {b}: {c[b]!r}\n  next line: {c['next line'][:70]!r}")
    print(exact)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
