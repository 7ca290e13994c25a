"""A pretrained model on ONNX Runtime (Gemma 3, Qwen2), behind the same `Runtime`.

The graph is nib's shared-prefix serving graph (`net/gemma.py`, `net/qwen2.py`) from
embeddings to logits over the kept tokens; the embedding is an int8 table with one scale per
row (the model's embedding scale folded in), of which only the rows the prompts use are read
from the file (`rows.py`). The cache's layout is nib's (L, B, KV heads, P, head size).
"""

from __future__ import annotations

import numpy as np

from .onnx import OnnxRuntime
from .rows import Rows

# The longest window nib runs it over (the models' own are 32k): a whole file in one pass
# would build a mask of its length squared.
MAX_WINDOW = 2048

FILES = {"embedding": "embedding.npy", "embedding_scale": "embedding_scale.npy", "vocab_order": "vocab_order.npy"}


class EmbeddedRuntime(OnnxRuntime):
    # a cold prompt runs in pieces, faster than at once (benchmarks/results/pretrained/levers.json,
    # "chunked_prefill")
    prefill_chunk = 256

    def __init__(self, model_dir, threads: int = 0, graph=None):
        super().__init__(model_dir, threads, graph)
        self.embedding = Rows(model_dir.file("embedding"))
        self.embedding_scale = np.load(model_dir.file("embedding_scale"))

    def _configure(self, model_dir) -> None:
        arch = model_dir.manifest["architecture"]
        self.n_layer, self.n_head, self.head_dim = arch["n_layer"], arch["n_kv_head"], arch["head_dim"]
        self.vocab_size, self.block_size = arch["kept"], min(arch["block_size"], MAX_WINDOW)
        self.uses_types = False

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """(B, S) model ids -> (B, S, d_model) float32."""
        rows = self.embedding[ids.reshape(-1)].astype(np.float32) * self.embedding_scale[ids.reshape(-1), None]
        return rows.reshape(*ids.shape, -1)

    def _token_feed(self, ids, types):
        return {"embeds": self.embed(ids)}
