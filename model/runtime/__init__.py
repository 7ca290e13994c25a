"""Runtimes behind one interface: `open_runtime(path, backend)` -> (Runtime, ModelDir)."""

from __future__ import annotations

from pathlib import Path

from nib.model.errors import ModelError

from . import artifacts
from .base import Runtime, State, common_prefix, log_softmax

__all__ = ["Runtime", "State", "common_prefix", "log_softmax", "open_runtime"]


def open_runtime(model_path: Path | None = None, backend: str = "onnx", threads: int = 0,
                 device: str = "auto") -> tuple[Runtime, artifacts.ModelDir]:
    """The runtime for a model directory (onnx) or a checkpoint beside one (torch)."""
    model_dir = artifacts.load(model_path)
    if backend == "onnx":
        return _onnx(model_dir, threads), model_dir
    if backend == "torch":
        ckpt = model_dir.path / "ckpt.pt"
        if not ckpt.is_file():
            raise ModelError(f"the torch backend needs a checkpoint at {ckpt}")
        return _torch(ckpt, device), model_dir
    raise ModelError(f"unknown backend {backend!r}: use 'onnx' or 'torch'")


def _onnx(model_dir, threads):
    from .onnx import OnnxRuntime

    return OnnxRuntime(model_dir, threads)


def _torch(checkpoint, device):
    from .torch import TorchRuntime

    return TorchRuntime(checkpoint, device)
