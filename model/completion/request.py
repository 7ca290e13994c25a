"""What the engine is asked: a document, a cursor, a mode, the options, and jedi's answer to come."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Options:
    """What a request may tune; each field is the settings field of the same name (`list.size` -> list_size)."""

    context_tokens: int = 0  # the prompt's token budget; 0: the model's own (engine.MODEL_DEFAULTS, its manifest)
    healing: str = "exact"  # off | prefix | exact
    list_size: int = 5  # the model's own lexemes in the list
    list_budget_ms: int = 300  # time budget of the list's own lexemes (then what is found so far)
    list_statement: bool = True  # the statement also as one list item
    statement_max_tokens: int = 32
    statement_budget_ms: int = 250
    statement_block_body: bool = False  # may a statement that opens a block continue into its body
    statement_min_confidence: int = -1  # percent: a less likely statement is not shown; -1: the model's own

    def settled(self, context_tokens: int, min_confidence: int) -> "Options":
        """These options with the model's own values where the settings leave them to the model.

        Example: Options().settled(448, 10).context_tokens == 448
        """
        changes = {}
        if self.context_tokens <= 0:
            changes["context_tokens"] = context_tokens
        if self.statement_min_confidence < 0:
            changes["statement_min_confidence"] = min_confidence
        return replace(self, **changes) if changes else self


@dataclass(frozen=True)
class Request:
    """One completion: text and a cursor (a character offset into it); mode "list" or "statement".

    jedi: a future of jedi's names at the cursor (`listing.jedi.JediAnswer`, or None when it
    has none), awaited by the engine's `await_jedi` step until `jedi_deadline` (time.monotonic()).
    jedi_first: wait for it before decoding the model's own lexemes (after `.` or in an import,
    where jedi's names are usually the whole truth and spare that decoding).
    cancel: set by the server when the request is cancelled or superseded.
    """

    text: str
    cursor: int
    mode: str = "list"
    options: Options = Options()
    cancel: threading.Event | None = None
    jedi: Future | None = None
    jedi_deadline: float = 0.0
    jedi_first: bool = False
