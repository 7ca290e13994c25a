"""Mixing the model, the identifier n-gram and jedi's order."""

import numpy as np

from nib.model.completion.result import Candidate
from nib.model.listing.mixing import Weights, combine, mix


def test_mix_weighs_model_identifiers_and_jedi_order():
    model = {"append": np.log(0.6), "extend": np.log(0.4)}
    identifiers = {"append": 0.0, "extend": 1.0}
    assert [n for n, _ in mix(model, identifiers, ["append", "extend"], Weights(1.0, 0.0, 0.0))] == ["append", "extend"]
    assert [n for n, _ in mix(model, identifiers, ["append", "extend"], Weights(0.5, 0.5, 0.0))] == ["extend", "append"]
    ranked = mix(model, {}, ["extend", "append"], Weights(0.0, 0.0, 1.0))
    assert [(n, round(s, 4)) for n, s in ranked] == [
        ("extend", round(np.log(2 / 3), 4)),
        ("append", round(np.log(1 / 3), 4)),
    ]


def test_combine_keeps_the_scored_name_over_the_same_free_lexeme():
    items = [
        Candidate("append", 10, -1.0, "token", "append"),
        Candidate("append", 10, -0.5, "name", "append"),
        Candidate("(", 10, -2.0, "token", "("),
    ]
    out = combine(items, {}, ["append"], Weights(1.0, 0.0, 0.0))
    assert [(c.label, c.kind) for c in out] == [("append", "name"), ("(", "token")]
