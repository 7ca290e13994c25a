"""The identifier n-gram of the open documents (Hellendoorn and Devanbu)."""

import numpy as np

from nib.model.listing.identifiers import IdentifierNgram


def test_identifiers_predicts_from_the_tokens_before_the_name():
    ngram = IdentifierNgram()
    text = "self.total = 0\nself.count = 1\nself.total += 2\nx = count\n\nself."
    probs = ngram.probabilities("a", text, len(text), ["self", "."], ["total", "count", "other"])
    # trigram (self . total) x2 and (self . count) x1, bigram likewise; unigrams total 2, count 2
    assert probs["other"] == 0.0 and probs["total"] > probs["count"] > 0
    assert np.isclose(sum(probs.values()), 1.0)


def test_identifiers_does_not_count_the_line_being_typed():
    ngram = IdentifierNgram()
    probs = ngram.probabilities("a", "import os\nos.pat", 16, ["os", "."], ["pat", "path"])
    assert probs == {"pat": 0.0, "path": 0.0}


def test_identifiers_other_documents_count_at_a_lower_weight():
    ngram = IdentifierNgram()
    ngram.around("other", "helper_function()\n", None)
    probs = ngram.probabilities("a", "x = 1\n", 6, ["", ""], ["helper_function", "x"])
    assert probs["helper_function"] > 0 and probs["x"] > probs["helper_function"]
