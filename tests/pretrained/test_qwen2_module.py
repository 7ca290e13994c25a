"""nib's Qwen2 module against transformers' Qwen2ForCausalLM, on a small random configuration.

Same architecture as Qwen2.5-Coder 0.5B (grouped-query attention, 4 query heads on 2 key/value
heads, biases on q/k/v, an untied head), small enough to run in a second.
"""

import pytest
import torch
from transformers import Qwen2Config, Qwen2ForCausalLM

from nib.model.net.qwen2 import Qwen2
from nib.model.net.qwen2 import Qwen2Config as NibConfig

TOLERANCE = 1e-4  # fp32, same operations in another order


@pytest.fixture(scope="module")
def hf_model():
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=48,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
        tie_word_embeddings=False,
    )
    model = Qwen2ForCausalLM(config).eval()
    with torch.no_grad():  # norms start at one and biases at zero: give them values so that a missed one shows
        for name, p in model.named_parameters():
            if "norm" in name or "bias" in name:
                p.normal_(0, 0.5)
    return model


def empty(cfg: NibConfig, batch: int = 1):
    return torch.zeros(cfg.n_layer, batch, cfg.n_kv_head, 0, cfg.head_dim)


def test_config_from_transformers(hf_model):
    cfg = NibConfig.from_hf(hf_model.config)
    assert (cfg.n_layer, cfg.n_head, cfg.n_kv_head, cfg.head_dim, cfg.d_ff) == (3, 4, 2, 8, 48)
    assert (cfg.rope_base, cfg.block_size) == (1000000.0, 128)


def test_one_pass_equals_transformers(hf_model):
    ids = torch.randint(0, 64, (1, 12))
    ours = Qwen2.from_hf(hf_model)
    e = empty(ours.cfg)
    with torch.no_grad():
        reference = hf_model(ids).logits
        logits, keys, values = ours.forward_shared(hf_model.model.embed_tokens(ids), e, e, e, e)
    assert torch.abs(logits - reference).max() < TOLERANCE
    assert keys.shape == values.shape == (3, 1, 2, 12, 8)


def test_prefix_and_rows_equal_one_pass(hf_model):
    """The prompt's cache as a shared prefix, then three rows with their own caches: each row's
    logits are those of one pass over prompt + its own tokens."""
    ours = Qwen2.from_hf(hf_model)
    prompt = torch.randint(0, 64, (1, 7))
    own = torch.randint(0, 64, (3, 3))
    e = empty(ours.cfg)
    embed = hf_model.model.embed_tokens
    with torch.no_grad():
        _, pk, pv = ours.forward_shared(embed(prompt), e, e, e, e)
        _, ok, ov = ours.forward_shared(embed(own[:, :2]), pk, pv, empty(ours.cfg, 3), empty(ours.cfg, 3))
        rows, _, _ = ours.forward_shared(embed(own[:, 2:]), pk, pv, ok, ov)
        for r in range(3):
            whole = hf_model(torch.cat((prompt[0], own[r]))[None]).logits[0, -1]
            assert torch.abs(rows[r, -1] - whole).max() < TOLERANCE


def test_the_head_is_transformers_own_head_over_the_kept_tokens(hf_model):
    keep = torch.tensor([5, 3, 40])
    ours = Qwen2.from_hf(hf_model, keep)
    ids = torch.randint(0, 64, (1, 5))
    e = empty(ours.cfg)
    with torch.no_grad():
        logits, _, _ = ours.forward_shared(hf_model.model.embed_tokens(ids), e, e, e, e)
        reference = hf_model(ids).logits[..., keep]
    assert logits.shape == (1, 5, 3)
    assert torch.abs(logits - reference).max() < TOLERANCE


def test_a_sliding_window_or_scaled_rope_is_refused(hf_model):
    config = Qwen2Config(**{**hf_model.config.to_dict(), "use_sliding_window": True, "sliding_window": 4})
    with pytest.raises(ValueError) as e:
        NibConfig.from_hf(config)
    assert str(e.value) == "this Qwen2 uses sliding-window attention: nib implements none for it"


def test_scored_positions_are_those_of_the_whole_pass(hf_model):
    ids = torch.randint(0, 64, (1, 12))
    ours = Qwen2.from_hf(hf_model)
    e = empty(ours.cfg)
    embeds = hf_model.model.embed_tokens(ids)
    with torch.no_grad():
        every, keys, values = ours.forward_shared(embeds, e, e, e, e)
        last, last_keys, last_values = ours.forward_shared(embeds, e, e, e, e, torch.tensor([11]))
        some, _, _ = ours.forward_shared(embeds, e, e, e, e, torch.tensor([0, 5]))
    assert last.shape == (1, 1, 64) and some.shape == (1, 2, 64)
    # the same numbers up to the order of a matmul's sums over fewer rows
    assert torch.abs(last[:, 0] - every[:, 11]).max() < TOLERANCE
    assert torch.abs(some - every[:, [0, 5]]).max() < TOLERANCE
    assert torch.equal(last_keys, keys) and torch.equal(last_values, values)  # the cache of every new token


def test_the_exported_graph_scores_what_it_is_asked(hf_model, tmp_path):
    import numpy as np
    import onnxruntime as ort

    from nib.model.pretrained.convert import to_onnx

    ours = Qwen2.from_hf(hf_model)
    to_onnx(ours, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    embeds = hf_model.model.embed_tokens(torch.randint(0, 64, (1, 7))).detach()
    e = empty(ours.cfg).numpy()
    with torch.no_grad():
        every = ours.forward_shared(embeds, *(torch.from_numpy(e),) * 4)[0].numpy()
    feed = {"embeds": embeds.numpy(), "prefix_keys": e, "prefix_values": e, "past_keys": e, "past_values": e}
    for scored in ([6], [0, 3, 6], list(range(7))):
        logits = session.run(None, {**feed, "scored": np.asarray(scored, dtype=np.int64)})[0]
        assert logits.shape == (1, len(scored), 64)
        assert np.abs(logits - every[:, scored]).max() < TOLERANCE
