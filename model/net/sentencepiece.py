"""A SentencePiece-style BPE (Gemma's) behind the interface of nib's own `BPE`.

Pieces spell a space as `▁` and bytes the vocabulary lacks as `<0xNN>` tokens
(byte fallback); `token_bytes` maps every piece back to its bytes, which is all
that healing and decoding read. Encoding goes through HF `tokenizers`.

The model numbers tokens in its own order (`order`: model id -> tokenizer id):
the tokens its pruned output head scores come first, ids 0 .. kept - 1, so that
decoding indexes the head's logits with model ids directly; the rest can be read
in a prompt but are never generated.
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Self

import numpy as np
from tokenizers import Tokenizer

from .compact_bpe import CompactBPE
from .pieces import Pieces

_BYTE = re.compile(r"<0x([0-9A-Fa-f]{2})>")


class SentencePieceBPE:
    BOS: str | None = "<bos>"  # begins every prompt (None: the model has no such token)
    EOS = "<eos>"  # ends a text: decoding stops there
    START: str | None = None  # begins a prompt at the start of a file, where BOS is None
    FIM: tuple[str, str, str] | None = None  # fill-in-the-middle's prefix, suffix and middle tokens, if trained with
    REPO: tuple[str, str] | None = None  # a repository's name and file separator tokens, if trained with

    def __init__(self, tok: Tokenizer | CompactBPE, order: np.ndarray | None = None):
        self.tok = tok
        # A file's text that spells a control token ("<|fim_prefix|>", "<bos>") is text: control
        # tokens enter a prompt only by id (`completion/prompt.py`), never from what a file says.
        tok.encode_special_tokens = True
        size = tok.get_vocab_size()
        self.order = np.arange(size) if order is None else np.asarray(order, dtype=np.int64)
        if not np.array_equal(np.sort(self.order), np.arange(size)):
            raise ValueError("the vocabulary order is not a permutation of the tokenizer's ids")
        self._model_id = np.empty(size, dtype=np.int64)
        self._model_id[self.order] = np.arange(size)
        self.bos = self._named(self.BOS)
        self.eot = self._named(self.START)  # None where bos begins every prompt
        self.stop = self._named(self.EOS)
        # (prefix, suffix, middle) model ids where the model was trained to fill in the middle
        found = [tok.token_to_id(name) for name in self.FIM or ()]
        ids = [i for i in found if i is not None]
        self.fim = tuple(self.model_id(i) for i in ids) if ids and len(ids) == len(found) else None
        self.repo = self._optional(self.REPO)

    def _optional(self, names: tuple[str, ...] | None) -> tuple[int, ...] | None:
        """The model ids of names, if the tokenizer has them all."""
        found = [i for name in names or () if (i := self.tok.token_to_id(name)) is not None]
        return tuple(self.model_id(i) for i in found) if found and len(found) == len(names or ()) else None

    def _named(self, name: str | None) -> int | None:
        if name is None:
            return None
        if (i := self.tok.token_to_id(name)) is None:
            raise ValueError(f"the tokenizer has no {name} token")
        return self.model_id(i)

    @classmethod
    def load(cls, path: Path, order_path: Path | None = None, arrays: Path | None = None) -> Self:
        """From tokenizer.json, or from its arrays (`compact_bpe.write`) where given: the same
        tokens in a tenth of the memory."""
        order = np.load(order_path) if order_path is not None else None
        return cls(CompactBPE.load(arrays) if arrays is not None else Tokenizer.from_file(str(path)), order)

    def model_id(self, tokenizer_id: int) -> int:
        return int(self._model_id[tokenizer_id])

    @property
    def vocab_size(self) -> int:
        return len(self.order)

    @cached_property
    def _special(self) -> dict[int, str]:
        """Tokenizer ids of control tokens (`<bos>`, `<unused0>`, ...): never text."""
        return {i: t.content for i, t in self.tok.get_added_tokens_decoder().items() if t.special}

    @cached_property
    def token_bytes(self) -> Pieces:
        """The bytes of each model id (control tokens: their UTF-8 name).

        For example, the piece "▁return" is b" return" and "<0x0A>" is b"\\n".
        """
        return Pieces(self._piece_of(i) for i in self.order.tolist())

    def _piece_of(self, tokenizer_id: int) -> bytes:
        piece = self.tok.id_to_token(tokenizer_id)
        assert piece is not None  # one of the tokenizer's own ids
        return piece.encode() if tokenizer_id in self._special else self.piece_bytes(piece)

    def piece_bytes(self, piece: str) -> bytes:
        """A piece's bytes: `▁` spells a space, `<0xNN>` one byte.

        Example: SentencePieceBPE.piece_bytes(None, "▁x") == b" x"
        """
        if (byte := _BYTE.fullmatch(piece)) is not None:
            return bytes([int(byte.group(1), 16)])
        return piece.replace("▁", " ").encode()

    @cached_property
    def special_ids(self) -> frozenset[int]:
        return frozenset(self.model_id(i) for i in self._special)

    def encode(self, text: str) -> list[int]:
        return self._model_id[self.tok.encode(text, add_special_tokens=False).ids].tolist()

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [self._model_id[e.ids].tolist() for e in self.tok.encode_batch(texts, add_special_tokens=False)]

    def decode_bytes(self, ids) -> bytes:
        table = self.token_bytes
        return b"".join(table[i] for i in ids)
