"""How often the similar window (`service/similar.py`) holds the line being written, by how alike it is (no model runs).

For each cut of `nib eval SPLIT --repo` (the same cuts and cross-file subset): the best window of
a file beside the cut's, however little alike, its similarity, and whether it
holds the cut's whole line (stripped). Counted in bins of similarity: where the threshold goes.

    python benchmarks/similar_coverage.py fresh-dev --json benchmarks/results/project/similar_coverage_fresh-dev.json
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

from latency import write_report

from nib.model.eval import repo
from nib.model.eval.heldout import folder
from nib.model.service.similar import Similar
from nib.model.service.workspace import Workspace

BINS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 1.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("split")
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    top = folder(args.split)
    files, texts, roots, cuts, crossing = repo.split_cuts(top, args.points, args.seed)
    finders: dict[Path, Similar] = {}
    rows = []
    for cut, cross in zip(cuts, crossing, strict=True):
        before = texts[cut.file][: cut.offset]
        finder = finders.setdefault(roots[cut.file], Similar(Workspace([str(roots[cut.file])])))
        window = finder.best(files[cut.file], before, least=0.0)
        line = (before[before.rfind("\n") + 1 :].lstrip() + cut.gold).strip()
        rows.append((window.similarity if window else 0.0, bool(window and line in window.text), cross))
    bins = []
    for low, high in itertools.pairwise(BINS):
        inside = [r for r in rows if low <= r[0] < high]
        bins.append(
            {
                "similarity": [low, min(high, 1.0)],
                "cuts": len(inside),
                "line_in_window": sum(r[1] for r in inside),
                "cross_file": sum(r[2] for r in inside),
                "cross_file_line_in_window": sum(r[1] and r[2] for r in inside),
            }
        )
    report = {"command": "python benchmarks/similar_coverage.py " + " ".join(sys.argv[1:]), "split": args.split}
    report["bins"] = bins
    print(json.dumps(report, indent=2))
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
