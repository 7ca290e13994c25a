"""A model's low-rank adapter (trained by `nib finetune`, `train/lora.py`): merged into transformers'
weights (`W + s·B·A`) when a model is imported and when the torch runtime reads the GGUF again,
so that the int8 graph and the CUDA path run the same adapted model at the cost of the plain one.

The file is an `.npz` of fp16 arrays, `NAME.a` (rank x in) and `NAME.b` (out x rank) for each
adapted projection (NAME as in the model's `named_modules`), and `meta`, a JSON string: rank,
alpha, the model it was trained on, and how.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nib.model.errors import ModelError

ADAPTER_FILE = "adapter.npz"  # in an imported model's directory, listed in its manifest's files


def meta(path: Path) -> dict:
    """The adapter's description; ModelError where path is not an adapter file."""
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError("one array, not an .npz of them")
        with z:
            info = json.loads(str(z["meta"]))
    except (OSError, ValueError, KeyError) as e:
        raise ModelError(f"{path} is not an adapter written by `nib finetune`: {e}") from None
    if not isinstance(info, dict) or not {"rank", "alpha"} <= set(info):
        raise ModelError(f"{path} is not an adapter written by `nib finetune`: its meta lacks rank and alpha")
    return info


def merge(model, path: Path) -> int:
    """Add the adapters in path to model's projections (in place); returns how many. A projection
    the file names that the model lacks, or one of another shape, is a ModelError."""
    import torch

    info = meta(path)
    scale = info["alpha"] / info["rank"]
    merged = 0
    with np.load(path) as z, torch.no_grad():
        for name in sorted({key.rsplit(".", 1)[0] for key in z.files if key != "meta"}):
            try:
                weight = model.get_submodule(name).weight
            except AttributeError:
                raise ModelError(f"{path}: the model has no projection {name}") from None
            delta = torch.from_numpy(z[f"{name}.b"].astype(np.float32)) @ torch.from_numpy(
                z[f"{name}.a"].astype(np.float32)
            )
            if delta.shape != weight.shape:
                raise ModelError(f"{path}: {name} is {tuple(delta.shape)}, the model's {tuple(weight.shape)}")
            weight += (delta * scale).to(weight.dtype)
            merged += 1
    return merged


def merge_listed(model_dir, hf_model) -> int:
    """Merge the adapter an imported model's manifest lists (its hash was checked at load); 0 if none."""
    if "adapter" not in model_dir.manifest.get("files", {}):
        return 0
    return merge(hf_model, model_dir.path / ADAPTER_FILE)
