"""The prompt states a model keeps for reuse: the next prompt continues the one it shares the
longest prefix with (several documents, or several editors on one daemon, take turns).

Bounded by count and by bytes; the least recently made goes first. Sizes chosen by
measurement: `benchmarks/results/pretrained/` (KV_BYTES) and `benchmarks/results/load.json`.
"""

from __future__ import annotations

import threading

from .base import State, common_prefix

KV_STATES = 16  # one per editor on a daemon of 16
KV_BYTES = 64 << 20  # Gemma 3 270M's state at its default context is about a quarter of it


class PromptStates:
    def __init__(self, most: int = KV_STATES, most_bytes: int = KV_BYTES):
        self.most, self.most_bytes = most, most_bytes
        self._states: list[State] = []  # most recent first
        self._owners: dict[int, str] = {}  # id(state) -> the document it was made for, "" for none
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
        return (state, length) if length > 0 else (None, 0)

    def add(self, state: State, reused: State | None, shared: int, owner: str = "") -> None:
        """Keep state, made for the document owner, first. It replaces the state it continues (the
        same document typed on: it shares at least half of it), not one it merely starts like
        (another document), and the owner's other states but the one it continued: the user is at
        one place of a document, so moving about it (a warm-up where the cursor rests) holds one
        state, and pushes no other document's or editor's out."""
        replaced = reused if reused is not None and shared >= len(reused) // 2 else None

        def elsewhere(st: State) -> bool:
            return st is reused or not owner or self._owners.get(id(st)) != owner

        with self._lock:
            kept = [state] + [st for st in self._states if st is not replaced and elsewhere(st)][: self.most - 1]
            while len(kept) > 1 and _bytes(kept) > self.most_bytes:
                kept.pop()
            self._keep(kept, {**self._owners, id(state): owner})

    def drop(self, owner: str) -> None:
        """Forget the states made for the document owner (it closed); a state another document's
        prompt continued since belongs to that one."""
        if not owner:
            return
        with self._lock:
            self._keep([st for st in self._states if self._owners.get(id(st)) != owner], self._owners)

    def _keep(self, states: list[State], owners: dict[int, str]) -> None:
        self._states = states
        self._owners = {id(st): owners.get(id(st), "") for st in states}

    def stats(self) -> dict:
        """What is held: {"states": count, "bytes": their keys and values}."""
        with self._lock:
            return {"states": len(self._states), "bytes": _bytes(self._states)}

    def __len__(self) -> int:
        return len(self._states)


def _bytes(states: list[State]) -> int:
    return sum(int(st.keys.nbytes + st.values.nbytes) for st in states)
