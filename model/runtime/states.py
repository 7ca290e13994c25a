"""The prompt states a model keeps for reuse: the next prompt continues the one it shares the
longest prefix with (several documents, or several editors on one daemon, take turns).

Bounded by count and by bytes; the least recently made goes first. Sizes chosen by
measurement: `benchmarks/results/pretrained/` (KV_BYTES) and `benchmarks/results/load.json`.

Only the latest state is typed on; the others wait for their document to come back. They are
kept at half precision (STORED), half the memory, and made float32 again when one is reused:
`benchmarks/results/memory/` has the server's memory and the statements with and without.
"""

from __future__ import annotations

import threading

import numpy as np

from .base import State, common_prefix

KV_STATES = 16  # one per editor on a daemon of 16
# Four of Gemma 3 270M's states at its default context: the latest (16 MB) and three at half precision
KV_BYTES = 40 << 20
STORED = np.float16  # the keys and values of the states not typed on


class PromptStates:
    def __init__(self, most: int = KV_STATES, most_bytes: int = KV_BYTES):
        self.most, self.most_bytes = most, most_bytes
        self._states: list[State] = []  # most recent first
        self._lock = threading.Lock()

    def best(self, ids, types) -> tuple[State | None, int]:
        """The state sharing the longest prefix with (ids, types), the latest on a tie, and how
        many pairs it shares; (None, 0) when none shares any.

        For example, with states over [1, 2] then [1, 2, 3] (latest first), [1, 2, 3, 4] gets the
        state over [1, 2, 3] and 3.
        """
        with self._lock:
            states = list(self._states)
        shared = [(common_prefix(st, ids, types), -i, st) for i, st in enumerate(states)]
        length, _, state = max(shared, default=(0, 0, None), key=lambda x: (x[0], x[1]))
        return (_in_use(state), length) if state is not None and length > 0 else (None, 0)

    def add(self, state: State, reused: State | None, shared: int) -> None:
        """Keep state, first. It replaces the state it continues (the same document typed on:
        it shares at least half of it), not one it merely starts like (another document)."""
        replaced = reused if reused is not None and shared >= len(reused) // 2 else None
        with self._lock:
            # a state and its float32 copy (from `best`) share their tokens' tuple
            others = [_stored(st) for st in self._states if replaced is None or st.tokens is not replaced.tokens]
            kept = [state] + others[: self.most - 1]
            while len(kept) > 1 and _bytes(kept) > self.most_bytes:
                kept.pop()
            self._states = kept

    def stats(self) -> dict:
        """What is held: {"states": count, "bytes": their keys and values}."""
        with self._lock:
            return {"states": len(self._states), "bytes": _bytes(self._states)}

    def __len__(self) -> int:
        return len(self._states)


def _stored(state: State) -> State:
    if state.keys.dtype == STORED:
        return state
    return State(state.tokens, state.types, state.keys.astype(STORED), state.values.astype(STORED))


def _in_use(state: State) -> State:
    if state.keys.dtype == np.float32:
        return state
    return State(state.tokens, state.types, state.keys.astype(np.float32), state.values.astype(np.float32))


def _bytes(states: list[State]) -> int:
    return sum(int(st.keys.nbytes + st.values.nbytes) for st in states)
