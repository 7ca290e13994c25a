"""Ranking a fixed set of names by the model, and mixing in the cache and jedi's order.

Static analysis knows which names are valid at the cursor; the model knows
which of them the programmer is about to write. `score_sequences` gives each
name's log-probability over its BPE pieces with a few batched steps (the
prompt's cache shared, a trie walked best-first), so ranking 200 attribute
names costs about as much as one list decode, not 200. `mix` combines that
with the identifier cache and jedi's own order (IntelliCode-style).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .decode import log_softmax

# A name whose pieces were not all scored (it fell out of the beam) gets this
# much per unscored piece: about the model's mean loss per token on held-out
# code (2.66 nats), so it ranks below names that were scored to the end.
UNSCORED_PIECE = -2.7


def score_sequences(runtime, logits: np.ndarray, state, seqs: list[tuple[int, ...]], k: int = 5,
                    rows: int = 4, depth: int = 4, piece_type=None) -> np.ndarray:
    """log P(seq | prompt) for each token sequence: exact for the likeliest ones.

    Depth by depth, the `rows` most promising open prefixes (shared by all
    names that start with them) are extended in one batched step; a prefix
    whose score is already below the k-th best complete name cannot enter the
    top k and is not extended. Names left open get UNSCORED_PIECE per piece.

    Example: seqs [(id("append"),), (id("app"), id("end_all"))] -> [lp(append), lp(app) + lp(end_all | app)]
    """
    n = len(seqs)
    if n == 0:
        return np.zeros(0)
    lp = log_softmax(logits)
    score = np.array([lp[s[0]] for s in seqs], dtype=np.float64)
    done_at = np.array([len(s) for s in seqs])  # pieces in each sequence
    scored = np.ones(n, dtype=np.int64)  # pieces scored so far
    open_ = [i for i in range(n) if done_at[i] > 1]
    keys, values, row_of = state.keys, state.values, {(): 0}
    for d in range(1, depth + 1):
        if not open_:
            break
        complete = score[scored == done_at]
        kth = np.sort(complete)[-k] if len(complete) >= k else -np.inf
        best: dict[tuple[int, ...], float] = {}
        for i in open_:
            p = seqs[i][:d]
            if p[:-1] in row_of and score[i] > kth:
                best[p] = max(best.get(p, -np.inf), score[i])
        chosen = sorted(best, key=lambda p: -best[p])[:rows]
        if not chosen:
            break
        parents = np.array([row_of[p[:-1]] for p in chosen])
        types = [0] * len(chosen) if piece_type is None else [piece_type(p) for p in chosen]
        step_logits, keys, values = runtime.step_batch(keys[:, parents], values[:, parents],
                                                       [p[-1] for p in chosen], types)
        row_of = {p: j for j, p in enumerate(chosen)}
        step_lp = log_softmax(step_logits)
        still = []
        for i in open_:
            row = row_of.get(seqs[i][:d])
            if row is None:
                continue  # not extended: stays as it is
            score[i] += step_lp[row, seqs[i][d]]
            scored[i] += 1
            if scored[i] < done_at[i]:
                still.append(i)
        open_ = still
    return score + UNSCORED_PIECE * (done_at - scored)


@dataclass(frozen=True)
class Weights:
    """Mixture weights of the model, the identifier cache and jedi's order."""

    model: float = 0.6
    cache: float = 0.3
    static: float = 0.1


# By position (static.position_kind) and whether part of the name is typed,
# chosen on held-out dev points apart from the measured ones by
# `nib eval benchmarks/heldout --ranking` (see README).
WEIGHTS = {  # (model, cache, jedi order); dev MRR@5 0.4763 over 600 points
    ("attribute", False): Weights(0.6, 0.3, 0.1),
    ("attribute", True): Weights(0.2, 0.8, 0.0),
    ("import", False): Weights(0.4, 0.0, 0.6),
    ("import", True): Weights(1.0, 0.0, 0.0),
    ("kwarg", False): Weights(0.1, 0.7, 0.2),
    ("kwarg", True): Weights(0.1, 0.4, 0.5),
    ("name", False): Weights(0.5, 0.3, 0.2),
    ("name", True): Weights(0.1, 0.8, 0.1),
}


def mix(model: dict[str, float], cache: dict[str, float], static_order: list[str],
        weights: Weights = Weights()) -> list[tuple[str, float]]:
    """Names ranked by  w_m P_model + w_c P_cache + w_s P_static,  best first.

    model: log-probabilities (normalised here over the names); cache:
    probabilities; static_order: jedi's order, read as a prior 1/(rank + 1).
    """
    names = list(dict.fromkeys([*model, *static_order]))
    if not names:
        return []
    m = np.array([model.get(n, -np.inf) for n in names])
    pm = np.exp(m - m.max()) if np.isfinite(m.max()) else np.zeros(len(names))
    pm = pm / pm.sum() if pm.sum() else pm
    pc = np.array([cache.get(n, 0.0) for n in names])
    rank = {n: r for r, n in enumerate(static_order)}
    ps = np.array([1.0 / (rank[n] + 1) if n in rank else 0.0 for n in names])
    ps = ps / ps.sum() if ps.sum() else ps
    p = weights.model * pm + weights.cache * pc + weights.static * ps
    order = np.argsort(-p, kind="stable")
    return [(names[i], float(np.log(p[i])) if p[i] > 0 else -np.inf) for i in order]
