"""The pretrained models' BPE from arrays (`net/compact_bpe.py`) gives HF tokenizers' tokens, token
for token: on small tokenizers built here with Gemma's pipeline (merges out of order, two merges
into one token, byte fallback, added tokens special and not) and Qwen2's (its regex, GPT-2's byte
alphabet), and on the real ones in tests/e2e."""

import json
import random

import pytest
from tokenizers import AddedToken, Regex, Tokenizer, models, normalizers, pre_tokenizers

from nib.model.net import compact_bpe
from nib.model.net.bytelevel import ByteLevelBPE
from nib.model.net.compact_bpe import CompactBPE
from nib.model.net.sentencepiece import SentencePieceBPE

ALPHABET = ["▁", "a", "b", "c", "d", "(", ")", ":", "é"]
MERGES = [
    ("a", "b"),  # "ab"
    ("▁", "▁"),  # "▁▁"
    ("ab", "c"),  # "abc"
    ("▁▁", "▁▁"),  # "▁▁▁▁"
    ("▁", "▁▁▁"),  # "▁▁▁▁" again, from "▁▁▁" made only later: HF queues it as it appears
    ("▁▁", "▁"),  # "▁▁▁"
    ("c", "d"),  # "cd"
    ("b", "c"),  # "bc": in "bcd", queued, then stale once "cd" is made; HF skips it
    ("b", "cd"),  # "bcd"
    ("(", ")"),  # "()"
    ("▁", "abc"),  # "▁abc"
]


def hf_tokenizer() -> Tokenizer:
    """A SentencePiece-style BPE as Gemma's tokenizer.json has it."""
    pieces = ALPHABET + ["".join(m) for m in MERGES] + [f"<0x{b:02X}>" for b in range(256)] + ["<unk>"]
    vocab = {p: i for i, p in enumerate(dict.fromkeys(pieces))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=MERGES, byte_fallback=True, fuse_unk=True, unk_token="<unk>"))
    tok.normalizer = normalizers.Replace(" ", "▁")
    tok.pre_tokenizer = pre_tokenizers.Split(" ", "merged_with_previous")
    tok.add_tokens([AddedToken(t, normalized=False) for t in ["\n", "\n\n", "\t", "<td>"]])
    tok.add_special_tokens([AddedToken(t, normalized=False) for t in ["<bos>", "<eos>", "<x<td>y>"]])
    tok.encode_special_tokens = True
    return tok


def with_arrays(hf: Tokenizer, folder) -> tuple[Tokenizer, CompactBPE]:
    """hf, and the same tokenizer read back from the arrays `write` makes of its tokenizer.json."""
    hf.save(str(folder / "tokenizer.json"))
    compact_bpe.write(folder / "tokenizer.json", folder / "tokenizer.npz")
    return hf, CompactBPE.load(folder / "tokenizer.npz")


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return with_arrays(hf_tokenizer(), tmp_path_factory.mktemp("tok"))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc abc",
        "    abcd",  # four spaces: which of the two merges into "▁▁▁▁" fires is HF's order
        "   bcd(): é",
        "a\n\n\nb\t\tc",  # runs of added tokens, longest first
        "<td>ab</td>",
        "<x<td>y>",  # a special token's text is text, and hides the added token inside it
        "<bos>abc<eos>",
        "ü 中 😀",  # not in the vocabulary: its UTF-8 bytes
    ],
)
def test_the_same_tokens_as_hf(pair, text):
    hf, compact = pair
    assert compact.encode(text).ids == hf.encode(text, add_special_tokens=False).ids


def test_the_same_tokens_as_hf_on_random_text(pair):
    hf, compact = pair
    rnd = random.Random(0)
    symbols = ALPHABET[1:] + [" ", "\n", "\t", "<td>", "<bos>", "<x<td>y>", "ü", "中", "<", ">"]
    texts = ["".join(rnd.choice(symbols) for _ in range(rnd.randint(0, 40))) for _ in range(2000)]
    assert [compact.encode(t).ids for t in texts] == [hf.encode(t, add_special_tokens=False).ids for t in texts]


def test_the_vocabulary_and_control_tokens_as_hf(pair):
    hf, compact = pair
    size = hf.get_vocab_size()
    assert compact.get_vocab_size() == size
    assert [compact.id_to_token(i) for i in range(size)] == [hf.id_to_token(i) for i in range(size)]
    for piece in ["<bos>", "<eos>", "abc", "▁▁▁▁", "<0x0A>", "nothing"]:
        assert compact.token_to_id(piece) == hf.token_to_id(piece)
    added = {i: (t.content, t.special) for i, t in hf.get_added_tokens_decoder().items()}
    assert {i: (t.content, t.special) for i, t in compact.get_added_tokens_decoder().items()} == added


def test_nib_s_interface_reads_either(pair):
    hf, compact = pair
    a, b = SentencePieceBPE(hf), SentencePieceBPE(compact)
    text = "    abc(): é\n"
    assert a.encode(text) == b.encode(text) and b.decode_bytes(b.encode(text)) == text.encode()
    assert (a.bos, a.stop) == (b.bos, b.stop) and a.special_ids == b.special_ids


def test_another_pipeline_is_left_to_hf(tmp_path):
    hf = hf_tokenizer()
    hf.normalizer = normalizers.NFC()
    hf.save(str(tmp_path / "tokenizer.json"))
    with pytest.raises(ValueError, match="left to HF tokenizers"):
        compact_bpe.write(tmp_path / "tokenizer.json", tmp_path / "tokenizer.npz")
    spec = json.loads((tmp_path / "tokenizer.json").read_text())
    assert spec["normalizer"] == {"type": "NFC"}


QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def byte_level_tokenizer() -> Tokenizer:
    """A byte-level BPE as Qwen2's tokenizer.json has it: its regex, then GPT-2's byte alphabet."""
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    merges = [("Ġ", "r"), ("Ġr", "e"), ("e", "t"), ("Ġre", "t"), ("Ġ", "Ġ"), ("ĠĠ", "ĠĠ"), ("Ã", "©")]
    vocab = {c: i for i, c in enumerate(alphabet)} | {a + b: 256 + i for i, (a, b) in enumerate(merges)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_SPLIT), "isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.add_tokens([AddedToken("<tool_call>", normalized=False)])
    tok.add_special_tokens([AddedToken(t, normalized=False) for t in ["<|endoftext|>", "<|fim_prefix|>"]])
    tok.encode_special_tokens = True
    return tok


@pytest.fixture(scope="module")
def byte_level_pair(tmp_path_factory):
    return with_arrays(byte_level_tokenizer(), tmp_path_factory.mktemp("tok"))


def test_byte_level_the_same_tokens_as_hf(byte_level_pair):
    hf, compact = byte_level_pair
    rnd = random.Random(1)
    symbols = list("ret xé中\n\t\r'sLL12_(),") + ["    ", "<tool_call>", "<|endoftext|>", "\u00a0", "😀", "Ġ"]
    texts = ["    ret = ré(x)\n", "it's <|endoftext|>x<tool_call>"]
    texts += ["".join(rnd.choice(symbols) for _ in range(rnd.randint(0, 40))) for _ in range(2000)]
    assert [compact.encode(t).ids for t in texts] == [hf.encode(t, add_special_tokens=False).ids for t in texts]
    bpe = ByteLevelBPE(compact)
    assert bpe.decode_bytes(bpe.encode("    ret = ré(x)\n")) == "    ret = ré(x)\n".encode()
    assert (bpe.eot, bpe.fim) == (ByteLevelBPE(hf).eot, None)
