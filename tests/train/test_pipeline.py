"""The model pipeline end to end at toy scale, through the real `nib` stage commands,
then the exported model against torch (fp32) and against itself (int8), and its runtime."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nib.model.errors import ModelError
from nib.model.net.network import load_checkpoint
from nib.model.runtime import artifacts, open_runtime
from nib.model.runtime.base import CopiedPrefixRuntime
from nib.model.runtime.families.codelm.runtime import CodeLM01Runtime, CodeLMRuntime
from nib.model.runtime.families.codelm.torch import CodeLMTorchRuntime

NIB = [sys.executable, "-I", "-m", "nib.server.cli"]


def nib(*args, cwd):
    done = subprocess.run(NIB + [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """corpus -> tokenizer -> encode -> train -> export, on the stdlib's json package."""
    work = tmp_path_factory.mktemp("pipeline")
    (work / "corpus.toml").write_text('stdlib = true\nstdlib_include = ["json/*.py"]\npackages = []\n')
    nib("corpus", "--manifest", "corpus.toml", "--out", "data/corpus", cwd=work)
    nib("tokenizer", "--vocab", 600, cwd=work)
    nib("encode", cwd=work)
    # A tiny model trained until it is sure of itself on this tiny corpus, so int8 rounding
    # cannot flip near-ties that a barely trained model would be full of.
    nib(
        "train",
        "--out",
        "runs/toy",
        "--layers",
        2,
        "--width",
        64,
        "--block-size",
        64,
        "--batch-size",
        16,
        "--budget-tokens",
        64 * 16 * 400,
        "--threads",
        2,
        cwd=work,
    )
    sample = work / "sample"
    sample.mkdir()
    shutil.copy(Path(json.__file__), sample / "json_init.py")  # text the toy model was trained on
    done = nib("export", "runs/toy/ckpt.pt", "--out", "model", "--keep-fp32", "--parity", sample, cwd=work)
    return work, done.stdout


def test_stages_write_their_artifacts(toy):
    work, _ = toy
    corpus = json.loads((work / "data/corpus/corpus.json").read_text())
    assert corpus["manifest"] == {"stdlib": True, "stdlib_include": ["json/*.py"], "packages": []}
    assert corpus["files"] == 5 and len(corpus["sha256"]) == 64
    encoded = json.loads((work / "data/encoded/encoded.json").read_text())
    assert encoded["train"] + encoded["val"] == len(np.load(work / "data/encoded/train_tokens.npy")) + len(
        np.load(work / "data/encoded/val_tokens.npy")
    )
    summary = json.loads((work / "runs/toy/summary.json").read_text())
    assert summary["tokens"] == 64 * 16 * 400 and summary["steps"] == 400
    manifest = json.loads((work / "model/manifest.json").read_text())
    assert manifest["format_version"] == 1
    assert manifest["corpus"]["sha256"] == corpus["sha256"]
    assert manifest["training"]["tokens"] == summary["tokens"]
    assert manifest["quantization"] == {"bits": 8, "block_size": 16, "compute": "int8"}
    import onnx

    graph = onnx.load(str(work / "model/model.onnx"))
    quantized = [{a.name: a.i for a in n.attribute} for n in graph.graph.node if n.op_type == "MatMulNBits"]
    assert len(quantized) == 2 * 4  # per layer: qkv, proj, gate_up, down (the tied head stays fp32)
    assert {(q["bits"], q["block_size"], q["accuracy_level"]) for q in quantized} == {(8, 16, 4)}


def test_training_resumes_from_checkpoint(toy):
    work, _ = toy
    more = 64 * 16 * 410
    nib(
        "train",
        "--out",
        "runs/toy",
        "--layers",
        2,
        "--width",
        64,
        "--block-size",
        64,
        "--batch-size",
        16,
        "--budget-tokens",
        more,
        "--threads",
        2,
        cwd=work,
    )
    summary = json.loads((work / "runs/toy/summary.json").read_text())
    assert summary["steps"] == 410  # 400 from before + 10, not 410 from scratch


def test_parity(toy):
    """ONNX fp32 matches torch within 1e-3; the KV-cache path matches one pass; int8 agrees on >= 99% of top-1."""
    work, _ = toy
    parity = json.loads((work / "model/manifest.json").read_text())["parity"]
    assert parity["tokens"] > 1000
    assert parity["fp32_vs_torch_max_abs_logit_diff"] < 1e-3
    assert parity["cache_vs_single_pass_max_abs_logit_diff"] < 1e-3
    assert parity["int8_vs_fp32_top1_agreement"] >= 0.99


