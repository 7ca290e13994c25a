"""Runtimes behind one interface: `open_runtime(path, backend)` -> (Runtime, ModelDir).

nib's own models (CodeLM) and imported ones (Gemma 3) run on ONNX Runtime on the
CPU, or through torch (CUDA where present); `load_tokenizer` reads the tokenizer
that goes with a model directory.
"""

from __future__ import annotations

from pathlib import Path

from nib.model.errors import ModelError

from . import artifacts
from .base import Runtime, State, common_prefix, log_softmax

__all__ = ["Runtime", "State", "common_prefix", "load_tokenizer", "log_softmax", "open_runtime"]


def open_runtime(model_path: Path | str | None = None, backend: str = "onnx", threads: int = 0,
                 device: str = "auto") -> tuple[Runtime, artifacts.ModelDir]:
    """The runtime for a model directory (onnx), or torch over the weights beside it."""
    model_dir = artifacts.load(model_path)
    gemma = model_dir.kind == "Gemma3"
    if backend == "onnx":
        if gemma:
            from .gemma import GemmaRuntime

            return GemmaRuntime(model_dir, threads), model_dir
        from .onnx import OnnxRuntime

        return OnnxRuntime(model_dir, threads), model_dir
    if backend == "torch":
        if gemma:
            from .torch import GemmaTorchRuntime

            return GemmaTorchRuntime(model_dir, device), model_dir
        ckpt = model_dir.path / "ckpt.pt"
        if not ckpt.is_file():
            raise ModelError(f"the torch backend needs a checkpoint at {ckpt}")
        from .torch import TorchRuntime

        return TorchRuntime(ckpt, device), model_dir
    raise ModelError(f"unknown backend {backend!r}: use 'onnx' or 'torch'")


def load_tokenizer(model_dir: artifacts.ModelDir):
    """nib's BPE, or an imported model's SentencePiece BPE in the model's vocabulary order."""
    if model_dir.kind == "Gemma3":
        from nib.model.net.sentencepiece import SentencePieceBPE

        return SentencePieceBPE.load(model_dir.tokenizer, model_dir.file("vocab_order"))
    from nib.model.net.tokenizer import BPE

    return BPE.load(model_dir.tokenizer)
