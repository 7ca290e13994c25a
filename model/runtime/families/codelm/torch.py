"""nib's CodeLM through torch over its training checkpoint (`ckpt.pt` beside the model): CUDA where present."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nib.model.errors import ModelError

from ...base import CopiedPrefixRuntime, Runtime
from ...torch import to_numpy, torch_device


def open_torch(model_dir, device: str = "auto") -> Runtime:
    ckpt = model_dir.path / "ckpt.pt"
    if not ckpt.is_file():
        raise ModelError(f"the torch backend needs a checkpoint at {ckpt}")
    return CodeLMTorchRuntime(ckpt, device)


class CodeLMTorchRuntime(CopiedPrefixRuntime):
    """A step runs `CodeLM.forward_cached`; the rows of a beam run `forward_shared`, which reads
    the prompt's cache once; `extend` copies it in front of the row's own."""

    def __init__(self, checkpoint: Path, device: str = "auto"):
        from nib.model.net.network import load_checkpoint

        self.torch, self.device = torch_device(device)
        self.model = load_checkpoint(checkpoint).to(self.device)
        cfg = self.model.cfg
        self.n_layer, self.n_head, self.head_dim = cfg.n_layer, cfg.n_head, cfg.d_model // cfg.n_head
        self.vocab_size, self.block_size, self.uses_types = cfg.vocab_size, cfg.block_size, cfg.type_stream

    def forward(self, ids, types, keys, values):
        return self._run(self.model.forward_cached, ids, types, keys, values)

    def step_rows(self, prefix, keys, values, tokens, types):
        logits, keys, values = self._run(
            self.model.forward_shared,
            np.asarray(tokens, dtype=np.int64)[:, None],
            np.asarray(types, dtype=np.int64)[:, None],
            prefix.keys,
            prefix.values,
            keys,
            values,
        )
        return logits[:, -1], keys, values

    def _run(self, fn, *arrays):
        t = self.torch
        with t.no_grad():
            return to_numpy(*fn(*(t.from_numpy(np.ascontiguousarray(a)).to(self.device) for a in arrays)))
