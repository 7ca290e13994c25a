"""Qwen2's byte-level BPE behind nib's tokenizer interface: every piece back to its bytes, the
vocabulary in the model's order, and `<|endoftext|>` as the file start and the stop."""

import json

import numpy as np
from tokenizers import Tokenizer, decoders, models, pre_tokenizers

from nib.model.net.bytelevel import ByteLevelBPE
from nib.model.pretrained.vocab import load


def tokenizer() -> Tokenizer:
    """A GPT-2-style byte-level BPE: a byte alphabet, two merges, `<|endoftext|>` and a FIM token."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(alphabet)}
    vocab["Ġr"] = len(vocab)
    vocab["Ġre"] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[("Ġ", "r"), ("Ġr", "e")]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|endoftext|>", "<|fim_middle|>"])
    return tok


def test_pieces_are_bytes_and_special_tokens_their_names(tmp_path):
    bpe = ByteLevelBPE(tokenizer())
    ids = bpe.encode(" re\n\té")
    assert bpe.decode_bytes(ids) == " re\n\té".encode()
    assert bpe.token_bytes[bpe.encode(" re")[0]] == b" re"
    assert (bpe.bos, bpe.eot, bpe.stop) == (None, 258, 258)
    assert sorted(bpe.special_ids) == [258, 259] and bpe.token_bytes[259] == b"<|fim_middle|>"


def test_the_model_s_order_puts_kept_tokens_first(tmp_path):
    tok = tokenizer()
    order = np.concatenate(([257, 258], np.setdiff1d(np.arange(260), [257, 258])))
    bpe = ByteLevelBPE(tok, order)
    assert (bpe.encode(" re"), bpe.stop, bpe.token_bytes[0]) == ([0], 1, b" re")


def test_the_vocabulary_tool_tells_byte_level_from_sentencepiece(tmp_path):
    path = tmp_path / "tokenizer.json"
    tokenizer().save(str(path))
    assert json.loads(path.read_text())["decoder"]["type"] == "ByteLevel"
    assert type(load(path)) is ByteLevelBPE


def test_the_head_keeps_every_ascii_token_beside_the_corpus_s(tmp_path):
    """A new project's names are in no corpus: every token spelled in ASCII alone is kept, a
    multi-byte token the corpus did not use is not (its bytes are, as every byte is)."""
    from collections import Counter

    from nib.model.pretrained.vocab import ascii_tokens, kept_tokens, widen

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {c: i for i, c in enumerate(alphabet)} | {"Ġr": 256, "Ġre": 257, "Ã©": 258}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[("Ġ", "r"), ("Ġr", "e"), ("Ã", "©")]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(["<|endoftext|>"])
    path = tmp_path / "tokenizer.json"
    tok.save(str(path))
    bpe = load(path)
    assert bpe.token_bytes[258] == "é".encode()
    single_ascii = {i for i in range(256) if bpe.token_bytes[i][0] < 0x80}
    assert len(single_ascii) == 128 and ascii_tokens(bpe) == single_ascii | {256, 257}
    assert kept_tokens(bpe, Counter(), 2, ascii=False) == [*range(256), 259]
    assert kept_tokens(bpe, Counter({258: 5}), 2) == [*range(260)]
    committed = tmp_path / "vocab.json"
    committed.write_text(json.dumps({"min_count": 2, "kept": 2, "ids": [258, 259]}))
    ids = sorted(single_ascii | {256, 257, 258, 259})
    assert widen(committed, path) == {"min_count": 2, "kept": 132, "ids": ids, "ascii": True}
