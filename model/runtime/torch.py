"""torch over a training checkpoint: CUDA where present, else CPU."""

from __future__ import annotations

from pathlib import Path

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
        t = self.torch
        with t.no_grad():
            logits, k, v = self.model.forward_cached(
                t.from_numpy(ids).to(self.device), t.from_numpy(types).to(self.device),
                t.from_numpy(keys).to(self.device), t.from_numpy(values).to(self.device),
            )
        return logits.float().cpu().numpy(), k.float().cpu().numpy(), v.float().cpu().numpy()
