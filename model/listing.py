"""The completion list: the model's ranking of jedi's names, the identifier cache, the model's own lexemes.

    jedi (own process, time budget) -+
    prompt prefill ------------------+--> score names --> mix with cache and jedi order --> items

After `.` or in an import a non-empty jedi list is the whole candidate set (no
invented attributes); elsewhere the model's own lexemes join it (new names,
literals, operators). When jedi is slow or fails, the model's lexemes alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .cache import IdentifierCache, tokens
from .engine import Candidate, Engine, Options
from .ranking import WEIGHTS, Weights, mix
from .lexeme import typed_name
from .static import StaticCompleter, StaticResult, position_kind


@dataclass
class Listing:
    candidates: list[Candidate]  # mixed and sorted, the statement item (if any) last
    timings: dict[str, float]
    static: StaticResult | None  # jedi's answer, None when it had none in time
    position: tuple[str, bool] = ("name", False)  # (position kind, name partly typed): the weights used
    unmixed: list[Candidate] = field(default_factory=list)  # with the model's own scores
    cache: dict[str, float] = field(default_factory=dict)  # the cache's probability of each label


class ListRanker:
    def __init__(self, static: StaticCompleter | None = None, cache: IdentifierCache | None = None,
                 weights: dict[tuple[str, bool], Weights] = WEIGHTS):
        self.static = static or StaticCompleter()
        self.cache = cache or IdentifierCache()
        self.weights = weights

    def complete(self, engine: Engine, text: str, cursor: int, options: Options | None = None, cancel=None,
                 key: str = "", path: str | None = None, use_static: bool = True,
                 static_ms: int | None = None) -> Listing:
        """The list's candidates, best first, and what they were ranked from."""
        found: list[StaticResult | None] = [None]
        waiter = self.static.ask(text, cursor, path, static_ms) if use_static else None

        def names():
            found[0] = static = waiter()
            if static is None:
                return [], False
            return [n.name for n in static.names], static.confident

        line_prefix = text[text.rfind("\n", 0, cursor) + 1:cursor]
        position = (position_kind(line_prefix), bool(typed_name(line_prefix)))
        result = engine.complete(text, cursor, "list", options, cancel, names=names if waiter else None,
                                 static_first=position[0] in ("attribute", "import"))
        static = found[0]
        items = [c for c in result.candidates if c.kind != "statement"]
        start = min((c.start for c in items if c.kind == "name"), default=cursor)
        context = tokens(text[max(start - 200, 0):start])[-2:]
        probs = self.cache.probabilities(key, text, cursor, context, [c.label for c in items])
        ranked = combine(items, probs, [n.name for n in static.names] if static else [], self.weights[position])
        return Listing(ranked + [c for c in result.candidates if c.kind == "statement"], result.timings, static,
                       position, items, probs)


def combine(items: list[Candidate], cache: dict[str, float], static_order: list[str],
            weights: Weights) -> list[Candidate]:
    """One candidate per label (a scored static name over the same free lexeme), mixed and sorted."""
    best: dict[str, Candidate] = {}
    for c in items:
        if c.label not in best or (c.kind == "name" and best[c.label].kind != "name"):
            best[c.label] = c
    order = [n for n in static_order if n in best]
    return [replace(best[label], score=score)
            for label, score in mix({k: c.score for k, c in best.items()}, cache, order, weights)]
