"""`nib eval`: completion quality on a folder of .py files, for models and a trigram.

Three measures, each over seeded points (CodeXGLUE; CodeFill):
- token accuracy: teacher-forced next lexical token; a lexical token counts when
  every BPE piece over it is the model's top-1. Literals are normalised as
  CodeXGLUE does (<STR_LIT>, <NUM_LIT>): any predicted literal of the right
  kind counts. Whitespace, newlines, indents and comments are not scored.
- identifier MRR@5 (and top-1) where an editor asks for a name: after `.`, in an
  import, at the start of a name in an expression. Rank = place of the gold name
  among the offered labels.
- line level: from a seeded cut at a lexical token boundary, predict the rest of
  the line; exact match (`pred.split() == gold.split()`) and edit similarity
  (rapidfuzz `fuzz.ratio`, 0-100, 0 when either side is empty).
- rest of the line at identifier starts (issue 13's measure, the cuts of
  pretrained-spike.md): cuts where a name starts, anywhere in a line; the same
  exact match, and the similarity of the part after the cursor only (the whole
  line's similarity flatters: the typed prefix alone scores about 63). With the
  statement's score (log-probability) at each cut, the curve of the share of
  cuts that would show ghost text against the exact match of what is shown, as
  a `minConfidence` threshold rises.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz

from nib.model.text.lexer import lex
from nib.model.text.lexeme import first_lexeme
from nib.model.progress import Progress

WINDOW = 512  # token accuracy runs files in windows of this many tokens, for every model alike
CHARS_PER_FILE = 4096  # and scores each file's start only (same text for every tokenizer): 30 min for all
TRIVIA = {"WHITESPACE", "EOL", "INDENT", "COMMENT", "ERRORTOKEN"}
NAMES = {"NAME", "ATTRIBUTE", "CALL", "KWARG", "IMPORT"}
_STRING_OPENERS = tuple(p + q for p in ("", "r", "b", "u", "f", "rb", "br", "R", "B", "F", "fr", "rf")
                        for q in ("'", '"'))


@dataclass
class Point:
    file: int
    offset: int  # character offset of the cut
    gold: str
    kind: str


def literal_kind(text: str) -> str | None:
    """STR or NUM if text (leading spaces ignored) starts a literal, else None."""
    body = text.lstrip()
    if body[:1].isdigit():
        return "NUM"
    if body.startswith(_STRING_OPENERS):
        return "STR"
    return None


def significant(text: str):
    """(type, start char, end char) of the non-trivia lexical tokens of text."""
    data = text.encode("utf-8", "surrogatepass")
    ascii_ = len(data) == len(text)
    out = []
    for tok in lex(text):
        if tok.type in TRIVIA:
            continue
        s, e = (tok.start, tok.end) if ascii_ else (len(data[:tok.start].decode("utf-8", "replace")),
                                                     len(data[:tok.end].decode("utf-8", "replace")))
        out.append((tok.type, s, e))
    return out


def identifier_points(texts: list[str], n: int, seed: int) -> list[Point]:
    points = []
    for f, text in enumerate(texts):
        toks = significant(text)
        for i, (type_, s, e) in enumerate(toks):
            if type_ not in NAMES:
                continue
            prev = text[toks[i - 1][1]:toks[i - 1][2]] if i else ""
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
            gold = text[s: end if end >= 0 else len(text)].strip()
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
            gold = text[s: end if end >= 0 else len(text)].strip()
            if gold:
                points.append(Point(f, s, gold, "identifier"))
    return _sample(points, n, seed + 2)


def confidence_curve(scores: list[float], exact: list[float], percents=(0, 1, 2, 5, 10, 15, 20, 30, 40, 50, 70)):
    """For each minConfidence (percent): the share of cuts that show ghost text (the statement's
    probability, exp(score), at least that) and the exact match among those shown.

    Example: confidence_curve([-0.1, -5], [1, 0], [10]) == [{"min_confidence": 10, "shown": 0.5, "exact_shown": 1.0}]
    """
    scores, exact = np.asarray(scores, dtype=float), np.asarray(exact, dtype=float)
    out = []
    for pct in percents:
        shown = scores >= (np.log(pct / 100) if pct > 0 else -np.inf)
        if pct == 0:
            shown = np.isfinite(scores)  # 0: every statement the model gives
        out.append({"min_confidence": pct, "shown": round(float(shown.mean()), 4) if len(scores) else 0.0,
                    "exact_shown": round(float(exact[shown].mean()), 4) if shown.any() else None})
    return out


def midtoken_points(texts: list[str], n: int, seed: int) -> list[tuple[Point, Point]]:
    """Pairs of cuts in the same token: inside it (kind: what it is) and at its start."""
    rng = random.Random(seed + 1)
    pairs = []
    for f, text in enumerate(texts):
        for type_, s, e in significant(text):
            if e - s < 2 or "\n" in text[s:e]:
                continue
            kind = ("identifier" if type_ in NAMES else "keyword" if type_ == "KEYWORD" else
                    "number" if type_ == "NUMBER" else "string" if type_ == "STRING" else "operator")
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


def evaluate_healing(predictor, texts, pairs) -> dict:
    """Line exact match / edit similarity from mid-token cuts per healing mode, beside boundary cuts;
    and the list's MRR@5 for the whole token at the mid-token cuts (not for an engine: no list)."""
    out = {}
    for mode in predictor.healing_modes:
        rows: dict[str, dict[str, list]] = {}
        latencies, list_latencies, list_rr = [], [], []
        bar = Progress(len(pairs), "cuts", f"healing {mode}")
        for mid, boundary in pairs:
            if predictor.lists:
                token = first_lexeme(boundary.gold)
                s = time.perf_counter()
                labels = predictor.rank(texts[mid.file], mid.offset, healing=mode)
                list_latencies.append((time.perf_counter() - s) * 1e3)
                gold = token[0].strip() if token else None
                list_rr.append(1.0 / (labels.index(gold) + 1) if gold in labels[:5] else 0.0)
            for name, p in (("mid", mid), ("boundary", boundary)):
                s = time.perf_counter()
                pred, _ = predictor.line(texts[p.file], p.offset, healing=mode)
                if name == "mid":
                    latencies.append((time.perf_counter() - s) * 1e3)
                r = rows.setdefault(p.kind, {}).setdefault(name, [])
                r.append((float(pred.split() == p.gold.split()), fuzz.ratio(pred, p.gold) if pred and p.gold else 0.0))
            bar.update()
        bar.close()

        def summary(items):
            return {"exact_match": round(float(np.mean([x[0] for x in items])), 4),
                    "edit_similarity": round(float(np.mean([x[1] for x in items])), 2), "n": len(items)}

        out[mode] = {
            "mid": summary([x for k in rows.values() for x in k["mid"]]),
            "boundary": summary([x for k in rows.values() for x in k["boundary"]]),
            "by_kind": {kind: {name: summary(v) for name, v in r.items()} for kind, r in sorted(rows.items())},
            "ms_p50": round(float(np.percentile(latencies, 50)), 2),
            "ms_p95": round(float(np.percentile(latencies, 95)), 2),
        }
        if list_rr:
            out[mode].update({
                "list_mrr5": round(float(np.mean(list_rr)), 4),
                "list_ms_p50": round(float(np.percentile(list_latencies, 50)), 2),
                "list_ms_p95": round(float(np.percentile(list_latencies, 95)), 2),
            })
    return out


