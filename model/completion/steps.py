"""A prompt prefilled in steps, each step's state kept for reuse, so that work that must stop
(a keystroke supersedes it, or a statement's budget ends) stops between two steps and loses
none of them: the next prompt that shares the prefix goes on from the last.

The step sizes trade how soon work stops against what a step costs: each is a pass of the
model, which costs more than its share of one pass over the whole prompt
(`benchmarks/prefill_steps.py`, `benchmarks/results/prefill/`).

A statement asked by typing has a budget: a prompt whose rest would not be prefilled within it,
at what steps have cost lately (`StepCost`), is not begun. Its answer is nothing, at once, and
its caller goes on prefilling it off the keystroke (`CompletionService`), where the next request
stops it between two steps.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable

from nib.model.errors import Cancelled
from nib.model.runtime import Runtime
from nib.model.runtime.states import PromptStates

WARM_STEP = 32  # tokens a warm-up prefills between two looks at its cancel flag
PREFILL_STEP = 64  # ... a statement, between two looks at its cancel flag and its budget
# A keystroke's own tokens (the typed character and the word healing backs off) cost about a
# decoding pass: prefilled even past the budget, as the statement's first token beats nothing.
TYPED = 4


class Unfilled(Exception):
    """A statement's budget would end before its prompt was prefilled; args[0]: the tokens left."""


class StepCost:
    """What this model's prefill steps have cost lately, per token: the slowest of the last
    RECENT. The cores are shared with the list's model and jedi, so a step costs up to twice as
    much from one keystroke to the next; the slowest keeps a prefill from overrunning a budget.

    Example: StepCost([(64, 0.125), (64, 0.0625)]).seconds(16) == 0.03125
    """

    RECENT = 8

    def __init__(self, steps: Iterable[tuple[int, float]] = ()):
        """steps: (tokens, seconds) of steps taken, oldest first."""
        self._per_token: deque[float] = deque(maxlen=self.RECENT)
        for tokens, seconds in steps:
            self.add(tokens, seconds)

    def add(self, tokens: int, seconds: float) -> None:
        self._per_token.append(seconds / tokens)

    def seconds(self, tokens: int) -> float:
        """What prefilling tokens would take (0 before any step: unknown, tried)."""
        return tokens * max(self._per_token, default=0.0)


def prefill_in_steps(
    runtime: Runtime,
    states: PromptStates,
    ids,
    types,
    reused,
    shared: int,
    step: int,
    cancel,
    owner: str,
    deadline,
    cost: StepCost,
):
    """Prefill ids but their last step, step tokens at a time, each step's state kept in states
    (made for the document owner), from reused, the state over ids[:shared]; each step's time
    added to cost.

    Before each step and the caller's: raises Cancelled when cancel is set, and Unfilled when
    the rest of ids, more than TYPED tokens, would not be prefilled by deadline
    (time.monotonic(); None: none) at cost's rate. The last step is the caller's: its logits
    give a statement its first token. The state over all but the last step, and how many tokens
    it holds."""
    end = shared + step
    while True:
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        started = time.monotonic()
        rest = len(ids) - shared
        if deadline is not None and rest > TYPED and started + cost.seconds(rest) > deadline:
            raise Unfilled(rest)
        if end >= len(ids):
            return reused, shared
        _, state = runtime.prefill(ids[:end], types[:end], reused, every=False)
        states.add(state, reused, shared, owner)
        cost.add(end - shared, time.monotonic() - started)
        reused, shared, end = state, end, end + step
