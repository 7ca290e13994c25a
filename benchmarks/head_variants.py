"""A pretrained model imported with another output head or int8 block, into a directory of its
own, for `nib eval` and `benchmarks/heads.py` to compare: the tokens of a kept-token file (`file`),
those and every ASCII-spelled token (`ascii`: what ships for Qwen2.5-Coder), or every token (`all`).
The head before every ASCII token was kept is the file at commit 99d5d51:

    git show 99d5d51:model/pretrained/qwen2.5-coder-0.5b.vocab.json > /tmp/corpus_only.json
    python benchmarks/head_variants.py qwen2.5-coder-0.5b file /tmp/qwen-pruned --vocab /tmp/corpus_only.json
    python benchmarks/head_variants.py qwen2.5-coder-0.5b all /tmp/qwen-full
    python benchmarks/head_variants.py qwen2.5-coder-0.5b ascii /tmp/qwen-block64 --int8-block 64

The GGUF comes from the pinned packages (`nib model import NAME` fetched them); the imported
model's tokenizer.json must be in the model cache (the same file the import writes).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from nib.model.pretrained import registry
from nib.model.pretrained.vocab import ascii_tokens, load


def kept(spec: registry.Pretrained, head: str, vocab: Path | None) -> list[int]:
    bpe = load(spec.dir / "tokenizer.json")
    ids = set(json.loads(vocab.read_text())["ids"] if vocab else spec.kept())
    if head == "ascii":
        ids |= ascii_tokens(bpe)
    elif head == "all":
        ids |= set(range(bpe.vocab_size))
    return sorted(ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="a model `nib model import` knows")
    parser.add_argument("head", choices=["file", "ascii", "all"], help="file: the committed kept-token file as it is")
    parser.add_argument("out", type=Path)
    parser.add_argument("--vocab", type=Path, help="a kept-token file (default: the committed one)")
    parser.add_argument("--int8-block", type=int, default=32, choices=(16, 32, 64, 128), help="weights per int8 scale")
    args = parser.parse_args()
    spec = registry.get(args.name)
    ids = kept(spec, args.head, args.vocab)
    print(f"{args.name}: a head over {len(ids)} tokens -> {args.out}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    manifest = registry.convert_pinned(replace(spec, int8_block=args.int8_block), ids, args.out)
    print(json.dumps(manifest["parity"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
