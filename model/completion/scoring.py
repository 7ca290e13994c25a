"""Scoring a fixed set of names by the model (the engine's `score_names` step).

jedi knows which names are valid at the cursor; the model knows which of them
the programmer is about to write. `score_sequences` gives each name's
log-probability over its BPE pieces with a few batched steps (the prompt's KV
state shared, a trie walked best-first), so ranking 200 attribute names costs
about as much as one list decode, not 200.
"""

from __future__ import annotations

import numpy as np

from nib.model.runtime import log_softmax

# A name whose pieces were not all scored (it fell out of the beam) gets this
# much per unscored piece: about the model's mean loss per token on unseen
# code (2.66 nats), so it ranks below names that were scored to the end.
UNSCORED_PIECE = -2.7
# A piece the model's pruned output head does not score (Gemma's head keeps the tokens of Python
# code; a name may still be spelt with a rare one): as unlikely as a rare token, not an error.
RARE_PIECE = -12.0


def piece_logprob(lp: np.ndarray, token: int) -> float:
    """lp[token] where the head scores it, else RARE_PIECE.

    Example: piece_logprob(np.log([0.5, 0.5]), 7) == RARE_PIECE
    """
    return float(lp[token]) if token < lp.shape[-1] else RARE_PIECE


def score_sequences(
    runtime,
    logits: np.ndarray,
    state,
    seqs: list[tuple[int, ...]],
    k: int = 5,
    rows: int = 4,
    depth: int = 4,
    piece_type=None,
) -> np.ndarray:
    """log P(seq | prompt) for each token sequence: exact for the likeliest ones.

    Depth by depth, the `rows` most promising open prefixes (shared by all
    names that start with them) are extended in one batched step; a prefix
    whose score is already below the k-th best complete name cannot enter the
    top k and is not extended. Names left open get UNSCORED_PIECE per piece.

    For example, [(id("append"),), (id("app"), id("end_all"))] score [lp(append), lp(app) + lp(end_all | app)].
    """
    if not seqs:
        return np.zeros(0)
    lp = log_softmax(logits)
    score = np.array([piece_logprob(lp, s[0]) for s in seqs], dtype=np.float64)
    done_at = np.array([len(s) for s in seqs])  # pieces in each sequence
    scored = np.ones(len(seqs), dtype=np.int64)  # pieces scored so far
    open_ = [i for i in range(len(seqs)) if done_at[i] > 1]
    keys, values = runtime.empty(1)  # the rows' own caches; the prompt's is shared
    row_of: dict[tuple[int, ...], int] = {(): 0}  # a prefix -> its row of the batch
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
        step_logits, keys, values = runtime.step_rows(
            state, keys[:, parents], values[:, parents], [p[-1] for p in chosen], types
        )
        row_of = {p: j for j, p in enumerate(chosen)}
        step_lp = log_softmax(step_logits)
        still = []
        for i in open_:
            row = row_of.get(seqs[i][:d])
            if row is None:
                continue  # not extended: stays as it is
            score[i] += piece_logprob(step_lp[row], seqs[i][d])
            scored[i] += 1
            if scored[i] < done_at[i]:
                still.append(i)
        open_ = still
    return score + UNSCORED_PIECE * (done_at - scored)
