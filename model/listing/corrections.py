"""What the mixture does not see, added to its log-probability where a name is typed.

The mixture (`mixing.py`) weighs the model, the identifier n-gram and jedi's order. At a name it
ranks a builtin the file never uses (`min`, `tuple`) or a keyword over the local assigned on the
line above, and jedi's order there is alphabetical. A few features of each candidate correct it,
log-linearly:

    score = log p_mixture + sum_k w_k f_k

with f: a builtin the file around does not use; used within RECENT lines above the cursor, or
within NEARBY; jedi's kind a parameter, or a variable (jedi's "statement", not an unused builtin); a keyword. The w are
fitted on the dev splits' lists (softmax over each list, the gold name's likelihood) by
`benchmarks/list_corrections.py`, which writes them into weights.json.
"""

from __future__ import annotations

import builtins
import json
import keyword
import re
from dataclasses import replace
from functools import lru_cache

from nib.model.completion.result import Candidate
from nib.model.text.lines import LINE_BREAK

from .jedi_answers import JediName
from .mixing import WEIGHTS_FILE, Weights, combine

FEATURES = ("builtin_unused", "recent", "nearby", "param", "variable", "keyword")
# Where a name is typed (a bare name, a call's argument): fitted there. After `.` jedi's names are
# the class's own, and in an import the modules; the features did not help there (dev splits).
POSITIONS = ("name", "kwarg")
RECENT, NEARBY = 3, 20  # lines above the cursor's line
BUILTINS = frozenset(dir(builtins))
_USED = re.compile(r"(?<![\w.])[^\W\d]\w*")  # a name, not an attribute (`x.name` is not a use of `name`)
_WORD, _WORDS = re.compile(r"\w"), re.compile(r"\w*")
CHARS = 8000  # read above a name at most (21 lines of 380 characters)


def load_corrections(path=WEIGHTS_FILE) -> tuple[float, ...]:
    """The fitted w, in FEATURES' order (none fitted: no correction)."""
    fitted = json.loads(path.read_text()).get("corrections", {}).get("weights", {})
    return tuple(float(fitted.get(f, 0.0)) for f in FEATURES)


CORRECTIONS = load_corrections()


def last_used(text: str, end: int, lines: int = NEARBY) -> dict[str, int]:
    """Each name used in the `lines` lines above end's line and on it up to end: how many lines up.
    At most CHARS characters are read (a minified line is not scanned whole on every list).

    Example: last_used("a = 1\\nb = a\\nc", 12) == {"a": 1, "b": 1}
    """
    low, start = max(end - CHARS, 0), end
    for _ in range(lines + 1):  # (a lone CR's lines are split below, in what is read)
        start = text.rfind("\n", low, start)
        if start < 0:
            tail = _WORDS.match(text, low) if low and _WORD.match(text, low - 1) else None  # no name's tail
            start = tail.end() if tail else low
            break
    else:
        start += 1
    return _used(text[start:end], lines)


@lru_cache(maxsize=4)  # the same name being typed: its list narrowed on each key reads the same lines
def _used(window: str, lines: int) -> dict[str, int]:
    """`last_used` in what it reads (the answer is shared: not to be changed)."""
    found: dict[str, int] = {}
    split = LINE_BREAK.split(window)[-(lines + 1) :]
    for up, line in zip(range(len(split) - 1, -1, -1), split, strict=True):  # the nearest use counts
        for name in _USED.findall(line):
            found[name] = up
    return found


def features(label: str, unused: bool, kind: str, lines_up: int | None) -> list[float]:
    """A candidate's f. unused: the file around never uses it (the n-gram gives it nothing);
    kind: jedi's ("" where jedi did not offer it); lines_up: `last_used`'s (None: not there)."""
    name = label.rstrip("=")  # a keyword argument is offered as `name=`: `type=` is not the builtin
    builtin_unused = name == label and name in BUILTINS and unused
    return [
        float(builtin_unused),
        float(lines_up is not None and lines_up <= RECENT),
        float(lines_up is not None and RECENT < lines_up <= NEARBY),
        float(kind == "param"),
        # jedi says "statement" of `license` and `copyright` too (the site module's): not the file's variables
        float(kind == "statement" and not builtin_unused),
        float(keyword.iskeyword(name) or kind == "keyword"),
    ]


def mixed(
    items: list[Candidate],
    identifiers: dict[str, float],
    names: list[JediName],
    weights: Weights,
    position: tuple[str, bool],
    text: str,
    start: int,
) -> list[Candidate]:
    """The list as the server ranks it: the mixture (`mixing.combine`), and where a name is typed
    its correction. names: jedi's, in its order (or those read from the text while it is late:
    `scope_names.read_names`); start: where the name starts in text."""
    ranked = combine(items, identifiers, [n.name for n in names], weights)
    if position[0] not in POSITIONS or not position[1]:
        return ranked
    kinds = {n.name: n.kind for n in names}
    return corrected(ranked, identifiers, kinds, last_used(text, start))


def corrected(
    ranked: list[Candidate],
    identifiers: dict[str, float],
    kinds: dict[str, str],
    used: dict[str, int],
    weights: tuple[float, ...] | None = None,
) -> list[Candidate]:
    """The mixture's list (scores its log-probabilities) with each candidate's correction added, sorted
    again. weights: w (None: the fitted CORRECTIONS)."""
    weights = CORRECTIONS if weights is None else weights
    if not any(weights):
        return ranked
    out = [
        replace(c, score=c.score + sum(w * x for w, x in zip(weights, f, strict=True)))
        for c, f in zip(ranked, rows(ranked, identifiers, kinds, used), strict=True)
    ]
    return sorted(out, key=lambda c: -c.score)


def rows(
    ranked: list[Candidate], identifiers: dict[str, float], kinds: dict[str, str], used: dict[str, int]
) -> list[list[float]]:
    """Each candidate's f (`features`): identifiers the n-gram's, kinds jedi's, used `last_used`'s."""
    return [
        features(c.label, not identifiers.get(c.label), kinds.get(c.label, ""), used.get(c.label.rstrip("=")))
        for c in ranked
    ]
