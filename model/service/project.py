"""The prompt's project context: what the names around the cursor are, from the workspace's other files.

    block(path, text, cursor) -> Block: a few files' stubs and recent chunks, as Python
        definitions:  the file's imports resolved to files in the workspace (never imported or
                      run: read and parsed with `ast`, `text/stubs.py`), the names the cursor's
                      function uses first; with one hop through return annotations
        recent:       chunks of what the user opened and edited (`text/recent.py`), most similar first

The block goes before the file's own window and changes only when the cursor's scope (its
top-level function or class), the imports or the names used there change, so that the KV state
over it is reused keystroke after keystroke (the service pre-fills a new block off the keystroke
path). Only files inside the workspace folders are read, symbolic links resolved first.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from nib.model.text.recent import Recent, similarity
from nib.model.text.stubs import Import, defined, imports, returned_classes, stubs

MAX_FILE_BYTES = 256 << 10  # a bigger file (generated, data) is not read
FILES = 64  # parsed workspace files kept, by path
AROUND_LINES = 64  # the text before the cursor a recent chunk is compared with
CHARS_PER_TOKEN = 4  # the block's budget in characters per token of context.projectTokens (cut in tokens later)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCOPE = re.compile(r"^(?:async def|def|class|@)", re.MULTILINE)


@dataclass(frozen=True)
class ProjectOptions:
    """The settings `context.*`: whether and how much project context the statement's prompt shows."""

    project: bool = True
    project_tokens: int = 256
    recent: bool = True
    recent_chunks: int = 16


@dataclass(frozen=True)
class Block:
    text: str  # "" for none
    definitions: int  # files whose stubs it shows
    chunks: int  # recent chunks it shows


NO_BLOCK = Block("", 0, 0)


def scope_start(text: str, cursor: int) -> int:
    """The offset where the cursor's top-level function or class starts (its decorators included); 0 outside one.

    Example: scope_start("import x\\n\\n@d\\ndef f():\\n    x.", 27) == 10
    """
    start = 0
    for m in _SCOPE.finditer(text, 0, cursor):
        line_start = m.start()
        previous = text.rfind("\n", 0, max(line_start - 1, 0)) + 1
        if text.startswith("@", previous) and previous != line_start and m.group() != "@":
            continue  # decorated: the scope started at its first decorator
        start = line_start
    return start


class Workspace:
    """The workspace folders' Python files, read only inside them, parsed once per change on disk."""

    def __init__(self, roots: list[str]):
        self.roots = [Path(os.path.realpath(r)) for r in roots]
        self._files: dict[Path, tuple[tuple[int, int], str]] = {}  # path -> ((mtime, size), text)
        self._lock = threading.Lock()

    def inside(self, path: Path) -> Path | None:
        """path's real path, when that is a file inside a workspace folder."""
        real = Path(os.path.realpath(path))
        return real if real.is_file() and any(real.is_relative_to(r) for r in self.roots) else None

    def read(self, path: Path) -> str | None:
        real = self.inside(path)
        if real is None:
            return None
        stat = real.stat()
        if stat.st_size > MAX_FILE_BYTES:
            return None
        key = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._files.get(real)
        if cached is not None and cached[0] == key:
            return cached[1]
        text = real.read_bytes().decode("utf-8", "replace")
        with self._lock:
            self._files[real] = (key, text)
            while len(self._files) > FILES:
                self._files.pop(next(iter(self._files)))
        return text

    def relative(self, path: Path) -> str:
        real = Path(os.path.realpath(path))
        root = next((r for r in self.roots if real.is_relative_to(r)), None)
        return str(real.relative_to(root)) if root else real.name

    def module_file(self, importer: Path, module: str, level: int) -> Path | None:
        """The workspace file of a module imported from importer (a relative import when level > 0)."""
        parts = [p for p in module.split(".") if p]
        if level:
            base = importer.parent
            for _ in range(level - 1):
                base = base.parent
            bases = [base]
        else:
            bases = [_package_base(importer), *self.roots, *(r / "src" for r in self.roots)]
        for base in bases:
            for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
                if parts or candidate.name == "__init__.py":
                    found = self.inside(candidate)
                    if found is not None:
                        return found
        return None


