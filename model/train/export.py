"""Export a trained CodeLM to ONNX with its KV cache as inputs and outputs, then int8.

The graph (`CodeLM.forward_shared`): input_ids, type_ids (B, S) int64; the
prompt's cache prefix_keys, prefix_values (L, 1, H, P, D), shared by the B rows
and never copied per row; each row's own cache past_keys, past_values
(L, B, H, S0, D) float32. Out: logits (B, S, V) and the rows' own caches
present_keys, present_values (L, B, H, S0+S, D). A prefill runs with the
reused prompt cache as the prefix and an empty past; a beam step with the
prompt as the prefix and each hypothesis's own tokens as its past, so a step
costs a read of the prompt's cache, not a copy of it per row and per step.

Quantization is int8 (MatMulNBits: 8-bit weights in blocks of 16, int8 compute,
so activations are quantized too, per block). Of the int8-compute variants tried
on nib's own models (blocks of 128, 32 and 16; dynamic int8, MatMulInteger with
activations quantized per tensor) it agreed best with fp32 on top-1 predictions,
and it decodes faster than fp32. int8 weights with fp32 compute agree better still
but decode a step 12 times slower on Gemma 3 270M (`benchmarks/int8_blocks.py`). Blocks
of 16 against 32 cost 0.6 MB (4%) and 6% of a prefill on the bundled model's shape;
imported pretrained models keep blocks of 32 (`pretrained/convert.py`), where blocks
of 16 would make the file a tenth larger.
Its agreement on the text given to `nib export --parity` goes into the manifest
("parity"). The tied embedding stays fp32: it serves both the input Gather and the
output MatMul.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import torch

from nib.model.net.network import CodeLM, Config, load_checkpoint
from nib.model.runtime import artifacts
from nib.model.text.lexer import TYPES

OPSET = 23
OWN_BLOCK = 16  # int8 blocks for nib's own models; see the module's docstring


class _SharedServing(torch.nn.Module):
    def __init__(self, model: CodeLM):
        super().__init__()
        self.model = model

    def forward(self, input_ids, type_ids, prefix_keys, prefix_values, past_keys, past_values):
        return self.model.forward_shared(input_ids, type_ids, prefix_keys, prefix_values, past_keys, past_values)


def example_inputs(cfg: Config, batch=1, new=4, past=3):
    head = cfg.d_model // cfg.n_head
    ids = torch.randint(0, cfg.vocab_size, (batch, new))
    types = torch.randint(0, cfg.n_types, (batch, new))
    kv = torch.zeros(cfg.n_layer, batch, cfg.n_head, past, head)
    return ids, types, kv, kv.clone()


def to_onnx(model: CodeLM, out: Path) -> None:
    """The serving graph (`CodeLM.forward_shared`), with dynamic batch, new tokens, prefix and past."""
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    prefix, past = torch.export.Dim("prefix"), torch.export.Dim("past")
    ids, types, kv, _ = example_inputs(model.cfg, batch=2, new=2, past=3)  # sizes of 0 or 1 would be fixed
    own = torch.zeros(kv.shape[0], 2, kv.shape[2], 2, kv.shape[4])
    dyn = {
        "input_ids": {0: batch, 1: seq},
        "type_ids": {0: batch, 1: seq},
        "prefix_keys": {3: prefix},
        "prefix_values": {3: prefix},
        "past_keys": {1: batch, 3: past},
        "past_values": {1: batch, 3: past},
    }
    torch.onnx.export(
        _SharedServing(model).eval(),
        (ids, types, kv[:, :1], kv[:, :1].clone(), own, own.clone()),
        str(out),
        dynamo=True,
        opset_version=OPSET,
        input_names=["input_ids", "type_ids", "prefix_keys", "prefix_values", "past_keys", "past_values"],
        output_names=["logits", "present_keys", "present_values"],
        dynamic_shapes=dyn,
        external_data=False,
        verbose=False,
    )


def quantize(src: Path, dst: Path, *, block_size: int, keep_fp32=lambda weight_shape: False) -> dict:
    """int8 weights (MatMulNBits) in blocks of block_size, int8 compute; the MatMuls whose weight
    shape `keep_fp32` picks stay fp32.  -> the manifest's "quantization" entry"""
    import logging

    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    model = onnx.load(str(src))
    shapes = {i.name: tuple(i.dims) for i in model.graph.initializer}
    exclude = [
        n.name
        for n in model.graph.node
        if n.op_type == "MatMul" and n.input[1] in shapes and keep_fp32(shapes[n.input[1]])
    ]
    quantizer = MatMulNBitsQuantizer(
        model, bits=8, block_size=block_size, is_symmetric=True, accuracy_level=4, nodes_to_exclude=exclude
    )
    quantizer.process()
    quantizer.model.save_model_to_file(str(dst))
    return {"bits": 8, "block_size": block_size, "compute": "int8"}


