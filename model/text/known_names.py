"""The statement's first name kept to names jedi knows at the cursor (a monitor over decoding).

After `.` and in an import jedi's list is the whole truth (`JediAnswer.confident`): a name not
in it is an attribute the object does not have, or a name the module does not define. While the
statement writes its first name, only tokens that keep it on the way to one of those names, or
end one of them, may come next; after that it goes on freely. Agrawal et al., "Guiding Language
Models of Code with Global Context using Monitors" (NeurIPS 2023), ask the static analysis again
at each `.` the model writes; nib asks it at the cursor only, where the list has asked already.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

from .heal import VocabIndex

# The bytes a Python name goes on with, as runs [start, end): digits, A-Z, _, a-z, and every
# non-ASCII byte (a name may hold letters of any script; a byte of one never ends a name).
NAME_RUNS = ((0x30, 0x3A), (0x41, 0x5B), (0x5F, 0x60), (0x61, 0x7B), (0x80, 0x100))


def continues_name(byte: int) -> bool:
    """Example: continues_name(ord("_")) and not continues_name(ord("("))"""
    return any(start <= byte < end for start, end in NAME_RUNS)


class NameMonitor:
    """Which tokens may come next while the statement writes its first name.

    targets: each known name as the bytes the statement writes for it, from the back-off point
    (what healing removed comes first: every target starts with it).
    """

    def __init__(self, index: VocabIndex, targets: Sequence[bytes]):
        self.index = index
        self.targets = tuple(dict.fromkeys(targets))
        self.done = False  # a whole name is written: decoding is free from here

    def allowed(self, generated: bytes, size: int) -> np.ndarray | None:
        """A mask over the first size token ids of what may follow generated; None once a whole
        name has been written and something else after it (or generated is on no name's way)."""
        if self.done or any(
            len(generated) > len(t) and generated.startswith(t) and not continues_name(generated[len(t)])
            for t in self.targets
        ):
            self.done = True
            return None
        mask = np.zeros(size, dtype=bool)
        on_the_way = False
        for t in self.targets:
            if not t.startswith(generated):
                continue
            on_the_way = True
            rest = t[len(generated) :]
            for ids in (self._ending(rest), np.array(self.index.prefixes_of(rest), dtype=np.int64)):
                mask[ids[ids < size]] = True
            if not rest:  # the name is whole: the statement may also end here
                special = np.array(sorted(self.index.special), dtype=np.int64)
                mask[special[special < size]] = True
        self.done = not on_the_way
        return mask if on_the_way else None

    def _ending(self, rest: bytes) -> np.ndarray:
        """Ids of the tokens that are rest, or rest and then a byte that does not go on with a name."""
        index = self.index
        keys = index.sorted_bytes
        lo = bisect_left(keys, rest)
        hi = bisect_left(keys, rest + b"\xff" * (index.max_len + 1))
        parts, start = [], lo
        for first, end in NAME_RUNS:
            run_lo = bisect_left(keys, rest + bytes([first]), lo, hi)
            run_hi = hi if end > 0xFF else bisect_left(keys, rest + bytes([end]), lo, hi)
            parts.append(index.sorted_ids[start:run_lo])
            start = max(start, run_hi)
        parts.append(index.sorted_ids[start:hi])
        return np.concatenate(parts)
