"""nib's own CodeLM (`net/network.py`): its byte-level BPE, its ONNX graphs and its training checkpoint."""

from __future__ import annotations

from nib.model.net.tokenizer import BPE


def load_tokenizer(model_dir) -> BPE:
    return BPE.load(model_dir.tokenizer)
