"""Qwen2 through torch: nib's module (`net/qwen2.py`) over the weights of its pinned GGUF."""

from __future__ import annotations

from ...embedded_torch import EmbeddedTorchRuntime
from . import PACKAGES


class Qwen2TorchRuntime(EmbeddedTorchRuntime):
    packages = PACKAGES
    hf_type = "qwen2"

    @staticmethod
    def network(hf_model, keep):
        from nib.model.net.qwen2 import Qwen2

        return Qwen2.from_hf(hf_model, keep)
