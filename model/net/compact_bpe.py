"""nib's pretrained models' BPE encoders (Gemma's SentencePiece-style, Qwen2's byte-level) in a
fraction of the memory of HF `tokenizers`.

HF `tokenizers` holds Gemma's 262,144 pieces and 514,906 merges in hash maps of strings, about
100 MB resident, and Qwen2's 151,936 about 47 MB (`benchmarks/memory_parts.py`). Encoding needs
far less: the characters a text starts from, the bytes that spell the others, and the merges as
sorted integer pairs, all numpy arrays (`tokenizer.npz`, written once from tokenizer.json by
`write` at `nib model import`).

The result is HF's, token for token (tests/net/test_compact_bpe.py on small tokenizers built
there, tests/e2e on the real ones). The steps are HF's:
1. Added tokens that are not special (Gemma's runs of `\\n` or `\\t`, a few HTML tags) are split
   out first, leftmost-longest; a special token's text is text (`encode_special_tokens`), yet
   its match still hides any added token inside it, as HF's automaton does.
2. Each other segment is cut into words: SentencePiece, one word, a space spelled `▁`; byte-level,
   the tokenizer's own regex (letters, digits, punctuation, spaces; HF's Split, "Isolated").
3. Each word: a character's piece (else its UTF-8 bytes' pieces; byte-level: always the bytes'),
   then merges in HF's order: the lowest (rank, position) pair first, pairs formed by a merge
   queued as they appear, and a queued pair whose symbols changed is skipped unless the new
   pair merges into the same token (HF's `Word::merge_all`).

The encodings of recent words are kept (`SEGMENTS`), so a keystroke encodes its own line again
and reuses the others.
"""

from __future__ import annotations

import bisect
import heapq
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
import regex

from .tokenizer import _bytes_to_unicode

FORMAT = 1
SENTENCEPIECE, BYTE_LEVEL = "sentencepiece", "bytelevel"  # Gemma's pipeline, Qwen2's
SEGMENTS = 8192  # segments whose encoding is kept: a few files' lines
PAIRS = 65536  # pairs whose merge (or none) is kept: code repeats its pairs


@dataclass(frozen=True)
class Encoding:
    ids: list[int]


@dataclass(frozen=True)
class AddedToken:
    content: str
    special: bool


