"""`nib eval --ranking`: the completion list's ranking against jedi's own order.

At identifier points of held-out code (cursor at the start of the name, as
`nib eval`'s MRR), four rankers, each with its MRR@5, top-1 and latency:
- jedi: jedi's names in jedi's order (no time budget);
- model: the model's own lexemes (no static analysis);
- identifiers: the identifier n-gram alone (names seen around the cursor in the file);
- combined: what the server answers (jedi within its budget, names scored by
  the model, mixed with the identifier n-gram and jedi's order);
- narrowed: what the server answers while a name is typed: the combined list
  asked at the name's start, then narrowed to the typed characters and mixed
  again (`ListRanker.narrow`), with no new model or jedi call. With 0 typed it
  is the combined list itself.
The mixture weights are chosen by grid search on points of the dev split and
then measured on points of the test split (`eval/heldout.toml`): no package is in both.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from nib.model.completion.result import Candidate
from nib.model.listing.corrections import mixed
from nib.model.listing.jedi_answers import JediName
from nib.model.listing.mixing import WEIGHTS, Weights, key_name
from nib.model.progress import Progress

from .points import identifier_points, python_files
from .predictors import ListPredictor

RANKERS = ("jedi", "model", "identifiers", "combined", "narrowed")
GRID = [w for w in itertools.product(np.linspace(0, 1, 11), repeat=2) if w[0] + w[1] <= 1.0 + 1e-9]


def reciprocal_rank(labels: list[str], gold: str) -> float:
    """1/rank of gold among the first five distinct labels, 0 past them (MRR@5's term).

    Example: reciprocal_rank(["path", "pardir="], "pardir") == 0.5
    """
    labels = list(dict.fromkeys(label.rstrip("=") for label in labels))  # a keyword argument is offered as `name=`
    return 1.0 / (labels.index(gold) + 1) if gold in labels[:5] else 0.0


def collect(
    engine,
    files: list[Path],
    texts: list[str],
    points,
    jedi_ms: int,
    typed: int = 0,
    name_jedi_ms: int | None = None,
    late_at_names: bool = False,
) -> list[dict]:
    """Per point: each ranker's labels and latency, and what the mixture needs to be re-ranked.

    typed: characters of the name already typed at the request (fewer for shorter names).
    name_jedi_ms: how long the combined list waits for jedi at a name (not after `.` or in an
    import; None: jedi_ms), as the server's `jedi.nameBudgetMs`; late_at_names: jedi never answers
    the combined list at a name (`ListPredictor`).
    """
    predictor = ListPredictor(engine, jedi_ms, name_jedi_ms, late_at_names)
    records = []
    bar = Progress(len(points), "points", "ranking")
    for p in points:
        cursor = p.offset + min(typed, len(p.gold) - 1)
        record = predictor.predict(texts[p.file], p.offset, cursor, str(files[p.file]), f"{p.file}:{p.offset}")
        records.append({"kind": p.kind, "position": record.pop("position"), "typed": typed, "gold": p.gold, **record})
        bar.update()
    bar.close()
    predictor.close()
    return records


def _key(record: dict) -> tuple[str, bool]:
    return record["position"][0], bool(record["position"][1])


def rerank(record: dict, weights: Weights) -> list[str]:
    """The point's list as the server ranks it (`corrections.mixed`), the mixture's weights these."""
    items = [Candidate(label, 0, score, kind, label) for label, kind, score in record["items"]]
    names = [JediName(n, k, "") for n, k in zip(record["jedi_order"], record["jedi_kinds"], strict=True)]
    before = record["before"]
    return [c.label for c in mixed(items, record["identifiers_p"], names, weights, _key(record), before, len(before))]


def tune(records: list[dict]) -> tuple[dict[tuple[str, bool], Weights], float]:
    """For each position (and typed or not), the mixture weights with the best MRR@5 on its records."""
    chosen = {}
    for position in WEIGHTS:
        group = [r for r in records if _key(r) == position]
        best, best_mrr = WEIGHTS[position], -1.0
        for wi, wj in GRID if group else []:
            w = Weights(model=round(1.0 - wi - wj, 2), identifiers=round(float(wi), 2), jedi=round(float(wj), 2))
            mrr = float(np.mean([reciprocal_rank(rerank(r, w), r["gold"]) for r in group]))
            if mrr > best_mrr + 1e-9:
                best, best_mrr = w, mrr
        chosen[position] = best
    return chosen, float(np.mean([reciprocal_rank(rerank(r, chosen[_key(r)]), r["gold"]) for r in records]))


def summarise(records: list[dict], weights: dict[tuple[str, bool], Weights]) -> dict:
    for r in records:
        r["labels"]["combined"] = rerank(r, weights[_key(r)])
    out = {}
    for name in RANKERS:
        by_kind: dict[str, list[float]] = {}
        for r in records:
            by_kind.setdefault(r["kind"], []).append(reciprocal_rank(r["labels"][name], r["gold"]))
        ms = [r["ms"][name] for r in records]
        out[name] = {
            "mrr5": round(float(np.mean([x for v in by_kind.values() for x in v])), 4),
            "top1": round(
                float(np.mean([float(reciprocal_rank(r["labels"][name], r["gold"]) == 1.0) for r in records])), 4
            ),
            "mrr5_by_kind": {k: round(float(np.mean(v)), 4) for k, v in sorted(by_kind.items())},
            "ms_p50": round(float(np.percentile(ms, 50)), 1),
            "ms_p95": round(float(np.percentile(ms, 95)), 1),
        }
    return out


def run(
    engine,
    dev: Path,
    test: Path,
    points: int,
    seed: int,
    jedi_ms: int,
    typed: tuple[int, ...] = (0, 1),
    name_jedi_ms: int | None = None,
) -> dict:
    """Weights tuned on points of the dev folder with each number of typed characters, then
    every ranker measured on points of the test folder with each."""
    dev_files, test_files = python_files(dev), python_files(test)
    dev_texts = [f.read_bytes().decode("utf-8", "replace") for f in dev_files]
    texts = [f.read_bytes().decode("utf-8", "replace") for f in test_files]
    dev_records = [
        r
        for t in typed
        for r in collect(
            engine, dev_files, dev_texts, identifier_points(dev_texts, points, seed), jedi_ms, t, name_jedi_ms
        )
    ]
    weights, dev_mrr = tune(dev_records)
    tables = []
    for t in typed:
        test_records = collect(
            engine, test_files, texts, identifier_points(texts, points, seed), jedi_ms, t, name_jedi_ms
        )
        kinds: dict[str, int] = {}
        for r in test_records:
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        tables.append(
            {
                "typed": t,
                "points": len(test_records),
                "points_by_kind": kinds,
                "rankers": summarise(test_records, weights),
                "records": test_records,
            }
        )
    return {
        "dev": str(dev),
        "test": str(test),
        "seed": seed,
        "jedi_ms": jedi_ms,
        "name_jedi_ms": name_jedi_ms,
        "dev_mrr5": round(dev_mrr, 4),
        "weights": {key_name(k): w.__dict__ for k, w in weights.items()},
        "tables": tables,
        "dev_records": dev_records,
    }


# What each point keeps only to be re-ranked under other weights while tuning: every candidate
# with its scores (hundreds after `.`), tens of MB for a run. The written report keeps each
# point's labels, gold, kind and latencies, from which its tables are computed.
_TUNING_ONLY = ("items", "identifiers_p", "jedi_order", "jedi_kinds", "before")


def top5(labels: list[str]) -> list[str]:
    """labels up to the fifth distinct one as `reciprocal_rank` counts them: all MRR@5 needs of a ranking."""
    seen: set[str] = set()
    for i, label in enumerate(labels):
        seen.add(label.rstrip("="))
        if len(seen) > 5:
            return labels[:i]
    return labels


def compact(report: dict) -> dict:
    """The report without the tuning-only fields of each point and with each ranking cut to
    what MRR@5 reads (jedi answers hundreds of names after `.`): for the JSON that is committed."""

    def point(r: dict) -> dict:
        kept = {k: v for k, v in r.items() if k not in _TUNING_ONLY}
        return {**kept, "labels": {name: top5(labels) for name, labels in r["labels"].items()}}

    return {
        **report,
        "dev_records": [point(r) for r in report["dev_records"]],
        "tables": [{**t, "records": [point(r) for r in t["records"]]} for t in report["tables"]],
    }


def table(report: dict) -> str:
    lines = [f"weights (model, identifiers, jedi order) tuned on the dev split, MRR@5 there {report['dev_mrr5']}:"]
    lines += [f"  {k:18} {w['model']:.1f} {w['identifiers']:.1f} {w['jedi']:.1f}" for k, w in report["weights"].items()]
    for t in report["tables"]:
        kinds = sorted(t["points_by_kind"])
        lines.append(f"\n{t['typed']} characters typed; points {t['points_by_kind']}")
        lines.append(
            f"{'ranker':9} {'MRR@5':>6} {'top-1':>6} "
            + " ".join(f"{k:>9}" for k in kinds)
            + f" {'p50 ms':>7} {'p95 ms':>7}"
        )
        for name, r in t["rankers"].items():
            lines.append(
                f"{name:9} {r['mrr5']:>6.3f} {r['top1']:>6.3f} "
                + " ".join(f"{r['mrr5_by_kind'].get(k, 0):>9.3f}" for k in kinds)
                + f" {r['ms_p50']:>7.1f} {r['ms_p95']:>7.1f}"
            )
    return "\n".join(lines)
