"""Fit the list's corrections (`model/listing/corrections.py`) on the dev splits, and write them.

At identifier points of `dev` and `fresh-dev` (never a reported split), one character of the name
typed (`--typed 0`: none, where a name starts; fitted and checked only: the served lists are not
corrected there, whose MRR@5 the fit lowered on both dev splits), each point's list is collected as
`nib eval --ranking` collects it (`ranking.collect`, the model the server loads for the list),
twice: with jedi waited for (as after the cursor rested there), and with jedi late at a name (as
in a file just opened: the names jedi would give read from the text, `scope_names.read_names`).
Where a name is typed (`corrections.POSITIONS`), w maximises the gold name's softmax likelihood
over its list's corrected scores (L2-regularised, gradient descent), both lists of each point
counting (the reported `points` are lists); points whose gold is not in the list say nothing.
weights.json's w were fitted before the late lists were collected (on jedi's lists only). The mixture they correct is weights.json's: fit again when it is tuned again. Each split is also fitted alone and measured on the other (MRR@5), a check
that the w carry over to code they were not fitted on. --write puts w into weights.json.

    python benchmarks/list_corrections.py --points 300 --json benchmarks/results/first_list/corrections/fit.json --write
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from latency import write_report

from nib.model.completion.result import Candidate
from nib.model.eval import ranking
from nib.model.eval.heldout import fetch
from nib.model.eval.points import identifier_points, python_files
from nib.model.eval.predictors import ModelPredictor
from nib.model.listing.corrections import CORRECTIONS, FEATURES, POSITIONS, last_used, rows
from nib.model.listing.mixing import WEIGHTS, WEIGHTS_FILE, combine

SPLITS = ("dev", "fresh-dev")
JEDI_MS = 5000  # jedi answers: the list after a rest at the name
# jedi at a name: it answers (as after a rest there), or never (as in a file just opened: the names read from the text)
JEDI = {"answered": False, "late": True}


def collect(engine, split: str, points: int, seed: int, typed: int = 1) -> list[dict]:
    files = python_files(fetch(split))
    texts = [f.read_bytes().decode("utf-8", "replace") for f in files]
    at = identifier_points(texts, points, seed)
    return [
        {**r, "split": split, "jedi": jedi}
        for jedi, late in JEDI.items()
        for r in ranking.collect(engine, files, texts, at, JEDI_MS, typed=typed, late_at_names=late)
    ]


def design(record: dict) -> tuple[list[str], np.ndarray]:
    """A point's labels, mixed as the server mixes them, with [log p_mixture, f...] for each."""
    items = [Candidate(label, 0, score, kind, label) for label, kind, score in record["items"]]
    position = (record["position"][0], bool(record["position"][1]))
    ranked = combine(items, record["identifiers_p"], record["jedi_order"], WEIGHTS[position])
    kinds = dict(zip(record["jedi_order"], record["jedi_kinds"], strict=True))
    used = last_used(record["before"], len(record["before"]))
    f = rows(ranked, record["identifiers_p"], kinds, used)
    x = [[max(c.score, -50.0), *row] for c, row in zip(ranked, f, strict=True)]
    return [c.label for c in ranked], np.array(x).reshape(len(x), 1 + len(FEATURES))


def fitted_on(records: list[dict], typed: int = 1) -> list[tuple[list[str], np.ndarray, str]]:
    """The points of records whose list is corrected: at a name, with a character typed or none (typed)."""
    return [
        (*design(r), r["gold"])
        for r in records
        if r["position"][0] in POSITIONS and bool(r["position"][1]) == bool(typed)
    ]


def fit(data, l2: float, steps: int = 300, rate: float = 0.5) -> np.ndarray:
    """w by gradient descent: the mean gradient of the gold's negative log-likelihood, plus l2 w. A
    point whose gold is listed twice (`size` and `size=`) counts either."""
    w = np.zeros(len(FEATURES))
    for _ in range(steps):
        gradient, n = np.zeros(len(FEATURES)), 0
        for x, at, p in _scored(data, w):
            gradient += x[:, 1:].T @ p - x[at, 1:].T @ (p[at] / p[at].sum())
            n += 1
        w -= rate * (gradient / max(n, 1) + l2 * w)
    return w


