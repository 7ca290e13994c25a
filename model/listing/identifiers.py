"""An n-gram over the identifiers of the current file and the other open files (a "cache model").

Most identifiers a programmer types already appear nearby (Hellendoorn and
Devanbu, FSE 2017): `self.` in this file is followed by this file's
attributes. The n-gram counts lexical tokens of each open document and gives a
probability to each candidate name from the two tokens before the cursor,
interpolating trigram, bigram and unigram counts; other open files add their
unigram counts at a lower weight.
"""

from __future__ import annotations

import keyword
import re
import threading
from collections import Counter
from dataclasses import dataclass, field

from nib.model.text.lexeme import typed_name
from nib.model.text.prose import without_prose
from nib.model.text.scopes import class_span

# Lexical tokens for counting: identifiers, numbers, single punctuation. A
# regex, not the full lexer: this runs on every edit of large files.
_TOKENS = re.compile(r"[^\W\d]\w*|\d\w*|[^\s\w]")
IDENTIFIER = re.compile(r"[^\W\d]\w*")
# `os.path.` before the cursor: the names in it (a call's or a subscript's result, `f().`, is none)
_RECEIVER = re.compile(r"(?<![\w.)\]])((?:[^\W\d]\w*[ \t]*\.[ \t]*)+)$")
RECEIVER_CHARS = 200  # of the line before the name read for it at most: a long word is not scanned whole

# Interpolation weights of trigram, bigram, unigram and other files' unigram
# counts, set by hand (each order 2-10x the next); how much the n-gram counts
# against the model is tuned, in mixing.WEIGHTS.
WEIGHTS = (1.0, 0.5, 0.1, 0.02)

# Characters counted above and below the cursor's line: nearby code is what
# the n-gram is for, and counting is O(window) each time the cursor changes line
# (about 12 ms for 47k characters here).
ABOVE, BELOW = 60_000, 20_000
# How far above the cursor's line `names` reads to tell code from prose (about 15 ms here):
# from the file's start in all but the largest files (see `_code_names`).
SCANNED = 250_000


def tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


@dataclass
class Counts:
    uni: Counter = field(default_factory=Counter)
    bi: Counter = field(default_factory=Counter)
    tri: Counter = field(default_factory=Counter)

    @classmethod
    def of(cls, toks: list[str]) -> Counts:
        c = cls()
        c.uni.update(t for t in toks if IDENTIFIER.fullmatch(t))
        c.bi.update((a, b) for a, b in zip(toks, toks[1:], strict=False) if IDENTIFIER.fullmatch(b))
        c.tri.update((a, b, w) for a, b, w in zip(toks, toks[1:], toks[2:], strict=False) if IDENTIFIER.fullmatch(w))
        return c


