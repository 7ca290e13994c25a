"""What the engine is asked: a document, a cursor, a mode, and the options."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from enum import StrEnum


class Kind(StrEnum):
    """Where a completer runs: a model in this process, or an inference engine over HTTP."""

    LOCAL = "local"
    HTTP = "http"


class Mode(StrEnum):
    """What is asked: the completion list, or the statement (ghost text). Equal to its name as a string."""

    LIST = "list"
    STATEMENT = "statement"


@dataclass(frozen=True)
class Options:
    """What a request may tune; each field is the settings field of the same name (`list.size` -> list_size)."""

    context_tokens: int = 0  # the prompt's token budget; 0: the model's own (`ModelDir.defaults`)
    healing: str = "exact"  # off | prefix | exact
    list_size: int = 5  # the model's own lexemes in the list
    list_budget_ms: int = 300  # time budget of the list's own lexemes (then what is found so far)
    list_statement: bool = True  # the statement also as one list item
    # the prompt's budget where the list has a model of its own (0: context_tokens): on the dev split,
    # 256 ranked the first list at a new place as well as 448 with half the prefill (README)
    list_context_tokens: int = 256
    statement_max_tokens: int = 32
    statement_budget_ms: int = 250  # from the request (`Request.since`) to its answer
    statement_lines: str = "auto"  # auto | single | multi: where a statement may span lines (`stops.statement_end`)
    statement_min_confidence: int = -1  # percent: a less likely statement is not shown; -1: the model's own
    project_tokens: int = 0  # the most tokens of project context (`Request.project`) the prompt shows

    def list_window(self) -> int:
        """The prompt's budget of the list's own model: list_context_tokens, never past a
        context_tokens the user set (0: the model's own, as context_tokens).

        Example: (Options().list_window(), Options(context_tokens=128).list_window()) == (256, 128)
        """
        own = self.list_context_tokens or self.context_tokens
        return min(own, self.context_tokens) if own and self.context_tokens else own

    def settled(self, context_tokens: int, min_confidence: int) -> Options:
        """These options with the model's own values where the settings leave them to the model.

        Example: Options().settled(448, 10).context_tokens == 448
        """
        if self.context_tokens > 0 and self.statement_min_confidence >= 0:
            return self
        return replace(
            self,
            context_tokens=self.context_tokens if self.context_tokens > 0 else context_tokens,
            statement_min_confidence=(
                self.statement_min_confidence if self.statement_min_confidence >= 0 else min_confidence
            ),
        )


@dataclass(frozen=True)
class Project:
    """Project context: what the workspace's other files say about the names at the cursor
    (`service/project.py`), shown before the file's own window (`prompt.project_tokens`)."""

    name: str  # the workspace folder's name
    files: tuple[tuple[str, str], ...]  # (path, text) of each piece, least relevant first
    path: str  # the edited file's path in the workspace


@dataclass(frozen=True)
class Request:
    """One completion: text and a cursor (a character offset into it), and what is asked (`Mode`).

    cancel: set by the server when the request is cancelled or superseded. project: what the
    workspace's other files say about the names here (`service/project.py`), shown before the
    file's own window within `options.project_tokens`. doc: the document it is for (its URI,
    "" for none): the prompt states made for it go when it closes (`LocalCompleter.forget`).
    since: when it came (time.monotonic()), where `options.statement_budget_ms` starts; 0: when
    the completer takes it. invoked: asked by the user (a key, a command), not by typing: its
    prompt is prefilled whole, past the budget if need be (the budget then bounds the decoding).
    """

    text: str
    cursor: int
    mode: Mode = Mode.LIST
    options: Options = Options()
    cancel: threading.Event | None = None
    project: Project | None = None
    doc: str = ""
    since: float = 0.0
    invoked: bool = False
