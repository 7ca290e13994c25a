"""Decoding with healing, over a table-driven runtime: the statement reproduces what healing removed."""

import math

import pytest
from fixtures import INDEX, VOCAB, TableModel, copying_model, greedy_encode, ids

from nib.model.completion.decode import Decoder
from nib.model.completion.result import Timings
from nib.model.text.heal import Canonical, back_off


@pytest.mark.parametrize("mode", ["prefix", "exact"])
def test_healed_copy_model_reproduces_text(mode):
    """For random prompts and cut points, healed decoding with a copying model gives back the original bytes."""
    import random

    rng = random.Random(1)
    words = [b"print", b"private", b"x", b" ==", b" =", b" ", b"pr", b"int"]
    for _ in range(200):
        original = b"".join(rng.choice(words) for _ in range(4)) + b"\n"
        cut = rng.randrange(1, len(original))
        model = TableModel(copying_model(original))
        decoder = Decoder(model, INDEX, Canonical(lambda t: greedy_encode(t.encode()), VOCAB))
        toks = greedy_encode(original[:cut])
        keep, removed = back_off(toks, INDEX)
        kept = b"".join(VOCAB[t] for t in toks[:keep])
        text, _ = decoder.statement(
            model.logits(toks[:keep]),
            model.state(toks[:keep]),
            removed,
            original[:cut].decode(),
            0,
            exact=mode == "exact",
        )
        assert kept + text.encode() == original[:-1], (original, cut)


def test_exact_cover_weighs_whole_paths():
    """`pr` is the likeliest first piece, but `pr`+`int` (p 0.5 x 0.1) is less likely than `print` (0.3):
    exact picks the most probable cover, prefix the greedy first step; (`pr`, `i`) is not canonical."""
    probs = {b"": {b"pr": 0.5, b"print": 0.3, b"p": 0.2}, b"pr": {b"int": 0.1, b"i": 0.9}}
    model = TableModel(lambda so_far: probs.get(so_far[1:], {b"\n": 1.0}))
    decoder = Decoder(model, INDEX, Canonical(lambda t: greedy_encode(t.encode()), VOCAB))
    start = ids(b"x")
    cover = decoder.best_cover(model.logits(start), model.state(start), b"pri", b"x")
    assert [VOCAB[t] for t in cover] == [b"print"]
    prefix = decoder.statement(model.logits(start), model.state(start), b"pri", "xpri", 0)
    assert prefix[0].startswith("pri") and not prefix[0].startswith("print")


def test_a_statement_that_loops_stops_where_the_loop_starts():
    """A model that says `print(` forever: decoding stops once it said it four times, not at the
    budget of 32 tokens, and the statement is what came before the loop: nothing here."""
    model = TableModel(lambda so_far: {b"(": 1.0} if so_far.endswith(b"print") else {b"print": 1.0})
    decoder = Decoder(model, INDEX, Canonical(lambda t: greedy_encode(t.encode()), VOCAB))
    start = ids(b"x", b" =", b" ")
    counts = Timings()
    text, _ = decoder.statement(model.logits(start), model.state(start), b"", "x = ", 0, max_tokens=32, counts=counts)
    assert (text, counts.passes) == ("", 7)


def test_a_statement_stops_where_its_probability_falls_under_the_floor():
    """`print == x` is 0.9 x 0.6 x 0.6 x 0.6 x 0.9 likely: under a floor of 0.5 decoding stops at
    its third piece (0.324), after 2 passes where the whole statement takes 4, and the statement
    is what came before that piece, with its probability (0.54)."""
    steps = {b"x = ": (b"print", 0.9), b"print": (b" ==", 0.6), b" ==": (b" ", 0.6), b"= ": (b"x", 0.6)}

    def next_probs(so_far: bytes) -> dict[bytes, float]:
        piece, p = next((v for k, v in steps.items() if so_far.endswith(k)), (b"\n", 0.9))
        return {piece: p, b"a": 1 - p}

    model = TableModel(next_probs)
    decoder = Decoder(model, INDEX, Canonical(lambda t: greedy_encode(t.encode()), VOCAB))
    start = ids(b"x", b" =", b" ")
    run = []
    for floor in (-math.inf, math.log(0.5)):
        counts = Timings()
        text, score = decoder.statement(
            model.logits(start), model.state(start), b"", "x = ", 0, counts=counts, floor=floor
        )
        run.append((text, round(math.exp(score), 4), counts.passes, counts.unlikely))
    assert run == [("print == x", 0.175, 4, 0), ("print ==", 0.54, 2, 1)]