def write(tokenizer_json: Path, out: Path) -> None:
    """tokenizer.json -> out (.npz): the arrays `CompactBPE` encodes with. Raises ValueError for
    a tokenizer whose pipeline is not the one `CompactBPE` reproduces."""
    spec = json.loads(tokenizer_json.read_text(encoding="utf-8"))
    kind = _kind(spec)
    model = spec["model"]
    vocab: dict[str, int] = model["vocab"]
    added = spec["added_tokens"]
    # ids: the model's vocabulary, then added tokens it lacks (HF counts both in its size)
    pieces = [""] * (max([*vocab.values(), *(t["id"] for t in added)]) + 1)
    for t in added:
        pieces[t["id"]] = t["content"]
    for piece, i in vocab.items():
        pieces[i] = piece
    size = len(pieces)
    blobs = [p.encode("utf-8") for p in pieces]
    offsets = np.zeros(size + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    merges = np.array([(vocab[a], vocab[b], vocab[a + b]) for a, b in map(_pair, model["merges"])], dtype=np.int64)
    keys = merges[:, 0] << 32 | merges[:, 1]
    order = np.argsort(keys, kind="stable")
    if kind == BYTE_LEVEL:  # every byte is one character of GPT-2's alphabet, and a piece
        chars, split = [], spec["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]
        byte_ids = [vocab[c] for _, c in sorted(_bytes_to_unicode().items())]
    else:  # characters are pieces; a character that is not is its bytes' `<0xNN>` pieces
        chars, split = sorted((p, i) for p, i in vocab.items() if len(p) == 1), ""
        byte_ids = [vocab[f"<0x{b:02X}>"] for b in range(256)]
    np.savez(
        out,
        format=np.array(FORMAT),
        kind=np.array(kind),
        split=np.array(split),
        pieces=np.frombuffer(b"".join(blobs), dtype=np.uint8),
        offsets=offsets,
        merge_keys=keys[order],
        merge_rank=order.astype(np.int32),  # a merge's rank is its place in the file
        merge_new=merges[order, 2].astype(np.int32),
        chars=np.array([c for c, _ in chars]),
        char_ids=np.array([i for _, i in chars], dtype=np.int32),
        byte_ids=np.array(byte_ids, dtype=np.int32),
        added=np.array([t["content"] for t in added]),
        added_ids=np.array([t["id"] for t in added], dtype=np.int64),
        added_special=np.array([t["special"] for t in added]),
    )


def _pair(merge) -> tuple[str, str]:
    """A merge as a pair: tokenizer.json writes ["a", "b"] (newer) or "a b" (older)."""
    if isinstance(merge, str):
        a, b = merge.split(" ")
        return a, b
    return merge[0], merge[1]


def _kind(spec: dict) -> str:
    """Which of the two pipelines this module reproduces; anything else is left to HF `tokenizers`."""
    model = spec.get("model") or {}
    plain = (
        model.get("type") == "BPE"
        and not model.get("dropout")
        and not model.get("continuing_subword_prefix")
        and not model.get("end_of_word_suffix")
        and not model.get("ignore_merges")
        and all(not (t["single_word"] or t["lstrip"] or t["rstrip"] or t["normalized"]) for t in spec["added_tokens"])
    )
    pre = spec.get("pre_tokenizer") or {}
    if (
        plain
        and model.get("byte_fallback") is True
        and spec.get("normalizer") == {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}
        and pre
        in ({}, {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": False})
        and all(f"<0x{b:02X}>" in model["vocab"] for b in range(256))
    ):
        return SENTENCEPIECE
    steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else []
    if (
        plain
        and not model.get("byte_fallback")
        and spec.get("normalizer") is None
        and len(steps) == 2
        and steps[0].get("type") == "Split"
        and "Regex" in steps[0].get("pattern", {})
        and (steps[0].get("behavior"), steps[0].get("invert")) == ("Isolated", False)
        and steps[1] == {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}
        and all(c in model["vocab"] for c in _bytes_to_unicode().values())
    ):
        return BYTE_LEVEL
    raise ValueError("neither a SentencePiece-style nor a byte-level BPE nib reads: left to HF tokenizers")


class CompactBPE:
    """The subset of `tokenizers.Tokenizer` that `SentencePieceBPE` uses, from `write`'s arrays.

    For any text, `CompactBPE.load(npz).encode(text).ids` is HF's
    `Tokenizer.from_file(json).encode(text, add_special_tokens=False).ids`.
    """

    encode_special_tokens = True  # the only behaviour: a special token's text is text

    def __init__(self, arrays) -> None:
        if int(arrays["format"]) != FORMAT:
            raise ValueError(f"tokenizer.npz format {int(arrays['format'])}, expected {FORMAT}")
        self._pieces = arrays["pieces"].tobytes()
        self._byte_level = str(arrays["kind"]) == BYTE_LEVEL
        # Qwen2's split of a text into words: letters, digits, punctuation, spaces (`regex` for \p{L})
        self._words = regex.compile(str(arrays["split"])) if self._byte_level else None
        self._offsets = arrays["offsets"]
        self._keys = arrays["merge_keys"]
        self._rank = arrays["merge_rank"]
        self._new = arrays["merge_new"]
        self._char = dict(zip(arrays["chars"].tolist(), arrays["char_ids"].tolist(), strict=True))
        self._byte = arrays["byte_ids"].tolist()
        contents, ids, special = arrays["added"].tolist(), arrays["added_ids"].tolist(), arrays["added_special"]
        self._added = {c: (i, bool(s)) for c, i, s in zip(contents, ids, special.tolist(), strict=True)}
        self._added_by_id = {i: AddedToken(c, s) for c, (i, s) in self._added.items()}
        self._sorted = sorted(contents)
        firsts = {c[0] for c in contents}
        self._starts = re.compile("[" + "".join(re.escape(c) for c in firsts) + "]") if firsts else None
        self._segments: dict[str, list[int]] = {}
        self._pairs: dict[int, tuple[int, int] | None] = {}

    @classmethod
    def load(cls, path: Path) -> Self:
        with np.load(path) as arrays:
            return cls(arrays)

    def get_vocab_size(self) -> int:
        return len(self._offsets) - 1

    def id_to_token(self, i: int) -> str | None:
        if not 0 <= i < self.get_vocab_size():
            return None
        return self._pieces[self._offsets[i] : self._offsets[i + 1]].decode("utf-8")

    def token_to_id(self, piece: str) -> int | None:
        if piece in self._added:
            return self._added[piece][0]
        data, start = piece.encode("utf-8"), 0
        while (at := self._pieces.find(data, start)) >= 0:
            i = int(np.searchsorted(self._offsets, at))
            if i < self.get_vocab_size() and self._offsets[i] == at and self._offsets[i + 1] == at + len(data):
                return i
            start = at + 1
        return None

    def get_added_tokens_decoder(self) -> dict[int, AddedToken]:
        return dict(self._added_by_id)

    def encode(self, text: str, add_special_tokens: bool = False) -> Encoding:
        ids: list[int] = []
        for segment, added in self._split(text):
            if added is not None:
                ids.append(added)
            else:
                ids.extend(self._segment(segment))
        return Encoding(ids)

    def encode_batch(self, texts: list[str], add_special_tokens: bool = False) -> list[Encoding]:
        return [self.encode(t) for t in texts]

    def _split(self, text: str):
        """(text, None) segments and (None, id) for the added tokens split out, in order.

        For instance "a\\n\\nb" gives ("a", None), (None, the id of "\\n\\n"), ("b", None).
        """
        done = pos = 0
        while self._starts is not None and (m := self._starts.search(text, pos)) is not None:
            at = m.start()
            if (found := self._longest(text, at)) is None:
                pos = at + 1
                continue
            pos = at + len(found)
            token, special = self._added[found]
            if special:  # text, yet matched: nothing inside it is split out
                continue
            if at > done:
                yield text[done:at], None
            yield None, token
            done = pos
        if done < len(text):
            yield text[done:], None

    def _longest(self, text: str, at: int) -> str | None:
        """The longest added token at text[at:], walking the sorted tokens by prefix."""
        tokens, best, end = self._sorted, None, at + 1
        while end <= len(text):
            prefix = text[at:end]
            i = bisect.bisect_left(tokens, prefix)
            if i == len(tokens) or not tokens[i].startswith(prefix):
                break
            if tokens[i] == prefix:
                best = prefix
            end += 1
        return best

    def _segment(self, segment: str) -> list[int]:
        if self._words is None:  # SentencePiece: the segment is one word, a space spelled `▁`
            return self._word(segment.replace(" ", "▁"))
        ids: list[int] = []
        done = 0
        for m in self._words.finditer(segment):  # HF's Split, "Isolated": matches and the gaps between
            if m.start() > done:
                ids.extend(self._word(segment[done : m.start()]))
            ids.extend(self._word(m.group()))
            done = m.end()
        if done < len(segment):
            ids.extend(self._word(segment[done:]))
        return ids

    def _word(self, word: str) -> list[int]:
        if (ids := self._segments.get(word)) is None:
            if len(self._segments) >= SEGMENTS:
                self._segments.clear()
            ids = self._segments[word] = self._merge(self._symbols(word))
        return ids

    def _symbols(self, word: str) -> list[int]:
        """Each character's piece, or its UTF-8 bytes' pieces (byte-level: always the bytes')."""
        if self._byte_level:
            return [self._byte[b] for b in word.encode("utf-8")]
        out: list[int] = []
        for ch in word:
            if (i := self._char.get(ch)) is not None:
                out.append(i)
            else:
                out.extend(self._byte[b] for b in ch.encode("utf-8"))
        return out

    def _lookup(self, a: int, b: int) -> tuple[int, int] | None:
        """The merge of the pair (a, b): (rank, new id), or None."""
        key = a << 32 | b
        if key in self._pairs:
            return self._pairs[key]
        if len(self._pairs) >= PAIRS:
            self._pairs.clear()
        at = int(self._keys.searchsorted(key))
        found = (int(self._rank[at]), int(self._new[at])) if at < len(self._keys) and self._keys[at] == key else None
        self._pairs[key] = found
        return found

    def _merge(self, c: list[int]) -> list[int]:
        """HF's `Word::merge_all`: symbols in a linked list, merges from a heap of (rank, pos)."""
        n = len(c)
        if n < 2:
            return c
        nxt = [*range(1, n), -1]
        prev = list(range(-1, n - 1))
        alive = [True] * n
        keys = np.array(c[:-1], dtype=np.int64) << 32 | np.array(c[1:], dtype=np.int64)
        at = self._keys.searchsorted(keys).clip(max=len(self._keys) - 1)
        hit = np.flatnonzero(self._keys[at] == keys)
        heap = list(zip(self._rank[at[hit]].tolist(), hit.tolist(), self._new[at[hit]].tolist(), strict=True))
        heapq.heapify(heap)
        while heap:
            _, pos, new = heapq.heappop(heap)
            right = nxt[pos]
            if not alive[pos] or right == -1:
                continue
            found = self._lookup(c[pos], c[right])
            if found is None or found[1] != new:  # queued before a neighbour changed
                continue
            c[pos], alive[right], nxt[pos] = new, False, nxt[right]
            if nxt[pos] != -1:
                prev[nxt[pos]] = pos
            if prev[pos] >= 0 and (found := self._lookup(c[prev[pos]], new)) is not None:
                heapq.heappush(heap, (found[0], prev[pos], found[1]))
            if nxt[pos] != -1 and (found := self._lookup(new, c[nxt[pos]])) is not None:
                heapq.heappush(heap, (found[0], pos, found[1]))
        return [s for s, keep in zip(c, alive, strict=True) if keep]
