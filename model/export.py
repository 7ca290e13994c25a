"""Export a trained CodeLM to ONNX with its KV cache as inputs and outputs, then int8.

The graph: input_ids, type_ids (B, S) int64 and past_keys, past_values
(L, B, H, P, D) float32 in; logits (B, S, V), present_keys, present_values
(L, B, H, P+S, D) out. An empty cache (P = 0) serves the first prefill.
Dynamic int8 quantization covers MatMul and Gather only: on the default op list
opset 23's Attention becomes com.microsoft QAttention, which does not load
(model-spike.md).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import torch

from . import artifacts
from .lexer import TYPES
from .network import CodeLM, Config

OPSET = 23


class _Serving(torch.nn.Module):
    def __init__(self, model: CodeLM):
        super().__init__()
        self.model = model

    def forward(self, input_ids, type_ids, past_keys, past_values):
        return self.model.forward_cached(input_ids, type_ids, past_keys, past_values)


def load_checkpoint(path: Path) -> CodeLM:
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    model = CodeLM(Config(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    return model.eval()


def example_inputs(cfg: Config, batch=1, new=4, past=3):
    head = cfg.d_model // cfg.n_head
    ids = torch.randint(0, cfg.vocab_size, (batch, new))
    types = torch.randint(0, cfg.n_types, (batch, new))
    kv = torch.zeros(cfg.n_layer, batch, cfg.n_head, past, head)
    return ids, types, kv, kv.clone()


def to_onnx(model: CodeLM, out: Path) -> None:
    batch, seq, past = torch.export.Dim("batch"), torch.export.Dim("seq"), torch.export.Dim("past")
    dyn = {
        "input_ids": {0: batch, 1: seq},
        "type_ids": {0: batch, 1: seq},
        "past_keys": {1: batch, 3: past},
        "past_values": {1: batch, 3: past},
    }
    torch.onnx.export(
        _Serving(model).eval(), example_inputs(model.cfg), str(out), dynamo=True, opset_version=OPSET,
        input_names=["input_ids", "type_ids", "past_keys", "past_values"],
        output_names=["logits", "present_keys", "present_values"],
        dynamic_shapes=dyn, external_data=False, verbose=False,
    )


def quantize(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul", "Gather"])


def export(checkpoint: Path, tokenizer: Path, out: Path, extra_manifest: dict | None = None,
           keep_fp32: bool = False) -> dict:
    """Write out/model.onnx (int8), out/tokenizer.json and out/manifest.json."""
    model = load_checkpoint(checkpoint)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx"
        to_onnx(model, fp32)
        quantize(fp32, out / artifacts.MODEL_FILE)
        if keep_fp32:
            shutil.copy(fp32, out / "model.fp32.onnx")
    shutil.copy(tokenizer, out / artifacts.TOKENIZER_FILE)
    manifest = {
        "format_version": artifacts.FORMAT_VERSION,
        "architecture": {"name": "CodeLM", **model.cfg.to_dict(), "params": model.num_params()},
        "types": list(TYPES),
        "files": {
            "model": artifacts.file_entry(out / artifacts.MODEL_FILE),
            "tokenizer": artifacts.file_entry(out / artifacts.TOKENIZER_FILE),
        },
        **(extra_manifest or {}),
    }
    (out / artifacts.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
