"""What a module defines, as the model's own language: Python stubs of signatures and docstrings.

A prompt that shows `class Ledger:` with `def reconcile(self, tolerance_cents: int) -> bool: ...`
lets a small model write `ledger.reconcile(tolerance_cents=` that it could not guess. The stubs
are read from source with `ast` (nothing is imported or run), bodies dropped, the first line of
each docstring kept. `imports` finds what a file being edited imports: line by line, so a file
that does not parse (it is being typed) still gives its imports.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Set
from dataclasses import dataclass, field

DOC_CHARS = 100  # a docstring's first line, cut here
VALUE_CHARS = 60  # a constant's value, cut here: a long literal (data) says little
IMPORT_LINES = 500  # a parenthesised import's lines read at most (an unclosed one: not the rest of the file)


@dataclass(frozen=True)
class Import:
    module: str  # "pkg.models" ("" for `from . import x`)
    level: int  # leading dots of a relative import
    name: str  # the imported name ("" for `import pkg.models`)
    bound: str  # the name it is bound to in the file


def imports(text: str) -> list[Import]:
    """The imports of text (a file being edited: may not parse as a whole), at the top level or
    indented (under `if TYPE_CHECKING:`, in a `try`, in a function).

    Example: imports("import os.path as p\\nfrom .models import User, Admin as A\\n") ==
             [Import("os.path", 0, "", "p"), Import("models", 1, "User", "User"), Import("models", 1, "Admin", "A")]
    """
    found: list[Import] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i].lstrip()
        i += 1
        if not line.startswith(("import ", "from ")):
            continue
        parts, depth = [line], line.count("(") - line.count(")")
        while depth > 0 and i < len(lines) and len(parts) < IMPORT_LINES:  # a parenthesised list
            parts.append(lines[i])
            depth += lines[i].count("(") - lines[i].count(")")
            i += 1
        statement = "\n".join(parts)
        try:
            node = ast.parse(statement.rstrip("\\")).body[0]
        except (SyntaxError, IndexError, ValueError, RecursionError, MemoryError):
            continue
        found.extend(_imports(node))
    return found


def _imports(node) -> list[Import]:
    if isinstance(node, ast.Import):
        return [Import(a.name, 0, "", a.asname or a.name.split(".")[0]) for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [Import(node.module or "", node.level, a.name, a.asname or a.name) for a in node.names if a.name != "*"]
    return []


@dataclass(frozen=True)
class Module:
    """What a module defines: each top-level name's stub, in source order, what each function's
    return annotation names (what a call of it gives: one hop to that class), the type names of
    each class's attributes (`x: T` in its body, `self.x: T`, `self.x = T(...)` or `self.x = x`
    for a parameter `x: T`) and the module's imports (where those types come from)."""

    stubs: dict[str, str]
    returns: dict[str, frozenset[str]]
    attributes: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    imports: tuple[Import, ...] = ()


