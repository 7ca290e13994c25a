"""Train a CodeLM on the encoded corpus: seeded, resumable, on CPU or CUDA.

The learning rate follows warm-up then cosine decay over the *budget* (seconds
or tokens), so a run stopped and resumed follows the same schedule. A
checkpoint (weights, optimiser, step, tokens, seconds, RNG) is written every
`save_every` seconds and at the end; `train()` resumes from it when it exists.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from nib.model.net.network import CodeLM, Config
from nib.model.progress import Progress
from nib.model.text.streams import INPUT_TYPE


@dataclass
class TrainConfig:
    data: str = "data/encoded"
    out: str = "runs/typed"
    model: Config = field(default_factory=Config)
    batch_size: int = 8
    lr: float = 1.5e-3
    min_lr: float = 1e-4
    warmup_steps: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    budget_seconds: float = 3600.0
    budget_tokens: int = 0  # when > 0, the budget is tokens instead of seconds
    eval_every: int = 100
    eval_batches: int = 16
    save_every: float = 300.0
    seed: int = 1337
    threads: int = 0  # 0: torch's default
    device: str = "auto"


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class Batches:
    """Random windows of block_size + 1 tokens from one split, seeded per step."""

    def __init__(self, data: Path, split: str, block: int, batch: int, device):
        self.tokens = np.load(data / f"{split}_tokens.npy", mmap_mode="r")
        self.types = np.load(data / f"{split}_types.npy", mmap_mode="r")
        self.block, self.batch, self.device = block, batch, device

    def get(self, seed: int):
        rng = np.random.default_rng(seed)
        starts = rng.integers(0, len(self.tokens) - self.block - 1, self.batch)
        tok_np = np.stack([self.tokens[s : s + self.block + 1] for s in starts]).astype(np.int64)  # (B, T+1)
        typ_np = np.stack([self.types[s : s + self.block + 1] for s in starts]).astype(np.int64)  # (B, T+1)
        tok, typ = torch.from_numpy(tok_np).to(self.device), torch.from_numpy(typ_np).to(self.device)
        inputs = torch.from_numpy(INPUT_TYPE.astype(np.int64)).to(self.device)[typ[:, :-1]]
        return tok[:, :-1], inputs, tok[:, 1:], typ[:, 1:]


def lr_at(cfg: TrainConfig, step: int, progress: float) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * min(progress, 1.0)))


@torch.no_grad()
def evaluate(model: CodeLM, batches: Batches, n: int, autocast) -> float:
    model.eval()
    losses = []
    for i in range(n):  # the same windows every time: seeds 0..n-1
        x, t, y, _ = batches.get(i)
        with autocast():
            _, loss = model(x, t, y)
        losses.append(loss.item())
    model.train()
    return float(np.mean(losses))


def train(cfg: TrainConfig, log=print) -> dict:
    device = pick_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    data = Path(cfg.data)
    model = CodeLM(cfg.model).to(device)
    opt = _optimizer(model, cfg, device)
    ckpt_path = out / "ckpt.pt"
    state = _resume(ckpt_path, model, opt, device, log)

    # bf16 compute with fp32 master weights: several times faster than fp32 on the CPU nib was trained on
    def autocast():
        return torch.autocast(device.type, dtype=torch.bfloat16)

    train_batches = Batches(data, "train", cfg.model.block_size, cfg.batch_size, device)
    val_batches = Batches(data, "val", cfg.model.block_size, cfg.batch_size, device)
    tokens_per_step = cfg.batch_size * cfg.model.block_size
    budget = cfg.budget_tokens or cfg.budget_seconds
    unit_done = (lambda: state["tokens"]) if cfg.budget_tokens else (lambda: state["seconds"])
    bar = Progress(budget, "tok" if cfg.budget_tokens else "s", f"train {out.name}", done=unit_done())

    last_save = time.monotonic()
    model.train()
    while unit_done() < budget:
        t0 = time.monotonic()
        lr = lr_at(cfg, state["step"], unit_done() / budget)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = _step(model, opt, train_batches.get(cfg.seed * 1_000_003 + state["step"]), cfg, autocast)
        dt = time.monotonic() - t0
        state["step"] += 1
        state["tokens"] += tokens_per_step
        state["seconds"] += dt
        bar.update(
            tokens_per_step if cfg.budget_tokens else dt, f"loss {loss.item():.3f} {tokens_per_step / dt:,.0f} tok/s"
        )
        if state["step"] % cfg.eval_every == 0:
            _validate(model, val_batches, cfg, autocast, state, lr, log)
        if time.monotonic() - last_save > cfg.save_every:
            _save(ckpt_path, model, opt, state, cfg)
            last_save = time.monotonic()
    bar.close()
    val = evaluate(model, val_batches, cfg.eval_batches, autocast)
    state["final_val_loss"] = round(val, 4)
    _save(ckpt_path, model, opt, state, cfg)
    summary = _summary(state, device)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    log(f"done: {summary['tokens']:,} tokens in {summary['seconds']:.0f}s, val_loss {val:.4f}")
    return summary


def _validate(model, val_batches: Batches, cfg: TrainConfig, autocast, state: dict, lr: float, log) -> None:
    """The validation loss now: added to the run's history and logged."""
    val = evaluate(model, val_batches, cfg.eval_batches, autocast)
    state["history"].append(
        {
            "step": state["step"],
            "tokens": state["tokens"],
            "seconds": round(state["seconds"], 1),
            "val_loss": round(val, 4),
        }
    )
    log(f"\nstep {state['step']} tokens {state['tokens']:,} val_loss {val:.4f} lr {lr:.2e}")


def _summary(state: dict, device) -> dict:
    """What summary.json holds of a finished run."""
    return {
        "steps": state["step"],
        "tokens": state["tokens"],
        "seconds": round(state["seconds"], 1),
        "val_loss": state["final_val_loss"],
        "device": str(device),
        "history": state["history"],
    }


def _optimizer(model, cfg: TrainConfig, device):
    """AdamW; no weight decay on gains and biases."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.95),
        fused=device.type == "cuda",
    )


def _resume(ckpt_path: Path, model, opt, device, log) -> dict:
    """The training state, from the checkpoint when there is one (model and optimizer loaded into place)."""
    if not ckpt_path.exists():
        return {"step": 0, "tokens": 0, "seconds": 0.0, "history": []}
    ckpt = torch.load(ckpt_path, map_location=device, weights_only=True)
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    state = ckpt["state"]
    log(f"resumed from {ckpt_path} at step {state['step']}, {state['tokens']:,} tokens")
    return state


def _save(ckpt_path: Path, model, opt, state: dict, cfg: TrainConfig) -> None:
    tmp = ckpt_path.with_suffix(".tmp")
    torch.save(
        {"model": model.state_dict(), "optimizer": opt.state_dict(), "state": state, "config": cfg.model.to_dict()}, tmp
    )
    tmp.replace(ckpt_path)  # never leave a half-written checkpoint


def _step(model, opt, batch, cfg: TrainConfig, autocast):
    """One optimiser step on batch (x, types, next tokens, next types); the loss."""
    x, t, y, yt = batch
    with autocast():
        _, loss = model(x, t, y, yt)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss
