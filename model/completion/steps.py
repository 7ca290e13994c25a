"""A prompt prefilled in steps, each step's state kept for reuse, so that work that must stop
(a keystroke supersedes it, or a statement's budget ends) stops between two steps and loses
none of them: the next prompt that shares the prefix goes on from the last.

The step sizes trade how soon work stops against what a step costs: each is a pass of the
model, which costs more than its share of one pass over the whole prompt
(`benchmarks/prefill_steps.py`, `benchmarks/results/prefill/`).
"""

from __future__ import annotations

import time

from nib.model.errors import Cancelled
from nib.model.runtime import Runtime
from nib.model.runtime.states import PromptStates

WARM_STEP = 32  # tokens a warm-up prefills between two looks at its cancel flag
PREFILL_STEP = 64  # ... a statement, between two looks at its cancel flag and its budget


class Unfilled(Exception):
    """A statement's budget ended before its prompt was prefilled; args[0]: the tokens left."""


def prefill_in_steps(
    runtime: Runtime, states: PromptStates, ids, types, reused, shared: int, step: int, cancel, owner: str, deadline
):
    """Prefill ids but their last step, step tokens at a time, each step's state kept in states
    (made for the document owner), from reused, the state over ids[:shared].

    Before each step: raises Cancelled when cancel is set, and Unfilled when the step would end
    past deadline (time.monotonic(); None: none), a step taken to cost as much as the slowest so
    far, and the step before the last with the last. The last step is the caller's: its logits
    give a statement its first token. The state over all but the last step, and how many tokens
    it holds."""
    slowest = 0.0
    for end in range(shared + step, len(ids), step):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        started, steps = time.monotonic(), 2 if end + step >= len(ids) else 1
        if deadline is not None and started + steps * slowest > deadline:
            raise Unfilled(len(ids) - shared)
        _, state = runtime.prefill(ids[:end], types[:end], reused, every=False)
        states.add(state, reused, shared, owner)
        reused, shared = state, end
        slowest = max(slowest, time.monotonic() - started)
    return reused, shared
