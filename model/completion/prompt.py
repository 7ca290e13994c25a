"""The prompt steps shared by the list and the statement: build_context -> lex -> heal (-> prefill).

    text, cursor --build_context--> Context (the window before the cursor, the cursor's line)
                 --lex-----------> Tokens (BPE ids + the type stream, CodeFill)
                 --heal----------> Healing (the tokens kept, the bytes backed off)
                 --infill--------> Tokens (with the text after the cursor, for a model trained
                                   to fill in the middle; else as they were; "line" lays
                                   them out before healing, `infill_line`)

Pure: the engine runs the prefill over the kept tokens with its KV state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from nib.model.runtime import State
from nib.model.text.context import Context
from nib.model.text.heal import VocabIndex, back_off
from nib.model.text.streams import INPUT_TYPE, token_types

from .request import Project

_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """Lone surrogates (a client can send them as JSON escapes) as U+FFFD: the tokenizer
    rejects them, and one character for one keeps every offset where it was.

    Example: scrub("a\\ud800b") == "a\\ufffdb"
    """
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


@dataclass(frozen=True)
class Tokens:
    ids: list[int]
    types: list[int]  # input type per token; zeros for a model without a type stream


@dataclass(frozen=True)
class Healing:
    keep: int  # prompt tokens kept; the rest were backed off
    removed: bytes  # their bytes, which decoding must reproduce first
    removed_text: str


@dataclass(frozen=True)
class Prompt:
    """The prefilled prompt both pipelines decode from."""

    context: Context
    logits: np.ndarray  # (V,) after the last kept token
    state: State  # the kv_state over the kept tokens
    removed: bytes
    removed_text: str
    filled: bool = False  # a FIM prompt: the model saw the text after the cursor

    @property
    def line_before(self) -> str:
        """The cursor's line up to the back-off point.

        Example: Prompt(Context(0, "os.pa", "os.pa", "", True), None, None, b"pa", "pa").line_before == "os."
        """
        line = self.context.line_prefix
        return line[: len(line) - len(self.removed_text)] if len(self.removed_text) <= len(line) else ""


# The most tokens of the text after the cursor a fill-in-the-middle prompt shows: the prompt's
# budget goes to the text before it first.
SUFFIX_TOKENS = 96
# fill in the middle: not at all, prefix first, suffix first, prefix first with the lines since
# `middle_start` (the cursor's line among them) in the middle
LAYOUTS = ("off", "psm", "spm", "line")
LINE_STEP = 32  # "line": the window above the line is cut to a multiple of this many tokens
# "line": the middle starts at the first line start after the last multiple of this many characters
# of the document before the cursor's line (0: at the cursor's line), so that a line break moves
# it, and prefills the suffix again, once in this many characters, not at every line.
MIDDLE_GRID = 256


def lex(context: Context, bpe, uses_types: bool, budget: int, marker: bool = True) -> Tokens:
    """The prompt's tokens and type stream, the last `budget` of them: eot first at the file start
    (nib's models, trained on files separated by it), or bos first always (a pretrained model that
    saw every training sequence begin with it); marker False: neither (a FIM prompt has its own)."""
    lexed = _lexed(context.prefix, bpe, uses_types)
    ids, types = lexed.ids, lexed.types
    if bpe.bos is not None and marker:
        drop = max(0, len(ids) - budget + 1)
        return Tokens([bpe.bos] + ids[drop:], [0] + types[drop:])
    if context.at_file_start and bpe.eot is not None and marker:
        ids, types = [bpe.eot] + ids, [0] + types
    return Tokens(ids[-budget:], types[-budget:])


def line_start(length: int, budget: int) -> int:
    """Where the "line" layout's middle starts in a line of length tokens with room for budget:
    at its start if it fits, else past whole LINE_STEPs of its first tokens, so that as a long
    line grows its kept tokens' start moves once in LINE_STEP tokens, not on each keystroke.

    Example: [line_start(n, 40) for n in (40, 41, 72, 73)] == [0, 32, 32, 64]; line_start(11, 5) == 6
    """
    over = length - budget
    if over <= 0:
        return 0
    stepped = -(-over // LINE_STEP) * LINE_STEP
    return stepped if stepped < length else over  # a budget under a step: its last tokens


def middle_start(context: Context, grid: int = MIDDLE_GRID) -> int:
    """Where the "line" layout's middle starts in context.prefix: at the first line start at or
    after the last multiple of grid characters (document offsets) before the cursor's line, where
    that leaves text above it; else (and for grid 0) at the cursor's line.

    Example: [middle_start(Context(0, t, t.rsplit("\\n", 1)[-1], "", True), 8) for t in
              ("ab\\ncdefgh\\nij\\nk", "ab\\ncdefgh\\nij\\nkl\\nm")] == [10, 16]
    """
    line = len(context.prefix) - len(context.line_prefix)
    mark = (context.window_start + line) // grid * grid - context.window_start if grid > 0 else 0
    if mark <= 0:  # no grid, or its mark is not inside the window
        return line
    return context.prefix.find("\n", mark - 1, line) + 1 or line


def split_line(context: Context, bpe, budget: int) -> tuple[Tokens, Tokens]:
    """The window above the middle and the middle up to the cursor (the cursor's line, and the lines
    since `middle_start`), lexed apart (for the "line" FIM layout), budget tokens in all: the
    middle's last ones first, then the window's.

    The window starts at a line start (`build_context`), so the middle is its end; a middle longer
    than budget keeps its tokens from `line_start`. The window's
    share is a multiple of LINE_STEP tokens: as the middle grows keystroke by keystroke, the
    window's first token moves once in LINE_STEP of the middle's tokens, not on each (the KV
    state over it is reused).
    """
    start = middle_start(context)
    line = _lexed(context.prefix[start:], bpe, False)
    drop = line_start(len(line.ids), budget)
    line = Tokens(line.ids[drop:], line.types[drop:])
    room = (budget - len(line.ids)) // LINE_STEP * LINE_STEP
    above = context.prefix[:start]
    if room <= 0 or not above:
        return Tokens([], []), line
    return lex(replace(context, prefix=above), bpe, False, room, marker=False), line


def project_tokens(project: Project, bpe, uses_types: bool, budget: int, layout: str) -> Tokens:
    """The project context's tokens: whole pieces within budget, the most relevant (the last, nearest
    the file's window) first. layout "repo": the model's own repository format, where its tokenizer
    has one (Qwen2.5-Coder's `<|repo_name|>`name, then `<|file_sep|>`path and text for each file,
    the edited file last); else "comments": a `# file: path` line before each piece."""
    if layout == "repo" and bpe.repo is not None:
        name, sep = bpe.repo
        head, tail = (
            _lexed(f"{project.name}\n", bpe, uses_types, (name,)),
            _lexed(f"{project.path}\n", bpe, uses_types, (sep,)),
        )
        parts = [_lexed(f"{path}\n{text}\n", bpe, uses_types, (sep,)) for path, text in project.files]
    else:
        head, tail = Tokens([], []), _lexed(f"# file: {project.path}\n", bpe, uses_types)
        parts = [_lexed(f"# file: {path}\n{text}\n\n", bpe, uses_types) for path, text in project.files]
    kept: list[Tokens] = []
    used = len(head.ids) + len(tail.ids)
    for part in reversed(parts):
        if used + len(part.ids) > budget:
            break
        kept.insert(0, part)
        used += len(part.ids)
    if not kept:
        return Tokens([], [])
    pieces = [head, *kept, tail]
    return Tokens([i for p in pieces for i in p.ids], [t for p in pieces for t in p.types])


def _lexed(text: str, bpe, uses_types: bool, marker: tuple[int, ...] = ()) -> Tokens:
    """text's tokens and type stream (zeros for a model without one), after the marker's ids."""
    ids = bpe.encode(text)
    types = INPUT_TYPE[token_types(text, ids, bpe.token_bytes)].tolist() if uses_types else [0] * len(ids)
    return Tokens([*marker, *ids], [0] * len(marker) + types)


def with_project(tokens: Tokens, project: Tokens, first: int | None) -> Tokens:
    """The file's tokens (lexed without a marker) after the project context's, the sequence's
    marker first (bos for a model that saw every sequence begin with it, else eot: a file's start).

    Example: with_project(Tokens([5, 6], [0, 0]), Tokens([7], [1]), 0) == Tokens([0, 7, 5, 6], [0, 1, 0, 0])
    """
    head = [first] if first is not None else []
    return Tokens(head + project.ids + tokens.ids, [0] * len(head) + project.types + tokens.types)


def suffix_tokens(context: Context, bpe, layout: str) -> list[int] | None:
    """The text after the cursor as the FIM prompt shows it (its first SUFFIX_TOKENS tokens), or
    None where the prompt is the text before the cursor only: no layout, a model without FIM
    tokens, or nothing but blanks after the cursor."""
    if layout == "off" or bpe.fim is None or not context.suffix.strip():
        return None
    return bpe.encode(context.suffix)[:SUFFIX_TOKENS]


def infill(ids: list[int], suffix: list[int], fim: tuple[int, ...], layout: str) -> list[int]:
    """The FIM prompt around the text before the cursor (ids, healed) and after it (suffix); the
    model writes the middle next. Suffix first ("spm") keeps what the user types into at the end,
    so that the KV state of everything before it is reused from keystroke to keystroke.

    Example: infill([1, 2], [7], (90, 91, 92), "psm") == [90, 1, 2, 91, 7, 92];
             infill([1, 2], [7], (90, 91, 92), "spm") == [91, 7, 90, 1, 2, 92]
    """
    pre, suf, mid = fim
    if layout == "psm":
        return [pre, *ids, suf, *suffix, mid]
    return [suf, *suffix, pre, *ids, mid]


def infill_line(above: Tokens, line: Tokens, suffix: list[int], fim: tuple[int, ...]) -> Tokens:
    """The "line" FIM prompt: the text above `middle_start` as the prefix, the text after the
    cursor as the suffix, and the lines since it up to the cursor as the middle's start, healed
    after this (`heal` backs off the final tokens, never the middle's marker). The middle then
    starts where a line starts, as it does at most of the model's FIM training spans, and not
    at a point a keystroke moves; and as the user types, only the tokens after the marker
    change, so the KV state over everything before them is reused.

    Example: infill_line(Tokens([1, 2], [0, 0]), Tokens([3], [0]), [7], (90, 91, 92)) ==
             Tokens([90, 1, 2, 91, 7, 92, 3], [0, 0, 0, 0, 0, 0, 0])
    """
    pre, suf, mid = fim
    ids = [pre, *above.ids, suf, *suffix, mid, *line.ids]
    return Tokens(ids, [0] * len(ids))  # a FIM model is a pretrained one: no type stream


def heal(tokens: Tokens, index: VocabIndex, mode: str) -> Healing:
    """Back off the final tokens the cursor may split (mode off: none).

    Example: heal(Tokens([0, 1, 2], [0, 0, 0]), VocabIndex([b"x", b".", b"pri", b"print"], ()), "exact") ==
             Healing(keep=2, removed=b"pri", removed_text="pri")
    """
    if mode == "off":
        return Healing(len(tokens.ids), b"", "")
    keep, removed = back_off(tokens.ids, index)
    try:
        return Healing(keep, removed, removed.decode("utf-8"))
    except UnicodeDecodeError:  # the back-off point is inside a character: do not heal
        return Healing(len(tokens.ids), b"", "")
