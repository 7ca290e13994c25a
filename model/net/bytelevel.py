"""A byte-level BPE (GPT-2's alphabet: Qwen2's) behind the interface of nib's own `BPE`, in the
model's vocabulary order, as `SentencePieceBPE` is for Gemma.

Pieces spell each byte as one printable character (`Ġ` a space, `Ċ` a newline). The model
has no token that begins every text: a prompt that starts at the top of a file begins with
`<|endoftext|>`, the separator between the documents it was trained on.
"""

from __future__ import annotations

from functools import cached_property

from .sentencepiece import SentencePieceBPE
from .tokenizer import _bytes_to_unicode


class ByteLevelBPE(SentencePieceBPE):
    BOS = None
    EOS = START = "<|endoftext|>"
    FIM = ("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>")
    REPO = ("<|repo_name|>", "<|file_sep|>")  # Qwen2.5-Coder's repository-level pretraining format

    @cached_property
    def _byte_of(self) -> dict[str, int]:
        return {c: b for b, c in _bytes_to_unicode().items()}

    def piece_bytes(self, piece: str) -> bytes:
        """Example: ByteLevelBPE.piece_bytes(ByteLevelBPE.__new__(ByteLevelBPE), "Ġreturn") == b" return" """
        byte_of = self._byte_of
        return bytes(byte_of[c] for c in piece)
