"""Gemma 3 through torch: nib's module (`net/gemma.py`) over the weights of its pinned GGUF."""

from __future__ import annotations

from ...embedded_torch import EmbeddedTorchRuntime
from . import PACKAGES


class GemmaTorchRuntime(EmbeddedTorchRuntime):
    packages = PACKAGES
    hf_type = "gemma3_text"

    @staticmethod
    def network(hf_model, keep):
        from nib.model.net.gemma import Gemma

        return Gemma.from_hf(hf_model, keep)

    @staticmethod
    def embedding_scale(config) -> float:
        return config.hidden_size**0.5  # Gemma scales its embeddings by sqrt(d_model)
