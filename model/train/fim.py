"""Continued training of a pretrained code model with fill-in-the-middle, as LoRA adapters
(`lora.py`) over its frozen weights, on nib's corpus (`nib corpus`), on a GPU.

    corpus files --cuts--> (prefix, middle, suffix) --tokenized as nib prompts them-->
        <|fim_prefix|> prefix <|fim_suffix|> suffix <|fim_middle|> middle <|endoftext|>
    (loss on the middle and its end) + plain windows (loss on every token)
    --> adapters --> `nib model import ... --adapter FILE` merges them before export

The examples are laid out as the server prompts (`prompt.infill`, `infill_line`; the text after the
cursor as `context.following` cuts it), so that what is learnt is what serving asks, healing
included. A cut's middle is the rest of its line (the lines after it present) or a span inside it
(the rest of the line then in the suffix). `measure` scores greedy decoding without decoding: the
greedy middle is the reference exactly when every reference token is the argmax after the ones before.
"""

from __future__ import annotations

import math
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from nib.model.completion.prompt import SUFFIX_TOKENS, infill, line_start, middle_start
from nib.model.errors import ModelError
from nib.model.net.tokenizer import _bytes_to_unicode
from nib.model.runtime.families import DEFAULTS
from nib.model.text.context import SUFFIX_CHARS, SUFFIX_LINES, Context, following
from nib.model.text.heal import VocabIndex, back_off

WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z_]")  # identifier starts, as the eval's cuts
PREFIX_TOKENS = DEFAULTS["context_tokens"]  # the statement prompt's budget (a FIM suffix's share comes out of it)
PREFIX_CHARS = 4 * PREFIX_TOKENS  # enough text for the budget, tokenized once
LAYOUTS = ("psm", "spm", "line")  # prefix first, suffix first, the lines since `middle_start` in the middle


@dataclass(frozen=True)
class Cut:
    prefix: str
    middle: str
    suffix: str
    offset: int = 0  # where the middle starts in the file (`project_cuts.py` reads the file up to it)


@dataclass(frozen=True)
class Example:
    ids: list[int]
    start: int  # the loss covers predicting ids[start:] (0: every token)
    stop: bool = False  # the last id ends the middle (the server cuts at the line's end without it)


