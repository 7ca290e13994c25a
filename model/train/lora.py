"""Low-rank adapters (LoRA) over a transformers model's frozen projections: trained by `fim.py`,
saved as one small file (its format, and the merge into the weights at import, in
`runtime/adapter.py`), so that serving runs the same graph, at the same cost, as without them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

# Every projection of a Qwen2 (and Llama-like) block: attention and MLP.
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class Adapted(nn.Module):
    """A frozen linear layer plus its trainable low-rank update (B starts at zero: no change)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        # A at the scale of the layer's own fan-in (as PEFT does): a step of B then moves the output
        # about as much as a step of the weights would, whatever the width
        self.a = nn.Parameter(torch.randn(rank, base.in_features, device=base.weight.device) / base.in_features**0.5)
        self.b = nn.Parameter(torch.zeros(base.out_features, rank, device=base.weight.device))

    def forward(self, x):
        low = (x.to(self.a.dtype) @ self.a.t()) @ self.b.t()
        return self.base(x) + (low * self.scale).to(x.dtype)


def attach(model: nn.Module, rank: int, alpha: float) -> dict[str, Adapted]:
    """Freeze model and wrap each projection in PROJECTIONS; returns the adapters by module name."""
    for p in model.parameters():
        p.requires_grad_(False)
    found = [(name, module) for name, module in model.named_modules() if name.rsplit(".", 1)[-1] in PROJECTIONS]
    adapters = {}
    for name, module in found:
        parent, _, leaf = name.rpartition(".")
        adapted = Adapted(module, rank, alpha)
        setattr(model.get_submodule(parent), leaf, adapted)
        adapters[name] = adapted
    return adapters


def save(adapters: dict[str, Adapted], path: Path, about: dict) -> None:
    """The adapter file (`runtime/adapter.py` reads it): fp16 A and B of each projection, and about
    (the model, the corpus, the run) in its meta."""
    arrays: dict[str, Any] = {}
    for name, adapted in adapters.items():
        arrays[f"{name}.a"] = adapted.a.detach().float().cpu().numpy().astype(np.float16)
        arrays[f"{name}.b"] = adapted.b.detach().float().cpu().numpy().astype(np.float16)
    first = next(iter(adapters.values()))
    info = {"rank": first.a.shape[0], "alpha": first.scale * first.a.shape[0], **about}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:  # np.savez would add ".npz" to a path named otherwise
        np.savez(f, **arrays, meta=np.array(json.dumps(info)))
