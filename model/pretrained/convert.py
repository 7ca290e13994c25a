"""A GGUF of Gemma 3 or Qwen2 -> nib's model directory: int8 ONNX, int8 embedding table, tokenizer,
manifest.

    GGUF --transformers + gguf--> Gemma3ForCausalLM / Qwen2ForCausalLM (fp32, dequantized)
         --net/gemma.py, net/qwen2.py--> nib's module, the head pruned to the kept tokens
         --torch.onnx.export-----> the shared-prefix serving graph (embeddings in, logits out)
         --MatMulNBits 8 bits----> model.onnx
    embedding: int8 per row, scale per row (times Gemma's sqrt(d_model)), in the model's vocabulary order

int8 is the quantization that keeps quality: every int4 tried, re-quantizing the Q4_K_M
weights, lost line exact match. Nor would 4 bits hold these GGUFs' weights as they are: rows of
640 or 896 are not whole Q4_K super-blocks of 256, so most of Qwen2.5-Coder 0.5B's matrices and
Gemma's q, k, v, gate and up are Q5_0 (5 bits). The parity figures on a sample of nib's own
source go into the manifest.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from nib.model.net import compact_bpe
from nib.model.runtime import artifacts, load_tokenizer, open_runtime
from nib.model.runtime.adapter import ADAPTER_FILE, merge, meta
from nib.model.runtime.base import SharedPrefixRuntime
from nib.model.runtime.embedded import FILES
from nib.model.runtime.torch import load_hf

OPSET = 23
PARITY_TOKENS = 512


def quiet() -> None:
    """The import shows its own progress bar: silence transformers' per-tensor bar and the exporter's
    warnings and INFO lines, which would bury it."""
    import logging
    import os
    import warnings

    os.environ.setdefault("TQDM_DISABLE", "1")  # read when tqdm is first imported: call this before torch
    warnings.filterwarnings("ignore", module=r"(torch|onnxscript|transformers|onnx_ir)(\.|$)")
    warnings.filterwarnings("ignore", category=FutureWarning)  # raised through copyreg by the exporter
    for name in ("torch", "torch.onnx", "torch.export", "onnxscript", "onnx_ir", "transformers"):
        logging.getLogger(name).setLevel(logging.ERROR)


def vocabulary_order(kept: list[int], vocab_size: int) -> np.ndarray:
    """model id -> tokenizer id: the kept tokens first (the head's rows), then the rest.

    Example: vocabulary_order([3, 1], 4).tolist() == [3, 1, 0, 2]
    """
    rest = np.setdiff1d(np.arange(vocab_size), np.asarray(kept))
    return np.concatenate((np.asarray(kept, dtype=np.int64), rest)).astype(np.int64)


def quantize_rows(table: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows with one float32 scale each, symmetric; `scale` multiplies every row (the
    embedding's sqrt(d_model)).

    Example: quantize_rows([[0.5, -1.0]], 2.0)[0].tolist() == [[64, -127]];
             np.allclose(quantize_rows([[0.5, -1.0]], 2.0)[1], [2 / 127])
    """
    table = np.asarray(table, dtype=np.float32)
    peak = np.abs(table).max(axis=1)
    step = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(table / step[:, None]), -127, 127).astype(np.int8)
    return q, (step * scale).astype(np.float32)