def _package_base(file: Path) -> Path:
    """The folder above the outermost package holding file: where its absolute imports start."""
    folder = file.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


class ProjectContext:
    def __init__(self, roots: list[str], recent_size: int = 16):
        self.workspace = Workspace(roots)
        self.recent = Recent(recent_size)

    def set_roots(self, roots: list[str]) -> None:
        self.workspace = Workspace(roots)

    def block(self, path: str | None, text: str, cursor: int, budget_chars: int, recent: bool = True) -> Block:
        """The project context for a cursor in text (the file at path), in at most budget_chars."""
        if budget_chars <= 0:
            return NO_BLOCK
        scope = text[scope_start(text, cursor) : cursor]
        pieces = self._definitions(Path(path), text, scope) if path and self.workspace.roots else []
        if recent:
            around = "\n".join(text[:cursor].split("\n")[-AROUND_LINES:])
            pieces += [
                (f"# file: {c.path}\n{c.text}\n", similarity(c.text, around), "recent")
                for c in self.recent.pick(around, path, 4)
            ]
        shown, used = [], 0
        for piece in sorted(pieces, key=lambda p: -p[1]):  # most relevant first, then last in the prompt
            if used + len(piece[0]) <= budget_chars:
                shown.append(piece)
                used += len(piece[0])
        if not shown:
            return NO_BLOCK
        own = f"# file: {self.workspace.relative(Path(path))}\n" if path else ""
        chunks = sum(1 for p in shown if p[2] == "recent")
        return Block("\n".join(p[0] for p in reversed(shown)) + "\n" + own, len(shown) - chunks, chunks)

    def _definitions(self, path: Path, text: str, scope: str) -> list[tuple[str, float, str]]:
        """(stub text with its file's header, relevance) for each workspace file the imports name."""
        in_scope, in_file = _counts(scope), _counts(text)
        wanted: dict[Path, set[str]] = {}
        relevance: dict[Path, float] = {}
        for imp in imports(text):
            for file, names in self._resolve(path, imp, text):
                if file == Path(os.path.realpath(path)):
                    continue
                wanted.setdefault(file, set()).update(names)
                used = in_scope.get(imp.bound, 0) * 10 + in_file.get(imp.bound, 0)
                relevance[file] = relevance.get(file, 0.0) + used
        pieces = []
        for file, names in wanted.items():
            source = self.workspace.read(file)
            if source is None or relevance[file] == 0:
                continue
            body = _stubs(source, frozenset(names))
            if body:
                pieces.append((f"# file: {self.workspace.relative(file)}\n{body}\n", relevance[file], "definitions"))
        return pieces

    def _resolve(self, path: Path, imp: Import, text: str) -> list[tuple[Path, set[str]]]:
        """The workspace files an import names, each with the names of it the file uses."""
        if imp.name:  # from module import name: a name of the module, or a submodule
            sub = self.workspace.module_file(path, f"{imp.module}.{imp.name}", imp.level)
            if sub is not None:
                return [(sub, _attributes(text, imp.bound))]
            module = self.workspace.module_file(path, imp.module, imp.level)
            return [(module, {imp.name})] if module is not None else []
        module = self.workspace.module_file(path, imp.module, 0)
        if module is None:
            return []
        attributes = _attributes(text, imp.bound if imp.bound != imp.module.split(".")[0] else imp.module)
        return [(module, attributes)]


@functools.lru_cache(maxsize=FILES)
def _stubs(source: str, names: frozenset[str]) -> str:
    """The stubs of names in source, and of the classes their return annotations name there (one hop)."""
    return stubs(source, names | (returned_classes(source, names) & defined(source).keys()))


def _counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in _NAME.findall(text):
        counts[name] = counts.get(name, 0) + 1
    return counts


def _attributes(text: str, bound: str) -> set[str]:
    """The attributes text reads of `bound` (a module's name in it).

    Example: _attributes("m.a(); m.b.c; mm.d", "m") == {"a", "b"}
    """
    return set(re.findall(rf"(?<![\w.]){re.escape(bound)}\.([A-Za-z_]\w*)", text))