def module(source: str) -> Module:
    """source read once (an empty Module when it does not parse).

    Example: module("def load() -> 'Config': ...\\nclass Config: ...").returns == {"load": frozenset({"Config"})}
    """
    try:
        return _module(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # a hostile file (deep nesting): nothing of it
        return Module({}, {})


def _module(tree: ast.Module) -> Module:
    found: dict[str, str] = {}
    returns: dict[str, frozenset[str]] = {}
    attributes: dict[str, dict[str, frozenset[str]]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            found[node.name] = "\n".join(_class(node))
            attributes[node.name] = _attributes(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found[node.name] = "\n".join(_function(node, ""))
            returns[node.name] = _named(node.returns)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            line = _constant(node, None)
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if line and isinstance(target, ast.Name) and target.id not in found:  # not a class redecorated
                    found[target.id] = line[0]
    imported = tuple(i for node in ast.walk(tree) for i in _imports(node))
    return Module(found, returns, attributes, imported)


def _attributes(node: ast.ClassDef) -> dict[str, frozenset[str]]:
    """The type names of a class's attributes, as its body and its methods' assignments to `self` say."""
    found: dict[str, set[str]] = {}
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            found.setdefault(item.target.id, set()).update(_named(item.annotation))
    for method in (m for m in node.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)):
        arguments = [*method.args.posonlyargs, *method.args.args, *method.args.kwonlyargs]
        parameters = {a.arg: _named(a.annotation) for a in arguments if a.annotation is not None}
        for statement in ast.walk(method):
            targets = [statement.target] if isinstance(statement, ast.AnnAssign) else getattr(statement, "targets", [])
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    found.setdefault(target.attr, set()).update(_assigned(statement, parameters))
    return {name: frozenset(kinds) for name, kinds in found.items() if kinds}


def _assigned(item, parameters: dict[str, frozenset[str]]) -> frozenset[str]:
    """The type names an assignment to an attribute gives it: its annotation, the class it
    constructs, or a parameter's annotation."""
    if isinstance(item, ast.AnnAssign):
        return _named(item.annotation)
    value = item.value if isinstance(item, ast.Assign) else None
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id[:1].isupper():
        return frozenset({value.func.id})
    return parameters.get(value.id, frozenset()) if isinstance(value, ast.Name) else frozenset()


def stubs(source: str, names: Set[str] | None = None) -> str:
    """The stubs of source's top-level classes, functions and constants (those in names; None: all).
    "" when source does not parse.

    Example: stubs("def f(a, b=1):\\n    return a + b\\nX = 2\\n") == "def f(a, b=1): ...\\nX = 2"
    """
    return "\n".join(stub for name, stub in module(source).stubs.items() if names is None or name in names)


def defined(source: str) -> dict[str, str]:
    """The top-level names source defines and what each is: class, function or constant.

    Example: defined("class A: pass\\ndef f(): pass\\nX = 1\\n") == {"A": "class", "f": "function", "X": "constant"}
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # a hostile file: nothing of it
        return {}
    kinds: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            kinds[node.name] = "class"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            kinds[node.name] = "function"
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    kinds[target.id] = "constant"
    return kinds


def _named(annotation) -> frozenset[str]:
    """The identifiers of an annotation (a string one read as its text), a dotted one's last part."""
    if annotation is None:
        return frozenset()
    text = annotation.value if isinstance(annotation, ast.Constant) else ast.unparse(annotation)
    last = (part.rsplit(".", 1)[-1] for part in re.split(r"[^\w.]+", str(text)))
    return frozenset(part for part in last if part.isidentifier())


def _function(node, indent: str) -> list[str]:
    lines = [f"{indent}@{ast.unparse(d)}" for d in node.decorator_list]
    keyword = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    header = f"{indent}{keyword} {node.name}({ast.unparse(node.args)}){returns}:"
    doc = _doc(node)
    return [*lines, f'{header}\n{indent}    """{doc}"""' if doc else f"{header} ..."]


def _class(node: ast.ClassDef) -> list[str]:
    lines = [f"@{ast.unparse(d)}" for d in node.decorator_list]
    bases = ", ".join(ast.unparse(b) for b in [*node.bases, *node.keywords])
    lines.append(f"class {node.name}({bases}):" if bases else f"class {node.name}:")
    doc = _doc(node)
    body = [f'    """{doc}"""'] if doc else []
    for item in node.body:
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            if not item.name.startswith("_") or item.name.endswith("__"):  # public, __init__ and dunders
                body.extend(_function(item, "    "))
        elif isinstance(item, ast.AnnAssign | ast.Assign):
            body.extend("    " + line for line in _constant(item, None))
    return [*lines, *(body or ["    ..."])]


def _constant(node, names) -> list[str]:
    """A constant's line, if it is one of names (None: any) and not a dunder (`__slots__`)."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    ids = [t.id for t in targets if isinstance(t, ast.Name)]
    if len(ids) != len(targets) or any(i.startswith("__") for i in ids):
        return []
    if names is not None and not set(names).intersection(ids):
        return []
    text = ast.unparse(node)
    return [text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS].rstrip() + " ..."]


def _doc(node) -> str:
    doc = ast.get_docstring(node, clean=True)
    if not doc:
        return ""
    first = doc.strip().split("\n")[0].replace('"""', "'''")
    return first[:DOC_CHARS]
