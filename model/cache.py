"""A cache n-gram over the identifiers of the current file and the other open files.

Most identifiers a programmer types already appear nearby (Hellendoorn and
Devanbu, FSE 2017): `self.` in this file is followed by this file's
attributes. The cache counts lexical tokens of each open document and gives a
probability to each candidate name from the two tokens before the cursor,
interpolating trigram, bigram and unigram counts; other open files add their
unigram counts at a lower weight.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# Lexical tokens for counting: identifiers, numbers, single punctuation. A
# regex, not the full lexer: this runs on every edit of large files.
_TOKENS = re.compile(r"[^\W\d]\w*|\d\w*|[^\s\w]")
IDENTIFIER = re.compile(r"[^\W\d]\w*")

# Interpolation weights of trigram, bigram, unigram and other files' unigram
# counts, chosen on the held-out set (`nib eval --tune`); see README.
WEIGHTS = (1.0, 0.5, 0.1, 0.02)


def tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


@dataclass
class Counts:
    uni: Counter = field(default_factory=Counter)
    bi: Counter = field(default_factory=Counter)
    tri: Counter = field(default_factory=Counter)

    @classmethod
    def of(cls, toks: list[str]) -> "Counts":
        c = cls()
        c.uni.update(t for t in toks if IDENTIFIER.fullmatch(t))
        c.bi.update((a, b) for a, b in zip(toks, toks[1:]) if IDENTIFIER.fullmatch(b))
        c.tri.update((a, b, w) for a, b, w in zip(toks, toks[1:], toks[2:]) if IDENTIFIER.fullmatch(w))
        return c


class IdentifierCache:
    """Counts per document, recomputed when a document's text changes (memoised by text)."""

    def __init__(self, max_documents: int = 32):
        self.max_documents = max_documents
        self._docs: dict[str, tuple[int, Counts]] = {}  # key -> (hash of text, counts)

    def update(self, key: str, text: str) -> Counts:
        h = hash(text)
        found = self._docs.get(key)
        if found is None or found[0] != h:
            if found is None and len(self._docs) >= self.max_documents:
                self._docs.pop(next(iter(self._docs)))  # the oldest document opened
            found = (h, Counts.of(tokens(text)))
            self._docs[key] = found
        return found[1]

    def forget(self, key: str) -> None:
        self._docs.pop(key, None)

    def probabilities(self, key: str, before: str, after: str, context: list[str],
                      names: list[str]) -> dict[str, float]:
        """P(name | the two tokens before it) over `names`, from this document's text around
        the cursor (`before` and `after` it, without the fragment being typed) and the other
        documents. Names the cache has never seen get 0.

        Example: with "self.total = 0" above, probabilities(.., ["self", "."], ["total", "x"])
        -> {"total": 1.0, "x": 0.0}
        """
        own = self.update(key, before + "\n" + after)
        a, b = (["", ""] + context)[-2:]
        w3, w2, w1, w0 = WEIGHTS
        raw = {}
        for n in names:
            others = sum(c.uni[n] for k, (_, c) in self._docs.items() if k != key) if w0 else 0
            raw[n] = w3 * own.tri[(a, b, n)] + w2 * own.bi[(b, n)] + w1 * own.uni[n] + w0 * others
        total = sum(raw.values())
        return {n: (v / total if total else 0.0) for n, v in raw.items()}
