"""What dropping the keywords that cannot start at a name's place (`text/keywords.py`) does to
lists the server gave: `first_list.py` reports re-ranked offline, the same lists, no new run.

Each report's lists are its top ten labels; the keywords misplaced at each point's name are
taken out (as the ranker now does, save those jedi offered: the reports do not say which, and
jedi offers none of these), and MRR@5 computed again, paired with the report's own.

    python benchmarks/misplaced_keywords.py benchmarks/results/first_list/outlook/*_before.json \
        --json benchmarks/results/first_list/keywords/outlook.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from first_list import summarise
from latency import write_report

from nib.model.eval.heldout import fetch
from nib.model.eval.points import identifier_points, python_files
from nib.model.eval.ranking import reciprocal_rank
from nib.model.text.keywords import keywords_misplaced


def points_of(split: str, count: int, seed: int) -> list[tuple[str, str]]:
    """(the line before the name and its first character, the gold name) of first_list.py's points."""
    texts = [f.read_bytes().decode("utf-8", "replace") for f in python_files(fetch(split))]
    out = []
    for p in identifier_points(texts, count, seed):
        if p.offset > 0:
            before = texts[p.file][: p.offset]
            out.append((before[before.rfind("\n") + 1 :] + p.gold[0], p.gold))
    return out


def refiltered(records: list[dict], points: list[tuple[str, str]]) -> tuple[list[dict], list[dict]]:
    """The records with the misplaced keywords out of their labels, and the points that changed."""
    out, changed = [], []
    for record, (line, gold) in zip(records, points, strict=True):
        assert record["gold"] == gold, (record["gold"], gold)
        misplaced = keywords_misplaced(line)
        labels = [label for label in record["labels"] if label not in misplaced]
        out.append({**record, "labels": labels})
        before, after = reciprocal_rank(record["labels"], gold), reciprocal_rank(labels, gold)
        if before != after:
            changed.append({"line": line, "gold": gold, "before": record["labels"][:5], "after": labels[:5]})
    return out, changed


def paired(before: list[dict], after: list[dict], seed: int = 0, resamples: int = 4000) -> dict:
    diff = np.array([reciprocal_rank(b["labels"], b["gold"]) for b in after]) - np.array(
        [reciprocal_rank(a["labels"], a["gold"]) for a in before]
    )
    means = diff[np.random.default_rng(seed).integers(0, len(diff), (resamples, len(diff)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return {"difference": round(float(diff.mean()), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)]}


def asked(command: str, option: str, default: int) -> int:
    """An integer option's value in a report's command line.

    Example: asked("first_list.py --split dev --points 80", "--points", 100) == 80
    """
    words = command.split()
    return int(words[words.index(option) + 1]) if option in words else default


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="first_list.py's JSON reports")
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    out: dict = {"command": "python benchmarks/misplaced_keywords.py " + " ".join(sys.argv[1:]), "reports": {}}
    cache: dict[tuple[str, int], list] = {}  # by (split, points)
    for path in args.reports:
        report = json.loads(path.read_text())
        for name, scenario in report["scenarios"].items():
            records = scenario["records"]
            key = (report["split"], asked(report["command"], "--points", 100))
            points = cache.setdefault(key, points_of(*key, asked(report["command"], "--seed", 0)))
            after, changed = refiltered(records, points)
            row = {
                "split": report["split"],
                "mrr5_before": scenario["mrr5"],
                "mrr5_after": summarise(after)["mrr5"],
                **paired(records, after),
                "changed": changed,
            }
            out["reports"][f"{path}:{name}"] = row
            print(
                f"{path.name}:{name}  MRR@5 {row['mrr5_before']:.3f} -> {row['mrr5_after']:.3f}  "
                f"{row['difference']:+.3f} [{row['ci95'][0]:+.3f}, {row['ci95'][1]:+.3f}]  {len(changed)} changed"
            )
    write_report(args.json_out, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
