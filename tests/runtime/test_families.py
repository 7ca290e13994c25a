"""The table of architectures: a model directory's family picks its tokenizer, runtime, files and defaults."""

import json

import pytest

from nib.model.errors import ModelError
from nib.model.net.tokenizer import BPE
from nib.model.runtime import artifacts, load_tokenizer, open_runtime
from nib.model.runtime.families import DEFAULTS, FAMILIES
from nib.model.runtime.families.codelm.runtime import CodeLMRuntime

MODEL_DEFAULTS = {"context_tokens": 448, "min_confidence": 0, "draft_tokens": 0, "fim": "off"}


def test_the_bundled_model_is_a_codelm_on_the_shared_prefix_graph():
    runtime, model_dir = open_runtime("bundled", threads=1)
    assert (model_dir.family.name, type(runtime), type(load_tokenizer(model_dir))) == ("CodeLM", CodeLMRuntime, BPE)
    assert model_dir.defaults == MODEL_DEFAULTS


def test_a_manifest_s_defaults_override_its_family_s(tmp_path):
    gemma = artifacts.ModelDir(
        tmp_path, {"architecture": {"name": "Gemma3"}, "defaults": {"min_confidence": 10, "draft_tokens": 3}}
    )
    adapted = artifacts.ModelDir(  # an adapter trained for one FIM layout serves in it
        tmp_path,
        {"architecture": {"name": "Qwen2"}, "defaults": {"fim": "off"}, "adapter": {"defaults": {"fim": "line"}}},
    )
    assert adapted.defaults == {"context_tokens": 448, "min_confidence": 0, "draft_tokens": 0, "fim": "line"}
    unadapted = artifacts.ModelDir(tmp_path, {"architecture": {"name": "Qwen2"}, "adapter": None})
    assert unadapted.defaults == MODEL_DEFAULTS
    plain = artifacts.ModelDir(tmp_path, {"architecture": {}})  # no name: nib's own
    assert gemma.defaults == {"context_tokens": 448, "min_confidence": 10, "draft_tokens": 3, "fim": "off"}
    assert (plain.family.name, plain.defaults) == ("CodeLM", MODEL_DEFAULTS)
    assert DEFAULTS == MODEL_DEFAULTS and all(f.defaults.keys() == DEFAULTS.keys() for f in FAMILIES.values())


def test_each_family_s_files_are_known_to_the_manifest_check():
    assert artifacts.FILES == {
        "model": "model.onnx",
        "tokenizer": "tokenizer.json",
        "adapter": "adapter.npz",
        "tokenizer_arrays": "tokenizer.npz",
        "embedding": "embedding.npy",
        "embedding_scale": "embedding_scale.npy",
        "vocab_order": "vocab_order.npy",
    }


def test_an_unknown_architecture_is_a_clear_error(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format_version": 1, "architecture": {"name": "Mamba9"}}))
    with pytest.raises(ModelError) as e:
        artifacts.load(tmp_path)
    assert str(e.value) == (
        f"model manifest {tmp_path}/manifest.json: this nib does not know the architecture "
        "'Mamba9': it serves CodeLM, Gemma3, Qwen2 (reinstall nib for the bundled model, or "
        "re-export with `nib export`)"
    )
