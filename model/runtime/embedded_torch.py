"""An imported pretrained model through torch (CUDA where present).

The model directory holds int8 ONNX, so the weights are read again, in fp32, from the GGUF
of the installed pinned package, with the imported model's vocabulary order and kept
tokens. The prompt's KV cache is reused between keystrokes as on the CPU (`State`). A family
names its network and its pinned packages (`families/*/torch.py`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from nib.model.errors import ModelError

from .adapter import merge_listed
from .base import SharedPrefixRuntime
from .pinned import Pinned, assemble
from .torch import load_hf_model, recorded_config, to_numpy, torch_device


def source(model_dir, packages: dict[str, Pinned]) -> Pinned:
    """The pinned package an imported directory's manifest came from, if it is one of packages."""
    package = model_dir.manifest["source"]["package"]
    if package not in packages:
        raise ModelError(f"this nib knows no pretrained model from the package {package!r}")
    return packages[package]


class EmbeddedTorchRuntime(SharedPrefixRuntime):
    """A family's subclass names its pinned packages, transformers' model_type for it, and its
    network: what `nib model import` converts (`pretrained/convert.py`) and what runs here."""

    packages: dict[str, Pinned] = {}  # the family's pinned GGUFs by package
    hf_type = ""  # transformers' config.model_type of the family's GGUFs

    @staticmethod
    def network(hf_model, keep):
        """The family's nib module (`net/`) from transformers' model, its head over keep."""
        raise NotImplementedError

    @staticmethod
    def embedding_scale(config) -> float:
        return 1.0

    def __init__(self, model_dir, device: str = "auto"):
        self.torch, self.device = torch_device(device)
        pin = source(model_dir, self.packages)
        with tempfile.TemporaryDirectory() as tmp:
            gguf = Path(tmp) / "model.gguf"
            assemble(pin, gguf)
            hf_model = load_hf_model(gguf, recorded_config(model_dir.manifest))
        merge_listed(model_dir, hf_model)  # the adapter the import merged into the int8 graph, if any
        arch = model_dir.manifest["architecture"]
        order = self.torch.from_numpy(np.load(model_dir.file("vocab_order")))
        self.model = self.network(hf_model, order[: arch["kept"]]).to(self.device)
        scale = self.embedding_scale(hf_model.config)
        self.embedding = (hf_model.model.embed_tokens.weight.detach()[order] * scale).to(self.device)
        self.n_layer, self.n_head, self.head_dim = arch["n_layer"], arch["n_kv_head"], arch["head_dim"]
        self.vocab_size, self.block_size, self.uses_types = arch["kept"], arch["block_size"], False

    def run(self, ids, types, prefix_keys, prefix_values, keys, values, scored=None):
        t = self.torch
        with t.no_grad():
            embeds = self.embedding[t.from_numpy(np.ascontiguousarray(ids)).to(self.device)]
            kv = (
                t.from_numpy(np.ascontiguousarray(a)).to(self.device)
                for a in (prefix_keys, prefix_values, keys, values)
            )
            positions = None if scored is None else t.from_numpy(np.asarray(scored, dtype=np.int64)).to(self.device)
            return to_numpy(*self.model.forward_shared(embeds, *kv, positions))
