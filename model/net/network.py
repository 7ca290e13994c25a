"""A small decoder-only transformer for code, with CodeFill's type stream.

Llama-style blocks: RoPE, RMSNorm, SwiGLU, tied input/output embeddings.
Input: token embedding + type embedding (CodeFill's two streams). Output: next
token logits and next type logits; the loss is L_token + 0.1 * L_type
(PyCoder-Hard, whose ablation found 1:9 best). `type_stream=False` is the plain
model of the same size for the ablation.

References: nanoGPT (karpathy), Llama (Touvron et al. 2023), CodeFill (Izadi et al.
2022), PyCoder (Takerngsaksiri et al. 2023).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import cast

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int = 8192
    n_types: int = 64
    n_layer: int = 6
    n_head: int = 4
    d_model: int = 256
    d_ff: int = 704
    block_size: int = 512
    rope_base: float = 10000.0
    type_stream: bool = True
    type_loss_weight: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    """Rotate pairs (first half, second half) of the head dimension.  x: (B, H, S, D)"""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)

    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        B, S, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, S, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        q, k = rope(q, cos, sin), rope(k, cos, sin)  # (B, H, S, D)
        if past_k is not None:
            k = torch.cat((past_k, k), dim=2)  # (B, H, P+S, D)
            v = torch.cat((past_v, v), dim=2)
        if mask is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = y.transpose(1, 2).contiguous().view(B, S, C)
        return self.proj(y), k, v

    def forward_shared(self, x, cos, sin, own_mask, prefix_k, prefix_v, past_k, past_v):
        """Attention over a prefix cache shared by all B rows (1, H, P, D), never copied per row,
        then each row's own cache (B, H, S0, D) and its new tokens: one softmax over both parts."""
        B, S, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, S, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        k, v = torch.cat((past_k, k), dim=2), torch.cat((past_v, v), dim=2)  # (B, H, S0+S, D)
        scale = 1.0 / math.sqrt(q.shape[-1])
        shared = torch.matmul(q, prefix_k.transpose(2, 3)) * scale  # (B, H, S, P): broadcast over rows
        own = (torch.matmul(q, k.transpose(2, 3)) * scale).masked_fill(~own_mask, float("-inf"))
        p = torch.softmax(torch.cat((shared, own), dim=-1), dim=-1)
        P = prefix_k.shape[2]
        y = torch.matmul(p[..., :P], prefix_v) + torch.matmul(p[..., P:], v)
        y = y.transpose(1, 2).contiguous().view(B, S, C)
        return self.proj(y), k, v


class SwiGLU(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.gate_up = nn.Linear(cfg.d_model, 2 * cfg.d_ff, bias=False)
        self.down = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)

    def forward(self, x):
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.norm1 = RMSNorm(cfg.d_model)
        self.attn = Attention(cfg)
        self.norm2 = RMSNorm(cfg.d_model)
        self.mlp = SwiGLU(cfg)

    def forward(self, x, cos, sin, mask, past_k=None, past_v=None):
        a, k, v = self.attn(self.norm1(x), cos, sin, mask, past_k, past_v)
        x = x + a
        return x + self.mlp(self.norm2(x)), k, v


