"""The bytes of each token id, held in one buffer.

A pretrained vocabulary has hundreds of thousands of tokens, and a `bytes` object of its own for
each costs an object's header and a pointer beside a few bytes. Reading a token's bytes makes a
small `bytes` object, as decoding and healing need.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import overload


class Pieces(Sequence[bytes]):
    """Example: Pieces([b"pr", b"int", b""])[1] == b"int" and len(Pieces([b"a", b"b"])) == 2"""

    def __init__(self, pieces: Iterable[bytes]):
        data, self._starts = bytearray(), array("I", [0])  # token i: _data[_starts[i] : _starts[i + 1]]
        for piece in pieces:  # one at a time: no list of them all, even while loading
            data += piece
            self._starts.append(len(data))
        self._data = bytes(data)

    def __len__(self) -> int:
        return len(self._starts) - 1

    @overload
    def __getitem__(self, i: int) -> bytes: ...

    @overload
    def __getitem__(self, i: slice) -> list[bytes]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("token id out of range")
        return self._data[self._starts[i] : self._starts[i + 1]]
