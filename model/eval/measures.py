"""What `nib eval` scores, as pure functions: literal kinds (CodeXGLUE's normalisation), lexical
tokens predicted whole, the minConfidence curve, and bootstrap intervals over cuts."""

from __future__ import annotations

import numpy as np

from nib.model.text.lexer import lex

from .points import TRIVIA

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0  # fixed: the same cuts give the same intervals, so a committed report can be rerun

_STRING_OPENERS = tuple(
    p + q for p in ("", "r", "b", "u", "f", "rb", "br", "R", "B", "F", "fr", "rf") for q in ("'", '"')
)


def literal_kind(text: str) -> str | None:
    """STR or NUM if text (leading spaces ignored) starts a literal, else None."""
    body = text.lstrip()
    if body[:1].isdigit():
        return "NUM"
    if body.startswith(_STRING_OPENERS):
        return "STR"
    return None


def score_tokens(text: str, ids, preds, token_bytes) -> tuple[int, int]:
    """Lexical tokens whose every BPE piece was predicted (literals by kind)."""
    lengths = np.array([len(token_bytes[i]) for i in ids])
    ends = np.cumsum(lengths)
    starts = ends - lengths
    data = text.encode("utf-8", "surrogatepass")
    correct = total = 0
    for tok in lex(text, roles=False):
        if tok.type in TRIVIA:
            continue
        total += 1
        first = int(np.searchsorted(ends, tok.start, side="right"))
        last = int(np.searchsorted(starts, tok.end, side="left"))
        pieces = range(first, last)
        if tok.type in ("STRING", "NUMBER"):
            gold_kind = "STR" if tok.type == "STRING" else "NUM"
            guess = token_bytes[preds[first]].decode("utf-8", "ignore") if preds[first] >= 0 else ""
            own = data[starts[first] : tok.start].strip() == b""  # the piece begins with this literal
            if preds[first] == ids[first] or (own and literal_kind(guess) == gold_kind):
                correct += 1
            continue
        correct += all(preds[j] == ids[j] for j in pieces)
    return correct, total


def confidence_curve(scores: list[float], exact: list[float], percents=(0, 1, 2, 5, 10, 15, 20, 30, 40, 50, 70)):
    """For each minConfidence (percent): the share of cuts that show ghost text (the statement's
    probability, exp(score), at least that) and the exact match among those shown.

    Example: confidence_curve([-0.1, -5], [1, 0], [10]) == [{"min_confidence": 10, "shown": 0.5, "exact_shown": 1.0}]
    """
    score, hit = np.asarray(scores, dtype=float), np.asarray(exact, dtype=float)
    out = []
    for pct in percents:
        shown = score >= (np.log(pct / 100) if pct > 0 else -np.inf)
        if pct == 0:
            shown = np.isfinite(score)  # 0: every statement the model gives
        out.append(
            {
                "min_confidence": pct,
                "shown": round(float(shown.mean()), 4) if len(score) else 0.0,
                "exact_shown": round(float(hit[shown].mean()), 4) if shown.any() else None,
            }
        )
    return out


def bootstrap_ci(values, digits: int = 4, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED):
    """The percentile bootstrap 95% interval of the mean over cuts, rounded to digits (None without
    cuts). On per-cut differences of two models it is their paired interval: each resample draws
    the same cuts for both, so what the cuts share cancels.

    Example: bootstrap_ci([1, 1, 1]) == [1.0, 1.0]; bootstrap_ci([]) is None
    """
    x = np.asarray(values, dtype=float)
    if not len(x):
        return None
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(resamples, len(x)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return [round(float(lo), digits) + 0.0, round(float(hi), digits) + 0.0]  # adding zero drops a negative zero's sign
