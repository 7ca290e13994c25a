"""Gemma 3 (imported by `nib model import`) on ONNX Runtime, behind the same `Runtime`.

The graph is nib's shared-prefix serving graph (`net/gemma.py`) from embeddings
to logits over the kept tokens; the embedding is an int8 table with one scale
per row (already times sqrt(d_model)), memory-mapped, so only the rows a prompt
uses are read into memory: 168 MB on disk, a few MB resident. The cache holds
one key/value head of 256 per layer (grouped-query attention), so its layout is
nib's (L, B, 1, P, 256).
"""

from __future__ import annotations

import numpy as np

from . import artifacts
from .onnx import OnnxRuntime

MAX_WINDOW = 2048


class GemmaRuntime(OnnxRuntime):
    # a cold prompt in pieces: 2000 tokens took 3.6 s in pieces of 256 against 4.3 s at once
    # (benchmarks/results/pretrained/levers.json)
    prefill_chunk = 256
    # without ORT's arena the server's resident memory after the replay of benchmarks/models.py
    # went from 743 to 700 MB, ghost text p50 67 -> 70 ms (within this machine's noise)
    memory_arena = False

    def __init__(self, model_dir: artifacts.ModelDir, threads: int = 0):
        super().__init__(model_dir, threads)
        self.embedding = np.load(model_dir.file("embedding"), mmap_mode="r")
        self.embedding_scale = np.load(model_dir.file("embedding_scale"))
        self.uses_types = False

    def _configure(self, arch: dict) -> None:
        self.n_layer, self.n_head, self.head_dim = arch["n_layer"], arch["n_kv_head"], arch["head_dim"]
        # the longest window nib runs it over (the model's own is 32k): a whole file in one pass
        # would build a mask of its length squared
        self.vocab_size, self.block_size = arch["kept"], min(arch["block_size"], MAX_WINDOW)

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """(B, S) model ids -> (B, S, d_model) float32."""
        rows = self.embedding[ids.reshape(-1)].astype(np.float32) * self.embedding_scale[ids.reshape(-1), None]
        return rows.reshape(*ids.shape, -1)

    def _token_feed(self, ids, types):
        return {"embeds": self.embed(ids)}