def cut(text: str, rng: random.Random, span: bool) -> Cut | None:
    """A cut at a random code line of text: at an identifier start (or, one time in five, any
    column of the line's code); the middle is the rest of the line, or (span) the text up to a
    random later column, the rest of the line then starting the suffix. None: no code line."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")]
    if not starts:
        return None
    i = rng.choice(starts)
    line = lines[i].rstrip()
    indent = len(line) - len(line.lstrip())
    words = [m.start() for m in WORD.finditer(line, indent)]
    column = rng.choice(words) if words and rng.random() < 0.8 else rng.randrange(indent, len(line))
    offset = sum(len(x) + 1 for x in lines[:i])
    end = rng.randrange(column + 1, len(line) + 1) if span else len(line)
    if span and end == len(line):
        return None
    rest = "\n".join([line[end:], *lines[i + 1 :]])
    cursor = 0  # the suffix as the server cuts it: the rest of the line and SUFFIX_LINES after it
    return Cut(
        text[max(0, offset + column - PREFIX_CHARS) : offset + column],
        line[column:end],
        following(rest, cursor, SUFFIX_LINES)[:SUFFIX_CHARS],
        offset + column,
    )


def named_ids(tokenizer, names: list[str]) -> list[int] | None:
    """The ids of the control tokens names, or None where the tokenizer lacks one: each name its
    own id, and back (an unknown token's id is no test: transformers 5.17 reads Qwen's GGUF with
    <|endoftext|> as the unknown token)."""
    try:
        ids = tokenizer.convert_tokens_to_ids(names)
    except (KeyError, ValueError):
        return None
    return ids if None not in ids and tokenizer.convert_ids_to_tokens(ids) == names else None


@dataclass(frozen=True)
class Tokens:
    """The model's FIM and end-of-text ids, its tokenizer (transformers'), and its vocabulary's bytes
    in the served model's order (the kept ids first: `index` looks up extending tokens among them
    only, as the server's does), for healing as the server heals."""

    tokenizer: Any
    fim: tuple[int, int, int]
    eot: int
    index: VocabIndex
    served: np.ndarray  # a tokenizer id -> the served model's id

    @classmethod
    def of(cls, tokenizer, order: np.ndarray | None = None, kept: int | None = None) -> Tokens:
        """order: served model id -> tokenizer id (`convert.vocabulary_order`), its first `kept` the
        ids the served model's pruned head can write (None: the tokenizer's own order, every id)."""
        names = ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|endoftext|>"]
        ids = named_ids(tokenizer, names)
        if ids is None:
            raise ModelError(f"the model has no fill-in-the-middle tokens ({', '.join(names)})")
        byte_of = {c: b for b, c in _bytes_to_unicode().items()}
        pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        special = set(tokenizer.all_special_ids) | {i for i, p in enumerate(pieces) if p[:2] == "<|" and p[-2:] == "|>"}
        token_bytes = [bytes(byte_of.get(c, 0) for c in p) if i not in special else b"" for i, p in enumerate(pieces)]
        order = np.arange(len(pieces)) if order is None else order
        kept = len(pieces) if kept is None else kept
        served = np.empty_like(order)
        served[order] = np.arange(len(order))
        index = VocabIndex([token_bytes[i] for i in order], {int(served[i]) for i in special}, kept)
        return cls(tokenizer, (ids[0], ids[1], ids[2]), ids[3], index, served)

    @property
    def token_bytes(self) -> list[bytes]:
        """Each tokenizer id's bytes (b"" for a control token)."""
        return [self.index.token_bytes[int(j)] for j in self.served]

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Control tokens spelled in a file are text, as the server reads them."""
        if not texts:
            return []
        return self.tokenizer(texts, add_special_tokens=False, split_special_tokens=True)["input_ids"]

    def healed(self, prefix: list[int], middle: str) -> tuple[list[int], str]:
        """The prefix's tokens and the middle's text after healing as the server heals (`heal.back_off`):
        the final tokens the cursor may split move into the middle, which then starts with them."""
        keep, removed = back_off([int(self.served[i]) for i in prefix], self.index)
        try:
            return prefix[:keep], removed.decode() + middle
        except UnicodeDecodeError:  # the back-off point is inside a character: the server does not heal
            return prefix, middle


def fim_examples(cuts: list[Cut], tokens: Tokens, rng: random.Random, layouts=("psm",)) -> list[Example]:
    """FIM prompts as `prompt.infill` lays them out (the layouts in turn): the prefix's last
    64..PREFIX_TOKENS tokens, healed (`Tokens.healed`), the suffix's first SUFFIX_TOKENS; where the
    suffix is blank the server asks without FIM, and so does the example (the prefix, then the middle).
    The "line" layout's as `prompt.infill_line` lays them out (`line_examples`)."""
    line = [c.suffix.strip() != "" and layouts[i % len(layouts)] == "line" for i, c in enumerate(cuts)]
    if any(line):
        lined = iter(line_examples([c for c, x in zip(cuts, line, strict=True) if x], tokens, rng))
        others = [c for c, x in zip(cuts, line, strict=True) if not x]
        rest = iter(fim_examples(others, tokens, rng, tuple(x for x in layouts if x != "line") or ("psm",)))
        return [next(lined) if x else next(rest) for x in line]
    prefixes, suffixes = (tokens.encode([getattr(c, f) for c in cuts]) for f in ("prefix", "suffix"))
    healed = [
        tokens.healed(
            p[-rng.randint(64, PREFIX_TOKENS - (3 + len(s[:SUFFIX_TOKENS]) if c.suffix.strip() else 0)) :], c.middle
        )
        for c, p, s in zip(cuts, prefixes, suffixes, strict=True)
    ]
    middles = tokens.encode([m for _, m in healed])
    out = []
    for i, (c, (p, _), m, s) in enumerate(zip(cuts, healed, middles, suffixes, strict=True)):
        if not c.suffix.strip():
            out.append(Example(p + m, len(p)))
            continue
        head = infill(p, s[:SUFFIX_TOKENS], tokens.fim, layouts[i % len(layouts)])
        out.append(Example(head + m + [tokens.eot], len(head), stop=True))
    return out