def python_files(folder: Path) -> list[Path]:
    """The .py files under folder, in a fixed order (points are seeded over it)."""
    files = sorted(folder.rglob("*.py"))
    if not files:
        raise FileNotFoundError(f"no .py files under {folder}")
    return files


def _sample(points: list[Point], n: int, seed: int) -> list[Point]:
    rng = random.Random(seed)
    picked = rng.sample(points, min(n, len(points)))
    return sorted(picked, key=lambda p: (p.file, p.offset))  # in order, so prompt caches are reused


class ModelPredictor:
    lists = True  # ranks the list too
    scored = True  # statements come with their probability
    healing_modes = ("off", "prefix", "exact")

    def __init__(self, model_path, threads: int = 0, context_tokens: int | None = None):
        from nib.model.completion.engine import Engine

        self.engine = Engine.load(model_path, threads=threads)
        self.context = {"context_tokens": context_tokens} if context_tokens else {}
        self.name = str(model_path or "bundled")
        self.type_stream = self.engine.model_dir.type_stream

    def rank(self, text: str, cursor: int, healing: str = "exact") -> list[str]:
        from nib.model.completion.request import Options, Request

        options = Options(list_size=5, list_statement=False, healing=healing, **self.context)
        result = self.engine.complete(Request(text[:cursor], cursor, "list", options))
        return [c.label for c in result.candidates]

    def line(self, text: str, cursor: int, healing: str = "exact") -> tuple[str, float]:
        """The rest of the cursor's line the statement predicts, and the statement's score."""
        result = self.engine.complete(_line_request(text, cursor, healing, self.context))
        return _rest_of_line(text, cursor, result)

    def token_accuracy(self, text: str) -> tuple[int, int]:
        from nib.model.text.streams import INPUT_TYPE, token_types

        bpe, rt = self.engine.bpe, self.engine.runtime
        ids = bpe.encode(text)
        types = INPUT_TYPE[token_types(text, ids, bpe.token_bytes)].tolist()
        first = bpe.bos if bpe.bos is not None else bpe.eot
        ids, types = [first] + ids, [0] + types
        preds = np.empty(len(ids), dtype=np.int64)  # preds[j]: the model's guess for ids[j]
        preds[0] = -1
        block = min(rt.block_size, WINDOW)
        for lo in range(0, len(ids) - 1, block):
            chunk = slice(lo, min(lo + block, len(ids) - 1))
            keys, values = rt.empty()
            logits, _, _ = rt.forward(np.asarray([ids[chunk]]), np.asarray([types[chunk]]), keys, values)
            preds[chunk.start + 1: chunk.stop + 1] = logits[0].argmax(-1)
        return _score_tokens(text, ids[1:], preds[1:], bpe.token_bytes)


