"""An adapter from `nib finetune`: read, checked and merged into transformers' weights, as the
import and the torch runtime merge it; a file that is not one, or one for another model, is a
clear error before anything is fetched or converted."""

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from fixtures import tiny_qwen2

from nib.model.errors import ModelError
from nib.model.pretrained.registry import import_model
from nib.model.runtime import adapter

Q = "model.layers.0.self_attn.q_proj"


def tiny():
    return tiny_qwen2(64, 1)


def write(path, model="qwen2.5-coder-0.5b", a=None, b=None):
    a = np.ones((2, 32), np.float16) if a is None else a
    b = np.full((32, 2), 0.5, np.float16) if b is None else b
    with open(path, "wb") as f:
        np.savez(f, **{f"{Q}.a": a, f"{Q}.b": b}, meta=np.array(json.dumps({"rank": 2, "alpha": 4.0, "model": model})))
    return path


def test_the_listed_adapter_is_added_to_its_projection(tmp_path):
    model = tiny()
    before = model.get_submodule(Q).weight.detach().clone()
    listed = SimpleNamespace(path=tmp_path, manifest={"files": {"adapter": {}}})
    write(tmp_path / adapter.ADAPTER_FILE)
    assert adapter.merge_listed(listed, model) == 1
    # W + (alpha / rank) * B @ A: every entry of B @ A is 2 * 0.5 * 1 = 1, times 2
    assert torch.allclose(model.get_submodule(Q).weight, before + 2.0)
    assert adapter.merge_listed(SimpleNamespace(path=tmp_path, manifest={"files": {}}), model) == 0


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.write_text("not numpy"), "is not an adapter written by `nib finetune`"),
        (lambda p: np.save(open(p, "wb"), np.zeros(3)), "is not an adapter written by `nib finetune`"),
        (
            lambda p: write(p, a=np.ones((2, 16), np.float16)),
            "q_proj is 32 x 16 of rank 2, the model's 32 x 32 of rank 2",
        ),
        (
            lambda p: write(p, a=np.ones((3, 32), np.float16)),
            "q_proj is 32 x 32 of rank 3, the model's 32 x 32 of rank 2",
        ),
        (lambda p: write(p, b=np.full((32, 2), np.inf, np.float16)), "q_proj holds values that are not finite"),
        (
            lambda p: p.write_bytes(write(p).read_bytes()[:300]),
            "is not an adapter written by `nib finetune`",
        ),  # cut short
        (lambda p: _without_b(p), "is not an adapter written by `nib finetune`"),
        (lambda p: _meta(p, {"rank": 0, "alpha": 4.0}), "lacks a positive rank and alpha"),
        (lambda p: _meta(p, {"rank": 2, "alpha": "4"}), "lacks a positive rank and alpha"),
        (lambda p: _meta(p, {"rank": 2, "alpha": 4.0, "defaults": {"fim": "mid"}}), "may only set fim, to one of"),
        (lambda p: _meta(p, {"rank": 2, "alpha": 4.0, "defaults": {"draft_tokens": 9}}), "may only set fim"),
        (lambda p: _meta(p, {"rank": 2, "alpha": 4.0, "defaults": "line"}), "may only set fim"),
    ],
)
def test_a_file_that_is_not_an_adapter_for_the_model_is_a_clear_error(tmp_path, make, message):
    path = tmp_path / "x.npz"
    make(path)
    model = tiny()
    before = model.get_submodule(Q).weight.detach().clone()
    with pytest.raises(ModelError, match=message):
        adapter.merge(model, path)
    assert torch.equal(model.get_submodule(Q).weight, before)  # nothing merged


def _without_b(path):
    with open(path, "wb") as f:
        np.savez(f, **{f"{Q}.a": np.ones((2, 32), np.float16)}, meta=np.array('{"rank": 2, "alpha": 4.0}'))


def _meta(path, about):
    with open(path, "wb") as f:
        np.savez(f, **{f"{Q}.a": np.ones((2, 32), np.float16)}, meta=np.array(json.dumps(about)))


def test_an_adapter_for_another_model_is_refused_before_anything_is_fetched(tmp_path, monkeypatch):
    monkeypatch.setenv("NIB_HOME", str(tmp_path / "home"))
    path = write(tmp_path / "gemma.npz", model="gemma3-270m")
    with pytest.raises(ModelError, match="gemma.npz was trained on gemma3-270m, not qwen2.5-coder-0.5b"):
        import_model("qwen2.5-coder-0.5b", adapter=path, say=lambda _: None, stage=lambda _: None)
    assert not (tmp_path / "home").exists()
    cli = [
        sys.executable,
        "-I",
        "-m",
        "nib.server.cli",
        "model",
        "import",
        "qwen2.5-coder-0.5b",
        "--adapter",
        str(path),
    ]
    done = subprocess.run(cli, capture_output=True, text=True, env={"NIB_HOME": str(tmp_path / "home"), "PATH": ""})
    assert (done.returncode, done.stderr.strip().splitlines()[-1]) == (
        2,
        f"nib: {path} was trained on gemma3-270m, not qwen2.5-coder-0.5b",
    )


