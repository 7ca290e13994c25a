"""nib's CodeLM on ONNX Runtime: the serving graph nib exports (`train/export.py`), or nib 0.1's.

nib 0.1 exported `CodeLM.forward_cached`, one cache per row (past_keys in, past + new out);
nib 0.2 on exports `CodeLM.forward_shared`, which reads the prompt's cache as a prefix
shared by the rows. Both graphs take input_ids and, for a typed model, type_ids; the
inputs a graph declares tell which one it is.
"""

from __future__ import annotations

import numpy as np

from ...base import CopiedPrefixRuntime, Runtime
from ...onnx import OnnxRuntime, session


def open_onnx(model_dir, threads: int = 0) -> Runtime:
    """The runtime for the graph in model_dir: nib's serving graph, or nib 0.1's."""
    graph = session(model_dir, threads, CodeLMRuntime.memory_arena)
    shared = "prefix_keys" in {i.name for i in graph.get_inputs()}
    return (CodeLMRuntime if shared else CodeLM01Runtime)(model_dir, threads, graph)


def _configure(runtime: Runtime, model_dir, input_names: set[str]) -> None:
    arch = model_dir.manifest["architecture"]
    runtime.n_layer, runtime.n_head = arch["n_layer"], arch["n_head"]
    runtime.head_dim = arch["d_model"] // arch["n_head"]
    runtime.vocab_size, runtime.block_size = arch["vocab_size"], arch["block_size"]
    # A plain model's graph may still declare type_ids; it is fed zeros, and nobody lexes for it.
    runtime.uses_types = model_dir.type_stream and "type_ids" in input_names


def _token_feed(input_names: set[str], ids: np.ndarray, types: np.ndarray) -> dict:
    feed = {"input_ids": ids}
    if "type_ids" in input_names:
        feed["type_ids"] = types
    return feed


class CodeLMRuntime(OnnxRuntime):
    """nib's serving graph (`CodeLM.forward_shared`)."""

    def _configure(self, model_dir) -> None:
        _configure(self, model_dir, self.input_names)

    def _token_feed(self, ids, types) -> dict:
        return _token_feed(self.input_names, ids, types)


class CodeLM01Runtime(CopiedPrefixRuntime):
    """nib 0.1's graph (`CodeLM.forward_cached`): one cache per row."""

    def __init__(self, model_dir, threads: int = 0, graph=None):
        self.session = graph or session(model_dir, threads)
        self.input_names = {i.name for i in self.session.get_inputs()}
        _configure(self, model_dir, self.input_names)

    def forward(self, ids, types, keys, values):
        feed = {**_token_feed(self.input_names, ids, types), "past_keys": keys, "past_values": values}
        return self.session.run(None, feed)