def parity(model: CodeLM, fp32: Path, int8: Path, ids: list[int], types: list[int], window: int = 256) -> dict:
    """ONNX fp32 against torch (max |logit difference|), int8 against fp32 (top-1 agreement).

    Runs the sample in windows with an empty cache, then one window split in
    two to check that the KV cache path agrees with a single pass.
    """
    import numpy as np
    import onnxruntime as ort

    if len(ids) < 4:
        raise ValueError("parity needs a sample of at least 4 tokens")
    sessions = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in (fp32, int8)]
    cfg = model.cfg
    head = cfg.d_model // cfg.n_head
    empty = np.zeros((cfg.n_layer, 1, cfg.n_head, 0, head), dtype=np.float32)
    max_diff, agree, total = 0.0, 0, 0

    def run(session, i, t, k, v):  # k, v: the cache so far, as the prefix; the new tokens' cache comes back
        own = np.zeros((k.shape[0], 1, k.shape[2], 0, k.shape[4]), dtype=np.float32)
        feed = {"input_ids": i, "prefix_keys": k, "prefix_values": v, "past_keys": own, "past_values": own}
        if "type_ids" in {x.name for x in session.get_inputs()}:
            feed["type_ids"] = t
        logits, new_k, new_v = session.run(None, feed)
        return logits, np.concatenate((k, new_k), axis=3), np.concatenate((v, new_v), axis=3)

    for lo in range(0, len(ids) - 1, window):
        i = np.asarray([ids[lo : lo + window]], dtype=np.int64)
        t = np.asarray([types[lo : lo + window]], dtype=np.int64)
        with torch.no_grad():
            ref, _ = model(torch.from_numpy(i), torch.from_numpy(t))
        f32 = run(sessions[0], i, t, empty, empty)[0]
        q8 = run(sessions[1], i, t, empty, empty)[0]
        max_diff = max(max_diff, float(np.abs(f32 - ref.numpy()).max()))
        agree += int((f32.argmax(-1) == q8.argmax(-1)).sum())
        total += f32.shape[1]
    # the cache path: the first window in two halves equals one pass
    n = min(window, len(ids))
    i = np.asarray([ids[:n]], dtype=np.int64)
    t = np.asarray([types[:n]], dtype=np.int64)
    whole = run(sessions[0], i, t, empty, empty)[0]
    a, k, v = run(sessions[0], i[:, : n // 2], t[:, : n // 2], empty, empty)
    b, _, _ = run(sessions[0], i[:, n // 2 :], t[:, n // 2 :], k, v)
    cache_diff = float(np.abs(np.concatenate([a, b], axis=1) - whole).max())
    return {
        "fp32_vs_torch_max_abs_logit_diff": max_diff,
        "cache_vs_single_pass_max_abs_logit_diff": cache_diff,
        "int8_vs_fp32_top1_agreement": agree / total,
        "tokens": total,
    }


def export(
    checkpoint: Path,
    tokenizer: Path,
    out: Path,
    extra_manifest: dict | None = None,
    keep_fp32: bool = False,
    parity_text: str | None = None,
    block_size: int = OWN_BLOCK,
) -> dict:
    """Write out/model.onnx (int8 in blocks of block_size), out/tokenizer.json and out/manifest.json.

    With parity_text, the parity figures on it go into the manifest.
    """
    model = load_checkpoint(checkpoint)
    out.mkdir(parents=True, exist_ok=True)
    extra_manifest = dict(extra_manifest or {})
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        to_onnx(model, fp32)
        quantization = quantize(fp32, out / artifacts.MODEL_FILE, block_size=block_size)
        if keep_fp32:
            shutil.copy(fp32, out / "model.fp32.onnx")
        if parity_text is not None:
            from nib.model.net.tokenizer import BPE
            from nib.model.text.streams import INPUT_TYPE, token_types

            bpe = BPE.load(tokenizer)
            ids = bpe.encode(parity_text)
            types = INPUT_TYPE[token_types(parity_text, ids, bpe.token_bytes)].tolist()
            extra_manifest["parity"] = parity(model, fp32, out / artifacts.MODEL_FILE, ids, types)
    shutil.copy(tokenizer, out / artifacts.TOKENIZER_FILE)
    manifest = {
        "format_version": artifacts.FORMAT_VERSION,
        "architecture": {"name": "CodeLM", **model.cfg.to_dict(), "params": model.num_params()},
        "types": list(TYPES),
        "quantization": quantization,
        "files": {
            "model": artifacts.file_entry(out / artifacts.MODEL_FILE),
            "tokenizer": artifacts.file_entry(out / artifacts.TOKENIZER_FILE),
        },
        **extra_manifest,
    }
    (out / artifacts.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