class EnginePredictor:
    """The statement from an engine over HTTP (`RemoteEngine`): lines only, no list, no logits."""

    lists = False
    scored = False
    healing_modes = ("off", "exact")  # exact: the engine's own constraint (engine.healing)

    def __init__(self, url: str, model: str = "", healing: str = "grammar", context_tokens: int | None = None):
        import asyncio

        from nib.model.completion.remote import EngineOptions, RemoteEngine

        self.engine = RemoteEngine(url, model)
        self.how = EngineOptions(timeout_ms=60_000, healing=healing)
        self.context = {"context_tokens": context_tokens} if context_tokens else {}
        self.name = f"engine {url}" + (f" ({model})" if model else "")
        self.type_stream = False
        self._runner = asyncio.Runner()  # one loop for every request: the engine's connection is reused

    def line(self, text: str, cursor: int, healing: str = "exact") -> tuple[str, float]:
        self.engine.shown.clear()  # each cut asks the engine (nothing typed through from the cut before)
        result = self._runner.run(self.engine.complete(_line_request(text, cursor, healing, self.context), self.how))
        return _rest_of_line(text, cursor, result)


def _line_request(text: str, cursor: int, healing: str, context: dict):
    """The statement at cursor with the text after it cut off: every statement, however unlikely
    (the curve of minConfidence is computed from the scores), up to 48 tokens, no time budget."""
    from nib.model.completion.request import Options, Request

    options = Options(statement_max_tokens=48, statement_budget_ms=10_000, healing=healing,
                      statement_min_confidence=0, **context)
    return Request(text[:cursor], cursor, "statement", options)


def _rest_of_line(text: str, cursor: int, result) -> tuple[str, float]:
    """What the statement adds after the cursor, on the cursor's line, and its score."""
    if not result.candidates:
        return "", -np.inf
    c = result.candidates[0]
    # The candidate replaces text[c.start:cursor]; what it adds after the cursor is the prediction.
    typed = text[c.start:cursor]
    rest = c.text[len(typed):] if c.text.startswith(typed) else c.text
    return rest.split("\n")[0], c.score


def _score_tokens(text: str, ids, preds, token_bytes) -> tuple[int, int]:
    """Lexical tokens whose every BPE piece was predicted (literals by kind)."""
    lengths = np.array([len(token_bytes[i]) for i in ids])
    ends = np.cumsum(lengths)
    starts = ends - lengths
    data = text.encode("utf-8", "surrogatepass")
    correct = total = 0
    for tok in lex(text, roles=False):
        if tok.type in TRIVIA:
            continue
        total += 1
        first = int(np.searchsorted(ends, tok.start, side="right"))
        last = int(np.searchsorted(starts, tok.end, side="left"))
        pieces = range(first, last)
        if tok.type in ("STRING", "NUMBER"):
            gold_kind = "STR" if tok.type == "STRING" else "NUM"
            guess = token_bytes[preds[first]].decode("utf-8", "ignore") if preds[first] >= 0 else ""
            own = data[starts[first]:tok.start].strip() == b""  # the piece begins with this literal
            if preds[first] == ids[first] or (own and literal_kind(guess) == gold_kind):
                correct += 1
            continue
        correct += all(preds[j] == ids[j] for j in pieces)
    return correct, total


