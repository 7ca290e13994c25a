"""ONNX Runtime on the CPU: a model directory's graph as a session, and the runtime over nib's serving graph."""

from __future__ import annotations

import os

import numpy as np

from nib.model.errors import ModelError

from .base import SharedPrefixRuntime


def threads_used(threads: int) -> int:
    """The threads a model runs on for the setting `model.threads` (0: up to 4)."""
    return threads or min(4, os.cpu_count() or 1)


def session(model_dir, threads: int = 0, memory_arena: bool = False):
    """An ONNX Runtime session on the CPU over model_dir's graph; ModelError if it cannot be loaded."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads_used(threads)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    opts.enable_cpu_mem_arena = memory_arena
    # ORT's threads spin between the operators of a run (kept: waking a sleeping thread per
    # operator slows a decoding pass) and, by default, on after a run too, burning CPU that the
    # event loop, the list's model and jedi need while the user types (README: "Kept: ONNX
    # Runtime's threads stop spinning")
    opts.add_session_config_entry("session.force_spinning_stop", "1")
    try:
        return ort.InferenceSession(str(model_dir.onnx), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # ORT raises its own types for corrupt graphs
        raise ModelError(f"cannot load {model_dir.onnx}: {e}. Re-export it with `nib export`.") from None


class OnnxRuntime(SharedPrefixRuntime):
    """nib's serving graph on ONNX Runtime: the new tokens (`_token_feed`), the prompt's cache as
    prefix_keys and prefix_values, the rows' own as past_keys and past_values. A family says how its
    model sizes the cache (`_configure`) and what its graph takes for the new tokens."""

    # ORT's arena would keep the largest activations a model ever needed resident for good; without
    # it the memory goes back once requests stop (`runtime/heap.py`), at a latency within this
    # machine's noise (benchmarks/results/memory/)
    memory_arena = False

    def __init__(self, model_dir, threads: int = 0, graph=None):
        """graph: a session already open on model_dir's graph (else one is opened)."""
        self.session = graph or session(model_dir, threads, self.memory_arena)
        self.input_names = {i.name for i in self.session.get_inputs()}
        self._configure(model_dir)

    def _configure(self, model_dir) -> None:
        """The cache layout and sizes (from the manifest's architecture), and whether the graph reads types."""
        raise NotImplementedError

    def _token_feed(self, ids, types) -> dict:
        """The graph's inputs for the new tokens."""
        raise NotImplementedError

    def run(self, ids, types, prefix_keys, prefix_values, keys, values, scored=None):
        feed = {
            **self._token_feed(ids, types),
            "past_keys": keys,
            "past_values": values,
            "prefix_keys": prefix_keys,
            "prefix_values": prefix_values,
        }
        if "scored" in self.input_names:
            feed["scored"] = np.arange(ids.shape[1], dtype=np.int64) if scored is None else scored
            return self.session.run(None, feed)
        logits, keys, values = self.session.run(None, feed)  # a graph without it scores every position
        return (logits if scored is None else logits[:, scored]), keys, values