def line_examples(
    cuts: list[Cut], tokens: Tokens, rng: random.Random, projects: list[list[int]] | None = None
) -> list[Example]:
    """The "line" layout (`prompt.infill_line`), each cut with text after it: the last 64.. tokens
    above the middle's start (the server's, `prompt.middle_start`) as the prefix, the suffix's first
    SUFFIX_TOKENS, then the text from there to the cut after <|fim_middle|>, healed there; the loss
    on the rest of the middle. projects: each cut's project context tokens (`project_cuts.py`),
    shown as the server shows them (`prompt.with_project`): after <|fim_prefix|>, <|endoftext|> and
    the context, then the window."""
    starts = [middle_start(_context(c)) for c in cuts]
    aboves = tokens.encode([c.prefix[:s] for c, s in zip(cuts, starts, strict=True)])
    suffixes = [s[:SUFFIX_TOKENS] for s in tokens.encode([c.suffix for c in cuts])]
    lines = [  # a line longer than the server's budget, kept from where the server keeps it
        line[line_start(len(line), PREFIX_TOKENS - 3 - len(suffix)) :]
        for line, suffix in zip(
            tokens.encode([c.prefix[s:] for c, s in zip(cuts, starts, strict=True)]), suffixes, strict=True
        )
    ]
    pre, suf, mid = tokens.fim
    healed = [tokens.healed([mid, *line], c.middle) for c, line in zip(cuts, lines, strict=True)]
    middles = tokens.encode([m for _, m in healed])
    out = []
    shown = projects or [[] for _ in cuts]
    for above, line, suffix, (kept, _), middle, project in zip(
        aboves, lines, suffixes, healed, middles, shown, strict=True
    ):
        room = max(0, PREFIX_TOKENS - 3 - len(suffix) - len(line))
        above = above[-rng.randint(min(64, room), room) :] if room else []
        head = [pre, *([tokens.eot, *project] if project else []), *above, suf, *suffix, *kept]
        out.append(Example(head + middle + [tokens.eot], len(head), stop=True))
    return out


def _context(c: Cut) -> Context:
    """What the server's context of the cut holds that `middle_start` reads."""
    return Context(max(0, c.offset - len(c.prefix)), c.prefix, c.prefix[c.prefix.rfind("\n") + 1 :], "", False)


def off_examples(cuts: list[Cut], tokens: Tokens) -> list[Example]:
    """The same cuts without the text after the cursor (fim off): the prefix, then the middle (healed)."""
    healed = [
        tokens.healed(p[-PREFIX_TOKENS:], c.middle)
        for c, p in zip(cuts, tokens.encode([c.prefix for c in cuts]), strict=True)
    ]
    middles = tokens.encode([m for _, m in healed])
    return [Example(p + m, len(p)) for (p, _), m in zip(healed, middles, strict=True)]


PLAIN_LOSS_TOKENS = (
    24  # a plain window's loss tokens: about a FIM middle's, so that a quarter of the examples is a quarter of the loss
)


def plain_examples(texts: list[str], tokens: Tokens, rng: random.Random, length: int = 384) -> list[Example]:
    """Windows of files, the loss on their last PLAIN_LOSS_TOKENS tokens: what keeps the model's
    left-to-right completion."""
    out = []
    for ids in tokens.encode(texts):
        if len(ids) > 16:
            start = rng.randrange(max(1, len(ids) - length))
            window = ids[start : start + length]
            out.append(Example(window, max(1, len(window) - PLAIN_LOSS_TOKENS)))
    return out


