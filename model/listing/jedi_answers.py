"""What jedi answers: the names it completes at a cursor, and what it says of one of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JediName:
    name: str  # as inserted: a keyword argument ends in "="
    kind: str  # jedi's type: module, class, instance, function, param, keyword, property, statement, path
    detail: str


# Where jedi's names are the whole list (after `.`, in an import): nothing of the model's is invented there
WHOLE = ("attribute", "import")


@dataclass(frozen=True)
class JediAnswer:
    names: list[JediName]
    position: str  # attribute | import | kwarg | name (text.lexeme.position_kind)

    @property
    def confident(self) -> bool:
        """After `.` or in an import, a non-empty list of jedi's names is the whole truth."""
        return bool(self.names) and self.position in WHOLE


@dataclass(frozen=True)
class Description:
    """What jedi says of a name it completes (an editor's item resolved): "" where it has nothing."""

    signature: str  # the first, e.g. `area(w, h=2)`
    doc: str  # the docstring, without its signatures
