"""Imports go one way, files and functions stay short: checked over the AST of server/ and model/.

A package is `server`, `model/<sub>` for a subpackage (its subfolders included: runtime's
families are runtime) or `model/<module>` for a top-level module. Serving code is layered,
bottom to top:

    errors, progress -> text -> net -> runtime -> completion -> listing -> service -> server

and imports only its own layer or those below. Training, evaluation and conversion (train,
eval, pretrained, sources) may import serving code; no serving module imports them. Nothing
in model/ imports the server. server/cli.py, the command line, is the one module that may
name every part. Every import counts, a function's own included.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP = ("server", "model")
LAYERS = {
    "model/errors": 0,
    "model/progress": 0,
    "model/text": 1,
    "model/net": 2,
    "model/runtime": 3,
    "model/completion": 4,
    "model/listing": 5,
    "model/service": 6,
    "server": 7,
}
OFFLINE = {"model/train", "model/eval", "model/pretrained", "model/sources"}  # training, evaluation, conversion
DATA = {"model", "model/weights"}  # a docstring, the bundled model's files: they import nothing
ANYTHING = "nib.server.cli"
MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 60


def files() -> list[Path]:
    return sorted(p for top in TOP for p in (ROOT / top).rglob("*.py"))


def module_name(path: Path) -> str:
    """Example: model/runtime/__init__.py -> nib.model.runtime; server/cli.py -> nib.server.cli"""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["nib", *parts])


def package(module: str) -> str:
    """Example: nib.model.runtime.families.gemma3 -> model/runtime; nib.model.sources -> model/sources"""
    parts = module.split(".")[1:]
    return "server" if parts[0] == "server" else "/".join(parts[:2])


MODULES = {module_name(p): p for p in files()}


def imported(module: str, path: Path) -> list[tuple[str, int]]:
    """(module imported, line) for each import in the file, relative ones resolved; `from p import m`
    names the module p.m when there is one."""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parent = (
                ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
                if node.level
                else node.module
            )
            for alias in node.names:
                child = f"{parent}.{alias.name}"
                out.append((child if child in MODULES else parent, node.lineno))
    return [(name, line) for name, line in out if name.split(".")[:2] in (["nib", "server"], ["nib", "model"])]


def edges() -> list[tuple[str, str, str]]:
    """(importing package, imported package, where: "file:line module") for imports across packages."""
    out = set()
    for module, path in MODULES.items():
        for target, line in imported(module, path):
            if package(target) != package(module):
                out.add((package(module), package(target), f"{path.relative_to(ROOT)}:{line} {target}"))
    return sorted(out)


def kinds() -> set[str]:
    return set(LAYERS) | OFFLINE | DATA


def test_every_package_has_its_place():
    unplaced = sorted({package(m) for m in MODULES} - kinds())
    assert not unplaced, f"packages that are neither a serving layer nor training/eval/conversion: {unplaced}"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan).

    Example: cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) -> [["a", "b"]]
    """
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def test_cycles_finds_each_loop():
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_cycle_between_packages():
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst, _ in edges():
        graph[src].add(dst)
    found = cycles(graph)
    through: dict[tuple[str, str], list[str]] = defaultdict(list)
    for src, dst, where in edges():
        if any(src in c and dst in c for c in found):
            through[src, dst].append(where)
    evidence = [
        f"{src} -> {dst}: {w[0]}" + (f" (and {len(w) - 1} more)" if len(w) > 1 else "")
        for (src, dst), w in sorted(through.items())
    ]
    assert not found, f"import cycles {found}, through:\n" + "\n".join(evidence)


def test_serving_code_never_imports_training_evaluation_or_conversion():
    bad = [
        where
        for src, dst, where in edges()
        if src in LAYERS and dst in OFFLINE and not where.startswith("server/cli.py:")
    ]
    assert not bad, "serving code importing train, eval, pretrained or sources:\n" + "\n".join(sorted(bad))


def test_serving_layers_import_only_downward():
    bad = [
        f"{where} ({src} -> {dst})"
        for src, dst, where in edges()
        if src in LAYERS and dst in LAYERS and LAYERS[dst] > LAYERS[src]
    ]
    assert not bad, "upward imports between serving layers:\n" + "\n".join(sorted(bad))


def test_the_model_never_imports_the_server():
    bad = [where for src, dst, where in edges() if src != "server" and dst == "server"]
    assert not bad, "model/ importing server/:\n" + "\n".join(sorted(bad))


def test_files_are_at_most_400_lines():
    long = [f"{p.relative_to(ROOT)}: {n}" for p in files() if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES]
    assert not long, f"files over {MAX_FILE_LINES} lines:\n" + "\n".join(long)


def test_functions_are_at_most_60_lines():
    long = []
    for path in files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {n}")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)
