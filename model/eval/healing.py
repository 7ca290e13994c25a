"""`nib eval`'s healing table: the rest of the line from cuts inside a token against cuts at its start,
per healing mode and kind of token, and the list's MRR@5 for the whole token at the mid-token cuts."""

from __future__ import annotations

import time

import numpy as np
from rapidfuzz import fuzz

from nib.model.progress import Progress
from nib.model.text.lexeme import first_lexeme


def evaluate_healing(predictor, texts, pairs) -> dict:
    """Line exact match / edit similarity from mid-token cuts per healing mode, beside boundary cuts;
    and the list's MRR@5 for the whole token at the mid-token cuts (not for an engine: no list)."""
    out = {}
    for mode in predictor.healing_modes:
        rows: dict[str, dict[str, list]] = {}
        latencies, list_latencies, list_rr = [], [], []
        bar = Progress(len(pairs), "cuts", f"healing {mode}")
        for mid, boundary in pairs:
            if predictor.lists:
                token = first_lexeme(boundary.gold)
                s = time.perf_counter()
                labels = predictor.rank(texts[mid.file], mid.offset, healing=mode)
                list_latencies.append((time.perf_counter() - s) * 1e3)
                gold = token[0].strip() if token else None
                list_rr.append(1.0 / (labels.index(gold) + 1) if gold in labels[:5] else 0.0)
            for name, p in (("mid", mid), ("boundary", boundary)):
                s = time.perf_counter()
                pred, _ = predictor.line(texts[p.file], p.offset, healing=mode)
                if name == "mid":
                    latencies.append((time.perf_counter() - s) * 1e3)
                r = rows.setdefault(p.kind, {}).setdefault(name, [])
                r.append((float(pred.split() == p.gold.split()), fuzz.ratio(pred, p.gold) if pred and p.gold else 0.0))
            bar.update()
        bar.close()

        def summary(items):
            return {
                "exact_match": round(float(np.mean([x[0] for x in items])), 4),
                "edit_similarity": round(float(np.mean([x[1] for x in items])), 2),
                "n": len(items),
            }

        out[mode] = {
            "mid": summary([x for k in rows.values() for x in k["mid"]]),
            "boundary": summary([x for k in rows.values() for x in k["boundary"]]),
            "by_kind": {kind: {name: summary(v) for name, v in r.items()} for kind, r in sorted(rows.items())},
            "ms_p50": round(float(np.percentile(latencies, 50)), 2),
            "ms_p95": round(float(np.percentile(latencies, 95)), 2),
        }
        if list_rr:
            out[mode].update(
                {
                    "list_mrr5": round(float(np.mean(list_rr)), 4),
                    "list_ms_p50": round(float(np.percentile(list_latencies, 50)), 2),
                    "list_ms_p95": round(float(np.percentile(list_latencies, 95)), 2),
                }
            )
    return out
