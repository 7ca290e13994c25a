"""`nib eval`: completion quality on a folder of .py files, for models and a trigram.

Four measures, each over seeded points (`points.py`; CodeXGLUE; CodeFill):
- token accuracy: teacher-forced next lexical token; a lexical token counts when
  every BPE piece over it is the model's top-1. Literals are normalised as
  CodeXGLUE does (<STR_LIT>, <NUM_LIT>): any predicted literal of the right
  kind counts. Whitespace, newlines, indents and comments are not scored.
- identifier MRR@5 (and top-1) where an editor asks for a name: after `.`, in an
  import, at the start of a name in an expression. Rank = place of the gold name
  among the offered labels.
- line level: from a seeded cut at a lexical token boundary, predict the rest of
  the line; exact match (`pred.split() == gold.split()`) and edit similarity
  (rapidfuzz `fuzz.ratio`, 0-100, 0 when either side is empty).
- rest of the line at identifier starts: cuts where a name starts, anywhere in
  a line; the same exact match, and the similarity of the part after the cursor
  only (the whole line's similarity flatters: the typed prefix alone scores
  well). With the statement's score (log-probability) at each cut, the curve of
  the share of cuts that would show ghost text against the exact match of what
  is shown, as a `minConfidence` threshold rises.

Every line figure comes with a percentile bootstrap 95% interval over cuts, and its per-cut values
(`_exact_per_cut`, `_edit_similarity_per_cut`) so that models can be compared later from the
JSON alone. Models measured together share their cuts: the report's `paired` list gives each
later one's difference from the first with a paired interval (the same resampled cuts for both).

Beside them, the healing table (`healing.py`). What is measured is a predictor
(`predictors.py`): a local model, an engine over HTTP, or the trigram baseline.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz

from nib.model.progress import Progress
from nib.model.sources import read_corpus

from .healing import evaluate_healing
from .measures import bootstrap_ci, confidence_curve
from .points import identifier_line_points, identifier_points, line_points, midtoken_points, python_files
from .predictors import EnginePredictor, ModelPredictor
from .trigram import TrigramPredictor

CHARS_PER_FILE = 4096  # token accuracy scores each file's start only (the same text for every tokenizer)
LINE_KEYS = ("line", "name_line")  # the line measures that keep their per-cut values


def predict_lines(predictor, texts, points, bar) -> tuple[list, list, list, list]:
    """The rest of the line at each point: exact matches, edit similarities, the statements'
    scores (-inf where none) and latencies in ms."""
    em, es, scores, ms = [], [], [], []
    for p in points:
        s = time.perf_counter()
        pred, score = predictor.line(texts[p.file], p.offset)
        ms.append((time.perf_counter() - s) * 1e3)
        em.append(float(pred.split() == p.gold.split()))
        es.append(fuzz.ratio(pred, p.gold) if pred and p.gold else 0.0)
        scores.append(score if pred else -np.inf)
        bar.update()
    return em, es, scores, ms


def line_summary(key: str, em: list, es: list) -> dict:
    """`{key}_exact_match` and `_edit_similarity` with their bootstrap intervals (`_ci95`), and the
    per-cut values behind them as strings, compact in the JSON, for paired comparisons later."""
    return {
        f"{key}_exact_match": round(float(np.mean(em)), 4),
        f"{key}_exact_match_ci95": bootstrap_ci(em, 4),
        f"{key}_edit_similarity": round(float(np.mean(es)), 2),
        f"{key}_edit_similarity_ci95": bootstrap_ci(es, 2),
        f"{key}_exact_per_cut": "".join("1" if x else "0" for x in em),
        f"{key}_edit_similarity_per_cut": " ".join(f"{round(x, 2):g}" for x in es),
    }


def line_figures(predictor, texts, points, key: str) -> tuple[dict, list, list]:
    """`line_summary`, `{key}_points`, `_ms_p50` and `_ms_p95` of the rest of the line at points;
    and the exact matches and scores behind them."""
    bar = Progress(len(points), "cuts", f"{key.replace('_', ' ')}s {predictor.name}")
    em, es, scores, ms = predict_lines(predictor, texts, points, bar)
    bar.close()
    return (
        {
            **line_summary(key, em, es),
            f"{key}_points": len(points),
            f"{key}_ms_p50": round(float(np.percentile(ms, 50)), 1),
            f"{key}_ms_p95": round(float(np.percentile(ms, 95)), 1),
        },
        em,
        scores,
    )


def evaluate_name_lines(predictor, texts, name_points) -> dict:
    """The rest of the line at identifier starts, its latency, and the minConfidence curve."""
    figures, em, scores = line_figures(predictor, texts, name_points, "name_line")
    return {
        "name": predictor.name,
        **figures,
        **({"confidence_curve": confidence_curve(scores, em)} if predictor.scored else {}),
    }


def evaluate_one(predictor, texts, id_points, ln_points, name_points=()) -> dict:
    t0 = time.perf_counter()
    bar = Progress(len(texts) + len(id_points) + len(ln_points), "items", f"eval {predictor.name}")
    correct = total = 0
    for text in texts:
        c, t = predictor.token_accuracy(text[:CHARS_PER_FILE])
        correct, total = correct + c, total + t
        bar.update()
    by_kind: dict[str, list[float]] = {}
    top1: dict[str, list[float]] = {}
    latencies = []
    for p in id_points:
        s = time.perf_counter()
        labels = predictor.rank(texts[p.file], p.offset)
        latencies.append((time.perf_counter() - s) * 1e3)
        rr = 1.0 / (labels.index(p.gold) + 1) if p.gold in labels[:5] else 0.0
        by_kind.setdefault(p.kind, []).append(rr)
        top1.setdefault(p.kind, []).append(float(bool(labels) and labels[0] == p.gold))
        bar.update()
    em, es, _, _ = predict_lines(predictor, texts, ln_points, bar)
    bar.close()
    names = evaluate_name_lines(predictor, texts, name_points) if name_points else {}
    all_rr = [x for v in by_kind.values() for x in v]
    all_top1 = [x for v in top1.values() for x in v]
    return {
        "name": predictor.name,
        "type_stream": predictor.type_stream,
        "token_accuracy": round(correct / max(total, 1), 4),
        "tokens_scored": total,
        "identifier_mrr5": round(float(np.mean(all_rr)), 4),
        "identifier_top1": round(float(np.mean(all_top1)), 4),
        "identifier_mrr5_by_kind": {k: round(float(np.mean(v)), 4) for k, v in sorted(by_kind.items())},
        "identifier_points_by_kind": {k: len(v) for k, v in sorted(by_kind.items())},
        **line_summary("line", em, es),
        "line_points": len(ln_points),
        "list_latency_ms_p50": round(float(np.percentile(latencies, 50)), 2) if latencies else None,
        **names,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def evaluate_lines(predictor, texts, ln_points, name_points) -> dict:
    """The statement alone (an engine: no list, no logits): lines at token boundaries and at
    identifier starts, with latencies."""
    t0 = time.perf_counter()
    lines = line_figures(predictor, texts, ln_points, "line")[0]
    names = evaluate_name_lines(predictor, texts, name_points)
    return {**lines, **names, "seconds": round(time.perf_counter() - t0, 1)}


def run(
    folder: Path,
    models: list,
    trigram_corpus: Path | None,
    points: int,
    seed: int,
    threads: int,
    healing: bool = True,
    healing_only: bool = False,
    name_lines_only: bool = False,
    context_tokens: int | None = None,
    engines: Sequence[tuple[str, str, str]] = (),
    fims: Sequence[str | None] = (None,),
    after: bool = False,
    statement_healing: str = "exact",
    device: str = "cpu",
) -> dict:
    """models: local model paths or names, each with each FIM layout of fims (None: its own);
    engines: (url, model name, healing) of engines over HTTP; after: statements see the lines
    after the cut's line; device: the setting `model.device` the local models run with."""
    files = python_files(folder)
    texts = [f.read_bytes().decode("utf-8", "replace") for f in files]
    id_points = identifier_points(texts, points, seed)
    ln_points = line_points(texts, points, seed)
    name_points = identifier_line_points(texts, points, seed)
    pairs = midtoken_points(texts, points, seed) if healing else []
    results = []
    predictors: list[Callable[[], ModelPredictor | EnginePredictor]] = [
        partial(ModelPredictor, m, threads, context_tokens, fim, after, statement_healing, device)
        for m in models
        for fim in fims
    ]
    predictors += [partial(EnginePredictor, *e, context_tokens=context_tokens) for e in engines]
    for make in predictors:
        predictor = make()
        try:
            results.append(
                _evaluate(predictor, texts, id_points, ln_points, name_points, pairs, healing_only, name_lines_only)
            )
        finally:
            predictor.close()
    if trigram_corpus is not None:
        results.append(
            evaluate_one(TrigramPredictor(t for _, t in read_corpus(trigram_corpus)), texts, id_points, ln_points)
        )
    report = {"dir": str(folder), "files": len(files), "seed": seed, "points": points, "results": results}
    report["after"] = after
    return {**report, "paired": paired(results)} if len(results) > 1 else report


