"""A model's low-rank adapter (trained by `nib finetune`, `train/lora.py`): merged into transformers'
weights (`W + s·B·A`) when a model is imported and when the torch runtime reads the GGUF again,
so that the int8 graph and the CUDA path run the same adapted model at the cost of the plain one.

The file is an `.npz` of fp16 arrays, `NAME.a` (rank x in) and `NAME.b` (out x rank) for each
adapted projection (NAME as in the model's `named_modules`), and `meta`, a JSON string: rank,
alpha, the model it was trained on, and how; "defaults": {"fim": LAYOUT} where it was trained for
one FIM layout, which the adapted model then serves in (`ModelDir.defaults`).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from nib.model.errors import ModelError

ADAPTER_FILE = "adapter.npz"  # in an imported model's directory, listed in its manifest's files
FIM_LAYOUTS = ("off", "psm", "spm", "line")  # `prompt.LAYOUTS` (a layer above): an adapter's meta may set one


def meta(path: Path) -> dict:
    """The adapter's description; ModelError where path is not an adapter file."""
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise ValueError("one array, not an .npz of them")
        with z:
            info = json.loads(str(z["meta"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise ModelError(f"{path} is not an adapter written by `nib finetune`: {e}") from None
    numbers = isinstance(info, dict) and all(
        isinstance(info.get(k), int | float) and not isinstance(info.get(k), bool) and info[k] > 0
        for k in ("rank", "alpha")
    )
    if not numbers:
        raise ModelError(
            f"{path} is not an adapter written by `nib finetune`: its meta lacks a positive rank and alpha"
        )
    defaults = info.get("defaults", {})
    if not (isinstance(defaults, dict) and set(defaults) <= {"fim"} and defaults.get("fim", "off") in FIM_LAYOUTS):
        raise ModelError(f"{path}: its meta's defaults may only set fim, to one of {', '.join(FIM_LAYOUTS)}")
    return info


def merge(model, path: Path) -> int:
    """Add the adapters in path to model's projections (in place); returns how many. Anything but
    the projections the model has, at their shapes, with finite numbers, is a ModelError, and
    nothing is merged then."""
    import torch

    info = meta(path)
    deltas = []
    try:
        with np.load(path, allow_pickle=False) as z:
            for name in sorted({key.rsplit(".", 1)[0] for key in z.files if key != "meta"}):
                deltas.append((name, _delta(model, name, z[f"{name}.a"], z[f"{name}.b"], info)))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise ModelError(f"{path} is not an adapter written by `nib finetune`: {e}") from None
    except ModelError as e:
        raise ModelError(f"{path}: {e}") from None
    with torch.no_grad():
        for name, delta in deltas:
            weight = model.get_submodule(name).weight
            weight += delta.to(weight.dtype)
    return len(deltas)


def _delta(model, name: str, a: np.ndarray, b: np.ndarray, info: dict):
    """(alpha / rank) · B @ A for the projection name, checked before anything is computed."""
    import torch

    try:
        weight = model.get_submodule(name).weight
    except AttributeError:
        raise ModelError(f"the model has no projection {name}") from None
    rank, (out, width) = info["rank"], tuple(weight.shape)
    if a.shape != (rank, width) or b.shape != (out, rank):
        raise ModelError(
            f"{name} is {b.shape[0] if b.ndim else '?'} x {a.shape[-1] if a.ndim else '?'} "
            f"of rank {a.shape[0] if a.ndim else '?'}, the model's {out} x {width} of rank {rank}"
        )
    if a.dtype.kind != "f" or b.dtype.kind != "f" or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ModelError(f"{name} holds values that are not finite floating-point numbers")
    delta = torch.from_numpy(b.astype(np.float32)) @ torch.from_numpy(a.astype(np.float32))
    return delta * (info["alpha"] / rank)


def merge_listed(model_dir, hf_model) -> int:
    """Merge the adapter an imported model's manifest lists (its hash was checked at load); 0 if none."""
    if "adapter" not in model_dir.manifest.get("files", {}):
        return 0
    return merge(hf_model, model_dir.path / ADAPTER_FILE)