class IdentifierNgram:
    """Counts per document, recounted when the text around the cursor's line changes.

    Used at once by the event loop and the inference threads (the list's and the statement's),
    so the table is copy-on-write: a writer builds a new dict under the lock and publishes it
    whole, and a reader takes `self._docs` once and iterates it with no lock. Counts are never
    changed once made.
    """

    def __init__(self, max_documents: int = 32):
        self.max_documents = max_documents
        # key -> (hash of text, counts), least recently used first; replaced, never changed in place
        self._docs: dict[str, tuple[int, Counts]] = {}
        self._lock = threading.Lock()  # one writer at a time
        self._code: tuple[str, int, frozenset[str]] = ("", 0, frozenset())  # names()'s last (key, hash, names)

    def around(self, key: str, text: str, cursor: int | None) -> Counts:
        """The counts of key's document around the cursor's line (not the line itself, which
        is being typed: counting it would let the fragment predict itself); cursor None: the
        start of the document, all of its first line included."""
        return self._counts(key, _window(text, cursor))

    def _counts(self, key: str, window: str) -> Counts:
        h = hash(window)
        found = self._docs.get(key)
        if found is None or found[0] != h:
            found = (h, Counts.of(tokens(window)))  # outside the lock: ~12 ms for a large file
        with self._lock:
            docs = self._docs
            if next(reversed(docs), None) != key or docs[key] is not found:
                docs = {k: v for k, v in docs.items() if k != key}
                while len(docs) >= self.max_documents:
                    docs.pop(next(iter(docs)))  # the least recently used
                docs[key] = found  # most recently used last
                self._docs = docs
        return found[1]

    def forget(self, key: str) -> None:
        with self._lock:
            if key in self._docs:
                self._docs = {k: v for k, v in self._docs.items() if k != key}

    def names(self, key: str, text: str, cursor: int, typed: str, limit: int) -> list[str]:
        """The document's names around the cursor that begin with typed (typed whole too, where the lines
        around use it), the most counted first, at most limit.

        Names that appear only in comments and docstrings are prose's, not offered.

        Example: IdentifierNgram().names("a", "tool = 1\\ntool_name = tool  # the tool\\nt", 39, "t", 5) == ["tool", "tool_name"]
        """
        window = _window(text, cursor)
        uni = self._counts(key, window).uni
        code = self._code_names(key, window, text, cursor)
        found = [n for n in uni if n.startswith(typed) and n in code and not keyword.iskeyword(n)]
        return sorted(found, key=lambda n: -uni[n])[:limit]

    def attributes(self, key: str, text: str, cursor: int, typed: str) -> list[str]:
        """After `os.path.`: the names that follow the same `os.path.` in the document's code around the
        cursor and begin with typed, the most used first; after `self.` or `cls.`, only in the class
        that holds the cursor (a class nested in it too: not told apart). [] elsewhere. What the file
        itself shows the object has, for a list that jedi has not answered: evidence, not a guess,
        though a name may hold another object elsewhere.

        Example: IdentifierNgram().attributes("a", "x.path.join()\\nos.path.join()\\nos.path.j", 38, "j") == ["join"]
        """
        line_start = text.rfind("\n", 0, cursor) + 1
        before = text[max(line_start, cursor - len(typed) - RECEIVER_CHARS) : cursor - len(typed)]
        receiver = _RECEIVER.search(before) if typed_name(text, line_start, cursor) == typed else None
        if receiver is None:
            return []
        parts = IDENTIFIER.findall(receiver.group(1))
        window = around = _window(text, cursor)
        if parts[0] in ("self", "cls"):  # another class's `self.` is another object
            span = class_span(text, cursor)
            if span is None:
                return []
            line_end = text.find("\n", cursor)
            window = text[span[0] : line_start] + "\n" + (text[line_end : span[1]] if 0 <= line_end < span[1] else "")
        chain = r"[ \t]*\.[ \t]*".join(map(re.escape, parts))
        used = Counter(re.findall(rf"(?<![\w.]){chain}[ \t]*\.[ \t]*([^\W\d]\w*)", window))
        code = self._code_names(key, around, text, cursor)
        return [n for n, _ in used.most_common() if n.startswith(typed) and n in code and not keyword.iskeyword(n)]

    def _code_names(self, key: str, window: str, text: str, cursor: int) -> frozenset[str]:
        """The identifiers outside comments and docstrings (their words are prose) of the text from
        SCANNED above the cursor's line to BELOW after it, the line itself included, kept for the
        last window asked (the text around a line stays as the name is typed).

        The scan starts at the file's start wherever it can: from a window's start, which may lie
        inside a docstring, its closing quotes would be taken for an opening and prose for code."""
        h = hash(window)
        last = self._code
        if last[:2] != (key, h):
            line_start, line_end = text.rfind("\n", 0, cursor) + 1, text.find("\n", cursor)
            scanned = text[max(0, line_start - SCANNED) : len(text) if line_end < 0 else line_end + BELOW]
            last = (key, h, frozenset(IDENTIFIER.findall(without_prose(scanned))))
            self._code = last  # one tuple, replaced whole: a reader on another thread sees the old or the new
        return last[2]

    def probabilities(
        self, key: str, text: str, cursor: int, context: list[str], names: list[str] | None = None
    ) -> dict[str, float]:
        """P(name | the two tokens before it) over `names` (None: every identifier the
        document has around the cursor), from key's document and, at a lower weight, the
        other documents. Names the n-gram has never seen get 0.

        Example: IdentifierNgram().probabilities("a", "self.total = 0\\nself.", 20, ["self", "."], ["total", "x"])
                 == {"total": 1.0, "x": 0.0}
        """
        w3, w2, w1, w0 = WEIGHTS
        own = self.around(key, text, cursor)
        others = [c for k, (_, c) in self._docs.items() if k != key]  # one table, read once: see the class
        if names is None:
            names = list(own.uni)
        a, b = (["", ""] + context)[-2:]
        raw = {}
        for n in names:
            raw[n] = (
                w3 * own.tri[(a, b, n)] + w2 * own.bi[(b, n)] + w1 * own.uni[n] + w0 * sum(c.uni[n] for c in others)
            )
        total = sum(raw.values())
        return {n: (v / total if total else 0.0) for n, v in raw.items()}


def _window(text: str, cursor: int | None) -> str:
    """The text counted for cursor: around its line, not the line itself (`around`)."""
    if cursor is None:
        return text[: ABOVE + BELOW]
    line_start = text.rfind("\n", 0, cursor) + 1
    line_end = text.find("\n", cursor)
    return (
        text[max(0, line_start - ABOVE) : line_start]
        + "\n"
        + (text[line_end : line_end + BELOW] if line_end >= 0 else "")
    )
