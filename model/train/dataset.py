"""Encode the corpus into the two streams: token ids and type ids, as arrays.

Files are joined with <|endoftext|>. A stable hash of each path puts about 2%
of files in the validation split, so the split survives corpus changes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from nib.model.net.tokenizer import BPE
from nib.model.progress import Progress
from nib.model.sources import read_corpus
from nib.model.text.streams import token_types


def validation_paths(paths: list[str]) -> set[str]:
    """About 2.3% of files by a stable hash of the path; at least one when there are two."""
    digests = {p: hashlib.sha256(p.encode()).digest() for p in paths}
    chosen = {p for p, d in digests.items() if d[0] < 6}
    if not chosen and len(paths) >= 2:
        chosen = {min(digests, key=lambda p: digests[p])}
    return chosen


def encode(corpus_dir: Path, tokenizer: BPE, out: Path) -> dict:
    files = read_corpus(corpus_dir)
    streams: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {"train": ([], []), "val": ([], [])}
    val = validation_paths([p for p, _ in files])
    progress = Progress(sum(len(t) for _, t in files), "chars", "encode")
    for path, text in files:
        ids = tokenizer.encode(text)
        types = token_types(text, ids, tokenizer.token_bytes)
        toks, tys = streams["val" if path in val else "train"]
        toks.append(np.asarray(ids + [tokenizer.eot], dtype=np.uint16))
        tys.append(np.append(types, 0).astype(np.uint8))  # PAD type for the separator
        progress.update(len(text))
    progress.close()
    out.mkdir(parents=True, exist_ok=True)
    info = {"vocab_size": tokenizer.vocab_size}
    for split, (toks, tys) in streams.items():
        np.save(out / f"{split}_tokens.npy", np.concatenate(toks))
        np.save(out / f"{split}_types.npy", np.concatenate(tys))
        info[split] = int(sum(len(t) for t in toks))
    (out / "encoded.json").write_text(json.dumps(info) + "\n")
    return info
