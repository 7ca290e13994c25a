"""The tokens a pretrained model's pruned output head keeps: those Python code uses.

Gemma's vocabulary has 262,144 tokens for every language, Qwen2's 151,936; Python
source uses a fraction of them. The head scores the tokens seen at least `min_count`
times in nib's training corpus (the standard library and the packages of
`model/train/corpus.toml`, never evaluation code), every byte token, so
that any text can still be spelled, and the end of text; with `ascii`, also every token
spelled in ASCII alone. A corpus cannot hold a new project's names (`SpanNode`,
`Sanitized`): without their tokens a model whose best token is one of them picks
another, not the bytes that spell it (benchmarks/results/heads/). Written by
`python -m nib.model.pretrained.vocab CORPUS_DIR TOKENIZER OUT.json`, or widened to the ASCII
tokens without the corpus (`--widen OUT.json TOKENIZER`); the file is committed beside the
registry, so an import needs no corpus.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from nib.model.net.bytelevel import ByteLevelBPE
from nib.model.net.sentencepiece import SentencePieceBPE
from nib.model.sources import read_corpus


def load(tokenizer: Path) -> SentencePieceBPE:
    """A pretrained model's tokenizer.json in its own order: byte-level (Qwen2) or SentencePiece (Gemma)."""
    decoder = json.loads(tokenizer.read_text()).get("decoder") or {}
    return (ByteLevelBPE if decoder.get("type") == "ByteLevel" else SentencePieceBPE).load(tokenizer)


def count_tokens(bpe: SentencePieceBPE, texts, batch: int = 256) -> Counter:
    counts: Counter = Counter()
    texts = list(texts)
    for lo in range(0, len(texts), batch):
        for ids in bpe.encode_batch(texts[lo : lo + batch]):
            counts.update(ids)
    return counts


# Control tokens a code model writes where the text it fills in ends (Qwen2.5-Coder's): kept, so
# that the head can say so; decoding stops at any control token.
ENDINGS = ("<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|im_end|>")


def kept_tokens(bpe: SentencePieceBPE, counts: Counter, min_count: int, ascii: bool = True) -> list[int]:
    """Tokenizer ids to keep, sorted: frequent in the corpus, every byte token, end of text, and
    with ascii every token spelled in ASCII alone."""
    table = bpe.token_bytes  # identity order: model ids are tokenizer ids here
    keep = {i for i, n in counts.items() if n >= min_count}
    keep |= {i for i in range(bpe.vocab_size) if i not in bpe.special_ids and len(table[i]) == 1}
    keep |= {i for name in ENDINGS if (i := bpe.tok.token_to_id(name)) is not None}
    keep.add(bpe.stop)
    return sorted(keep | ascii_tokens(bpe)) if ascii else sorted(keep)


def ascii_tokens(bpe: SentencePieceBPE) -> set[int]:
    """The ids of the tokens (not control tokens) whose bytes are all ASCII."""
    table = bpe.token_bytes
    return {i for i in range(bpe.vocab_size) if i not in bpe.special_ids and table[i] and max(table[i]) < 0x80}


def widen(path: Path, tokenizer: Path) -> dict:
    """A committed kept-token file with every ASCII token added (no corpus needed); its counts of
    corpus tokens stay those of the corpus's choice, which the widening only adds to."""
    kept = json.loads(path.read_text())
    ids = sorted(set(kept["ids"]) | ascii_tokens(load(tokenizer)))
    return {**kept, "ascii": True, "kept": len(ids), "ids": ids}


def widen_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m nib.model.pretrained.vocab --widen", description=widen.__doc__)
    parser.add_argument("file", type=Path, help="a committed kept-token file, rewritten in place")
    parser.add_argument("tokenizer", type=Path, help="the model's tokenizer.json")
    args = parser.parse_args(argv)
    out = widen(args.file, args.tokenizer)
    args.file.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"kept {out['kept']} of {out['vocab_size']} tokens")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--widen"]:
        return widen_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a folder written by `nib corpus` (files.jsonl, corpus.json)")
    parser.add_argument("tokenizer", type=Path, help="the model's tokenizer.json")
    parser.add_argument("out", type=Path)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--no-ascii", action="store_true", help="keep only what the corpus uses")
    args = parser.parse_args(argv)
    bpe = load(args.tokenizer)
    texts = [text for _, text in read_corpus(args.corpus)]
    counts = count_tokens(bpe, texts)
    keep = kept_tokens(bpe, counts, args.min_count, ascii=not args.no_ascii)
    total = sum(counts.values())
    covered = sum(n for i, n in counts.items() if i in set(keep))
    corpus = json.loads((args.corpus / "corpus.json").read_text())
    out = {
        "corpus": {k: corpus[k] for k in ("manifest", "python", "files", "bytes", "sha256")},
        "min_count": args.min_count,
        "ascii": not args.no_ascii,
        "vocab_size": bpe.vocab_size,
        "kept": len(keep),
        "corpus_tokens": total,
        "corpus_tokens_covered": covered,
        "ids": keep,
    }
    args.out.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"kept {len(keep)} of {bpe.vocab_size} tokens; they cover {covered / total:.4f} of {total} corpus tokens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
