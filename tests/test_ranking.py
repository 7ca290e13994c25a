"""The completion list's ranking: scoring a fixed name set, the cache, the mixture, jedi's worker."""

import numpy as np
import pytest

from nib.model.cache import IdentifierCache
from nib.model.engine import Candidate
from nib.model.listing import combine
from nib.model.ranking import UNSCORED_PIECE, Weights, mix, score_sequences
from nib.model.static import StaticCompleter, position_kind

from test_text_steps import VOCAB, TableModel


def table_model(probs):
    """Next-piece probabilities by the bytes generated after the prompt "x"."""
    return TableModel(lambda so_far: probs.get(so_far[1:], {b"\n": 1.0}))


def test_score_sequences_is_the_sum_of_piece_logprobs():
    model = table_model({b"": {b"pr": 0.5, b"print": 0.3, b"p": 0.2}, b"pr": {b"int": 0.1, b"i": 0.9},
                         b"pri": {b"v": 0.5, b"n": 0.5}})
    ids = {v: i for i, v in enumerate(VOCAB)}
    seqs = [(ids[b"print"],), (ids[b"pr"], ids[b"int"]), (ids[b"pr"], ids[b"i"], ids[b"v"])]
    start = [ids[b"x"]]
    got = score_sequences(model, model.logits(start), model.state(start), seqs, k=3)
    assert np.allclose(got, np.log([0.3, 0.5 * 0.1, 0.5 * 0.9 * 0.5]), atol=1e-6)


def test_score_sequences_stops_extending_what_cannot_reach_the_top_k():
    model = table_model({b"": {b"print": 0.95, b"p": 0.05}, b"p": {b"r": 0.5}})
    ids = {v: i for i, v in enumerate(VOCAB)}
    seqs = [(ids[b"print"],), (ids[b"p"], ids[b"r"])]
    start = [ids[b"x"]]
    got = score_sequences(model, model.logits(start), model.state(start), seqs, k=1)
    # "p" (0.05) is below the best complete name (0.95): never stepped, charged per unscored piece
    assert np.allclose(got, [np.log(0.95), np.log(0.05) + UNSCORED_PIECE], atol=1e-6)


def test_mix_weighs_model_cache_and_static_order():
    model = {"append": np.log(0.6), "extend": np.log(0.4)}
    cache = {"append": 0.0, "extend": 1.0}
    assert [n for n, _ in mix(model, cache, ["append", "extend"], Weights(1.0, 0.0, 0.0))] == ["append", "extend"]
    assert [n for n, _ in mix(model, cache, ["append", "extend"], Weights(0.5, 0.5, 0.0))] == ["extend", "append"]
    ranked = mix(model, {}, ["extend", "append"], Weights(0.0, 0.0, 1.0))
    assert [(n, round(s, 4)) for n, s in ranked] == [("extend", round(np.log(2 / 3), 4)),
                                                     ("append", round(np.log(1 / 3), 4))]


def test_combine_keeps_the_scored_name_over_the_same_free_lexeme():
    items = [Candidate("append", 10, -1.0, "token", "append"), Candidate("append", 10, -0.5, "name", "append"),
             Candidate("(", 10, -2.0, "token", "(")]
    out = combine(items, {}, ["append"], Weights(1.0, 0.0, 0.0))
    assert [(c.label, c.kind) for c in out] == [("append", "name"), ("(", "token")]


def test_cache_predicts_from_the_tokens_before_the_name():
    cache = IdentifierCache()
    text = "self.total = 0\nself.count = 1\nself.total += 2\nx = count\n\nself."
    probs = cache.probabilities("a", text, len(text), ["self", "."], ["total", "count", "other"])
    # trigram (self . total) x2 and (self . count) x1, bigram likewise; unigrams total 2, count 2
    assert probs["other"] == 0.0 and probs["total"] > probs["count"] > 0
    assert np.isclose(sum(probs.values()), 1.0)


def test_cache_does_not_count_the_line_being_typed():
    cache = IdentifierCache()
    probs = cache.probabilities("a", "import os\nos.pat", 16, ["os", "."], ["pat", "path"])
    assert probs == {"pat": 0.0, "path": 0.0}


def test_cache_other_documents_count_at_a_lower_weight():
    cache = IdentifierCache()
    cache.around("other", "helper_function()\n", None)
    probs = cache.probabilities("a", "x = 1\n", 6, ["", ""], ["helper_function", "x"])
    assert probs["helper_function"] > 0 and probs["x"] > probs["helper_function"]


@pytest.mark.parametrize("line, kind", [
    ("    os.pa", "attribute"), ("x = self.", "attribute"), ("from os import pa", "import"),
    ("import o", "import"), ("from os.pa", "import"), ("print(x, se", "kwarg"), ("f(", "kwarg"),
    ("    return va", "name"), ("", "name"), ("x = ...", "name"),
])
def test_position_kind(line, kind):
    assert position_kind(line) == kind


def test_jedi_worker_answers_fails_cleanly_and_restarts():
    static = StaticCompleter(budget_ms=30_000)
    try:
        text = "import os\nos.pa"
        result = static.names(text, len(text))
        assert (result.position, "path" in [n.name for n in result.names]) == ("attribute", True)
        # asked at the start of the name: every name of os, not only those starting with `pa`
        assert "walk" in [n.name for n in result.names]
        assert static.names(text + "t", len(text) + 1) is result  # the same name typed on: jedi's answer kept
        assert static.names(text, len(text) + 5) is None  # jedi raises on a column past the line: no answer
        static._process.kill()
        static._process.wait()
        result = static.names(text, len(text))  # a dead worker is replaced on the next request
        assert result is not None and "path" in [n.name for n in result.names]
    finally:
        static.close()


def test_jedi_over_budget_is_no_answer_and_a_busy_worker_is_waited_for_within_the_budget():
    static = StaticCompleter()
    try:
        static.warm()
        assert static.names("import os\nos.", 13, budget_ms=1) is None  # busy loading its stubs
        assert static.names("import os\nos.", 13, budget_ms=30_000) is not None  # after the warm-up
    finally:
        static.close()
