"""Which family converts a GGUF: transformers' model_type, looked up in the families' table."""

from types import SimpleNamespace

import pytest

from nib.model.pretrained.convert import network
from nib.model.runtime.families.gemma3.torch import GemmaTorchRuntime
from nib.model.runtime.families.qwen2.torch import Qwen2TorchRuntime


def test_each_imported_family_is_found_by_its_model_type():
    assert network(SimpleNamespace(model_type="gemma3_text")) == ("Gemma3", GemmaTorchRuntime)
    assert network(SimpleNamespace(model_type="qwen2")) == ("Qwen2", Qwen2TorchRuntime)
    assert GemmaTorchRuntime.embedding_scale(SimpleNamespace(hidden_size=640)) == 640**0.5
    assert Qwen2TorchRuntime.embedding_scale(SimpleNamespace(hidden_size=896)) == 1.0


def test_a_model_type_no_family_converts_is_a_clear_error():
    with pytest.raises(ValueError) as e:
        network(SimpleNamespace(model_type="llama"))
    assert str(e.value) == "nib cannot import a 'llama' model: it imports Gemma3, Qwen2"
