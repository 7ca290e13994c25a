"""The completion list: jedi's names ranked by the model, mixed with the identifier n-gram and jedi's order.

    jedi.ask (own process) ----------------+
    engine.complete (list): prompt, the model's own lexemes, the statement,
                            await_jedi, score_names --> mix --> items, the statement last

After `.` or in an import a non-empty jedi list is the whole candidate set (no
invented attributes); elsewhere the model's own lexemes join it (new names,
literals, operators). When jedi is slow or fails, the model's lexemes alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nib.model.completion.engine import Engine
from nib.model.completion.request import Options, Request
from nib.model.completion.result import Candidate, Timings
from nib.model.text.lexeme import position_kind, typed_name

from .identifiers import IdentifierNgram, tokens
from .jedi import JediAnswer, JediCompleter, deadline
from .mixing import WEIGHTS, Weights, combine


@dataclass
class Listing:
    candidates: list[Candidate]  # mixed and sorted, the statement item (if any) last
    timings: Timings
    jedi: JediAnswer | None  # jedi's answer, None when it had none in time
    position: tuple[str, bool] = ("name", False)  # (position kind, name partly typed): the weights used
    unmixed: list[Candidate] = field(default_factory=list)  # with the model's own scores
    identifiers: dict[str, float] = field(default_factory=dict)  # the n-gram's probability of each label


class ListRanker:
    def __init__(self, jedi: JediCompleter | None = None, identifiers: IdentifierNgram | None = None,
                 weights: dict[tuple[str, bool], Weights] = WEIGHTS):
        self.jedi = jedi or JediCompleter()
        self.identifiers = identifiers or IdentifierNgram()
        self.weights = weights

    def complete(self, engine: Engine, text: str, cursor: int, options: Options = Options(), cancel=None,
                 key: str = "", path: str | None = None, use_jedi: bool = True,
                 jedi_ms: int | None = None) -> Listing:
        """The list's candidates, best first, and what they were ranked from."""
        line_prefix = text[text.rfind("\n", 0, cursor) + 1:cursor]
        position = (position_kind(line_prefix), bool(typed_name(line_prefix)))
        request = Request(
            text, cursor, "list", options, cancel,
            jedi=self.jedi.ask(text, cursor, path) if use_jedi else None,
            jedi_deadline=deadline(self.jedi.budget_ms if jedi_ms is None else jedi_ms),
            jedi_first=position[0] in ("attribute", "import"),
        )
        result = engine.complete(request)
        items = [c for c in result.candidates if c.kind != "statement"]
        start = min((c.start for c in items if c.kind == "name"), default=cursor)
        context = tokens(text[max(start - 200, 0):start])[-2:]
        probs = self.identifiers.probabilities(key, text, cursor, context, [c.label for c in items])
        jedi = result.jedi
        ranked = combine(items, probs, [n.name for n in jedi.names] if jedi else [], self.weights[position])
        return Listing(ranked + [c for c in result.candidates if c.kind == "statement"], result.timings, jedi,
                       position, items, probs)
