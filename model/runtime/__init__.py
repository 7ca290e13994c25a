"""Runtimes behind one interface: `open_runtime(path, backend)` -> (Runtime, ModelDir).

A model's family (`families/`, named by its manifest's architecture) says how it runs:
on ONNX Runtime on the CPU, or through torch (CUDA where present); `load_tokenizer`
reads the tokenizer that goes with a model directory.
"""

from __future__ import annotations

from pathlib import Path

from nib.model.errors import ModelError

from . import artifacts
from .base import Runtime, State, common_prefix, log_softmax

__all__ = ["Runtime", "State", "common_prefix", "load_tokenizer", "log_softmax", "open_runtime"]


def open_runtime(
    model_path: Path | str | None = None, backend: str = "onnx", threads: int = 0, device: str = "auto"
) -> tuple[Runtime, artifacts.ModelDir]:
    """The runtime for a model directory (onnx), or torch over the weights its family reads."""
    model_dir = artifacts.load(model_path)
    family = model_dir.family
    if backend == "onnx":
        return family.onnx(model_dir, threads), model_dir
    if backend == "torch" and family.torch is not None:
        return family.torch(model_dir, device), model_dir
    if backend == "torch":
        raise ModelError(f"{family.name} models have no torch backend: use 'onnx'")
    raise ModelError(f"unknown backend {backend!r}: use 'onnx' or 'torch'")


def load_tokenizer(model_dir: artifacts.ModelDir):
    """The tokenizer of the model's family, in the model's vocabulary order."""
    return model_dir.family.load_tokenizer(model_dir)
