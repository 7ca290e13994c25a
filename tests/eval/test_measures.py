"""What `nib eval` scores and where it cuts, as pure functions on small texts."""

import numpy as np
import pytest

from nib.model.eval.measures import confidence_curve, literal_kind, score_tokens
from nib.model.eval.points import Point, identifier_points, line_points

PIECES = [b"x", b" =", b" 1", b"\n", b" 2", b" ="]


@pytest.mark.parametrize("text, kind", [("'a'", "STR"), (' rb"x"', "STR"), ("12", "NUM"), ("name", None), ("", None)])
def test_literal_kind(text, kind):
    assert literal_kind(text) == kind


def test_confidence_curve_example():
    assert confidence_curve([-0.1, -5], [1, 0], [10]) == [{"min_confidence": 10, "shown": 0.5, "exact_shown": 1.0}]
    assert confidence_curve([-np.inf], [0], [0]) == [{"min_confidence": 0, "shown": 0.0, "exact_shown": None}]


@pytest.mark.parametrize(
    "preds, score",
    [
        ([0, 1, 2, 3], (3, 3)),  # every piece right
        ([0, 1, 4, 3], (3, 3)),  # another number: a literal of the right kind counts
        ([0, 5, 2, 3], (2, 3)),  # the same bytes by another piece is not the model's top-1
    ],
)
def test_a_lexical_token_counts_when_each_of_its_pieces_was_predicted(preds, score):
    assert score_tokens("x = 1\n", [0, 1, 2, 3], np.array(preds), PIECES) == score


def test_points_are_seeded_and_in_file_order():
    texts = ["import os\nos.path.join(a, b)\n", "def f(x):\n    return x.y\n"]
    assert identifier_points(texts, 4, seed=0) == [
        Point(0, 7, "os", "import"),
        Point(0, 18, "join", "attribute"),
        Point(1, 21, "x", "name"),
        Point(1, 23, "y", "attribute"),
    ]
    assert line_points(["a = b + c\n"], 5, seed=0) == [Point(0, 8, "c", "line")]
