"""ONNX Runtime on the CPU over an exported (int8) model directory: nib's default backend."""

from __future__ import annotations

import os

import numpy as np

from nib.model.errors import ModelError

from . import artifacts
from .base import Runtime, SharedPrefixRuntime


class OnnxRuntime(SharedPrefixRuntime):
    """ONNX Runtime on the CPU over an exported (int8) model directory."""

    memory_arena = True  # ORT's arena keeps the largest activations it ever needed

    def __init__(self, model_dir: artifacts.ModelDir, threads: int = 0):
        import onnxruntime as ort

        self._configure(model_dir.manifest["architecture"])
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.enable_cpu_mem_arena = self.memory_arena
        try:
            self.session = ort.InferenceSession(str(model_dir.onnx), opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # ORT raises its own types for corrupt graphs
            raise ModelError(f"cannot load {model_dir.onnx}: {e}. Re-export it with `nib export`.") from None
        self.input_names = {i.name for i in self.session.get_inputs()}
        # nib 0.2's graph reads the prompt's cache as a shared prefix; nib 0.1's takes one cache per row
        self.shared_prefix = "prefix_keys" in self.input_names
        # A plain model's graph may still declare type_ids; it is fed zeros, and nobody lexes for it.
        self.uses_types = model_dir.type_stream and "type_ids" in self.input_names

    def _configure(self, arch: dict) -> None:
        """The cache layout and sizes, from the manifest's architecture."""
        self.n_layer, self.n_head = arch["n_layer"], arch["n_head"]
        self.head_dim = arch["d_model"] // arch["n_head"]
        self.vocab_size, self.block_size = arch["vocab_size"], arch["block_size"]

    def _token_feed(self, ids: np.ndarray, types: np.ndarray) -> dict:
        """The graph's inputs for the new tokens."""
        feed = {"input_ids": ids}
        if "type_ids" in self.input_names:
            feed["type_ids"] = types
        return feed

    def forward(self, ids, types, keys, values):
        if not self.shared_prefix:
            return self.run(ids, types, keys=keys, values=values)
        return super().forward(ids, types, keys, values)

    def step_rows(self, prefix, keys, values, tokens, types):
        if not self.shared_prefix:
            return Runtime.step_rows(self, prefix, keys, values, tokens, types)
        return super().step_rows(prefix, keys, values, tokens, types)

    def extend(self, prefix, keys, values, tokens, types):
        if not self.shared_prefix:
            return Runtime.extend(self, prefix, keys, values, tokens, types)
        return super().extend(prefix, keys, values, tokens, types)

    def run(self, ids, types, prefix_keys=None, prefix_values=None, keys=None, values=None):
        feed = {**self._token_feed(ids, types), "past_keys": keys, "past_values": values}
        if self.shared_prefix:
            feed["prefix_keys"], feed["prefix_values"] = prefix_keys, prefix_values
        return self.session.run(None, feed)