def predict_lines(predictor, texts, points, bar) -> tuple[list, list, list, list]:
    """The rest of the line at each point: exact matches, edit similarities, the statements'
    scores (-inf where none) and latencies in ms."""
    em, es, scores, ms = [], [], [], []
    for p in points:
        s = time.perf_counter()
        pred, score = predictor.line(texts[p.file], p.offset)
        ms.append((time.perf_counter() - s) * 1e3)
        em.append(float(pred.split() == p.gold.split()))
        es.append(fuzz.ratio(pred, p.gold) if pred and p.gold else 0.0)
        scores.append(score if pred else -np.inf)
        bar.update()
    return em, es, scores, ms


def line_figures(predictor, texts, points, key: str) -> tuple[dict, list, list]:
    """`{key}_exact_match`, `_edit_similarity`, `_points`, `_ms_p50` and `_ms_p95` of the rest of
    the line at points; and the exact matches and scores behind them."""
    bar = Progress(len(points), "cuts", f"{key.replace('_', ' ')}s {predictor.name}")
    em, es, scores, ms = predict_lines(predictor, texts, points, bar)
    bar.close()
    return {f"{key}_exact_match": round(float(np.mean(em)), 4), f"{key}_edit_similarity": round(float(np.mean(es)), 2),
            f"{key}_points": len(points), f"{key}_ms_p50": round(float(np.percentile(ms, 50)), 1),
            f"{key}_ms_p95": round(float(np.percentile(ms, 95)), 1)}, em, scores


def evaluate_name_lines(predictor, texts, name_points) -> dict:
    """The rest of the line at identifier starts, its latency, and the minConfidence curve."""
    figures, em, scores = line_figures(predictor, texts, name_points, "name_line")
    return {"name": predictor.name, **figures,
            **({"confidence_curve": confidence_curve(scores, em)} if predictor.scored else {})}


