"""`nib eval --repo`: the rest of the line at identifier starts with and without project context.

Each package of a split is a workspace (`<split>/<package>-<version>/`); the file being
completed is the buffer, holding only the text before the cut, and the other files are read from
disk as the server reads them (`service/project.py`: the imports' definitions as stubs). The cuts
are the name-line cuts of `nib eval` (the same seed gives the same cuts). The cross-file subset:
cuts whose rest of the line uses a name another module of the package defines (at its top level
or in a class) and the file itself does not, the names project context is for.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import time
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz

from nib.model.progress import Progress
from nib.model.service.project import CHARS_PER_TOKEN, ProjectContext
from nib.model.text.stubs import defined

from .points import identifier_line_points, python_files
from .predictors import ModelPredictor
from .quality import line_summary, paired

_NAME = re.compile(r"[A-Za-z_]\w*")
COMMON_NAMES = set(dir(builtins)) | set(keyword.kwlist)


def run(
    folder: Path,
    models: list,
    points: int,
    seed: int,
    threads: int,
    budgets: list[int],
    layouts=("repo",),
    similar=(True,),
) -> dict:
    """Each model at each project-context budget (0: without) in each layout (`prompt.project_tokens`),
    with and without the similar window (`service/similar.py`) as asked, on the same cuts."""
    files, texts, roots, cuts, crossing = split_cuts(folder, points, seed)
    results = []
    for model in models:
        predictor = ModelPredictor(model, threads)
        try:
            runs = [
                (b, lay, sim)
                for b in budgets
                for lay in (layouts if b else layouts[:1])
                for sim in (similar if b else (False,))
            ]
            for budget, layout, sim in runs:
                predictor.engine.project_layout = layout
                results.append(_measure(predictor, files, texts, roots, cuts, crossing, budget, sim))
        finally:
            predictor.close()
    report = {
        "dir": str(folder),
        "files": len(files),
        "seed": seed,
        "points": len(cuts),
        "cross_file_points": int(sum(crossing)),
        "results": results,
    }
    report["paired"] = paired(results) if len(results) > 1 else []
    report["paired_cross_file"] = paired([r["cross_file"] for r in results]) if len(results) > 1 else []
    return report


def split_cuts(folder: Path, points: int, seed: int):
    """A split's Python files, their texts, each one's package folder (its workspace), the name-line
    cuts, and whether each is cross-file."""
    files = python_files(folder)
    texts = [f.read_bytes().decode("utf-8", "replace") for f in files]
    roots = [folder / f.relative_to(folder).parts[0] for f in files]
    cuts = identifier_line_points(texts, points, seed)
    return files, texts, roots, cuts, cross_file(files, texts, roots, cuts)


def cross_file(files: list[Path], texts: list[str], roots: list[Path], cuts) -> list[bool]:
    """Whether each cut's rest of the line uses a name defined in another module of its package only."""
    names_of = {f: defined_names(t) for f, t in zip(files, texts, strict=True)}
    out = []
    for cut in cuts:
        file, root = files[cut.file], roots[cut.file]
        others = set().union(*(n for f, n in names_of.items() if f != file and f.is_relative_to(root)))
        used = set(_NAME.findall(cut.gold)) - COMMON_NAMES
        out.append(bool(used & (others - names_of[file])))
    return out


def defined_names(source: str) -> set[str]:
    """The names a module defines at its top level and in its classes (dunders left out)."""
    names = set(defined(source))
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return names
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.update(
                n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            )
    return {n for n in names if not n.startswith("__")}


def _measure(predictor: ModelPredictor, files, texts, roots, cuts, crossing, budget: int, similar: bool) -> dict:
    contexts: dict[Path, ProjectContext] = {}
    name = f"{predictor.name} project={budget}" + (f" {predictor.engine.project_layout}" if budget else "")
    name += " similar" if budget and similar else ""
    bar = Progress(len(cuts), "cuts", name)
    em, es, ms, blocks = [], [], [], []
    for cut in cuts:
        text, path = texts[cut.file], files[cut.file]
        block = None
        if budget:
            context = contexts.setdefault(roots[cut.file], ProjectContext([str(roots[cut.file])], similar=similar))
            found = context.block(str(path), text[: cut.offset], cut.offset, budget * CHARS_PER_TOKEN, recent=False)
            block = found.project
        started = time.perf_counter()
        pred, _ = predictor.line(text, cut.offset, project=block, project_tokens=budget)
        ms.append((time.perf_counter() - started) * 1e3)
        em.append(float(pred.split() == cut.gold.split()))
        es.append(fuzz.ratio(pred, cut.gold) if pred and cut.gold else 0.0)
        blocks.append(block is not None)
        bar.update()
    bar.close()
    subset = [i for i, c in enumerate(crossing) if c]
    return {
        "name": name,
        "project_tokens": budget,
        **line_summary("name_line", em, es),
        "name_line_points": len(cuts),
        "name_line_ms_p50": round(float(np.percentile(ms, 50)), 1),
        "name_line_ms_p95": round(float(np.percentile(ms, 95)), 1),
        "cuts_with_context": int(sum(blocks)),
        "cross_file": {
            "name": name,
            **line_summary("name_line", [em[i] for i in subset], [es[i] for i in subset]),
            "name_line_points": len(subset),
        },
    }


def table(report: dict) -> str:
    """One line per run: overall and on the cross-file subset, then the paired differences."""
    lines = [
        f"{report['points']} identifier-start cuts in {report['files']} files, "
        f"{report['cross_file_points']} of them cross-file"
    ]
    for r in report["results"]:
        c = r["cross_file"]
        lines.append(
            f"{r['name']}: exact {r['name_line_exact_match']} {r['name_line_exact_match_ci95']}, similarity "
            f"{r['name_line_edit_similarity']}; cross-file exact {c['name_line_exact_match']} "
            f"{c['name_line_exact_match_ci95']} ({c['name_line_points']} cuts); context at "
            f"{r['cuts_with_context']} cuts; p50 {r['name_line_ms_p50']} ms"
        )
    for label, pairs in (("all", report["paired"]), ("cross-file", report["paired_cross_file"])):
        for p in pairs:
            lines.append(
                f"{label}: {p['name']} minus {p['against']}: exact {p['exact_match_diff']:+} "
                f"{p['exact_match_diff_ci95']}, similarity {p['edit_similarity_diff']:+} ({p['points']} cuts)"
            )
    return "\n".join(lines)
