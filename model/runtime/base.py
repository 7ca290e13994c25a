"""The step-level runtime interface: prefill tokens (+ types) into a KV state, step, reuse a prefix.

Decoding, healing and name scoring are written against `Runtime` only; a backend
(each family's, `families/`) implements `forward`, `step_rows` and `extend`: over
nib's serving graph, which reads the prompt's cache as a prefix shared by the rows
of a beam (`SharedPrefixRuntime`), or over a graph with one cache per row
(`CopiedPrefixRuntime`).

A `State` (the kv_state) is the KV cache of one sequence plus the (token, type)
pairs it holds, so the next request can reuse the longest common prefix and run
only the new tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class State:
    tokens: tuple[int, ...]
    types: tuple[int, ...]
    keys: np.ndarray  # (L, 1, H, P, D) float32
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)

    def truncate(self, n: int) -> State:
        if n == len(self.tokens):
            return self
        return State(self.tokens[:n], self.types[:n], self.keys[:, :, :, :n], self.values[:, :, :, :n])


def common_prefix(state: State, tokens, types) -> int:
    """How many leading (token, type) pairs state shares with the new sequence.

    Example: common_prefix(State((5, 6, 7), (0, 0, 0), np.zeros(0), np.zeros(0)), [5, 6, 9], [0, 0, 0]) == 2
    """
    n = min(len(state.tokens), len(tokens))
    i = 0
    while i < n and state.tokens[i] == tokens[i] and state.types[i] == types[i]:
        i += 1
    return i


class Runtime:
    """Subclasses implement `forward`, `step_rows` and `extend`; `prefill`, `step` and `empty` are shared."""

    n_layer: int
    n_head: int
    head_dim: int
    vocab_size: int
    block_size: int
    uses_types: bool
    prefill_chunk: int | None = None  # a long prompt runs in pieces of this many tokens (None: at once)

    def forward(self, ids: np.ndarray, types: np.ndarray, keys: np.ndarray, values: np.ndarray):
        """ids, types: (B, S) int64; keys, values: (L, B, H, P, D).  -> logits (B, S, V), keys, values"""
        raise NotImplementedError

    def forward_last(self, ids: np.ndarray, types: np.ndarray, keys: np.ndarray, values: np.ndarray):
        """`forward` for one row whose last token's logits are all that is read.  -> logits
        (1, S' >= 1, V) ending in the last token's, keys, values. A backend that can score only
        that position says so here: the head over a whole chunk is wasted work in a prefill."""
        return self.forward(ids, types, keys, values)

    def empty(self, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
        kv = np.zeros((self.n_layer, batch, self.n_head, 0, self.head_dim), dtype=np.float32)
        return kv, kv.copy()

    def prefill(self, tokens, types, kv_state: State | None = None, every: bool = True) -> tuple[np.ndarray, State]:
        """Run a whole prompt, reusing kv_state's longest common prefix.  -> (logits (S_new, V), state);
        every=False: the logits of the last token at least (what a completion reads), (S' >= 1, V).

        At least the last token is always run, so its logits come back.
        """
        tokens, types = tuple(tokens), tuple(types)
        reuse = min(common_prefix(kv_state, tokens, types), len(tokens) - 1) if kv_state is not None else 0
        if reuse > 0:
            assert kv_state is not None  # reuse > 0 only with a state to reuse
            base = kv_state.truncate(reuse)
            keys, values = base.keys, base.values
        else:
            keys, values = self.empty()
        chunk = self.prefill_chunk or len(tokens)
        parts = []
        forward = self.forward if every else self.forward_last
        for lo in range(reuse, len(tokens), chunk):
            logits, keys, values = forward(
                np.asarray([tokens[lo : lo + chunk]], dtype=np.int64),
                np.asarray([types[lo : lo + chunk]], dtype=np.int64),
                keys,
                values,
            )
            parts.append(logits[0])
        if not every:
            parts = parts[-1:]
        return np.concatenate(parts) if len(parts) > 1 else parts[0], State(tokens, types, keys, values)

    def step(self, state: State, token: int, type_: int) -> tuple[np.ndarray, State]:
        """Append one token.  -> (logits (V,), state)"""
        logits, keys, values = self.forward(
            np.asarray([[token]], dtype=np.int64), np.asarray([[type_]], dtype=np.int64), state.keys, state.values
        )
        return logits[0, -1], State(state.tokens + (token,), state.types + (type_,), keys, values)

    def step_rows(self, prefix: State, keys, values, tokens, types):
        """One token for each of B rows that continue the prompt `prefix`; keys, values: the rows'
        own caches of what each generated so far (L, B, H, S0, D), `empty(B)` at first.
        -> logits (B, V), and the rows' own caches extended by one."""
        raise NotImplementedError

    def extend(self, prefix: State, keys, values, tokens, types):
        """Several tokens for one row that continues the prompt `prefix` (its own cache: keys,
        values (L, 1, H, S0, D)).  -> logits (S, V), the row's own cache extended by S."""
        raise NotImplementedError


class SharedPrefixRuntime(Runtime):
    """A backend over nib's serving graph (`forward_shared`): `run(ids, types, prefix_keys,
    prefix_values, keys, values)` reads the prompt's cache (L, 1, H, P, D) as a prefix shared
    by the B rows and extends each row's own cache (L, B, H, S0, D) by the new tokens."""

    def run(self, ids, types, prefix_keys, prefix_values, keys, values, scored=None):
        """scored: the positions among the new tokens whose logits are computed (None: every one)
        -> logits (B, S or len(scored), V), the rows' own keys and values (L, B, H, S0 + S, D)"""
        raise NotImplementedError

    def forward(self, ids, types, keys, values, scored=None):
        if keys.shape[1] == 1:  # one sequence: its cache is the prefix; only the new tokens' cache comes back
            logits, new_keys, new_values = self.run(ids, types, keys, values, *self.empty(1), scored=scored)
            return logits, np.concatenate((keys, new_keys), axis=3), np.concatenate((values, new_values), axis=3)
        return self.run(ids, types, *self.empty(1), keys, values, scored=scored)

    def forward_last(self, ids, types, keys, values):
        return self.forward(ids, types, keys, values, scored=np.asarray([ids.shape[1] - 1], dtype=np.int64))

    def step_rows(self, prefix, keys, values, tokens, types):
        logits, keys, values = self.run(
            np.asarray(tokens, dtype=np.int64)[:, None],
            np.asarray(types, dtype=np.int64)[:, None],
            prefix.keys,
            prefix.values,
            keys,
            values,
        )
        return logits[:, -1], keys, values

    def extend(self, prefix, keys, values, tokens, types):
        logits, keys, values = self.run(
            np.asarray([tokens], dtype=np.int64),
            np.asarray([types], dtype=np.int64),
            prefix.keys,
            prefix.values,
            keys,
            values,
        )
        return logits[0], keys, values


class CopiedPrefixRuntime(Runtime):
    """A backend over a graph with one cache per row (nib 0.1's export, `CodeLM.forward_cached`):
    a row continues the prompt over the prompt's cache copied in front of its own, which costs a
    copy of the prompt per row and per step (`benchmarks/rows.py` measures it against the shared
    prefix). Needing only `forward`, its `step_rows` is also the reference any backend's is tested against."""

    def step_rows(self, prefix, keys, values, tokens, types):
        full_keys, full_values = _prepend(prefix, keys, values)
        ids, types = np.asarray(tokens, dtype=np.int64)[:, None], np.asarray(types, dtype=np.int64)[:, None]
        logits, full_keys, full_values = self.forward(ids, types, full_keys, full_values)
        P = prefix.keys.shape[3]
        return logits[:, -1], full_keys[:, :, :, P:], full_values[:, :, :, P:]

    def extend(self, prefix, keys, values, tokens, types):
        full_keys, full_values = _prepend(prefix, keys, values)
        logits, full_keys, full_values = self.forward(
            np.asarray([tokens], dtype=np.int64), np.asarray([types], dtype=np.int64), full_keys, full_values
        )
        P = prefix.keys.shape[3]
        return logits[0], full_keys[:, :, :, P:], full_values[:, :, :, P:]


def _prepend(prefix: State, keys, values):
    """The prompt's cache copied in front of each row's own (L, B, H, S0, D)."""
    L, B, H, _, D = keys.shape
    P = prefix.keys.shape[3]
    return tuple(
        np.concatenate((np.broadcast_to(p, (L, B, H, P, D)), own), axis=3)
        for p, own in ((prefix.keys, keys), (prefix.values, values))
    )


def log_softmax(x: np.ndarray) -> np.ndarray:
    """log-probabilities from logits over the last axis (float32)."""
    x = x.astype(np.float32, copy=False)
    m = x.max(axis=-1, keepdims=True)
    return x - (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))