def _evaluate(predictor, texts, id_points, ln_points, name_points, pairs, healing_only, name_lines_only) -> dict:
    """One predictor's report: the measures it can make, and the healing table when asked."""
    if healing_only:
        result = {"name": predictor.name, "type_stream": predictor.type_stream}
    elif name_lines_only:
        result = evaluate_name_lines(predictor, texts, name_points)
    elif not predictor.lists:
        result = evaluate_lines(predictor, texts, ln_points, name_points)
    else:
        result = evaluate_one(predictor, texts, id_points, ln_points, name_points)
    if pairs:
        result["healing"] = evaluate_healing(predictor, texts, pairs)
    return result


def per_cut(result: dict, key: str) -> tuple[np.ndarray, np.ndarray]:
    """The exact matches and edit similarities of a line measure, cut by cut, read back from a result."""
    exact = np.array([int(c) for c in result[f"{key}_exact_per_cut"]], dtype=float)
    return exact, np.array(result[f"{key}_edit_similarity_per_cut"].split(), dtype=float)


def paired(results: list[dict]) -> list[dict]:
    """Each later result against the first, per line measure both have: the difference of the means
    (later minus first) with its paired bootstrap interval. Read from the per-cut strings, so a
    committed report gives the same figures again."""
    base, out = results[0], []
    for r in results[1:]:
        for key in LINE_KEYS:
            if f"{key}_exact_per_cut" not in r or f"{key}_exact_per_cut" not in base:
                continue
            (ea, sa), (eb, sb) = per_cut(base, key), per_cut(r, key)
            if not len(ea) or len(ea) != len(eb):
                continue
            out.append(
                {
                    "name": r["name"],
                    "against": base["name"],
                    "measure": key,
                    "points": len(ea),
                    "exact_match_diff": round(float(np.mean(eb - ea)), 4) + 0.0,
                    "exact_match_diff_ci95": bootstrap_ci(eb - ea, 4),
                    "edit_similarity_diff": round(float(np.mean(sb - sa)), 2) + 0.0,
                    "edit_similarity_diff_ci95": bootstrap_ci(sb - sa, 2),
                }
            )
    return out


