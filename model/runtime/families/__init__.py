"""The model architectures nib serves, one entry each: how to read a model's tokenizer, run it on
ONNX Runtime and through torch, the files its directory holds beyond model.onnx and
tokenizer.json, and what the settings leave to it.

The manifest's architecture name picks the entry (`artifacts.ModelDir.family`). Each family's
serving code is in its folder here. A family nib imports from a GGUF says in its torch runtime
which transformers model_type it is, its network and its embedding's scale; `nib model import`
(pretrained/convert.py) finds it by that model_type and branches on no family. Adding one is a
folder, an entry, its network in net/, and what to import in pretrained/registry.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nib.model.errors import ModelError

from ..embedded import EmbeddedRuntime
from . import codelm, gemma3, qwen2
from .codelm.runtime import open_onnx
from .codelm.torch import open_torch
from .gemma3.torch import GemmaTorchRuntime
from .qwen2.torch import Qwen2TorchRuntime

# What the settings leave to the model (contextTokens 0, minConfidence -1), and how many tokens
# the statement drafts from the file, unless its manifest's "defaults" say otherwise (`nib model
# import` writes those chosen on the dev split), or its adapter's (`ModelDir.defaults`). The bundled model was trained on 512 tokens: a
# prompt of 448 leaves it room for the statement. Drafting gains it nothing, its steps being
# that cheap (benchmarks/results/pretrained/drafting_bundled.json). "fim": how the prompt shows
# the text after the cursor to a model trained to fill in the middle (`completion/prompt.py`).
DEFAULTS: dict[str, Any] = {"context_tokens": 448, "min_confidence": 0, "draft_tokens": 0, "fim": "off"}


@dataclass(frozen=True)
class Family:
    name: str  # the manifest's architecture name
    load_tokenizer: Callable  # (ModelDir) -> a tokenizer with `net/tokenizer.py`'s BPE interface
    onnx: Callable  # (ModelDir, threads) -> Runtime on ONNX Runtime on the CPU
    torch: Callable | None  # (ModelDir, device) -> Runtime through torch; None: no torch backend
    files: dict  # the manifest's "files" keys beyond model and tokenizer -> their names in the directory
    defaults: dict  # what the settings leave to the model; the manifest's "defaults" override them, then an adapter's
    types: bool = False  # trained with nib's token-type inventory (`text/lexer.py`), checked on load


FAMILIES = {
    family.name: family
    for family in (
        Family("CodeLM", codelm.load_tokenizer, open_onnx, open_torch, {}, DEFAULTS, types=True),
        Family("Gemma3", gemma3.load_tokenizer, EmbeddedRuntime, GemmaTorchRuntime, gemma3.FILES, DEFAULTS),
        Family("Qwen2", qwen2.load_tokenizer, EmbeddedRuntime, Qwen2TorchRuntime, qwen2.FILES, DEFAULTS),
    )
}


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise ModelError(f"this nib does not know the architecture {name!r}: it serves {', '.join(FAMILIES)}")
    return FAMILIES[name]