def to_onnx(model, out: Path) -> None:
    import torch

    class Serving(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, embeds, prefix_keys, prefix_values, past_keys, past_values, scored):
            return self.inner.forward_shared(embeds, prefix_keys, prefix_values, past_keys, past_values, scored)

    cfg = model.cfg
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    prefix, past, scored = torch.export.Dim("prefix"), torch.export.Dim("past"), torch.export.Dim("scored")
    embeds = torch.randn(2, 2, cfg.d_model)  # sizes of 0 or 1 would be fixed by the export
    shared = torch.zeros(cfg.n_layer, 1, cfg.n_kv_head, 3, cfg.head_dim)
    own = torch.zeros(cfg.n_layer, 2, cfg.n_kv_head, 2, cfg.head_dim)
    dyn = {
        "embeds": {0: batch, 1: seq},
        "prefix_keys": {3: prefix},
        "prefix_values": {3: prefix},
        "past_keys": {1: batch, 3: past},
        "past_values": {1: batch, 3: past},
        "scored": {0: scored},
    }
    torch.onnx.export(
        Serving(model).eval(),
        (embeds, shared, shared.clone(), own, own.clone(), torch.arange(2)),
        str(out),
        dynamo=True,
        opset_version=OPSET,
        input_names=["embeds", "prefix_keys", "prefix_values", "past_keys", "past_values", "scored"],
        output_names=["logits", "present_keys", "present_values"],
        dynamic_shapes=dyn,
        external_data=False,
        verbose=False,
    )


def parity(hf_model, out: Path, text: str) -> dict:
    """The imported model (int8 graph, int8 embedding) against transformers' fp32 model on text:
    top-1 agreement and the largest logit difference over the kept tokens, one pass and
    through the cache (the first half as the prefix, the rest as one row's own tokens)."""
    import torch

    runtime, model_dir = open_runtime(out)
    assert isinstance(runtime, SharedPrefixRuntime)  # Gemma 3's ONNX graph: a shared prefix and the rows' own
    bpe = load_tokenizer(model_dir)
    start = bpe.bos if bpe.bos is not None else bpe.eot
    ids = ([start] + bpe.encode(text))[:PARITY_TOKENS]
    with torch.no_grad():
        reference = hf_model(torch.tensor([bpe.order[ids].tolist()])).logits[0].numpy()
    reference = reference[:, bpe.order[: runtime.vocab_size]]
    logits, state = runtime.prefill(ids, [0] * len(ids))
    half = len(ids) // 2
    _, prefix = runtime.prefill(ids[:half], [0] * half)
    own = runtime.empty(1)
    tail = np.asarray([ids[half:]], dtype=np.int64)
    cached = runtime.run(tail, tail, prefix.keys, prefix.values, *own)[0][0]
    return {
        "tokens": len(ids),
        "int8_vs_transformers_fp32_top1_agreement": float((logits.argmax(-1) == reference.argmax(-1)).mean()),
        "int8_vs_transformers_fp32_max_abs_logit_diff": float(np.abs(logits - reference).max()),
        "cache_vs_single_pass_max_abs_logit_diff": float(np.abs(cached - logits[half:]).max()),
    }


def _tokenizer_arrays(out: Path) -> dict[str, str]:
    """Write tokenizer.json's BPE as arrays where `net/compact_bpe.py` encodes it (Gemma's and
    Qwen2's: a fraction of HF tokenizers' resident memory); the manifest's entry, or none."""
    try:
        compact_bpe.write(out / artifacts.TOKENIZER_FILE, out / artifacts.TOKENIZER_ARRAYS_FILE)
    except ValueError:  # another pipeline: HF tokenizers reads tokenizer.json
        return {}
    return {"tokenizer_arrays": artifacts.TOKENIZER_ARRAYS_FILE}


def network(config):
    """(the family's name in the manifest, its torch runtime class, which builds nib's module and
    knows the embedding's scale) for transformers' config of the model read from the GGUF."""
    from nib.model.runtime.embedded_torch import EmbeddedTorchRuntime
    from nib.model.runtime.families import FAMILIES

    imported = {
        f.torch.hf_type: f
        for f in FAMILIES.values()
        if isinstance(f.torch, type) and issubclass(f.torch, EmbeddedTorchRuntime)
    }
    if config.model_type not in imported:
        raise ValueError(
            f"nib cannot import a {config.model_type!r} model: it imports {', '.join(f.name for f in imported.values())}"
        )
    family = imported[config.model_type]
    return family.name, family.torch


