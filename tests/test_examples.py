"""Every `Example:` line in a docstring of server/ and model/ runs, and is true.

An example runs from `Example:` to the next blank line or the docstring's end, its lines joined
by spaces; it is one or more expressions separated by `;`, each evaluated in its module's
namespace. An example that needs a loaded model or a file is written as prose instead.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_EXAMPLE = re.compile(r"^Example:\s*(.*)$")


def module_name(path: Path) -> str:
    """model/runtime/__init__.py -> nib.model.runtime"""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["nib", *parts])


def docstrings(tree: ast.Module):
    """(first line, text) of the module's docstring and of every class and function docstring in it."""
    nodes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]
    for node in nodes:
        text = ast.get_docstring(node)
        if text is not None:
            yield node.body[0].lineno, text


def examples() -> list[tuple[str, str, str]]:
    """(module, "path:line", example) for every example, the line being the docstring's plus the example's."""
    found = []
    for path in sorted(p for top in ("server", "model") for p in (ROOT / top).rglob("*.py")):
        for first, text in docstrings(ast.parse(path.read_text(), str(path))):
            lines = text.splitlines()
            for i, line in enumerate(lines):
                m = _EXAMPLE.match(line.strip())
                if m is None:
                    continue
                body = [m.group(1)]
                for more in lines[i + 1 :]:
                    if not more.strip():
                        break
                    body.append(more.strip())
                found.append((module_name(path), f"{path.relative_to(ROOT)}:{first + i}", " ".join(body)))
    return found


EXAMPLES = examples()


def test_examples_are_found():
    assert len(EXAMPLES) >= 40


@pytest.mark.parametrize(("module", "example"), [(m, e) for m, _, e in EXAMPLES], ids=[w for _, w, _ in EXAMPLES])
def test_example_holds(module: str, example: str):
    statements = ast.parse(example, mode="exec").body
    assert statements and all(isinstance(s, ast.Expr) for s in statements), f"not expressions: {example}"
    namespace = dict(vars(importlib.import_module(module)))
    for s in statements:
        expression = ast.get_source_segment(example, s)
        assert eval(compile(ast.Expression(s.value), module, "eval"), namespace), expression
