"""What the pretrained decoders share: RoPE, and grouped-query attention over nib's two caches.

nib's serving contract (`forward_shared`): B rows continue one prompt; the prompt's keys and
values are one cache shared by every row (1, KV, P, D), each row's own tokens another
(B, KV, S0 + S, D). Attention reads both without copying the prompt's cache once per row.
"""

from __future__ import annotations

import torch


def rope_tables(base: float, dim: int, start, length: int, device=None):
    """cos, sin (length, dim) for positions start .. start + length - 1 (halves rotated, as HF's).

    Example: rope_tables(10000.0, 4, 0, 1)[0].tolist() == [[1.0, 1.0, 1.0, 1.0]]
    """
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, device=device, dtype=torch.float32) / dim))
    pos = torch.arange(length, device=device, dtype=torch.float32) + start
    angles = pos[:, None] * inv[None, :]
    emb = torch.cat((angles, angles), dim=-1)
    return emb.cos(), emb.sin()


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


def masks(S: int, P: int, S0: int, group: int, device, window: int | None = None):
    """(shared, own) boolean masks for `group * S` query rows (row r is new token r % S, at position
    P + S0 + r % S) over the prompt's P positions and the row's own S0 + S; `window`: a sliding
    window's length (None: attend to everything before)."""
    query = (torch.arange(S, device=device) + P + S0).repeat(group)
    own_pos = torch.arange(S0 + S, device=device) + P
    causal = own_pos[None, :] <= query[:, None]
    if window is None:
        return torch.ones(group * S, P, dtype=torch.bool, device=device), causal
    prefix_pos = torch.arange(P, device=device)
    return prefix_pos[None, :] > query[:, None] - window, causal & (own_pos[None, :] > query[:, None] - window)


def attend(q, k, v, prefix_k, prefix_v, shared_mask, own_mask, root: float):
    """q (B, H, S, D) rotated; k, v (B, KV, S0 + S, D) the rows' own, new ones included; the prompt's
    prefix_k, prefix_v (1, KV, P, D) -> (B, S, H * D). Query heads of one group read their KV head; scores are
    divided by root (the square root of the head's size, or of the model's query scale)."""
    B, H, S, D = q.shape
    KV = k.shape[1]
    q = q.reshape(B, KV, (H // KV) * S, D) / root
    shared = torch.matmul(q, prefix_k.transpose(2, 3)).masked_fill(~shared_mask, float("-inf"))
    own = torch.matmul(q, k.transpose(2, 3)).masked_fill(~own_mask, float("-inf"))
    p = torch.softmax(torch.cat((shared, own), dim=-1), dim=-1)
    P = prefix_k.shape[2]
    y = torch.matmul(p[..., :P], prefix_v) + torch.matmul(p[..., P:], v)  # (B, KV, group * S, D)
    return y.view(B, H, S, D).transpose(1, 2).reshape(B, S, H * D)