def _merge_copy(hf_model, adapter: Path, out: Path, say) -> None:
    """Merge adapter into the weights, from the copy the model directory keeps (what was merged is what is kept)."""
    say(f"merging the adapter {adapter.name}")
    shutil.copy(adapter, out / ADAPTER_FILE)
    merge(hf_model, out / ADAPTER_FILE)


def _embedding(hf_model, scale: float, order: np.ndarray, out: Path) -> None:
    """The input embedding in the model's vocabulary order, int8 with a scale per row."""
    table, row_scales = quantize_rows(hf_model.model.embed_tokens.weight.detach().numpy()[order], scale)
    np.save(out / FILES["embedding"], table)
    np.save(out / FILES["embedding_scale"], row_scales)


def _serving_graph(model, out: Path, int8_block: int, say) -> dict:
    """nib's module -> model.onnx in out, int8 in blocks of int8_block; -> the manifest's "quantization" entry"""
    from nib.model.train.export import quantize

    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        say("exporting the serving graph to ONNX")
        to_onnx(model, fp32)
        say("quantizing to int8")
        return quantize(fp32, out / artifacts.MODEL_FILE, block_size=int8_block)


def convert(
    gguf: Path,
    kept: list[int],
    out: Path,
    source: dict,
    parity_text: str,
    say,
    adapter: Path | None,
    int8_block: int,
) -> dict:
    """Write the model directory `out` from a GGUF (its weights with adapter merged, where one is
    given: the directory keeps a copy, which the torch runtime merges too); returns the manifest."""
    quiet()
    import torch

    quiet()  # again: importing torch set up its loggers anew

    started = time.monotonic()
    say("reading the GGUF (transformers + gguf)")
    hf_model, hf_tokenizer = load_hf(gguf)
    name, family = network(hf_model.config)
    out.mkdir(parents=True, exist_ok=True)
    if adapter is not None:
        _merge_copy(hf_model, adapter, out, say)
    vocab_size = hf_model.config.vocab_size
    order = vocabulary_order(kept, vocab_size)
    with tempfile.TemporaryDirectory() as tmp:
        hf_tokenizer.save_pretrained(tmp)
        shutil.copy(Path(tmp) / "tokenizer.json", out / artifacts.TOKENIZER_FILE)
    extra = _tokenizer_arrays(out)
    np.save(out / FILES["vocab_order"], order)
    _embedding(hf_model, family.embedding_scale(hf_model.config), order, out)
    model = family.network(hf_model, torch.from_numpy(order[: len(kept)]))
    quantization = _serving_graph(model, out, int8_block, say)
    arch = {
        "name": name,
        **model.cfg.to_dict(),
        "kept": len(kept),
        "params": int(sum(p.numel() for p in hf_model.parameters())),
    }
    del model
    names = {"model": artifacts.MODEL_FILE, "tokenizer": artifacts.TOKENIZER_FILE, **FILES, **extra}
    if adapter is not None:
        names["adapter"] = ADAPTER_FILE
    files = {key: artifacts.file_entry(out / name) for key, name in names.items()}
    manifest = {"format_version": artifacts.FORMAT_VERSION, "architecture": arch, "quantization": quantization}
    manifest.update(files=files, **source)
    # the torch runtime's, without parsing the GGUF twice (less the temporary folder it was read
    # from, and the GGUF's quantization entry, which loading it sets again)
    config = hf_model.config.to_dict()
    manifest["hf_config"] = {k: v for k, v in config.items() if k not in ("_name_or_path", "quantization_config")}
    if adapter is not None:
        manifest["adapter"] = meta(out / ADAPTER_FILE)  # how it was trained: the model, the corpus, the run
    (out / artifacts.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    say("checking parity against transformers")
    manifest["parity"] = parity(hf_model, out, parity_text)
    manifest["import_seconds"] = round(time.monotonic() - started, 1)
    (out / artifacts.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