def loss(data, w: np.ndarray) -> float:
    """The gold's mean negative log-likelihood under w."""
    return round(float(np.mean([-np.log(p[at].sum()) for _, at, p in _scored(data, w)])), 4)


def _scored(data, w: np.ndarray):
    """(features, where the gold is, the softmax of the corrected scores) of each point whose gold is listed."""
    for labels, x, gold in data:
        at = [i for i, label in enumerate(labels) if label.rstrip("=") == gold]
        if at:
            s = x[:, 0] + x[:, 1:] @ w
            p = np.exp(s - s.max())
            yield x, at, p / p.sum()


def mrr5(data, w: np.ndarray) -> float:
    rr = []
    for labels, x, gold in data:
        order = np.argsort(-(x[:, 0] + x[:, 1:] @ w), kind="stable") if labels else []
        rr.append(ranking.reciprocal_rank([labels[i] for i in order], gold))
    return round(float(np.mean(rr)), 4)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=300, help="points per split")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--l2", type=float, default=0.01, help="the penalty on w's squares, per point")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--write", action="store_true", help=f"write w into {WEIGHTS_FILE.name}")
    parser.add_argument(
        "--records",
        type=Path,
        help="the lists collected, written here; read from here when it exists (no collecting; the same arguments)",
    )
    parser.add_argument(
        "--typed", type=int, default=1, choices=(0, 1), help="the name's characters typed (0: the untyped list's w)"
    )
    args = parser.parse_args()
    if args.write and not args.typed:
        parser.error("--write: the server corrects only lists with a character typed")
    asked = {"points": args.points, "seed": args.seed, "typed": args.typed}
    if args.records is not None and args.records.exists():
        kept = json.loads(args.records.read_text())
        if kept["asked"] != asked:
            parser.error(f"--records: {args.records} holds the lists of {kept['asked']}, not of {asked}")
        records = kept["records"]
    else:
        model = ModelPredictor(None)  # the list's model, loaded as the server loads it
        try:
            records = {split: collect(model.engine, split, args.points, args.seed, args.typed) for split in SPLITS}
        finally:
            model.close()
        if args.records is not None:
            args.records.write_text(json.dumps({"asked": asked, "records": records}))
    data = {split: fitted_on(rs, args.typed) for split, rs in records.items()}
    both = data["dev"] + data["fresh-dev"]
    zero, w = np.zeros(len(FEATURES)), fit(both, args.l2)
    check = {}
    for one, other in (SPLITS, SPLITS[::-1]):
        alone = fit(data[one], args.l2)
        check[f"fitted on {one}, measured on {other}"] = {
            "without": mrr5(data[other], zero),
            "with": mrr5(data[other], alone),
        }
    report = {
        "command": "python " + " ".join(sys.argv),
        "points": {split: len(d) for split, d in data.items()},
        "weights": {f: round(float(v), 3) for f, v in zip(FEATURES, w, strict=True)},
        "loss": {"without": loss(both, zero), "with": loss(both, w)},
        "mrr5_fitted": {split: {"without": mrr5(d, zero), "with": mrr5(d, w)} for split, d in data.items()},
        # the w weights.json holds now too: do they carry over to the lists of a file just opened?
        "mrr5_by_jedi": {
            f"{split}, jedi {jedi}": {
                "without": mrr5(d, zero),
                "shipped": mrr5(d, np.array(CORRECTIONS)),
                "with": mrr5(d, w),
            }
            for split, rs in records.items()
            for jedi in JEDI
            if (d := fitted_on([r for r in rs if r["jedi"] == jedi], args.typed))
        },
        "held_out_check": check,
    }
    print(json.dumps(report, indent=1))
    write_report(
        args.json,
        {
            **report,
            "records": [ranking.compact({"dev_records": rs, "tables": []})["dev_records"] for rs in records.values()],
        },
    )
    if args.write:
        weights = json.loads(WEIGHTS_FILE.read_text())
        weights["corrections"] = {k: report[k] for k in ("command", "points", "weights", "loss", "mrr5_fitted")}
        WEIGHTS_FILE.write_text(json.dumps(weights, indent=2) + "\n")
        print(f"wrote {WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
