"""The prompt states kept for reuse: the longest shared prefix wins, a continued state is replaced,
the states not typed on are kept at half precision, and the count and bytes stay within their bounds."""

import numpy as np

from nib.model.runtime.base import State
from nib.model.runtime.states import PromptStates


def state(tokens, floats=2):
    """A state whose keys and values are `floats` float32 numbers each (8 bytes for 2 floats)."""
    kv = np.arange(floats, dtype=np.float32) + len(tokens) / 3
    return State(tuple(tokens), (0,) * len(tokens), kv, -kv)


def same(a: State, b: State) -> bool:
    return (a.tokens, a.types, a.keys.dtype, a.keys.tolist(), a.values.tolist()) == (
        b.tokens,
        b.types,
        b.keys.dtype,
        b.keys.tolist(),
        b.values.tolist(),
    )


def test_the_longest_shared_prefix_is_reused_and_a_continued_state_replaced():
    states = PromptStates()
    a, b = state([1, 2]), state([7, 8, 9, 10])
    states.add(a, None, 0)
    states.add(b, None, 0)
    reused, shared = states.best([1, 2, 3], [0, 0, 0])
    assert shared == 2 and reused.keys.dtype == np.float32
    assert reused.keys.tolist() == a.keys.astype(np.float16).astype(np.float32).tolist()  # [0.6665, 1.667]
    assert states.best([5], [0]) == (None, 0)
    a2 = state([1, 2, 3])
    states.add(a2, reused, 2)  # the same document typed on: a goes (reused is its float32 copy)
    assert states.stats() == {"states": 2, "bytes": 16 + 8}  # a2 whole, b at half precision
    assert states.best([1, 2, 3, 4], [0, 0, 0, 0]) == (a2, 3)
    c = state([7, 1])
    states.add(c, b, 1)  # shares less than half of b: another document, b stays
    assert len(states) == 3


def test_the_state_typed_on_is_kept_whole_the_others_at_half_precision():
    states = PromptStates()
    first, second = state([1, 2, 3]), state([4, 5])
    states.add(first, None, 0)
    states.add(second, None, 0)
    assert same(states.best([4, 5, 6], [0, 0, 0])[0], second)  # the latest, as it was made: not copied
    assert states.best([4, 5, 6], [0, 0, 0])[0] is second
    again, _ = states.best([1, 2, 3, 9], [0, 0, 0, 0])
    assert same(again, state([1, 2, 3]))  # 1.0 and 2.0 are exact at half precision
    assert states.stats()["bytes"] == 16 + 8


def test_count_and_bytes_are_bounded_the_least_recent_going_first():
    states = PromptStates(most=3, most_bytes=28)
    made = [state([n]) for n in range(1, 5)]
    for s in made:
        states.add(s, None, 0)
    # 3 by count: 16 bytes for the latest, 8 for each other; 32 > 28, so the least recent goes
    assert states.stats() == {"states": 2, "bytes": 24}
    assert states.best([4], [0]) == (made[3], 1) and states.best([2], [0]) == (None, 0)
