"""What the engine answers: candidates with character ranges and scores, and where the time went."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field


@dataclass
class Candidate:
    """Replace document[start:cursor] with text. score: log-probability (or the list's mixed score)."""

    text: str
    start: int
    score: float
    kind: str  # "token" (the model's own lexeme) | "name" (one of jedi's) | "statement"
    label: str = ""
    cut: bool = False  # a statement its budget cut: typed through, it is decoded on (`LocalCompleter`)

    def extends(self, text: str, cursor: int) -> bool:
        """Whether this edit, on text with the cursor moved on since it was made, still starts
        with everything typed from its start and inserts something more.

        Example: Candidate("append", 3, 0.0, "name").extends("xs.app", 6) is True;
                 Candidate("append", 3, 0.0, "name").extends("xs.apx", 6) is False
        """
        return self.fits(text, cursor) and len(self.text) > cursor - self.start

    def fits(self, text: str, cursor: int) -> bool:
        """Whether this list item still starts with everything typed from its start, the name typed
        whole included: a list keeps `t` where `t` is typed, so that Enter does not take `type` for it.

        Example: Candidate("t", 3, 0.0, "name").fits("xs.t", 4) is True;
                 Candidate("t", 3, 0.0, "name").fits("xs.ty", 5) is False
        """
        return self.text.startswith(text[self.start : cursor])


def offered(items: list[Candidate], text: str, cursor: int) -> list[Candidate]:
    """The list's items at cursor: those that begin with what is typed, the name typed whole among
    them (Enter then keeps `t` rather than taking `type` for it) but none of the model's own guesses
    typed whole, and none at all where nothing goes on past what is typed (a list of `pass` alone
    would only take the editor's Enter from its new line).

    Example: offered([Candidate("t", 0, 0.0, "name", "t")], "t", 1) == []
    """
    kept = [c for c in items if c.fits(text, cursor) and (c.kind != "token" or c.extends(text, cursor))]
    return kept if any(c.extends(text, cursor) for c in kept) else []


def typed_since(before: str, at: int, text: str, cursor: int) -> str | None:
    """What was typed at offset `at` of `before` to make `text` (the cursor now after it), or
    None when text is not before with one insertion there.

    Example: typed_since("xs.a = 1", 4, "xs.app = 1", 6) == "pp"; typed_since("xs.a", 4, "ys.ap", 5) is None
    """
    added = text[at:cursor]
    if (
        cursor <= at
        or len(text) != len(before) + len(added)
        or not text.startswith(before[:at])
        or not text.endswith(before[at:])
    ):
        return None
    return added


@dataclass
class Timings:
    """Milliseconds per step of one completion (0 for a step that did not run), and prompt sizes."""

    queue_ms: float = 0.0  # waiting for the model's inference thread, behind other work
    context_ms: float = 0.0
    lex_ms: float = 0.0
    heal_ms: float = 0.0
    prefill_ms: float = 0.0
    jedi_wait_ms: float = 0.0
    decode_list_ms: float = 0.0
    decode_statement_ms: float = 0.0
    score_names_ms: float = 0.0
    prompt_tokens: int = 0
    healed_bytes: int = 0
    project_tokens: int = 0  # of the prompt's tokens, those of the project context
    passes: int = 0  # the statement's forward passes after the prompt (0: memoised, or typed through)
    drafted: int = 0  # tokens the statement's drafts guessed (`decode.propose`), run in those passes
    accepted: int = 0  # of those, the ones greedy decoding then picked: steps saved
    out_of_time: int = 0  # statements the budget cut (`Decoder.statement`)
    unlikely: int = 0  # statements stopped at the piece that took them under minConfidence (`stops.sure_part`)
    unfilled: int = 0  # the prompt's tokens left, which its budget would not cover: answered with nothing (`steps.py`)

    @contextmanager
    def stage(self, name: str):
        """Add the time spent in the block to `<name>_ms`.

        For example, `with timings.stage("prefill"): runtime.prefill(...)` adds to prefill_ms.
        """
        started = time.perf_counter()
        try:
            yield
        finally:
            key = f"{name}_ms"
            setattr(self, key, getattr(self, key) + (time.perf_counter() - started) * 1e3)

    def add(self, other: Timings) -> Timings:
        """These timings and other's, step by step and count by count (prompt sizes: the larger).

        Example: Timings(lex_ms=1.0, passes=2).add(Timings(lex_ms=2.0, passes=1)) == Timings(lex_ms=3.0, passes=3)
        """
        mine, theirs = asdict(self), asdict(other)
        return Timings(**{k: max(v, theirs[k]) if k in _SIZES else v + theirs[k] for k, v in mine.items()})

    def total_ms(self) -> float:
        return sum(v for k, v in asdict(self).items() if k.endswith("_ms"))

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(self).items()}


_SIZES = ("prompt_tokens", "healed_bytes", "project_tokens")  # of the one prompt: not added up


@dataclass
class Result:
    candidates: list[Candidate]
    timings: Timings = field(default_factory=Timings)
