"""nib's Gemma 3 module against transformers' Gemma3ForCausalLM, on a small random configuration.

Same architecture as the 270M model (grouped-query attention with one key/value head,
sliding-window layers beside global ones, two RoPE bases, query/key norms), small
enough to run in a second, with a window of 4 so that 12 tokens cross it.
"""

import numpy as np
import pytest
import torch
from transformers import Gemma3ForCausalLM, Gemma3TextConfig

from nib.model.net.gemma import Gemma, GemmaConfig
from nib.model.pretrained.convert import quantize_rows, vocabulary_order

TOLERANCE = 1e-4  # fp32, same operations in another order


@pytest.fixture(scope="module")
def hf_model():
    torch.manual_seed(0)
    config = Gemma3TextConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=48,
        num_hidden_layers=3,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        sliding_window=4,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        max_position_embeddings=128,
        query_pre_attn_scalar=16,
    )
    model = Gemma3ForCausalLM(config).eval()
    with torch.no_grad():  # norms initialise to zero: give them weights so that a missed norm shows
        for name, p in model.named_parameters():
            if "norm" in name:
                p.normal_(0, 0.5)
    return model


def empty(cfg: GemmaConfig, batch: int = 1):
    return torch.zeros(cfg.n_layer, batch, cfg.n_kv_head, 0, cfg.head_dim)


def test_config_from_transformers(hf_model):
    cfg = GemmaConfig.from_hf(hf_model.config)
    assert (cfg.n_layer, cfg.n_head, cfg.n_kv_head, cfg.head_dim, cfg.sliding_window) == (3, 2, 1, 16, 4)
    assert cfg.sliding == (True, False, True)
    assert (cfg.rope_local, cfg.rope_global) == (10000.0, 1000000.0)


def test_one_pass_equals_transformers_across_the_window(hf_model):
    ids = torch.randint(0, 64, (1, 12))
    ours = Gemma.from_hf(hf_model)
    with torch.no_grad():
        reference = hf_model(ids).logits
        embeds = hf_model.model.embed_tokens(ids)
        logits, keys, values = ours.forward_shared(
            embeds, empty(ours.cfg), empty(ours.cfg), empty(ours.cfg), empty(ours.cfg)
        )
    assert torch.abs(logits - reference).max() < TOLERANCE
    assert keys.shape == (3, 1, 1, 12, 16)


def test_prefix_and_rows_equal_one_pass(hf_model):
    """The prompt's cache as a shared prefix, then three rows with their own caches: each row's
    logits are those of one pass over prompt + its own tokens."""
    ours = Gemma.from_hf(hf_model)
    prompt = torch.randint(0, 64, (1, 7))
    own = torch.randint(0, 64, (3, 3))
    e = empty(ours.cfg)
    with torch.no_grad():
        _, pk, pv = ours.forward_shared(hf_model.model.embed_tokens(prompt), e, e, e, e)
        _, ok, ov = ours.forward_shared(
            hf_model.model.embed_tokens(own[:, :2]), pk, pv, empty(ours.cfg, 3), empty(ours.cfg, 3)
        )
        rows, _, _ = ours.forward_shared(hf_model.model.embed_tokens(own[:, 2:]), pk, pv, ok, ov)
        for r in range(3):
            whole = hf_model(torch.cat((prompt[0], own[r]))[None]).logits[0, -1]
            assert torch.abs(rows[r, -1] - whole).max() < TOLERANCE


def test_the_head_keeps_the_chosen_tokens_in_order(hf_model):
    keep = torch.tensor([5, 3, 40])
    ours = Gemma.from_hf(hf_model, keep)
    ids = torch.randint(0, 64, (1, 5))
    e = empty(ours.cfg)
    with torch.no_grad():
        logits, _, _ = ours.forward_shared(hf_model.model.embed_tokens(ids), e, e, e, e)
        reference = hf_model(ids).logits[..., keep]
    assert torch.abs(logits - reference).max() < TOLERANCE


def test_vocabulary_order_puts_the_kept_tokens_first():
    assert vocabulary_order([3, 1], 4).tolist() == [3, 1, 0, 2]


def test_rows_quantize_to_int8_with_a_scale_each():
    q, scale = quantize_rows(np.array([[0.5, -1.0], [0.0, 0.0]]), 2.0)
    assert q.dtype == np.int8 and q.tolist() == [[64, -127], [0, 0]]
    assert np.allclose(scale, [2.0 / 127, 2.0])  # a zero row: any scale, its values are 0
