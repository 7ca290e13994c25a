"""torch over a training checkpoint: CUDA where present, else CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nib.model.errors import ModelError

from .base import Runtime


class TorchRuntime(Runtime):
    """torch over a training checkpoint: CUDA where present, else CPU."""

    def __init__(self, checkpoint: Path, device: str = "auto"):
        try:
            import torch
        except ImportError:
            raise ModelError(f"device {device!r} runs the model through torch, which is not installed "
                             "(pip install torch, or set device to cpu)") from None
        if device == "cuda" and not torch.cuda.is_available():
            raise ModelError("device 'cuda': torch sees no CUDA GPU on this machine (set device to cpu or auto)")
        from nib.model.train.export import load_checkpoint

        self.torch = torch
        self.device = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                                   ("cpu" if device == "auto" else device))
        self.model = load_checkpoint(checkpoint).to(self.device)
        cfg = self.model.cfg
        self.n_layer, self.n_head, self.head_dim = cfg.n_layer, cfg.n_head, cfg.d_model // cfg.n_head
        self.vocab_size, self.block_size, self.uses_types = cfg.vocab_size, cfg.block_size, cfg.type_stream

    def forward(self, ids, types, keys, values):
        return self._run(self.model.forward_cached, ids, types, keys, values)

    def step_rows(self, prefix, keys, values, tokens, types):
        logits, keys, values = self._run(self.model.forward_shared, np.asarray(tokens, dtype=np.int64)[:, None],
                                         np.asarray(types, dtype=np.int64)[:, None], prefix.keys, prefix.values,
                                         keys, values)
        return logits[:, -1], keys, values

    def _run(self, fn, *arrays):
        t = self.torch
        with t.no_grad():
            logits, k, v = fn(*(t.from_numpy(np.ascontiguousarray(a)).to(self.device) for a in arrays))
        return logits.float().cpu().numpy(), k.float().cpu().numpy(), v.float().cpu().numpy()
