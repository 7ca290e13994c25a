"""ONNX Runtime on the CPU over an exported (int8) model directory: nib's default backend."""

from __future__ import annotations

import os

from nib.model.errors import ModelError

from . import artifacts
from .base import Runtime


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
