"""Scoring a fixed set of names by the model: exact log-probabilities, pruned where they cannot win."""

import numpy as np
from fixtures import VOCAB, table_model

from nib.model.completion.scoring import RARE_PIECE, UNSCORED_PIECE, score_sequences


def test_score_sequences_is_the_sum_of_piece_logprobs():
    model = table_model(
        {b"": {b"pr": 0.5, b"print": 0.3, b"p": 0.2}, b"pr": {b"int": 0.1, b"i": 0.9}, b"pri": {b"v": 0.5, b"n": 0.5}}
    )
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


def test_a_piece_the_pruned_head_does_not_score_is_rare_not_an_error():
    """Gemma's head scores the tokens of Python code only; a name spelt with another is rare."""
    model = table_model({b"": {b"pr": 0.5, b"p": 0.5}, b"pr": {b"int": 0.1}})
    ids = {v: i for i, v in enumerate(VOCAB)}
    outside = len(VOCAB) + 3  # an id the model reads but its head has no row for
    seqs = [(outside,), (ids[b"pr"], outside)]
    start = [ids[b"x"]]
    got = score_sequences(model, model.logits(start), model.state(start), seqs, k=2)
    assert np.allclose(got, [RARE_PIECE, np.log(0.5) + RARE_PIECE], atol=1e-6)
