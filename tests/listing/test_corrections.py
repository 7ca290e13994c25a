"""The mixture corrected where a name is typed: builtins the file does not use, names used just above, jedi's kinds."""

from concurrent.futures import Future

import numpy as np
import pytest

from nib.model.completion.result import Candidate, Result, Timings
from nib.model.listing import corrections
from nib.model.listing.corrections import CHARS, FEATURES, corrected, features, last_used, mixed
from nib.model.listing.identifiers import IdentifierNgram
from nib.model.listing.jedi import JediCompleter
from nib.model.listing.jedi_answers import JediName
from nib.model.listing.mixing import WEIGHTS, Weights
from nib.model.listing.ranker import ListRanker

MODEL_ONLY = Weights(1.0, 0.0, 0.0)


def weights(**named: float) -> tuple[float, ...]:
    return tuple(named.get(f, 0.0) for f in FEATURES)


@pytest.fixture
def fitted(monkeypatch):
    """Corrections as a fit could give them (the shipped ones change with each fit)."""
    monkeypatch.setattr(corrections, "CORRECTIONS", weights(builtin_unused=-1.0, recent=1.5, variable=1.0))


def test_last_used_counts_lines_up_from_the_name_and_skips_attributes_and_what_is_too_far():
    text = "far = 1\n" + "pass\n" * 3 + "total = far\nrow.count += total\n    t"
    assert last_used(text, len(text) - 1) == {"total": 1, "row": 1, "far": 2, "pass": 3}
    assert last_used(text, len(text) - 1, lines=2) == {"total": 1, "row": 1, "far": 2}
    assert last_used(text, len(text) - 1, lines=1) == {"total": 1, "row": 1}
    assert last_used("x = 1", 0) == {}
    assert last_used("a = 1\rb = a\r\nc", 13) == {"a": 1, "b": 1}  # a lone CR ends a line too, as in editors


