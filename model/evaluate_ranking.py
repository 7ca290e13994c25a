"""`nib eval --ranking`: the completion list's ranking against jedi's own order.

At identifier points of held-out code (cursor at the start of the name, as
`nib eval`'s MRR), four rankers, each with its MRR@5, top-1 and latency:
- jedi: jedi's names in jedi's order (no time budget);
- model: the model's own lexemes (no static analysis);
- cache: the identifier cache alone (names seen above the cursor in the file);
- combined: what the server answers (jedi within its budget, names scored by
  the model, mixed with the cache and jedi's order).
The mixture weights are chosen on a separate set of dev points (another seed)
by grid search and then measured on the test points.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np

from .cache import IdentifierCache, tokens
from .evaluate import identifier_points
from .listing import ListRanker, combine
from .progress import Progress
from .ranking import WEIGHTS, Weights
from .lexeme import typed_name
from .static import StaticCompleter

RANKERS = ("jedi", "model", "cache", "combined")
GRID = [w for w in itertools.product(np.linspace(0, 1, 11), repeat=2) if w[0] + w[1] <= 1.0 + 1e-9]


def _rr(labels: list[str], gold: str) -> float:
    labels = list(dict.fromkeys(label.rstrip("=") for label in labels))  # a keyword argument is offered as `name=`
    return 1.0 / (labels.index(gold) + 1) if gold in labels[:5] else 0.0


def collect(engine, files: list[Path], texts: list[str], points, static_ms: int, typed: int = 0) -> list[dict]:
    """Per point: each ranker's labels and latency, and what the mixture needs to be re-ranked.

    typed: characters of the name already typed at the request (fewer for shorter names).
    """
    from .engine import Options

    ranker = ListRanker(StaticCompleter(static_ms), IdentifierCache())
    ranker.static.names("import os\nos.", 13, None, 30_000)  # jedi's first call loads its stubs
    records = []
    bar = Progress(len(points), "points", "ranking")
    options = Options(statement_in_list=False)
    for p in points:
        cursor = p.offset + min(typed, len(p.gold) - 1)
        text, path = texts[p.file][:cursor], str(files[p.file])
        key = f"{p.file}:{p.offset}"
        t = time.perf_counter()
        listing = ranker.complete(engine, text, cursor, options, key=key, path=path)
        combined_ms = (time.perf_counter() - t) * 1e3
        ranker.static.wait_idle()
        t = time.perf_counter()
        # jedi's own answer at the cursor, for what is typed, waited for
        static = ranker.static.names(text, cursor, path, 60_000, at_name_start=False)
        jedi_ms = (time.perf_counter() - t) * 1e3
        fragment = typed_name(text)
        t = time.perf_counter()
        model = engine.complete(text, cursor, "list", options)
        model_ms = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        context = tokens(text[max(cursor - 200, 0):cursor])[-2:]
        cache = ranker.cache.probabilities(key + "/cache", text, cursor, context)
        cache_labels = sorted((n for n in cache if n.startswith(fragment) and n != fragment),
                              key=lambda n: -cache[n])[:5]
        cache_ms = (time.perf_counter() - t) * 1e3
        ranker.cache.forget(key + "/cache")
        records.append({
            "kind": p.kind,
            "position": list(listing.position),
            "typed": typed,
            "gold": p.gold,
            "labels": {
                "jedi": [n.name for n in static.names] if static else [],
                "model": [c.label for c in model.candidates],
                "cache": cache_labels,
                "combined": [c.label for c in listing.candidates],
            },
            "ms": {"jedi": jedi_ms, "model": model_ms, "cache": cache_ms, "combined": combined_ms},
            # what `combine` needs to re-rank this point under other weights
            "items": [(c.label, c.kind, c.score) for c in listing.unmixed],
            "cache_p": listing.cache,
            "static_order": [n.name for n in listing.static.names] if listing.static else [],
        })
        ranker.cache.forget(key)
        bar.update()
    bar.close()
    ranker.static.close()
    return records


def _key(record: dict) -> tuple[str, bool]:
    return record["position"][0], bool(record["position"][1])


def rerank(record: dict, weights: Weights) -> list[str]:
    from .engine import Candidate

    items = [Candidate(label, 0, score, kind, label) for label, kind, score in record["items"]]
    return [c.label for c in combine(items, record["cache_p"], record["static_order"], weights)]


def tune(records: list[dict]) -> tuple[dict[tuple[str, bool], Weights], float]:
    """For each position (and typed or not), the mixture weights with the best MRR@5 on its records."""
    chosen = {}
    for position in WEIGHTS:
        group = [r for r in records if _key(r) == position]
        best, best_mrr = WEIGHTS[position], -1.0
        for wc, ws in GRID if group else []:
            w = Weights(model=round(1.0 - wc - ws, 2), cache=round(float(wc), 2), static=round(float(ws), 2))
            mrr = float(np.mean([_rr(rerank(r, w), r["gold"]) for r in group]))
            if mrr > best_mrr + 1e-9:
                best, best_mrr = w, mrr
        chosen[position] = best
    return chosen, float(np.mean([_rr(rerank(r, chosen[_key(r)]), r["gold"]) for r in records]))


def summarise(records: list[dict], weights: dict[tuple[str, bool], Weights]) -> dict:
    for r in records:
        r["labels"]["combined"] = rerank(r, weights[_key(r)])
    out = {}
    for name in RANKERS:
        by_kind: dict[str, list[float]] = {}
        for r in records:
            by_kind.setdefault(r["kind"], []).append(_rr(r["labels"][name], r["gold"]))
        ms = [r["ms"][name] for r in records]
        out[name] = {
            "mrr5": round(float(np.mean([x for v in by_kind.values() for x in v])), 4),
            "top1": round(float(np.mean([float(_rr(r["labels"][name], r["gold"]) == 1.0) for r in records])), 4),
            "mrr5_by_kind": {k: round(float(np.mean(v)), 4) for k, v in sorted(by_kind.items())},
            "ms_p50": round(float(np.percentile(ms, 50)), 1),
            "ms_p95": round(float(np.percentile(ms, 95)), 1),
        }
    return out


def run(engine, folder: Path, points: int, seed: int, static_ms: int, typed: tuple[int, ...] = (0, 1)) -> dict:
    """Weights tuned on dev points (seed + 1000) with each number of typed characters, then
    every ranker measured on the test points (seed) with each."""
    files = sorted(folder.rglob("*.py"))
    texts = [f.read_bytes().decode("utf-8", "replace") for f in files]
    dev = [r for t in typed for r in collect(engine, files, texts, identifier_points(texts, points, seed + 1000),
                                             static_ms, t)]
    weights, dev_mrr = tune(dev)
    tables = []
    for t in typed:
        test = collect(engine, files, texts, identifier_points(texts, points, seed), static_ms, t)
        kinds: dict[str, int] = {}
        for r in test:
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        tables.append({"typed": t, "points": len(test), "points_by_kind": kinds, "rankers": summarise(test, weights),
                       "records": test})
    return {"dir": str(folder), "seed": seed, "static_ms": static_ms, "dev_mrr5": round(dev_mrr, 4),
            "weights": {f"{p}, typed" if t else p: w.__dict__ for (p, t), w in weights.items()},
            "tables": tables, "dev_records": dev}


def table(report: dict) -> str:
    lines = [f"weights (model, cache, jedi order) tuned on dev points, MRR@5 there {report['dev_mrr5']}:"]
    lines += [f"  {k:18} {w['model']:.1f} {w['cache']:.1f} {w['static']:.1f}" for k, w in report["weights"].items()]
    for t in report["tables"]:
        kinds = sorted(t["points_by_kind"])
        lines.append(f"\n{t['typed']} characters typed; points {t['points_by_kind']}")
        lines.append(f"{'ranker':9} {'MRR@5':>6} {'top-1':>6} " + " ".join(f"{k:>9}" for k in kinds) +
                     f" {'p50 ms':>7} {'p95 ms':>7}")
        for name, r in t["rankers"].items():
            lines.append(f"{name:9} {r['mrr5']:>6.3f} {r['top1']:>6.3f} " +
                         " ".join(f"{r['mrr5_by_kind'].get(k, 0):>9.3f}" for k in kinds) +
                         f" {r['ms_p50']:>7.1f} {r['ms_p95']:>7.1f}")
    return "\n".join(lines)
