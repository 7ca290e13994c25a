"""How much of what cross-file cuts need the project context can show (no model runs).

For each cross-file cut of `nib eval SPLIT --repo` (the same cuts and subset): whether a name its
rest of the line needs (defined in another module of the package, not in the file) is imported
before the cut, and whether the project context at the cut holds it, within the budget and
without one.

    python benchmarks/project_coverage.py fresh-dev --json benchmarks/results/project/coverage_fresh-dev.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from latency import write_report

from nib.model.eval import repo
from nib.model.eval.heldout import folder
from nib.model.service.project import CHARS_PER_TOKEN, ProjectContext
from nib.model.text.stubs import imports

_NAME = re.compile(r"[A-Za-z_]\w*")


def shown(context: ProjectContext, path: Path, text: str, cursor: int, chars: int, needed: set[str]) -> bool:
    block = context.block(str(path), text[:cursor], cursor, chars, recent=False)
    body = "\n".join(t for _, t in block.project.files) if block.project else ""
    return any(re.search(rf"\b{re.escape(n)}\b", body) for n in needed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("split")
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--project-tokens", type=int, default=256)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    top = folder(args.split)
    files, texts, roots, cuts, crossing = repo.split_cuts(top, args.points, args.seed)
    names = {f: repo.defined_names(t) for f, t in zip(files, texts, strict=True)}
    counts = {"cross_file": 0, "imported_before_the_cut": 0, "in_the_context": 0, "in_an_unbounded_context": 0}
    for cut, cross in zip(cuts, crossing, strict=True):
        if not cross:
            continue
        file, root, text = files[cut.file], roots[cut.file], texts[cut.file]
        others = set().union(*(n for f, n in names.items() if f != file and f.is_relative_to(root))) - names[file]
        needed = (set(_NAME.findall(cut.gold)) - repo.COMMON_NAMES) & others
        bound = {i.bound for i in imports(text[: cut.offset])} | {i.name for i in imports(text[: cut.offset])}
        context = ProjectContext([str(root)])
        counts["cross_file"] += 1
        counts["imported_before_the_cut"] += bool(needed & bound)
        counts["in_the_context"] += shown(
            context, file, text, cut.offset, args.project_tokens * CHARS_PER_TOKEN, needed
        )
        counts["in_an_unbounded_context"] += shown(context, file, text, cut.offset, 10**7, needed)
    report = {
        "command": "python benchmarks/project_coverage.py " + " ".join(sys.argv[1:]),
        "split": args.split,
        **counts,
    }
    print(json.dumps(report, indent=2))
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
