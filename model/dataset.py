"""Encode the corpus into the two streams: token ids and type ids, as arrays.

Files are joined with <|endoftext|>. A stable hash of each path puts about 2%
of files in the validation split, so the split survives corpus changes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from . import corpus
from .progress import Progress
from .streams import token_types
from .tokenizer import BPE


def is_validation(path: str) -> bool:
    return hashlib.sha256(path.encode()).digest()[0] < 6  # 6/256 ~ 2.3%


def encode(corpus_dir: Path, tokenizer: BPE, out: Path) -> dict:
    files = corpus.load(corpus_dir)
    streams = {"train": ([], []), "val": ([], [])}
    progress = Progress(sum(len(t) for _, t in files), "chars", "encode")
    for path, text in files:
        ids = tokenizer.encode(text)
        types = token_types(text, ids, tokenizer.token_bytes)
        toks, tys = streams["val" if is_validation(path) else "train"]
        toks.append(np.asarray(ids + [tokenizer.eot], dtype=np.uint16))
        tys.append(np.append(types, 0).astype(np.uint8))  # PAD type for the separator
        progress.update(len(text))
    progress.close()
    out.mkdir(parents=True, exist_ok=True)
    info = {}
    for split, (toks, tys) in streams.items():
        np.save(out / f"{split}_tokens.npy", np.concatenate(toks))
        np.save(out / f"{split}_types.npy", np.concatenate(tys))
        info[split] = int(sum(len(t) for t in toks))
    (out / "encoded.json").write_text(json.dumps(info) + "\n")
    return info