class CodeLM(nn.Module):
    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.type_emb = nn.Embedding(cfg.n_types, cfg.d_model) if cfg.type_stream else None
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.norm = RMSNorm(cfg.d_model)
        self.type_head = nn.Linear(cfg.d_model, cfg.n_types, bias=False) if cfg.type_stream else None
        self.apply(self._init)
        for name, p in self.named_parameters():  # GPT-2's scaled init of residual outputs
            if name.endswith(("proj.weight", "down.weight")):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def rope_tables(self, start, length, device):
        half = self.cfg.d_model // self.cfg.n_head // 2
        inv = 1.0 / self.cfg.rope_base ** (torch.arange(half, device=device, dtype=torch.float32) / half)
        pos = torch.arange(length, device=device, dtype=torch.float32) + start
        ang = pos[:, None] * inv[None, :]  # (S, D/2)
        cos, sin = ang.cos(), ang.sin()
        return cos, sin

    def embed(self, idx, types):
        x = self.tok_emb(idx)
        if self.type_emb is not None:
            x = x + self.type_emb(types)
        return x

    def forward(self, idx, types, targets=None, type_targets=None):
        """Training/evaluation pass without a cache.  idx, types: (B, T)"""
        B, T = idx.shape
        cos, sin = self.rope_tables(0, T, idx.device)
        x = self.embed(idx, types)
        for block in self.blocks:
            x, _, _ = block(x, cos, sin, None)
        x = self.norm(x)
        logits = x @ self.tok_emb.weight.T  # tied output embedding  (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        if self.type_head is not None and type_targets is not None:
            type_logits = self.type_head(x)
            type_loss = F.cross_entropy(
                type_logits.float().view(-1, type_logits.size(-1)), type_targets.reshape(-1), ignore_index=-1
            )
            loss = loss + self.cfg.type_loss_weight * type_loss
        return logits, loss

    def forward_cached(self, idx, types, past_keys, past_values):
        """One serving step over new tokens with a KV cache.

        idx, types: (B, S); past_keys, past_values: (L, B, H, P, D).
        Returns logits (B, S, V) and the cache extended to P + S.
        """
        B, S = idx.shape
        P = past_keys.shape[3]
        cos, sin = self.rope_tables(P, S, idx.device)
        # query i (absolute P + i) sees keys 0 .. P + i
        mask = torch.arange(P + S, device=idx.device)[None, :] <= (torch.arange(S, device=idx.device)[:, None] + P)
        x = self.embed(idx, types)
        keys, values = [], []
        for layer, block in enumerate(self.blocks):
            x, k, v = block(x, cos, sin, mask, past_keys[layer], past_values[layer])
            keys.append(k)
            values.append(v)
        x = self.norm(x)
        logits = x @ self.tok_emb.weight.T
        return logits, torch.stack(keys), torch.stack(values)

    def forward_shared(self, idx, types, prefix_keys, prefix_values, past_keys, past_values):
        """A serving step for B rows that continue one prompt: the prompt's cache (L, 1, H, P, D) is
        shared, each row has its own cache of what it generated (L, B, H, S0, D).

        Same logits as forward_cached over the prompt's cache copied into every row, without
        the copy: a beam of B rows reads the prompt once per step instead of copying it B times.
        Returns logits (B, S, V) and the rows' own caches extended to S0 + S.
        """
        B, S = idx.shape
        P, S0 = prefix_keys.shape[3], past_keys.shape[3]
        cos, sin = self.rope_tables(P + S0, S, idx.device)
        # new token i (own position S0 + i) sees the row's own tokens 0 .. S0 + i, and the whole prefix
        own_mask = torch.arange(S0 + S, device=idx.device)[None, :] <= torch.arange(S, device=idx.device)[:, None] + S0
        x = self.embed(idx, types)
        keys, values = [], []
        for layer, block in enumerate(cast("list[Block]", self.blocks)):  # (a ModuleList of Blocks, for mypy)
            a, k, v = block.attn.forward_shared(
                block.norm1(x),
                cos,
                sin,
                own_mask,
                prefix_keys[layer],
                prefix_values[layer],
                past_keys[layer],
                past_values[layer],
            )
            x = x + a
            x = x + block.mlp(block.norm2(x))
            keys.append(k)
            values.append(v)
        x = self.norm(x)
        logits = x @ self.tok_emb.weight.T
        return logits, torch.stack(keys), torch.stack(values)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def load_checkpoint(path) -> CodeLM:
    """The model a training checkpoint holds (`train/train.py` writes its "config" and "model"), in eval mode."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model = CodeLM(Config(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    return model.eval()
