"""The prompt's project context: what the names around the cursor are, from the workspace's other files.

    block(path, text, cursor) -> Block: a few files' stubs and recent chunks, as Python
        definitions:  the file's imports resolved to files in the workspace (never imported or
                      run: read and parsed with `ast`, `text/stubs.py`), the names the cursor's
                      function uses first; with one hop through return annotations; the classes
                      of the objects the function uses (`text/types.py`), first that of the
                      object the line ends in an attribute of; on an import line, what the
                      module or package it names holds, what the package's files import most
                      first (`usage.py`)
        similar:      the lines of a file in the same folder most like those before the cursor, with
                      the lines after them (`similar.py`, RepoCoder's retrieval), the most relevant
        recent:       chunks of what the user opened and edited (`text/recent.py`), most similar first

The block goes before the file's own window. It is made again at each pause in typing (the
service pre-fills a new block then, off the keystroke path) and changes when the cursor's scope
(its top-level function or class), the imports or the names used there change, or the lines
before the cursor come to be most like another window; between pauses the KV state over it is
reused keystroke after keystroke. Only files inside the workspace folders are read, symbolic links resolved first.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from nib.model.completion.request import Project
from nib.model.text.recent import Recent, similarity
from nib.model.text.stubs import Import, Module, imports
from nib.model.text.types import object_at_end, types_of

from .similar import Similar
from .usage import Usage
from .workspace import Workspace

AROUND_LINES = 64  # the text before the cursor a recent chunk is compared with
PACKAGE_MODULES, PACKAGE_NAMES = 40, 8  # on an import line: the modules beside the file shown, names of each
MAX_PIECE_CHARS = 1200  # one name's stub, at most (a big class: its first methods)
CHAIN_HOPS = 6  # attributes followed from the object the line ends in (`a.b.c.`)
MIN_CUT_CHARS = 120  # a piece is cut to the room left in the budget when that is at least this
SIMILAR_CHARS = 600  # the similar window, at most (its first lines go first: the lines after the match matter)
SIMILAR_RELEVANCE = 5000.0  # the most relevant piece: a sibling's line like the one being written
CHARS_PER_TOKEN = 4  # the block's budget in characters per token of context.projectTokens (cut in tokens later)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# possessive: a line of dots or blanks would make the engine try every split of them between the groups
_FROM_IMPORT = re.compile(r"from\s++(\.*+)([\w.]*+)\s++import\b")  # `from ..events.event import `
_FROM_PACKAGE = re.compile(r"from\s+(\.*)([A-Za-z_][\w.]*)\.$")  # `from ..agents.`
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
    project: Project | None  # None for none
    definitions: int  # files whose stubs it shows
    chunks: int  # recent chunks and similar windows (`similar.py`) it shows

    @property
    def chars(self) -> int:
        return sum(len(text) for _, text in self.project.files) if self.project else 0


NO_BLOCK = Block(None, 0, 0)


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


class ProjectContext:
    def __init__(self, roots: list[str], recent_size: int = 16, similar: bool = True):
        self.workspace = Workspace(roots)
        self.recent = Recent(recent_size)
        self.similar = Similar(self.workspace) if similar else None
        self.usage = Usage(self.workspace)

    def set_roots(self, roots: list[str]) -> None:
        self.workspace = Workspace(roots, self.workspace.exclude)
        self.similar = Similar(self.workspace) if self.similar else None
        self.usage = Usage(self.workspace)

    def block(self, path: str | None, text: str, cursor: int, budget_chars: int, recent: bool = True) -> Block:
        """The project context for a cursor in text (the file at path), in at most budget_chars."""
        if budget_chars <= 0:
            return NO_BLOCK
        scope = text[scope_start(text, cursor) : cursor]
        line = text[text.rfind("\n", 0, cursor) + 1 : cursor].lstrip()
        pieces = []
        if path and self.workspace.roots:
            found = tuple(imports(text))  # read once: both kinds of pieces start from the file's imports
            pieces = self._definitions(Path(path), text, scope, found) + self._typed(Path(path), scope, line, found)
        if path and self.workspace.roots and line.startswith(("from ", "import ")):
            imported = self.usage.imported(Path(path))
            pieces += self._package(Path(path), imported) + self._imported(Path(path), line, imported)
        elif path and self.workspace.roots and self.similar:
            pieces += self._similar(Path(path), text[:cursor], budget_chars)
        if recent:
            around = "\n".join(text[:cursor].split("\n")[-AROUND_LINES:])
            pieces += [
                _Piece(self.workspace.relative(Path(c.path)), c.text, similarity(c.text, around), "recent")
                for c in self.recent.pick(around, path, 4)
            ]
        best: dict[tuple[str, str], _Piece] = {}  # a stub found twice (imported and typed): its higher relevance
        for piece in pieces:
            if best.get((piece.path, piece.text), piece).relevance <= piece.relevance:
                best[piece.path, piece.text] = piece
        shown, used = [], 0
        # the most relevant, cut to the room left; ties by path and text, not by the order of sets of
        # names, which changes with the interpreter's hash seed
        for piece in sorted(best.values(), key=lambda p: (-p.relevance, p.path, p.text)):
            room = budget_chars - used
            body = piece.text if len(piece.text) <= room else _fit(piece.text, room)
            if body:
                shown.append(replace(piece, text=body))
                used += len(body)
        if not shown:
            return NO_BLOCK
        own = self.workspace.relative(Path(path)) if path else ""
        chunks = sum(1 for p in shown if p.kind in ("recent", "similar"))
        definitions = len({p.path for p in shown if p.kind == "definitions"})
        return Block(Project(self.workspace.name(path), _by_file(shown), own), definitions, chunks)

    def _similar(self, path: Path, before: str, budget_chars: int) -> list[_Piece]:
        """The window of a sibling file most like the lines before the cursor, with the lines after
        it (`similar.py`): its last lines that fit SIMILAR_CHARS and the budget, the most relevant piece
        (none when its last line alone does not fit: a generated file's huge line)."""
        window = self.similar.best(path, before) if self.similar else None
        room = min(SIMILAR_CHARS, budget_chars)
        lines = window.text.split("\n") if window else []
        while len(lines) > 1 and len("\n".join(lines)) > room:
            lines.pop(0)
        text = "\n".join(lines)
        if window is None or len(text) > room:
            return []
        return [_Piece(self.workspace.relative(window.path), text, SIMILAR_RELEVANCE, "similar")]

    def _definitions(self, path: Path, text: str, scope: str, found_imports: tuple[Import, ...]) -> list[_Piece]:
        """A piece for each name the file imports from another workspace file and uses: its stub,
        relevance the more the cursor's scope (then the file) uses it."""
        in_scope, in_file = _counts(scope), _counts(text)
        own = Path(os.path.realpath(path))
        pieces = []
        for imp in found_imports:
            for file, names, attributes in self._resolve(path, imp, text):
                found = self.workspace.module(file) if file != own else None
                if found is None:
                    continue
                for name in sorted(names):
                    used = imp.bound if attributes else name  # `import m`: m.name's m; `from m import name`
                    relevance = in_scope.get(used, 0) * 10 + in_file.get(name, 0)
                    body = _cut(_stub(found, name), MAX_PIECE_CHARS) if relevance else ""
                    if body:
                        pieces.append(_Piece(self.workspace.relative(file), body, relevance, "definitions"))
        return pieces

    def _typed(self, path: Path, scope: str, line: str, found_imports: tuple[Import, ...]) -> list[_Piece]:
        """The stubs of the workspace classes of the objects the cursor's scope uses, as its annotations
        and constructor calls say (`text/types.py`), relevance the more the scope uses them; the
        most relevant that of the object the line ends in an attribute of, found through its
        attributes' types (`self.trace.` is Trace's when `__init__` stored a Trace there)."""
        kinds, counts = types_of(scope), _counts(scope)
        here = Module({}, {}, {}, found_imports)
        weights: dict[str, float] = {}
        for variable, names in kinds.items():
            for name in names:
                weights[name] = weights.get(name, 0.0) + 10.0 * counts.get(variable.rsplit(".", 1)[-1], 0)
        found = [(self._class(path, here, name), weight) for name, weight in weights.items() if weight]
        chain = object_at_end(line)
        if chain[:1] == ["self"] and len(chain) > 1:
            chain = [f"self.{chain[1]}", *chain[2:]]
        classes = _distinct(self._class(path, here, n) for n in kinds.get(chain[0], ())) if chain else []
        for attribute in chain[1 : 1 + CHAIN_HOPS]:
            hops = [(c, n) for c in classes for n in c[1].attributes.get(c[2], {}).get(attribute, ())]
            classes = _distinct(self._class(file, module, n) for (file, module, _), n in hops)
        found += [(c, 3000.0) for c in classes]
        own = Path(os.path.realpath(path))  # reached back through another module: the file's own text, on disk
        return [
            _Piece(self.workspace.relative(file), _cut(module.stubs[name], MAX_PIECE_CHARS), weight, "definitions")
            for (file, module, name), weight in ((c, w) for c, w in found if c is not None)
            if file != own
        ]

    def _class(self, file: Path, module: Module, name: str, hops: int = 3) -> tuple[Path, Module, str] | None:
        """Where the class `name`, as module (the file at file) sees it, is defined in the workspace:
        in module itself, or in the workspace file it imports it from, through a package's
        re-exports (None: elsewhere)."""
        if name in module.attributes:  # a class of module's own
            return file, module, name
        for imp in module.imports if hops else ():  # each import that binds it (`try: ... except ImportError:`)
            if imp.bound == name and imp.name:
                source = self.workspace.module_file(file, imp.module, imp.level)
                found = self.workspace.module(source) if source is not None else None
                defined = (
                    self._class(source, found, imp.name, hops - 1) if source and found and source != file else None
                )
                if defined is not None:
                    return defined
        return None

    def _package(self, path: Path, used: dict[Path, Counter[str]]) -> list[_Piece]:
        """On an import line: what the modules beside the file (and its package's parent's) define,
        as the imports that would bring it in, e.g. `from .runner import Runner, run`; the
        most relevant piece (the line needs a name of them)."""
        pieces = []
        for level, folder in ((1, path.parent), (2, path.parent.parent)):
            if not (folder / "__init__.py").is_file() or self.workspace.inside(folder / "__init__.py") is None:
                break
            piece = self._listing(folder, "." * level, path, 1000.0 - level, used)
            pieces += [piece] if piece else []
        return pieces

    def _imported(self, path: Path, line: str, used: dict[Path, Counter[str]]) -> list[_Piece]:
        """On `from module import `: the module's public names not on the line yet, those the
        package's other files import from it most first (`usage.py`), the line's most relevant
        piece; on `from package.`: its modules and their names, as `_package` shows the file's own
        package."""
        named = _FROM_IMPORT.match(line)
        own = Path(os.path.realpath(path))
        if named:
            file = self.workspace.module_file(path, named[2], len(named[1]))
            found = self.workspace.module(file) if file is not None and file != own else None
            listed = line[named.end() :]
            typed = set(_NAME.findall(listed[: listed.rfind(",") + 1]))  # not the name being typed
            public = [n for n in (found.stubs if found else {}) if not n.startswith("_") and n not in typed]
            if file is None or not public:
                return []
            imported = used.get(file, Counter())
            public.sort(key=lambda n: -imported[n])  # stable: equally imported names in their module's order
            listing = _cut(f"from {named[1]}{named[2]} import {', '.join(public)}", MAX_PIECE_CHARS, ",", "")
            return [_Piece(self.workspace.relative(file), listing, 2000.0, "definitions")] if listing else []
        package = _FROM_PACKAGE.match(line)
        file = self.workspace.module_file(path, package[2], len(package[1])) if package else None
        if package is None or file is None or file.name != "__init__.py":
            return []
        piece = self._listing(file.parent, f"{package[1]}{package[2]}.", own, 1500.0, used)
        return [piece] if piece else []

    def _listing(
        self, folder: Path, prefix: str, own: Path, relevance: float, used: dict[Path, Counter[str]]
    ) -> _Piece | None:
        """The modules of a package folder as the imports that would bring in their public names,
        e.g. `from .runner import Runner, run` for prefix ".", the modules the package's other files
        import from most first, and of each, the names they import most (`usage.py`)."""
        own, real_folder = Path(os.path.realpath(own)), Path(os.path.realpath(folder))
        modules: dict[Path, str] = {}  # a module's file -> the name it is imported by here (a link's own)
        for file in sorted(folder.glob("*.py"))[:PACKAGE_MODULES]:
            modules.setdefault(Path(os.path.realpath(file)), file.stem)
        for file in used:  # and those the package imports from, past the first by name
            if file.parent == real_folder and file.suffix == ".py":
                modules.setdefault(file, file.stem)
        # the most imported from first: by the files importing the most imported name of each
        most = {file: max(used[file].values(), default=0) if file in used else 0 for file in modules}
        lines = []
        for file in sorted(modules, key=lambda f: (-most[f], modules[f]))[:PACKAGE_MODULES]:
            found = self.workspace.module(file) if file != own else None
            names = used.get(file, Counter())
            public = sorted(
                (n for n in (found.stubs if found else {}) if not n.startswith("_")), key=lambda n: -names[n]
            )[:PACKAGE_NAMES]
            if public:
                lines.append(f"from {prefix}{modules[file]} import {', '.join(public)}")
        listing = _cut("\n".join(lines), MAX_PIECE_CHARS, "\n", "")
        return (
            _Piece(self.workspace.relative(folder / "__init__.py"), listing, relevance, "definitions")
            if lines
            else None
        )

    def _resolve(self, path: Path, imp: Import, text: str) -> list[tuple[Path, set[str], bool]]:
        """The workspace file an import names, with the names of it the file uses, and whether
        they are read as a module's attributes (`m.name`)."""
        if imp.name:  # from module import name: a name of the module, or a submodule
            sub = self.workspace.module_file(path, f"{imp.module}.{imp.name}", imp.level)
            if sub is not None:
                return [(sub, _attributes(text, imp.bound), True)]
            module = self.workspace.module_file(path, imp.module, imp.level)
            return [(module, {imp.name}, False)] if module is not None else []
        module = self.workspace.module_file(path, imp.module, 0)
        if module is None:
            return []
        attributes = _attributes(text, imp.bound if imp.bound != imp.module.split(".")[0] else imp.module)
        return [(module, attributes, True)]


def _stub(found: Module, name: str) -> str:
    """name's stub, after those of the classes of its module its return annotation names (one hop:
    `user = find_user(...)` then `user.` needs the class)."""
    returned = [found.stubs[r] for r in sorted(found.returns.get(name, ())) if r in found.stubs and r != name]
    return "\n".join([*returned, found.stubs[name]]) if name in found.stubs else ""


@dataclass(frozen=True)
class _Piece:
    path: str  # in the workspace
    text: str
    relevance: float
    kind: str  # definitions | recent | similar


def _by_file(pieces: list[_Piece]) -> tuple[tuple[str, str], ...]:
    """(path, text) per file, the file of the most relevant piece last (nearest the cursor); a
    file's pieces together, the most relevant last.

    Example: _by_file([_Piece("a", "x", 3, ""), _Piece("b", "y", 2, ""), _Piece("a", "z", 1, "")]) ==
             (("b", "y"), ("a", "z\\nx"))
    """
    best: dict[str, float] = {}
    for p in pieces:
        best[p.path] = max(best.get(p.path, 0.0), p.relevance)
    order = sorted(best, key=lambda path: (best[path], path))
    return tuple(
        (path, "\n".join(p.text for p in sorted(pieces, key=lambda p: (p.relevance, p.text)) if p.path == path))
        for path in order
    )


def _fit(text: str, room: int) -> str:
    """A piece cut to the room left in the budget: at a line, or a line of imported names at a comma."""
    if room < MIN_CUT_CHARS:
        return ""
    return _cut(text, room) if "\n" in text else _cut(text, room, ",", "")


def _distinct(found) -> list[tuple[Path, Module, str]]:
    """The classes found (None: not found), each once: two types of an attribute that lead to the
    same class must not double the work of every hop after it."""
    return list({(c[0], c[2]): c for c in found if c is not None}.values())


def _cut(stub: str, most: int, at: str = "\n", mark: str = "\n    ...") -> str:
    """A stub of at most `most` characters, cut at a line (a big class's first methods), or at
    another separator, and marked as cut.

    Example: _cut("class A:\\n    def f(self): ...\\n    def g(self): ...", 40) == "class A:\\n    def f(self): ...\\n    ..."
    """
    if len(stub) <= most:
        return stub
    end = stub.rfind(at, 0, most - len(mark))
    return stub[:end] + mark if end > 0 else ""  # a first line that long (a huge default): nothing


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
