"""Byte-level BPE for Python source, trained on the corpus with HF `tokenizers`.

Pre-tokenization keeps identifiers whole (`assert_equal` can become one token,
where GPT-2's pattern splits it at the underscore) and lets runs of operators
merge (`):`, `()`), so common code pieces are single tokens.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from tokenizers.pre_tokenizers import ByteLevel

EOT = "<|endoftext|>"
FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX = "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"
SPECIAL_TOKENS = [EOT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX]

_PRETOKENIZE = r" ?[^\s\d\W]\w*| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+"


def train(texts, vocab_size: int) -> Tokenizer:
    """Train a byte-level BPE on an iterable of source texts."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_PRETOKENIZE), behavior="isolated"),
            ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    return tok


class BPE:
    """A trained tokenizer with the byte view of its vocabulary that decoding needs."""

    def __init__(self, tok: Tokenizer):
        self.tok = tok
        self.eot = tok.token_to_id(EOT)
        self.bos = None  # trained on whole files: the end of the last file is the start marker
        self.fim: tuple[int, ...] | None = (
            None  # its FIM tokens are reserved: the bundled model was not trained to fill in
        )
        self.repo: tuple[int, ...] | None = None  # nor on files joined by a repository format

    @classmethod
    def load(cls, path: Path) -> BPE:
        return cls(Tokenizer.from_file(str(path)))

    @property
    def vocab_size(self) -> int:
        return self.tok.get_vocab_size()

    @cached_property
    def token_bytes(self) -> list[bytes]:
        """The bytes of each token id (special tokens: their UTF-8 name)."""
        decode = {c: b for b, c in _bytes_to_unicode().items()}
        special = set(SPECIAL_TOKENS)
        out = []
        for i in range(self.vocab_size):
            piece = self.tok.id_to_token(i)
            assert piece is not None, f"no token {i} below vocab_size"
            if piece in special:
                out.append(piece.encode())
            else:
                out.append(bytes(decode[c] for c in piece))
        return out

    @cached_property
    def special_ids(self) -> frozenset[int]:
        ids = [self.tok.token_to_id(s) for s in SPECIAL_TOKENS]
        assert None not in ids, "a tokenizer without nib's special tokens"
        return frozenset(i for i in ids if i is not None)

    def encode(self, text: str) -> list[int]:
        return self.tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self.tok.encode_batch(texts, add_special_tokens=False)]

    def decode_bytes(self, ids) -> bytes:
        table = self.token_bytes
        return b"".join(table[i] for i in ids)


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-ins for bytes, which ByteLevel uses."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(printable, chars, strict=True)}
