"""The prompt states kept for reuse: the longest shared prefix wins, a continued state is replaced,
and the count and bytes stay within their bounds."""

import numpy as np

from nib.model.runtime.base import State
from nib.model.runtime.states import PromptStates


def state(tokens, nbytes=8):
    kv = np.zeros(nbytes // 2, dtype=np.uint8)
    return State(list(tokens), [0] * len(tokens), kv, kv.copy())


def test_the_longest_shared_prefix_is_reused_and_a_continued_state_replaced():
    states = PromptStates()
    a, b = state([1, 2]), state([7, 8, 9, 10])
    states.add(a, None, 0)
    states.add(b, None, 0)
    assert states.best([1, 2, 3], [0, 0, 0]) == (a, 2)
    assert states.best([5], [0]) == (None, 0)
    a2 = state([1, 2, 3])
    states.add(a2, a, 2)  # the same document typed on: a goes
    assert states.stats() == {"states": 2, "bytes": 16}
    assert states.best([1, 2, 3, 4], [0, 0, 0, 0]) == (a2, 3)
    c = state([7, 1])
    states.add(c, b, 1)  # shares less than half of b: another document, b stays
    assert len(states) == 3


def test_count_and_bytes_are_bounded_the_least_recent_going_first():
    states = PromptStates(most=3, most_bytes=20)
    made = [state([n], nbytes=8) for n in range(1, 5)]
    for s in made:
        states.add(s, None, 0)
    assert states.stats() == {"states": 2, "bytes": 16}  # 3 by count, then 2 by bytes
    assert states.best([4], [0]) == (made[3], 1) and states.best([2], [0]) == (None, 0)


def test_a_closed_document_s_states_go_and_a_state_another_continued_is_that_one_s():
    states = PromptStates()
    a, b = state([1, 2]), state([7, 8])
    states.add(a, None, 0, "file:///a.py")
    states.add(b, None, 0, "file:///b.py")
    b2 = state([7, 8, 9])
    states.add(b2, b, 2, "file:///a.py")  # a's prompt continued b's state: b2 is a's, b went (and a)
    states.add(state([5]), None, 0)  # made for no document: only the bounds evict it
    states.drop("")
    assert len(states) == 2
    states.drop("file:///b.py")
    assert len(states) == 2
    states.drop("file:///a.py")
    assert states.stats() == {"states": 1, "bytes": 8} and states.best([5], [0])[1] == 1


def test_moving_about_a_document_keeps_one_state_of_it_and_every_other_document_s():
    """A user at a new place of a.py (a warm-up where the cursor rests): a's state there replaces
    a's state elsewhere, except the one it went on from, and b's stays."""
    states = PromptStates()
    a, b = state([1, 2, 3, 4]), state([7, 8])
    states.add(a, None, 0, "file:///a.py")
    states.add(b, None, 0, "file:///b.py")
    far = state([1, 5, 6, 7])
    states.add(far, a, 1, "file:///a.py")  # went on from a, sharing less than half: a stays for now
    assert states.best([1, 2, 3, 4], [0] * 4) == (a, 4)
    farther = state([1, 5, 6, 7, 9])
    states.add(farther, far, 4, "file:///a.py")  # typed on at the new place: a and far go
    assert len(states) == 2 and states.best([1, 2, 3, 4], [0] * 4) == (farther, 1)
    assert states.best([7, 8], [0, 0]) == (b, 2)


def test_a_state_the_bounds_evict_takes_its_owner_with_it():
    states = PromptStates(most=2)
    for n in range(10):
        states.add(state([n]), None, 0, f"file:///{n}.py")
    assert len(states) == 2 and len(states._owners) == 2  # not one owner per state ever made
    states.drop("file:///9.py")
    assert states.best([8], [0])[1] == 1 and len(states) == 1