def mixed(texts: list[str], tokens: Tokens, count: int, seed: int, layouts=LAYOUTS) -> list[Example]:
    """count examples: half rest-of-line FIM cuts, a quarter span cuts, a quarter plain windows;
    the FIM ones in each of layouts in turn (psm, spm, line)."""
    rng = random.Random(seed)
    cuts = [c for i in range(count * 3 // 4) if (c := cut(rng.choice(texts), rng, span=i % 3 == 2)) is not None]
    plain = plain_examples([rng.choice(texts) for _ in range(count - len(cuts))], tokens, rng)
    rng.shuffle(cuts)  # the layouts go in turn: not in step with the span cuts' every third
    examples = fim_examples(cuts, tokens, rng, tuple(layouts)) + plain
    rng.shuffle(examples)
    return examples


def batches(examples: list[Example], max_tokens: int, rng: random.Random) -> list[list[Example]]:
    """Examples of similar length together (little padding), at most max_tokens a batch and a
    quarter of that in loss positions (the head's logits, a vocabulary wide each: a batch of
    hundreds of short examples ran a GPU out of memory there), shuffled."""
    order = sorted(examples, key=lambda e: len(e.ids))
    out: list[list[Example]] = [[]]
    read = 0
    for e in order:
        positions = len(e.ids) - max(e.start, 1)
        if out[-1] and ((len(out[-1]) + 1) * len(e.ids) > max_tokens or read + positions > max_tokens // 4):
            out.append([])
            read = 0
        out[-1].append(e)
        read += positions
    rng.shuffle(out)
    return out


def loss(model, batch: list[Example], device) -> tuple[torch.Tensor, torch.Tensor, list[int]]:
    """Cross-entropy over the batch's loss positions, the argmax at each (fp32), and how many
    positions each example had. The head runs only where the loss reads it."""
    width = max(len(e.ids) for e in batch)
    ids = torch.zeros(len(batch), width, dtype=torch.long)
    mask = torch.zeros(len(batch), width, dtype=torch.long)
    sel = torch.zeros(len(batch), width, dtype=torch.bool)
    for row, e in enumerate(batch):
        ids[row, : len(e.ids)] = torch.tensor(e.ids)
        mask[row, : len(e.ids)] = 1
        sel[row, max(e.start, 1) - 1 : len(e.ids) - 1] = True  # position t predicts ids[t + 1]
    ids, mask, sel = ids.to(device), mask.to(device), sel.to(device)
    hidden = model.model(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
    logits = model.lm_head(hidden[sel]).float()
    targets = ids[:, 1:][sel[:, :-1]]
    per = F.cross_entropy(logits, targets, reduction="none")
    return per, logits.argmax(-1), sel.sum(1).tolist()


@torch.no_grad()
def measure(model, examples: list[Example], device, token_bytes=None, max_tokens: int = 16384) -> dict:
    """Mean loss over the middles' tokens (and their end), and the share of examples whose greedy
    middle the server would show exactly (`exact`): every token the argmax, but the last may
    also end the line (`)` written as `)\n`), and the middle may end with a control token or a
    line break instead of its end marker, where the server cuts it. token_bytes None: the
    reference tokens only."""
    total, count, exact = 0.0, 0, 0
    for batch in batches(examples, max_tokens, random.Random(0)):
        per, argmax, counts = loss(model, batch, device)
        total += per.sum().item()
        count += per.numel()
        for e, guess in zip(batch, torch.split(argmax, counts), strict=True):
            exact += _shown_exactly(e, guess.tolist(), token_bytes)
    return {
        "loss": round(total / max(count, 1), 4),
        "exact": round(exact / max(len(examples), 1), 4),
        "n": len(examples),
    }


def _shown_exactly(e: Example, guess: list[int], token_bytes) -> bool:
    want = e.ids[len(e.ids) - len(guess) :]
    middle = len(want) - e.stop  # the middle's tokens; then its end marker, if it has one
    if guess[: middle - 1] != want[: middle - 1]:
        return False
    ends_line = token_bytes is not None and _ends_line(token_bytes[guess[middle - 1]], token_bytes[want[middle - 1]])
    if guess[middle - 1] != want[middle - 1] and not ends_line:
        return False
    if not e.stop or guess[-1] == want[-1] or ends_line:
        return True
    return token_bytes is not None and (token_bytes[guess[-1]] == b"" or token_bytes[guess[-1]].startswith(b"\n"))


def _ends_line(guess: bytes, want: bytes) -> bool:
    """guess writes want and then only a line break (and blanks): the server shows want."""
    rest = guess[len(want) :]
    return bool(want) and guess.startswith(want) and rest.startswith((b"\n", b"\r\n")) and not rest.strip()


def train(
    model, params, examples: list[Example], device, seconds: float, max_tokens: int, lr: float, say=print
) -> dict:
    """AdamW over params for about `seconds` (the step count is set from the first steps' time;
    seconds 0: one pass over every batch, the same steps on any machine),
    linear warm-up then cosine decay to a tenth; returns the run's figures."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    order = batches(examples, max_tokens, random.Random(1))
    planned, started, losses, skipped, in_a_row, restarts = len(order), time.monotonic(), [], 0, 0, 0
    warm = min(20, 1 + planned // 10)
    step, good = 0, (0, [p.detach().clone() for p in params])
    for step, batch in enumerate(order[:planned]):
        if step == 10:  # the first steps include compilation and allocation: time the next ones
            started_10 = time.monotonic()
        if step == 30 and seconds > 0:
            per_step = (time.monotonic() - started_10) / 20
            planned = min(len(order), 30 + int((seconds - (time.monotonic() - started)) / per_step))
            say(f"{per_step * 1000:.0f} ms a step: {planned} steps of {len(order)} batches")
        frac = min(1.0, step / max(planned, 1))
        scale = min(1.0, (step + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr * scale
        per, _, _ = loss(model, batch, device)
        value = per.mean()
        opt.zero_grad(set_to_none=True)
        value.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        if not (torch.isfinite(value) and torch.isfinite(norm)):
            # a step on a non-finite gradient makes every adapter NaN: skip the batch; several in a
            # row mean the adapters themselves went bad: back to the last good ones at half the rate
            skipped, in_a_row = skipped + 1, in_a_row + 1
            say(f"step {step}: loss {value.item():.4f}, gradient norm {norm.item():.4g}: skipped")
            if in_a_row >= 3:
                if restarts == 2:
                    break
                restarts, in_a_row, lr = restarts + 1, 0, lr / 2
                opt = _restore(params, good[1], lr)
                say(f"step {step}: back to the adapters of step {good[0]}, rate {lr:.3g}")
            continue
        in_a_row = 0
        opt.step()
        losses.append(value.item())
        if step % 50 == 0:
            good = (step, [p.detach().clone() for p in params])
            say(f"step {step} loss {sum(losses[-50:]) / len(losses[-50:]):.4f} {time.monotonic() - started:.0f} s")
        if step + 1 >= planned:
            break
    seen = sum(len(e.ids) for b in order[: step + 1] for e in b)
    return {
        "steps": step + 1,
        "examples": sum(len(b) for b in order[: step + 1]),
        "tokens": seen,
        "seconds": round(time.monotonic() - started, 1),
        "loss_first_50": _mean(losses[:50]),
        "loss_last_50": _mean(losses[-50:]),
        "skipped": skipped,
        "restarts": restarts,
    }


@torch.no_grad()
def _restore(params, kept: list[torch.Tensor], lr: float) -> torch.optim.AdamW:
    """The adapters back to kept, and a new optimizer at lr (the old one's moments led them astray)."""
    for p, k in zip(params, kept, strict=True):
        p.copy_(k)
    return torch.optim.AdamW(params, lr=lr, weight_decay=0.0)


def _mean(xs: list[float]) -> float:
    return round(sum(xs) / max(len(xs), 1), 4)
