"""Training cuts that carry the project context the server would show at them, so that continued
training with fill-in-the-middle (`fim.py`) also learns to read that context.

    corpus files --written as workspaces, one a package (`django/`, `stdlib/`, ...)-->
    rest-of-line cuts (`fim.cut`) --`ProjectContext.block`, as `nib eval --repo` asks it-->
    (cut, project) rows in a JSON-lines file --`examples`--> "line" examples with the context's
    tokens in the model's repository format (`prompt.project_tokens`)

A model trained on the file alone learns to ignore what comes before it; the block is built from
the other files of the cut's package (their stubs, the similar window), never from the file's own
text after the cut. Building blocks takes about 0.1 s a cut here, so it runs before the GPU's lease,
in processes of its own.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

from nib.model.completion.prompt import project_tokens
from nib.model.completion.request import Project
from nib.model.service.project import CHARS_PER_TOKEN, ProjectContext, ProjectOptions

from . import fim

PROGRESS_EVERY = 500  # cuts a worker finds between its lines on stderr (the whole run takes half an hour here)
BUDGET_TOKENS = ProjectOptions().project_tokens  # context.projectTokens' default, as the server budgets it
REPO_NAMES = ("<|repo_name|>", "<|file_sep|>")


def write(rows: list[tuple[str, str]], root: Path) -> None:
    """The corpus's files at their paths under root: each package folder a workspace."""
    for path, text in rows:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def build(rows: list[tuple[str, str]], count: int, seed: int, jobs: int) -> list[dict]:
    """About count rows {prefix, middle, suffix, offset, project: {name, path, files}}: cuts at which
    the server shows a project context (cuts without one, or with nothing after them, left out)."""
    rows = [(path.replace("==", "-", 1), text) for path, text in rows]  # folders named as the splits' are
    with tempfile.TemporaryDirectory() as tmp:
        write(rows, Path(tmp))
        tasks = [(tmp, rows, count // jobs + 1, seed * 1000 + j, j) for j in range(jobs)]
        with Pool(jobs) as pool:
            found = pool.starmap(_cuts, tasks)
    return [row for part in found for row in part][:count]


def _cuts(root: str, rows: list[tuple[str, str]], count: int, seed: int, worker: int) -> list[dict]:
    rng, started = random.Random(seed), time.monotonic()
    contexts: dict[str, ProjectContext] = {}  # one a package: its workspace's parsed files kept
    out: list[dict] = []
    for _ in range(4 * count):
        if len(out) == count:
            break
        path, text = rng.choice(rows)
        c = fim.cut(text, rng, span=False)
        if c is None or not c.suffix.strip():
            continue
        package = path.split("/")[0]
        context = contexts.setdefault(package, ProjectContext([str(Path(root) / package)]))
        block = context.block(
            str(Path(root) / path), text[: c.offset], c.offset, BUDGET_TOKENS * CHARS_PER_TOKEN, False
        )
        if (p := block.project) is not None:
            project = {"name": p.name, "path": p.path, "files": [list(f) for f in p.files]}
            out.append(
                {"prefix": c.prefix, "middle": c.middle, "suffix": c.suffix, "offset": c.offset, "project": project}
            )
            if len(out) % PROGRESS_EVERY == 0:
                elapsed = time.monotonic() - started
                print(f"project-cuts: worker {worker}: {len(out)} of {count} cuts in {elapsed:.0f} s", file=sys.stderr)
    return out


def read(path: Path) -> list[tuple[fim.Cut, Project]]:
    with open(path) as f:
        rows = [json.loads(line) for line in f]
    return [
        (
            fim.Cut(r["prefix"], r["middle"], r["suffix"], r["offset"]),
            Project(r["project"]["name"], tuple(tuple(x) for x in r["project"]["files"]), r["project"]["path"]),
        )
        for r in rows
    ]


class _Bpe:
    """What `prompt.project_tokens` reads of a tokenizer, over transformers' (the training's ids)."""

    def __init__(self, tokens: fim.Tokens):
        ids = fim.named_ids(tokens.tokenizer, list(REPO_NAMES))
        self.repo = tuple(ids) if ids else None
        self.tokens = tokens

    def encode(self, text: str) -> list[int]:
        return self.tokens.encode([text])[0]


def examples(cuts: list[tuple[fim.Cut, Project]], tokens: fim.Tokens, rng: random.Random) -> list[fim.Example]:
    """The "line" examples of the cuts, each with its project context as the server lays it out:
    in the model's repository format where it has one, within BUDGET_TOKENS."""
    bpe = _Bpe(tokens)
    layout = "repo" if bpe.repo else "comments"
    projects = [project_tokens(p, bpe, False, BUDGET_TOKENS, layout).ids for _, p in cuts]
    return fim.line_examples([c for c, _ in cuts], tokens, rng, projects)
