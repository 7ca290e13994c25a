"""Token healing: the back-off point, the constraint on the first steps, canonical pairs."""

import numpy as np
import pytest
from fixtures import INDEX, VOCAB, greedy_encode, ids

from nib.model.text.heal import Canonical, advance, back_off, constrain


@pytest.mark.parametrize(
    "tokens, keep, removed",
    [
        (ids(b"x", b" =", b"pri"), 2, b"pri"),  # `pri|` extends to print/private
        (ids(b"x", b" ="), 1, b" ="),  # ` =` may become ` ==`
        (ids(b"x", b" =", b"pr", b"i"), 2, b"pri"),  # two tokens that one token covers
        (ids(b"x", b"print"), 2, b""),  # nothing extends `print`: no back-off
        ([0] + ids(b"pri"), 1, b"pri"),  # never across <|endoftext|>
        (ids(b"pri"), 1, b""),  # never the whole prompt
        (ids(b"x", b"\xc3"), 1, b"\xc3"),  # a split UTF-8 character
    ],
)
def test_back_off(tokens, keep, removed):
    assert back_off(tokens, INDEX) == (keep, removed)


def test_allowed_tokens_extend_or_prefix_the_removed_bytes():
    allowed = sorted(VOCAB[i] for i in INDEX.allowed(b"pri"))
    assert allowed == [b"p", b"pr", b"pri", b"print", b"private"]


def test_constrain_renormalises_over_allowed():
    lp = np.log(np.full(len(VOCAB), 1 / len(VOCAB)))
    out = constrain(lp, b" =", INDEX)
    allowed = {VOCAB.index(b" "), VOCAB.index(b" ="), VOCAB.index(b" ==")}
    assert {i for i in range(len(VOCAB)) if out[i] > -np.inf} == allowed
    assert np.isclose(np.exp(out[list(allowed)]).sum(), 1.0)


def test_advance():
    assert advance(b"pri", b"pr") == b"i"
    assert advance(b"pri", b"print") == b""
    assert advance(b"i", b"i") == b""


@pytest.mark.parametrize(
    "a, b, canonical",
    [
        (b"pr", b"int", False),
        (b"pr", b"i", False),
        (b"x", b" ==", True),
        (b"x", b" =", True),
        (b" =", b"=", False),
        (b"\xc3", b"\xa9", False),
        (b"print", b"x", True),
    ],
)
def test_canonical_pairs(a, b, canonical):
    check = Canonical(lambda t: greedy_encode(t.encode()), VOCAB)
    assert check(VOCAB.index(a), VOCAB.index(b)) is canonical


def test_constrain_without_renormalising_keeps_joint_scores():
    lp = np.log(np.full(len(VOCAB), 1 / len(VOCAB)))
    out = constrain(lp, b" =", INDEX, renormalise=False)
    assert np.allclose(out[[VOCAB.index(b" "), VOCAB.index(b" ="), VOCAB.index(b" ==")]], lp[0])


def test_a_control_token_may_be_next_to_any_token():
    """`<|fim_middle|>` then a space: the tokenizer would read the pair's text as other pieces,
    but a control token is never text, so the pair is canonical (FIM prompts end in one)."""
    vocab = [b"<|fim_middle|>", b" ", b"<", b"|"]
    check = Canonical(lambda t: [2, 3], vocab, special={0})
    assert (check(0, 1), check(1, 0), Canonical(lambda t: [2, 3], vocab)(0, 1)) == (True, True, False)
