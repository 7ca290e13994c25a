"""What `nib eval` scores, as pure functions: literal kinds (CodeXGLUE's normalisation), lexical
tokens predicted whole, and the minConfidence curve."""

from __future__ import annotations

import numpy as np

from nib.model.text.lexer import lex

from .points import TRIVIA

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
