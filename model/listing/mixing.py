"""Mixing the model's scores with the identifier n-gram and jedi's own order (IntelliCode-style)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from nib.model.completion.result import Candidate


@dataclass(frozen=True)
class Weights:
    """Mixture weights of the model, the identifier n-gram and jedi's order."""

    model: float = 0.6
    identifiers: float = 0.3
    jedi: float = 0.1


# By position (text.lexeme.position_kind) and whether part of the name is typed: tuned on
# the held-out dev split by `nib eval test --ranking --write-weights`, which writes this file.
WEIGHTS_FILE = Path(__file__).with_name("weights.json")


def key_name(position: tuple[str, bool]) -> str:
    """("attribute", True) -> "attribute, typed": the key in weights.json."""
    return f"{position[0]}, typed" if position[1] else position[0]


def load_weights(path: Path = WEIGHTS_FILE) -> dict[tuple[str, bool], Weights]:
    tuned = json.loads(path.read_text())["weights"]
    return {
        (kind, typed): Weights(**tuned[key_name((kind, typed))])
        for kind in ("attribute", "import", "kwarg", "name")
        for typed in (False, True)
    }


def save_weights(weights: dict[str, dict], about: dict, path: Path = WEIGHTS_FILE) -> None:
    """weights as `nib eval --ranking` reports them ({"name, typed": {"model": ...}}), and how they were
    tuned; the corrections fitted on top of them (`corrections.py`) are kept."""
    kept = {k: v for k, v in json.loads(path.read_text()).items() if k == "corrections"} if path.exists() else {}
    path.write_text(json.dumps({**about, "weights": weights, **kept}, indent=2) + "\n")


WEIGHTS = load_weights()


def mix(
    model: dict[str, float], identifiers: dict[str, float], jedi_order: list[str], weights: Weights = Weights()
) -> list[tuple[str, float]]:
    """Names ranked by  w_m P_model + w_i P_identifiers + w_j P_jedi,  best first.

    model: log-probabilities (normalised here over the names); identifiers: the
    n-gram's probabilities; jedi_order: jedi's order, read as a prior 1/(rank + 1).
    """
    names = list(dict.fromkeys([*model, *jedi_order]))
    if not names:
        return []
    m = np.array([model.get(n, -np.inf) for n in names])
    pm = np.exp(m - m.max()) if np.isfinite(m.max()) else np.zeros(len(names))
    pm = pm / pm.sum() if pm.sum() else pm
    pi = np.array([identifiers.get(n, 0.0) for n in names])
    rank = {n: r for r, n in enumerate(jedi_order)}
    pj = np.array([1.0 / (rank[n] + 1) if n in rank else 0.0 for n in names])
    pj = pj / pj.sum() if pj.sum() else pj
    p = weights.model * pm + weights.identifiers * pi + weights.jedi * pj
    order = np.argsort(-p, kind="stable")
    return [(names[i], float(np.log(p[i])) if p[i] > 0 else -np.inf) for i in order]


def combine(
    items: list[Candidate], identifiers: dict[str, float], jedi_order: list[str], weights: Weights
) -> list[Candidate]:
    """One candidate per label (a scored jedi name over the same free lexeme), mixed and sorted."""
    best: dict[str, Candidate] = {}
    for c in items:
        if c.label not in best or (c.kind == "name" and best[c.label].kind != "name"):
            best[c.label] = c
    order = [n for n in jedi_order if n in best]
    return [
        replace(best[label], score=score)
        for label, score in mix({k: c.score for k, c in best.items()}, identifiers, order, weights)
    ]
