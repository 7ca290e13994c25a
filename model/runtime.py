"""Step-level runtimes: prefill tokens (+ types) into a state, step, reuse a prefix.

Two backends behind one small interface: ONNX Runtime (the default, CPU, int8)
and torch (CUDA where present, else CPU) over a training checkpoint. Decoding,
healing and ranking are written against `Runtime` only.

A `State` is the KV cache of one sequence plus the (token, type) pairs it holds,
so the next request can reuse the longest common prefix and run only new tokens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import artifacts
from .errors import ModelError


@dataclass(frozen=True)
class State:
    tokens: tuple[int, ...]
    types: tuple[int, ...]
    keys: np.ndarray  # (L, 1, H, P, D) float32
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)

    def truncate(self, n: int) -> "State":
        if n == len(self.tokens):
            return self
        return State(self.tokens[:n], self.types[:n], self.keys[:, :, :, :n], self.values[:, :, :, :n])


def common_prefix(state: State, tokens, types) -> int:
    """How many leading (token, type) pairs state shares with the new sequence.

    Example: a state over [5, 6, 7] and new tokens [5, 6, 9] (same types) -> 2
    """
    n = min(len(state.tokens), len(tokens))
    i = 0
    while i < n and state.tokens[i] == tokens[i] and state.types[i] == types[i]:
        i += 1
    return i


class Runtime:
    """Subclasses implement `forward`; everything else is shared."""

    n_layer: int
    n_head: int
    head_dim: int
    vocab_size: int
    block_size: int
    uses_types: bool

    def forward(self, ids: np.ndarray, types: np.ndarray, keys: np.ndarray, values: np.ndarray):
        """ids, types: (B, S) int64; keys, values: (L, B, H, P, D).  -> logits (B, S, V), keys, values"""
        raise NotImplementedError

    def empty(self, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
        kv = np.zeros((self.n_layer, batch, self.n_head, 0, self.head_dim), dtype=np.float32)
        return kv, kv.copy()

    def prefill(self, tokens, types, cache: State | None = None) -> tuple[np.ndarray, State]:
        """Run a whole prompt, reusing cache's longest common prefix.  -> (logits (S_new, V), state)

        At least the last token is always run, so its logits come back.
        """
        tokens, types = tuple(tokens), tuple(types)
        reuse = min(common_prefix(cache, tokens, types), len(tokens) - 1) if cache is not None else 0
        if reuse > 0:
            base = cache.truncate(reuse)
            keys, values = base.keys, base.values
        else:
            keys, values = self.empty()
        logits, keys, values = self.forward(
            np.asarray([tokens[reuse:]], dtype=np.int64), np.asarray([types[reuse:]], dtype=np.int64), keys, values
        )
        return logits[0], State(tokens, types, keys, values)

    def step(self, state: State, token: int, type_: int) -> tuple[np.ndarray, State]:
        """Append one token.  -> (logits (V,), state)"""
        logits, keys, values = self.forward(
            np.asarray([[token]], dtype=np.int64), np.asarray([[type_]], dtype=np.int64), state.keys, state.values
        )
        return logits[0, -1], State(state.tokens + (token,), state.types + (type_,), keys, values)

    def step_batch(self, keys, values, tokens, types):
        """One token for each of B sequences sharing a cache layout.  -> logits (B, V), keys, values"""
        logits, keys, values = self.forward(
            np.asarray(tokens, dtype=np.int64)[:, None], np.asarray(types, dtype=np.int64)[:, None], keys, values
        )
        return logits[:, -1], keys, values


class OnnxRuntime(Runtime):
    """ONNX Runtime on the CPU over an exported (int8) model directory."""

    def __init__(self, model_dir: artifacts.ModelDir, threads: int = 0):
        import onnxruntime as ort

        arch = model_dir.manifest["architecture"]
        self.n_layer, self.n_head = arch["n_layer"], arch["n_head"]
        self.head_dim = arch["d_model"] // arch["n_head"]
        self.vocab_size, self.block_size = arch["vocab_size"], arch["block_size"]
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(model_dir.onnx), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # ORT raises its own types for corrupt graphs
            raise ModelError(f"cannot load {model_dir.onnx}: {e}. Re-export it with `nib export`.") from None
        self.input_names = {i.name for i in self.session.get_inputs()}
        # A plain model's graph may still declare type_ids; it is fed zeros, and nobody lexes for it.
        self.uses_types = model_dir.type_stream and "type_ids" in self.input_names

    def forward(self, ids, types, keys, values):
        feed = {"input_ids": ids, "past_keys": keys, "past_values": values}
        if "type_ids" in self.input_names:
            feed["type_ids"] = types
        logits, keys, values = self.session.run(None, feed)
        return logits, keys, values


class TorchRuntime(Runtime):
    """torch over a training checkpoint: CUDA where present, else CPU."""

    def __init__(self, checkpoint: Path, device: str = "auto"):
        import torch

        from .export import load_checkpoint

        self.torch = torch
        self.device = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                                   ("cpu" if device == "auto" else device))
        self.model = load_checkpoint(checkpoint).to(self.device)
        cfg = self.model.cfg
        self.n_layer, self.n_head, self.head_dim = cfg.n_layer, cfg.n_head, cfg.d_model // cfg.n_head
        self.vocab_size, self.block_size, self.uses_types = cfg.vocab_size, cfg.block_size, cfg.type_stream

    def forward(self, ids, types, keys, values):
        t = self.torch
        with t.no_grad():
            logits, k, v = self.model.forward_cached(
                t.from_numpy(ids).to(self.device), t.from_numpy(types).to(self.device),
                t.from_numpy(keys).to(self.device), t.from_numpy(values).to(self.device),
            )
        return logits.float().cpu().numpy(), k.float().cpu().numpy(), v.float().cpu().numpy()


def open_runtime(model_path: Path | None = None, backend: str = "onnx", threads: int = 0,
                 device: str = "auto") -> tuple[Runtime, artifacts.ModelDir]:
    """The runtime for a model directory (onnx) or a checkpoint beside one (torch)."""
    model_dir = artifacts.load(model_path)
    if backend == "onnx":
        return OnnxRuntime(model_dir, threads), model_dir
    if backend == "torch":
        ckpt = model_dir.path / "ckpt.pt"
        if not ckpt.is_file():
            raise ModelError(f"the torch backend needs a checkpoint at {ckpt}")
        return TorchRuntime(ckpt, device), model_dir
    raise ModelError(f"unknown backend {backend!r}: use 'onnx' or 'torch'")