def test_onnx_and_torch_runtimes_agree_with_prefix_reuse(toy):
    work, _ = toy
    shutil.copy(work / "runs/toy/ckpt.pt", work / "model/ckpt.pt")
    onnx, _ = open_runtime(work / "model", "onnx", threads=1)
    torch_rt, _ = open_runtime(work / "model", "torch", device="cpu")
    assert (type(onnx), type(torch_rt)) == (CodeLMRuntime, CodeLMTorchRuntime)
    assert onnx.uses_types and torch_rt.uses_types
    tokens, types = list(range(10, 70)), [5] * 60
    a, state = onnx.prefill(tokens, types)
    b, _ = torch_rt.prefill(tokens, types)
    assert a.shape == (60, 600)
    # int8 vs fp32: close, and the same top-1 nearly everywhere
    assert np.mean(a.argmax(-1) == b.argmax(-1)) >= 0.9
    # reuse: a new prompt sharing 40 tokens runs only its 3 new ones and matches a fresh run
    new_tokens, new_types = tokens[:40] + [7, 8, 9], types[:40] + [5, 5, 5]
    reused, state2 = onnx.prefill(new_tokens, new_types, kv_state=state)
    fresh, _ = onnx.prefill(new_tokens, new_types)
    assert reused.shape == (3, 600) and len(state2) == 43
    assert np.abs(reused - fresh[-3:]).max() < 0.05  # int8 activations are quantised per call
    step_logits, state3 = onnx.step(state2, 11, 5)
    assert step_logits.shape == (600,) and state3.tokens == tuple(new_tokens) + (11,)


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_rows_read_the_shared_prompt_cache_as_if_it_were_copied_into_each(toy, backend):
    """step_rows over the shared-prefix graph gives the logits of the copying version (a graph with
    one cache per row), which copies the prompt's cache into every row; each row keeps only its own cache."""
    work, _ = toy
    shutil.copy(work / "runs/toy/ckpt.pt", work / "model/ckpt.pt")
    runtime = (
        CodeLMRuntime(artifacts.load(work / "model"), threads=1)
        if backend == "onnx"
        else CodeLMTorchRuntime(work / "model/ckpt.pt", device="cpu")
    )
    _, prompt = runtime.prefill(list(range(10, 50)), [5] * 40)
    shared, copied = runtime.empty(3), runtime.empty(3)
    for step, tokens in enumerate(([7, 8, 9], [3, 3, 4], [60, 61, 62])):
        a, *shared = runtime.step_rows(prompt, *shared, tokens, [5, 5, 5])
        b, *copied = CopiedPrefixRuntime.step_rows(runtime, prompt, *copied, tokens, [5, 5, 5])
        assert a.shape == (3, 600) and shared[0].shape[1:4] == (3, runtime.n_head, step + 1)
        assert np.abs(a - b).max() < 0.05 and (a.argmax(-1) == b.argmax(-1)).all()


def test_truncated_and_mismatched_files_are_clear_errors(toy, tmp_path):
    work, _ = toy
    broken = tmp_path / "model"
    shutil.copytree(work / "model", broken)
    onnx = broken / "model.onnx"
    onnx.write_bytes(onnx.read_bytes()[:1000])
    with pytest.raises(ModelError, match=r"model file .*model.onnx has 1000 bytes, its manifest says \d+: truncated"):
        artifacts.load(broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["format_version"] = 99
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="has format version 99; this nib reads version 1"):
        artifacts.load(broken)
    manifest["format_version"], manifest["types"] = 1, ["NAME"]
    (broken / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="trained with another token-type inventory"):
        artifacts.load(broken)
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="is not valid JSON"):
        artifacts.load(broken)


def test_bundled_model_loads_by_default():
    model_dir = artifacts.load()
    arch = model_dir.manifest["architecture"]
    assert model_dir.onnx.stat().st_size < 30_000_000
    assert (arch["n_layer"], arch["d_model"], arch["vocab_size"]) == (6, 256, 8192)


def test_a_model_exported_by_nib_0_1_still_serves(toy, tmp_path):
    """nib 0.1's graph took one cache per row (past_keys in, present_keys = past + new out): it
    still loads, as its own runtime, and steps rows by copying the prompt's cache, with the same
    logits as the new graph."""
    import torch

    from nib.model.train.export import OPSET, OWN_BLOCK, example_inputs, quantize

    class Serving01(torch.nn.Module):  # nib 0.1's export, kept here only to make such a model
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, type_ids, past_keys, past_values):
            return self.model.forward_cached(input_ids, type_ids, past_keys, past_values)

    work, _ = toy
    model = load_checkpoint(work / "runs/toy/ckpt.pt")
    old = tmp_path / "model"
    shutil.copytree(work / "model", old)
    batch, seq, past = torch.export.Dim("batch"), torch.export.Dim("seq"), torch.export.Dim("past")
    torch.onnx.export(
        Serving01(model).eval(),
        example_inputs(model.cfg, batch=2, new=2, past=3),
        str(tmp_path / "fp32.onnx"),
        dynamo=True,
        opset_version=OPSET,
        input_names=["input_ids", "type_ids", "past_keys", "past_values"],
        output_names=["logits", "present_keys", "present_values"],
        dynamic_shapes={
            "input_ids": {0: batch, 1: seq},
            "type_ids": {0: batch, 1: seq},
            "past_keys": {1: batch, 3: past},
            "past_values": {1: batch, 3: past},
        },
    )
    quantize(tmp_path / "fp32.onnx", old / "model.onnx", block_size=OWN_BLOCK)
    manifest = json.loads((old / "manifest.json").read_text())
    manifest["files"]["model"] = artifacts.file_entry(old / "model.onnx")
    (old / "manifest.json").write_text(json.dumps(manifest))
    (legacy, _), (current, _) = open_runtime(old, threads=1), open_runtime(work / "model", threads=1)
    assert (type(legacy), type(current)) == (CodeLM01Runtime, CodeLMRuntime)
    results = []
    for runtime in (legacy, current):
        logits, prompt = runtime.prefill(list(range(10, 40)), [5] * 30)
        rows, keys, values = runtime.step_rows(prompt, *runtime.empty(2), [7, 8], [5, 5])
        assert keys.shape[1:4] == (2, runtime.n_head, 1)  # each row's own cache only
        results.append((logits, rows))
    # two int8 graphs of one model (activations quantised per call, differently per graph): close, same top-1
    (old_prompt, old_rows), (new_prompt, new_rows) = results
    assert np.mean(old_prompt.argmax(-1) == new_prompt.argmax(-1)) >= 0.9
    assert np.abs(old_rows - new_rows).max() < 0.5
