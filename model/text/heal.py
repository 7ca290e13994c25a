"""Token healing: when the cursor splits a token, back off and constrain the first steps.

A prompt that ends inside what the model would write as one token (`pri|`,
`x =|` meaning `==`) makes a plain model complete from a tokenization it never
saw in training. Healing backs off the last token(s) while the removed bytes
could still be part of a longer token, then lets the first generated tokens be
only those that reproduce the removed bytes (a token that starts with them, or
one that is a prefix of them, multi-step), renormalised over that set (`prefix` mode).

The `exact` mode follows Phan et al. (ICLR 2025): the probability of the text
going on from the typed bytes is the sum over its *covers* (token paths whose
last token reaches past the typed bytes), each weighted by its joint
probability, not renormalised step by step, and only canonical paths count
(those the tokenizer itself would produce). Renormalising each step, as
`prefix` does, inflates paths that split a word the tokenizer keeps whole.
Pure: no I/O, no model. See papers.md.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import numpy as np


class VocabIndex:
    """The vocabulary's bytes, sorted so that all tokens extending a prefix form one range."""

    def __init__(self, token_bytes: Sequence[bytes], special_ids, generated: int | None = None):
        """generated: only ids below it can be generated (a pruned output head scores those);
        the rest still have bytes, for healing a prompt that ends in one."""
        self.token_bytes = token_bytes
        self.special = frozenset(special_ids)
        n = len(token_bytes) if generated is None else generated
        pairs = sorted((b, i) for i, b in enumerate(token_bytes[:n]) if i not in self.special)
        self.sorted_bytes = [b for b, _ in pairs]
        self.sorted_ids = np.array([i for _, i in pairs], dtype=np.int64)
        self.by_bytes = {b: i for b, i in pairs}
        self.max_len = max(len(b) for b in self.sorted_bytes)

    def extending(self, prefix: bytes) -> np.ndarray:
        """Ids of tokens whose bytes start with prefix.

        Example: VocabIndex([b"pr", b"pri", b"print", b"x"], ()).extending(b"pri").tolist() == [1, 2]
        """
        lo = bisect_left(self.sorted_bytes, prefix)
        hi = bisect_left(self.sorted_bytes, prefix + b"\xff" * (self.max_len + 1))
        return self.sorted_ids[lo:hi]

    def prefixes_of(self, data: bytes) -> list[int]:
        """Ids of tokens that are proper prefixes of data (they leave bytes to reproduce)."""
        return [self.by_bytes[data[:n]] for n in range(1, len(data)) if data[:n] in self.by_bytes]

    def allowed(self, remaining: bytes) -> np.ndarray:
        """Tokens that can come next while `remaining` bytes must still be reproduced."""
        return np.concatenate((self.extending(remaining), np.array(self.prefixes_of(remaining), dtype=np.int64)))

    def can_extend(self, data: bytes) -> bool:
        """Whether some token starts with data and is longer than it."""
        ids = self.extending(data)
        return len(ids) > 1 or (len(ids) == 1 and self.token_bytes[ids[0]] != data)


def back_off(tokens: list[int], index: VocabIndex, max_tokens: int = 4) -> tuple[int, bytes]:
    """How many prompt tokens to keep, and the bytes removed after them.

    Removes the longest run of final tokens (at most max_tokens, never across
    a special token, never longer than the longest token, never the whole
    prompt) whose bytes some longer token could cover: the cursor may split it.

    Example: back_off([0, 1, 2], VocabIndex([b"x", b".", b"pri", b"print"], ())) == (2, b"pri")
    """
    best, removed, joined = len(tokens), b"", b""
    for keep in range(len(tokens) - 1, max(0, len(tokens) - max_tokens - 1), -1):
        if keep < 1 or tokens[keep] in index.special:
            break
        joined = index.token_bytes[tokens[keep]] + joined
        if len(joined) > index.max_len:
            break
        if index.can_extend(joined):
            best, removed = keep, joined
    return best, removed


def advance(remaining: bytes, piece: bytes) -> bytes:
    """The bytes still to reproduce after generating piece.

    Example: advance(b"pri", b"pr") == b"i"; advance(b"pri", b"print") == b""
    """
    if piece.startswith(remaining):
        return b""
    assert remaining.startswith(piece), "piece was not allowed"
    return remaining[len(piece) :]


def constrain(logprobs: np.ndarray, remaining: bytes, index: VocabIndex, renormalise: bool = True) -> np.ndarray:
    """Log-probabilities of the tokens allowed while healing, the rest -inf.

    renormalise: over the allowed set (`prefix`); without it the scores stay
    joint probabilities, comparable across covers of different lengths (`exact`).
    """
    if not remaining:
        return logprobs
    allowed = index.allowed(remaining)
    out = np.full_like(logprobs, -np.inf)
    kept = logprobs[allowed]
    if renormalise:
        m = kept.max()
        kept = kept - (m + np.log(np.exp(kept - m).sum()))
    out[allowed] = kept
    return out


class Canonical:
    """Whether token b may follow token a in an encoding the tokenizer would produce.

    BPE with a fixed pre-tokenizer is canonical when every adjacent pair is
    (Phan et al., section 4): ("pr", "int") is not, since "print" is one token.
    Memoised: typing asks about the same few pairs again and again. A control token (`special`)
    enters a prompt by id, never from text, so any token may follow it or precede it.

    Example: Canonical({"print": [2]}.get, [b"pr", b"int", b"print"])(0, 1) is False;
             Canonical({}.get, [b"<|x|>", b" "], special={0})(0, 1) is True
    """

    def __init__(self, encode, token_bytes: Sequence[bytes], size: int = 1 << 16, special=frozenset()):
        self.encode = encode
        self.token_bytes = token_bytes
        self.size = size
        self.special = frozenset(special)
        self._memo: dict[tuple[int, int], bool] = {}

    def __call__(self, a: int, b: int) -> bool:
        key = (a, b)
        if a in self.special or b in self.special:
            return True
        if key not in self._memo:
            if len(self._memo) >= self.size:
                self._memo.clear()
            try:
                text = (self.token_bytes[a] + self.token_bytes[b]).decode("utf-8")
            except UnicodeDecodeError:  # a pair inside one character: cannot judge, allow it
                self._memo[key] = True
            else:
                self._memo[key] = self.encode(text) == [a, b]
        return self._memo[key]
