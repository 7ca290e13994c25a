"""Where `nib eval` asks: seeded cuts in held-out files, each with the text that follows it (its gold).

Cuts fall at lexical tokens (`text/lexer.py`), trivia left out: at identifiers (where an
editor asks for a name: after `.`, in an import, at a name in an expression), at a
seeded token of each line, at the start of a name anywhere in a line, and inside a
token beside its start (healing). Sampled in file order, so that prompt caches are reused.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from nib.model.text.lexer import lex

TRIVIA = {"WHITESPACE", "EOL", "INDENT", "COMMENT", "ERRORTOKEN"}
NAMES = {"NAME", "ATTRIBUTE", "CALL", "KWARG", "IMPORT"}


@dataclass
class Point:
    file: int
    offset: int  # character offset of the cut
    gold: str
    kind: str


def python_files(folder: Path) -> list[Path]:
    """The .py files under folder, in a fixed order (points are seeded over it)."""
    files = sorted(folder.rglob("*.py"))
    if not files:
        raise FileNotFoundError(f"no .py files under {folder}")
    return files


def significant(text: str):
    """(type, start char, end char) of the non-trivia lexical tokens of text."""
    data = text.encode("utf-8", "surrogatepass")
    ascii_ = len(data) == len(text)
    out = []
    for tok in lex(text):
        if tok.type in TRIVIA:
            continue
        s, e = (
            (tok.start, tok.end)
            if ascii_
            else (len(data[: tok.start].decode("utf-8", "replace")), len(data[: tok.end].decode("utf-8", "replace")))
        )
        out.append((tok.type, s, e))
    return out


def identifier_points(texts: list[str], n: int, seed: int) -> list[Point]:
    points = []
    for f, text in enumerate(texts):
        toks = significant(text)
        for i, (type_, s, e) in enumerate(toks):
            if type_ not in NAMES:
                continue
            prev = text[toks[i - 1][1] : toks[i - 1][2]] if i else ""
            if prev == ".":
                kind = "attribute"
            elif type_ == "IMPORT" or prev in ("import", "from"):
                kind = "import"
            elif type_ == "KWARG":
                kind = "kwarg"
            else:
                kind = "name"
            points.append(Point(f, s, text[s:e], kind))
    return _sample(points, n, seed)


def line_points(texts: list[str], n: int, seed: int) -> list[Point]:
    rng = random.Random(seed)
    points = []
    for f, text in enumerate(texts):
        toks = significant(text)
        by_line: dict[int, list] = {}
        for type_, s, e in toks:
            if type_ == "STRING" and "\n" in text[s:e]:
                continue
            by_line.setdefault(text.count("\n", 0, s), []).append((s, e))
        for spans in by_line.values():
            if len(spans) < 2:
                continue
            s = spans[rng.randrange(1, len(spans))][0]
            end = text.find("\n", s)
            gold = text[s : end if end >= 0 else len(text)].strip()
            if gold and not gold.startswith("#"):
                points.append(Point(f, s, gold, "line"))
    return _sample(points, n, seed)


def identifier_line_points(texts: list[str], n: int, seed: int) -> list[Point]:
    """Cuts where a name starts; gold: the rest of its line."""
    points = []
    for f, text in enumerate(texts):
        for type_, s, _ in significant(text):
            if type_ not in NAMES:
                continue
            end = text.find("\n", s)
            gold = text[s : end if end >= 0 else len(text)].strip()
            if gold:
                points.append(Point(f, s, gold, "identifier"))
    return _sample(points, n, seed + 2)


def midtoken_points(texts: list[str], n: int, seed: int) -> list[tuple[Point, Point]]:
    """Pairs of cuts in the same token: inside it (kind: what it is) and at its start."""
    rng = random.Random(seed + 1)
    pairs = []
    for f, text in enumerate(texts):
        for type_, s, e in significant(text):
            if e - s < 2 or "\n" in text[s:e]:
                continue
            kind = (
                "identifier"
                if type_ in NAMES
                else "keyword"
                if type_ == "KEYWORD"
                else "number"
                if type_ == "NUMBER"
                else "string"
                if type_ == "STRING"
                else "operator"
            )
            end = text.find("\n", s)
            end = len(text) if end < 0 else end
            cut = rng.randrange(s + 1, e)
            pairs.append((Point(f, cut, text[cut:end].strip(), kind), Point(f, s, text[s:end].strip(), kind)))
    rng.shuffle(pairs)
    # an equal share of each kind, so operators and numbers are measured too
    by_kind: dict[str, list] = {}
    for pair in pairs:
        by_kind.setdefault(pair[0].kind, []).append(pair)
    share = max(1, n // max(len(by_kind), 1))
    picked = [p for kind in sorted(by_kind) for p in by_kind[kind][:share]]
    return sorted(picked, key=lambda pair: (pair[0].file, pair[0].offset))


def _sample(points: list[Point], n: int, seed: int) -> list[Point]:
    rng = random.Random(seed)
    picked = rng.sample(points, min(n, len(points)))
    return sorted(picked, key=lambda p: (p.file, p.offset))  # in order, so prompt caches are reused