def table(report: dict) -> str:
    """The report as text: a grid of the measured runs, then a line or a block per further measure."""
    results = report["results"]
    measured = [r for r in results if "token_accuracy" in r]
    kinds = [
        f"{r['name']}: MRR@5 by kind {r['identifier_mrr5_by_kind']} (points {r['identifier_points_by_kind']})"
        for r in measured
    ]
    curves = [_name_line(r) for r in results if "name_line_exact_match" in r]
    heal = [line for r in results if "healing" in r for line in _healing(r)]
    engines = [_engine_line(r) for r in results if "line_ms_p50" in r]
    pairs = [_paired(p) for p in report.get("paired", [])]
    return "\n".join((_grid(measured) + [""] if measured else []) + kinds + engines + curves + pairs + heal)


def _figure(r: dict, key: str) -> str:
    """A figure, with its bootstrap interval beside it when it has one."""
    ci = r.get(f"{key}_ci95")
    return f"{r.get(key, '-')}" + (f" [{ci[0]}, {ci[1]}]" if ci else "")


def _paired(p: dict) -> str:
    """One model's difference from the first on the same cuts, with its paired interval."""
    em, es = p["exact_match_diff_ci95"], p["edit_similarity_diff_ci95"]
    return (
        f"{p['name']} minus {p['against']}, {p['measure'].replace('_', ' ')}: exact {p['exact_match_diff']:+} "
        f"[{em[0]}, {em[1]}], similarity {p['edit_similarity_diff']:+} [{es[0]}, {es[1]}] "
        f"({p['points']} cuts, paired bootstrap 95%)"
    )