def evaluate_one(predictor, texts, id_points, ln_points, name_points=()) -> dict:
    t0 = time.perf_counter()
    bar = Progress(len(texts) + len(id_points) + len(ln_points), "items", f"eval {predictor.name}")
    correct = total = 0
    for text in texts:
        c, t = predictor.token_accuracy(text[:CHARS_PER_FILE])
        correct, total = correct + c, total + t
        bar.update()
    by_kind: dict[str, list[float]] = {}
    top1: dict[str, list[float]] = {}
    latencies = []
    for p in id_points:
        s = time.perf_counter()
        labels = predictor.rank(texts[p.file], p.offset)
        latencies.append((time.perf_counter() - s) * 1e3)
        rr = 1.0 / (labels.index(p.gold) + 1) if p.gold in labels[:5] else 0.0
        by_kind.setdefault(p.kind, []).append(rr)
        top1.setdefault(p.kind, []).append(float(bool(labels) and labels[0] == p.gold))
        bar.update()
    em, es, _, _ = predict_lines(predictor, texts, ln_points, bar)
    bar.close()
    names = evaluate_name_lines(predictor, texts, name_points) if name_points else {}
    all_rr = [x for v in by_kind.values() for x in v]
    all_top1 = [x for v in top1.values() for x in v]
    return {
        "name": predictor.name,
        "type_stream": predictor.type_stream,
        "token_accuracy": round(correct / max(total, 1), 4),
        "tokens_scored": total,
        "identifier_mrr5": round(float(np.mean(all_rr)), 4),
        "identifier_top1": round(float(np.mean(all_top1)), 4),
        "identifier_mrr5_by_kind": {k: round(float(np.mean(v)), 4) for k, v in sorted(by_kind.items())},
        "identifier_points_by_kind": {k: len(v) for k, v in sorted(by_kind.items())},
        "line_exact_match": round(float(np.mean(em)), 4),
        "line_edit_similarity": round(float(np.mean(es)), 2),
        "line_points": len(ln_points),
        "list_latency_ms_p50": round(float(np.percentile(latencies, 50)), 2) if latencies else None,
        **names,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def evaluate_lines(predictor, texts, ln_points, name_points) -> dict:
    """The statement alone (an engine: no list, no logits): lines at token boundaries and at
    identifier starts, with latencies."""
    t0 = time.perf_counter()
    lines = line_figures(predictor, texts, ln_points, "line")[0]
    names = evaluate_name_lines(predictor, texts, name_points)
    return {**lines, **names, "seconds": round(time.perf_counter() - t0, 1)}


def run(folder: Path, models: list, trigram_corpus: Path | None, points: int, seed: int, threads: int,
        healing: bool = True, healing_only: bool = False, name_lines_only: bool = False,
        context_tokens: int | None = None, engines: tuple = ()) -> dict:
    """models: local model paths or names; engines: (url, model name, healing) of engines over HTTP."""
    files = python_files(folder)
    texts = [f.read_bytes().decode("utf-8", "replace") for f in files]
    id_points = identifier_points(texts, points, seed)
    ln_points = line_points(texts, points, seed)
    name_points = identifier_line_points(texts, points, seed)
    pairs = midtoken_points(texts, points, seed) if healing else []
    results = []
    predictors = [lambda m=m: ModelPredictor(m, threads, context_tokens) for m in models] + \
        [lambda e=e: EnginePredictor(*e, context_tokens=context_tokens) for e in engines]
    for make in predictors:
        predictor = make()
        if healing_only:
            result = {"name": predictor.name, "type_stream": predictor.type_stream}
        elif name_lines_only:
            result = evaluate_name_lines(predictor, texts, name_points)
        elif not predictor.lists:
            result = evaluate_lines(predictor, texts, ln_points, name_points)
        else:
            result = evaluate_one(predictor, texts, id_points, ln_points, name_points)
        if pairs:
            result["healing"] = evaluate_healing(predictor, texts, pairs)
        results.append(result)
    if trigram_corpus is not None:
        from nib.model.train import corpus

        from .trigram import TrigramPredictor

        results.append(evaluate_one(TrigramPredictor(t for _, t in corpus.load(trigram_corpus)),
                                    texts, id_points, ln_points))
    return {"dir": str(folder), "files": len(files), "seed": seed, "points": points, "results": results}


def table(report: dict) -> str:
    cols = ["name", "type_stream", "token_accuracy", "identifier_mrr5", "identifier_top1",
            "line_exact_match", "line_edit_similarity", "list_latency_ms_p50"]
    measured = [r for r in report["results"] if "token_accuracy" in r]
    rows = [cols] + [[str(r.get(c, "-")) for c in cols] for r in measured]
    widths = [max(len(row[i]) for row in rows) for i in range(len(cols))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    kinds = [f"{r['name']}: MRR@5 by kind {r['identifier_mrr5_by_kind']} (points {r['identifier_points_by_kind']})"
             for r in measured]
    curves = [f"{r['name']}: rest of the line at identifier starts: exact {r['name_line_exact_match']}, similarity "
              f"after the cursor {r['name_line_edit_similarity']} ({r['name_line_points']} cuts, p50 "
              f"{r['name_line_ms_p50']} ms)" + ("; minConfidence % -> share shown / exact match of those shown: " +
              ", ".join(f"{c['min_confidence']}: {c['shown']:.2f}/{c['exact_shown']}" for c in r["confidence_curve"])
              if "confidence_curve" in r else "") for r in report["results"] if "name_line_exact_match" in r]
    heal = []
    for r in report["results"]:
        if "healing" not in r:
            continue
        heal.append(f"\n{r['name']}: rest-of-line from cuts inside a token vs at its start")
        heal.append(f"{'healing':8} {'cut':9} {'kind':11} {'EM':>6} {'ES':>6} {'n':>4}")
        for mode, h in r["healing"].items():
            for cut in ("mid", "boundary"):
                heal.append(f"{mode:8} {cut:9} {'all':11} {h[cut]['exact_match']:>6.3f} "
                            f"{h[cut]['edit_similarity']:>6.1f} "
                            f"{h[cut]['n']:>4}")
            for kind, v in h["by_kind"].items():
                heal.append(f"{mode:8} {'mid':9} {kind:11} {v['mid']['exact_match']:>6.3f} "
                            f"{v['mid']['edit_similarity']:>6.1f} {v['mid']['n']:>4}")
            heal.append(f"{mode:8} latency of a mid-token statement: p50 {h['ms_p50']} ms, p95 {h['ms_p95']} ms")
            if "list_mrr5" in h:
                heal.append(f"{mode:8} list at mid-token cuts: MRR@5 {h['list_mrr5']:.3f} for the whole token, "
                            f"p50 {h['list_ms_p50']} ms, p95 {h['list_ms_p95']} ms")
    engines = [f"{r['name']}: lines at token boundaries: exact {r['line_exact_match']}, similarity "
               f"{r['line_edit_similarity']} ({r['line_points']} cuts, p50 {r['line_ms_p50']} ms, "
               f"p95 {r['line_ms_p95']} ms)"
               for r in report["results"] if "line_ms_p50" in r]
    return "\n".join((lines + [""] if measured else []) + kinds + engines + curves + heal)
