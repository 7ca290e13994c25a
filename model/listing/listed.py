"""A list as the ranker computed it (`Listing`), and where and with what it was asked (`AskedList`): what
the next keystroke in the same name narrows (`ListRanker.narrow`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nib.model.completion.request import Options
from nib.model.completion.result import Candidate, Timings

from .jedi_answers import JediAnswer


@dataclass
class Listing:
    candidates: list[Candidate]  # mixed and sorted, the statement item (if any) last
    timings: Timings
    jedi: JediAnswer | None  # jedi's answer (stale: kept or read from the text); None with jedi off, after `.` late
    position: tuple[str, bool] = ("name", False)  # (position kind, name partly typed): the weights used
    unmixed: list[Candidate] = field(default_factory=list)  # with the model's own scores
    identifiers: dict[str, float] = field(default_factory=dict)  # the n-gram's probability of each label
    narrowed: bool = False  # filtered from the previous list, not computed
    stale: bool = False  # jedi was late: its names are those it gave last in this scope, or the text's

    @property
    def complete(self) -> bool:
        """Whether typing more can only remove candidates: jedi's names are the whole truth here,
        so an editor may filter on its side instead of asking again (not where they were read: stale)."""
        return self.jedi is not None and self.jedi.confident and not self.stale


@dataclass(frozen=True)
class AskedList:
    """A list as it was computed: where, with what, and the answer."""

    text: str
    cursor: int
    name_start: int
    options: Options
    use_jedi: bool
    listing: Listing
    # the list computed, where this one was narrowed from it: its items' scores are its model's at its cursor
    made: AskedList | None = None

    @property
    def computed(self) -> AskedList:
        """Where the list's items were scored: this list, or the one it was narrowed from."""
        return self.made or self
