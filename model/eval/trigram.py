"""A trigram baseline over lexical tokens, trained on the corpus: the floor any model must clear."""

from __future__ import annotations

from nib.model.text.lexer import lex

from .measures import literal_kind


class TrigramPredictor:
    """A trigram over lexical tokens with stupid back-off, trained on the corpus."""

    name = "trigram"
    type_stream = False

    def __init__(self, texts):
        from collections import Counter, defaultdict

        self.tri: dict = defaultdict(Counter)
        self.bi: dict = defaultdict(Counter)
        self.uni: Counter = Counter()
        for text in texts:
            seq = ["<s>", "<s>"] + self.tokens(text)
            for a, b, c in zip(seq, seq[1:], seq[2:], strict=False):
                self.tri[a, b][c] += 1
                self.bi[b][c] += 1
                self.uni[c] += 1
        self.top_uni = [w for w, _ in self.uni.most_common(50)]

    @staticmethod
    def tokens(text: str) -> list[str]:
        """Lexical tokens, each with a leading space if one precedes it; newlines as "\\n"."""
        out, space = [], False
        data = text.encode("utf-8", "surrogatepass")
        for tok in lex(text, roles=False):
            if tok.type in ("WHITESPACE", "INDENT", "COMMENT"):
                space = True
                continue
            if tok.type == "EOL":
                out.append("\n")
                space = False
                continue
            out.append((" " if space else "") + data[tok.start : tok.end].decode("utf-8", "replace"))
            space = False
        return out

    def _next(self, a: str, b: str, k: int) -> list[str]:
        ranked: list[str] = []
        for counter in (self.tri.get((a, b)), self.bi.get(b)):
            if counter:
                for w, _ in counter.most_common(k + 5):
                    if w not in ranked:
                        ranked.append(w)
        for w in self.top_uni:
            if w not in ranked:
                ranked.append(w)
        return ranked[:k]

    def _context(self, prefix: str) -> tuple[str, str]:
        seq = ["<s>", "<s>"] + self.tokens(prefix)
        if prefix.endswith((" ", "\t")) and seq[-1] != "\n":
            seq.append(" ")  # a pending space: the next token carries it
        return seq[-2], seq[-1]

    def rank(self, text: str, cursor: int) -> list[str]:
        a, b = self._context(text[:cursor])
        if b == " ":
            b = a
        labels = []
        for w in self._next(a, b, 12):
            w = w.strip()
            if w and w not in labels:
                labels.append(w)
        return labels[:5]

    def line(self, text: str, cursor: int) -> tuple[str, float]:
        """The rest of the line, and no score (a trigram has no calibrated one): 0."""
        a, b = self._context(text[:cursor])
        out = []
        for _ in range(32):
            options = self._next(a, b, 1)
            if not options or options[0] == "\n":
                break
            out.append(options[0])
            a, b = b, options[0]
        return "".join(out).strip(), 0.0

    def token_accuracy(self, text: str) -> tuple[int, int]:
        seq = ["<s>", "<s>"] + self.tokens(text)
        correct = total = 0
        for a, b, c in zip(seq, seq[1:], seq[2:], strict=False):
            if c == "\n":
                continue
            total += 1
            guess = self._next(a, b, 1)
            g = guess[0] if guess else ""
            kind = literal_kind(c)
            correct += g.strip() == c.strip() or (kind is not None and literal_kind(g) == kind)
        return correct, total