def test_the_shipped_fim_adapter_is_for_qwen_and_serves_the_line_layout():
    """The file `nib model import qwen2.5-coder-0.5b` merges (README, "Trained for the line layout")."""
    from pathlib import Path

    import nib.model.pretrained

    path = Path(nib.model.pretrained.__file__).parent / "qwen2.5-coder-0.5b.fim-line.adapter.npz"
    info = adapter.meta(path)
    assert (info["model"], info["rank"], info["layouts"], info["defaults"]) == (
        "qwen2.5-coder-0.5b",
        8,
        ["line"],
        {"fim": "line"},
    )
    with np.load(path) as z:  # every projection of Qwen2.5-Coder 0.5B's 24 blocks, A and B
        assert len(z.files) == 24 * 7 * 2 + 1 and z["model.layers.0.mlp.down_proj.a"].shape == (8, 4864)


def test_the_layouts_an_adapter_may_set_are_the_prompt_s():
    from nib.model.completion import prompt
    from nib.model.pretrained import finetune
    from nib.model.train import fim

    assert adapter.FIM_LAYOUTS == prompt.LAYOUTS and finetune.LAYOUTS == fim.LAYOUTS == prompt.LAYOUTS[1:]


@pytest.mark.parametrize(
    ("copy", "asked", "converted_with"),
    [
        (None, {}, "shipped"),  # a plain copy (an earlier nib's): converted again with the shipped adapter
        ("shipped", {}, None),  # the shipped adapter already merged: kept
        ("shipped", {"plain": True}, "none"),  # --no-adapter: the pretrained weights alone
        (None, {"plain": True}, None),
        ("shipped", {"adapter": "own"}, "own"),  # --adapter FILE: that one
        ("own", {}, "shipped"),
    ],
)
def test_an_import_merges_the_shipped_adapter_unless_told_otherwise(tmp_path, monkeypatch, copy, asked, converted_with):
    """`nib model import qwen2.5-coder-0.5b` merges the adapter nib ships for it; a whole copy is kept
    only where its adapter (or none) is the one asked for."""
    from nib.model.pretrained import registry
    from nib.model.runtime import artifacts

    monkeypatch.setenv("NIB_HOME", str(tmp_path / "home"))
    spec = registry.get("qwen2.5-coder-0.5b")
    files = {"shipped": spec.default_adapter(), "own": write(tmp_path / "own.npz")}
    manifest = {"files": {"adapter": artifacts.file_entry(files[copy])} if copy else {}, "hf_config": {}}
    converted = []
    monkeypatch.setattr(registry, "imported", lambda s: manifest)
    monkeypatch.setattr(registry, "convert_pinned", lambda s, kept, out, stage, adapter: converted.append(adapter))
    if "adapter" in asked:
        asked = {"adapter": files[asked["adapter"]]}
    registry.import_model(spec.name, say=lambda _: None, stage=lambda _: None, **asked)
    assert converted == ([] if converted_with is None else [files.get(converted_with)])
    with pytest.raises(ModelError, match=r"either an adapter \(.*own.npz\) or none \(plain\), not both"):
        registry.import_model(spec.name, say=lambda _: None, adapter=files["own"], plain=True)
    assert len(converted) == (0 if converted_with is None else 1)  # nothing converted for it


def test_an_import_converts_again_a_copy_without_the_torch_runtimes_config(tmp_path, monkeypatch):
    """A copy imported before the manifest kept `hf_config` (transformers' config, which spares the
    torch runtime a second parse of the GGUF) serves, and the next import converts it again."""
    from nib.model.pretrained import registry

    monkeypatch.setenv("NIB_HOME", str(tmp_path / "home"))
    spec = registry.get("gemma3-270m")
    converted = []
    monkeypatch.setattr(registry, "imported", lambda s: {"files": {}})
    monkeypatch.setattr(registry, "convert_pinned", lambda s, kept, out, stage, adapter: converted.append(adapter))
    registry.import_model(spec.name, say=lambda _: None, stage=lambda _: None)
    assert converted == [None]