def _grid(measured: list[dict]) -> list[str]:
    """One row per measured run under a header, columns padded to their widest cell."""
    cols = [
        "name",
        "type_stream",
        "token_accuracy",
        "identifier_mrr5",
        "identifier_top1",
        "line_exact_match",
        "line_edit_similarity",
        "list_latency_ms_p50",
    ]
    rows = [cols] + [[_figure(r, c) for c in cols] for r in measured]
    widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return lines


def _name_line(r: dict) -> str:
    """The rest of the line at identifier starts, with the minConfidence curve when there is one."""
    curve = (
        "; minConfidence % -> share shown / exact match of those shown: "
        + ", ".join(f"{c['min_confidence']}: {c['shown']:.2f}/{c['exact_shown']}" for c in r["confidence_curve"])
        if "confidence_curve" in r
        else ""
    )
    return (
        f"{r['name']}: rest of the line at identifier starts: exact {_figure(r, 'name_line_exact_match')}, "
        f"similarity after the cursor {_figure(r, 'name_line_edit_similarity')} ({r['name_line_points']} cuts, p50 "
        f"{r['name_line_ms_p50']} ms)" + curve
    )


def _healing(r: dict) -> list[str]:
    """Rest-of-line from cuts inside a token vs at its start, by healing mode, cut and kind."""
    heal = [
        f"\n{r['name']}: rest-of-line from cuts inside a token vs at its start",
        f"{'healing':8} {'cut':9} {'kind':11} {'EM':>6} {'ES':>6} {'n':>4}",
    ]
    for mode, h in r["healing"].items():
        for cut in ("mid", "boundary"):
            heal.append(
                f"{mode:8} {cut:9} {'all':11} {h[cut]['exact_match']:>6.3f} "
                f"{h[cut]['edit_similarity']:>6.1f} "
                f"{h[cut]['n']:>4}"
            )
        for kind, v in h["by_kind"].items():
            heal.append(
                f"{mode:8} {'mid':9} {kind:11} {v['mid']['exact_match']:>6.3f} "
                f"{v['mid']['edit_similarity']:>6.1f} {v['mid']['n']:>4}"
            )
        heal.append(f"{mode:8} latency of a mid-token statement: p50 {h['ms_p50']} ms, p95 {h['ms_p95']} ms")
        if "list_mrr5" in h:
            heal.append(
                f"{mode:8} list at mid-token cuts: MRR@5 {h['list_mrr5']:.3f} for the whole token, "
                f"p50 {h['list_ms_p50']} ms, p95 {h['list_ms_p95']} ms"
            )
    return heal


def _engine_line(r: dict) -> str:
    """Lines at token boundaries, as an inference engine completes them."""
    return (
        f"{r['name']}: lines at token boundaries: exact {_figure(r, 'line_exact_match')}, similarity "
        f"{_figure(r, 'line_edit_similarity')} ({r['line_points']} cuts, p50 {r['line_ms_p50']} ms, "
        f"p95 {r['line_ms_p95']} ms)"
    )