def test_last_used_reads_a_bounded_window_and_no_name_cut_at_its_edge():
    line = "x" * (CHARS + 10) + " = y" + " + z" * (CHARS // 4)  # one huge line (minified)
    assert last_used(line + "\nw", len(line) + 1) == {"z": 1}  # y and the cut name's tail are too far up
    tail = " + beta" * (CHARS // 7)
    tail += " " * (CHARS - 2 - len(tail))  # the window starts at alpha's "ha": no name `ha`
    assert last_used("alpha" + tail, 5 + len(tail)) == {"beta": 0}
    assert last_used(" a " + tail, 3 + len(tail)) == {"a": 0, "beta": 0}  # a whole name at the edge counts


def test_features_of_a_candidate():
    assert features("min", unused=True, kind="function", lines_up=None) == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert features("min", unused=False, kind="function", lines_up=30) == [0.0] * 6
    assert features("total", unused=False, kind="statement", lines_up=3) == [0.0, 1.0, 0.0, 0.0, 1.0, 0.0]
    assert features("size=", unused=False, kind="param", lines_up=4) == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    # a keyword argument named like a builtin (`type=`, `help=`) is not the builtin
    assert features("type=", unused=True, kind="param", lines_up=None) == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert features("for", unused=True, kind="", lines_up=None) == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    # jedi says "statement" of `license` (the site module's): an unused builtin, not the file's variable;
    # a builtin's name the file assigns (`id = ...`, the n-gram saw it) is its variable
    assert features("license", unused=True, kind="statement", lines_up=None) == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert features("id", unused=False, kind="statement", lines_up=2) == [0.0, 1.0, 0.0, 0.0, 1.0, 0.0]


def test_an_unused_builtin_falls_below_a_variable_used_just_above():
    ranked = [Candidate("min", 4, np.log(0.6), "name", "min"), Candidate("mins", 4, np.log(0.4), "name", "mins")]
    kinds, used = {"min": "function", "mins": "statement"}, last_used("mins = []\nm", 10)
    assert corrected(ranked, {"mins": 1.0}, kinds, used, weights()) == ranked  # nothing fitted: unchanged
    w = weights(builtin_unused=-1.0, recent=1.0)
    assert [(c.label, round(c.score, 4)) for c in corrected(ranked, {"mins": 1.0}, kinds, used, w)] == [
        ("mins", round(np.log(0.4) + 1.0, 4)),
        ("min", round(np.log(0.6) - 1.0, 4)),
    ]
    # min used in the file: not demoted; mins not used within NEARBY lines: not promoted
    assert [c.label for c in corrected(ranked, {"mins": 1.0, "min": 0.1}, kinds, {}, w)] == ["min", "mins"]


def test_mixed_corrects_only_where_a_name_is_typed(fitted):
    items = [Candidate("len", 0, np.log(0.7), "name", "len"), Candidate("lines", 0, np.log(0.3), "name", "lines")]
    names = [JediName("len", "function", ""), JediName("lines", "statement", "")]
    text = "lines = f()\nl"
    at = len(text) - 1
    shipped = mixed(items, {"lines": 1.0}, names, MODEL_ONLY, ("name", True), text, at)
    assert [c.label for c in shipped] == ["lines", "len"]
    for position in (("name", False), ("attribute", True), ("import", True)):
        assert [c.label for c in mixed(items, {"lines": 1.0}, names, MODEL_ONLY, position, text, at)] == [
            "len",
            "lines",
        ]


class FixedEngine:
    """The list's model, its lexemes fixed."""

    def __init__(self, candidates):
        self.candidates = candidates

    def list(self, request, names=None, names_only=False):
        return Result([c for c in self.candidates if c.extends(request.text, request.cursor)], Timings())

    def score_names(self, request, names):
        return Result([], Timings())  # (its lexemes hold the names of these tests)

    def last_statement(self, text, cursor, options):
        return None


def test_the_ranker_corrects_its_list_and_the_list_it_narrows(fitted):
    text = "mins = []\n"
    engine = FixedEngine(
        [Candidate("min", 10, np.log(0.6), "token", "min"), Candidate("mins", 10, np.log(0.4), "token", "mins")]
    )
    model_only = {position: MODEL_ONLY for position in WEIGHTS}
    ranker = ListRanker(jedi=JediCompleter(), identifiers=IdentifierNgram(), weights=model_only)  # jedi not started
    typed = ranker.complete(engine, text + "m", 11, key="a", use_jedi=False)
    assert ([c.label for c in typed.candidates], typed.narrowed) == (["mins", "min"], False)
    ranker.complete(engine, text, 10, key="b", use_jedi=False)  # nothing typed: the mixture alone
    assert [c.label for c in ranker.complete(engine, text, 10, key="b", use_jedi=False).candidates] == ["min", "mins"]
    narrowed = ranker.complete(engine, text + "m", 11, key="b", use_jedi=False)
    assert ([c.label for c in narrowed.candidates], narrowed.narrowed) == (["mins", "min"], True)


class LateJedi(JediCompleter):
    """jedi that never answers."""

    def ask(self, text, cursor, path=None, at_name_start=True, background=False, environment=""):
        return Future()


def test_jedi_late_the_functions_own_names_get_the_kinds_jedi_would_give(monkeypatch):
    """jedi late: `counter`, a parameter by the text (`scope_names.read_names`), is corrected as
    jedi's "param" would be, above the model's `count`. With jedi off nothing is read: the model's
    order stands."""
    monkeypatch.setattr(corrections, "CORRECTIONS", weights(param=2.0))
    text = "def f(counter):\n    c"
    engine = FixedEngine(
        [
            Candidate("count", 20, np.log(0.6), "token", "count"),
            Candidate("counter", 20, np.log(0.4), "token", "counter"),
        ]
    )
    model_only = {p: MODEL_ONLY for p in WEIGHTS}
    late = ListRanker(LateJedi(), IdentifierNgram(), model_only).complete(
        engine, text, len(text), key="a", name_jedi_ms=0
    )
    assert [(c.label, round(c.score, 4)) for c in late.candidates] == [
        ("counter", round(np.log(0.4) + 2.0, 4)),
        ("count", round(np.log(0.6), 4)),
    ]
    off = ListRanker(JediCompleter(), IdentifierNgram(), model_only).complete(engine, text, len(text), use_jedi=False)
    assert [c.label for c in off.candidates] == ["count", "counter"]
