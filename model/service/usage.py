"""How the project's own files import one another: for a module, the names its package's other
files import from it, and for a package folder, how many of them import each of its modules.

On an import line the prompt shows what a module holds (`project.py`); in the order they are
defined, the model wrote the first names shown (`from .invocation_context import
LlmCallsLimitExceededError, ...` in a package whose files import `InvocationContext` from it).
The names the project imports most go first.

Files are read only inside the workspace (`Workspace.version`), never imported or run: each
file's import lines (`text/stubs.imports`), resolved to workspace files once per change of that
file on disk (a module created since counts from its importers' next change: only the order of
names shown depends on it), for at most PACKAGE_FILES files of the package (the outermost
package folder in the workspace holding the file) and READ_BYTES of their source.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path

from nib.model.text.stubs import imports

from .workspace import MAX_FILE_BYTES, Workspace

PACKAGE_FILES = 512  # a package's files read at most, and
READ_BYTES = 4 << 20  # their source at most, found in at most
WALK_ENTRIES, WALK_DEPTH = 20_000, 16  # folder entries, folders down (a data folder in the package, a deep tree)
NAMES_PER_FILE = 1000  # a file's imported names resolved at most
CACHE_FILES = 2048  # files whose import lines are kept


class Usage:
    """The import lines of the workspace's files, read once per change on disk. Thread-safe."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self._files: dict[Path, tuple[tuple[int, int], frozenset[tuple[Path, str]]]] = {}
        self._lock = threading.Lock()

    def imported(self, path: Path) -> dict[Path, Counter[str]]:
        """For each workspace module the files of path's package (path itself aside) import
        names from: how many of them import each name."""
        found: dict[Path, Counter[str]] = {}
        for pairs in self._package_imports(path):
            for target, name in pairs:
                found.setdefault(target, Counter())[name] += 1
        return found

    def _package_imports(self, path: Path) -> list[frozenset[tuple[Path, str]]]:
        """For each file of path's package but path, the (workspace module, name) it imports (none
        for a file unreadable or too big)."""
        own = Path(os.path.realpath(path))
        found, read = [], 0
        for file in _package_files(own, self.workspace) if self.workspace.holds(own) else ():
            version = self.workspace.version(file)
            if version is None or version[0] == own:
                continue
            read += version[1][1]
            if read > READ_BYTES:
                break
            found.append(self._imports(*version))
        return found

    def _imports(self, real: Path, key: tuple[int, int]) -> frozenset[tuple[Path, str]]:
        with self._lock:
            cached = self._files.get(real)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            with open(real, "rb") as f:
                data = f.read(MAX_FILE_BYTES + 1)
        except OSError:  # gone or unreadable since the folder was listed
            return frozenset()
        lines = imports(data.decode("utf-8", "replace")) if len(data) <= MAX_FILE_BYTES else []
        modules: dict[tuple[str, int], Path | None] = {}  # each module resolved once, not once per name
        for i in lines[:NAMES_PER_FILE]:
            if i.name and (i.module, i.level) not in modules:
                modules[i.module, i.level] = self.workspace.module_file(real, i.module, i.level)
        found = frozenset(
            (target, i.name)
            for i in lines[:NAMES_PER_FILE]
            if i.name and (target := modules[i.module, i.level]) is not None
        )
        with self._lock:
            self._files[real] = (key, found)
            while len(self._files) > CACHE_FILES:
                self._files.pop(next(iter(self._files)))
        return found


def _package_files(file: Path, workspace: Workspace) -> list[Path]:
    """The Python files of the outermost package in the workspace holding file, folder by folder in
    order of name, at most PACKAGE_FILES, after at most WALK_ENTRIES entries of at most WALK_DEPTH
    folders down (file's folder's alone when it is in no package: a folder of scripts, or the home
    folder); links to folders, hidden and excluded folders not entered.

    Example: _package_files(Path("/nonexistent/a.py"), Workspace([])) == []
    """
    folder = file.parent
    deepest = 0
    if (folder / "__init__.py").is_file():
        deepest = WALK_DEPTH
        while (folder.parent / "__init__.py").is_file() and folder.parent != folder and workspace.holds(folder.parent):
            folder = folder.parent
    files: list[Path] = []
    stack, seen = [(folder, 0)], 0
    while stack and len(files) < PACKAGE_FILES and seen < WALK_ENTRIES:
        here, depth = stack.pop()
        try:
            with os.scandir(here) as entries:
                found = sorted(entries, key=lambda e: e.name)[: WALK_ENTRIES - seen]
        except (OSError, ValueError):  # unreadable, gone, a name too long
            continue
        seen += len(found)
        files += [
            Path(e.path)
            for e in found
            if e.name.endswith(".py") and _is_file(e) and not workspace.exclude.matches(e.path)
        ]
        stack += [
            (Path(e.path), depth + 1)
            for e in reversed(found)
            if depth < deepest
            and not e.name.startswith(".")
            and _is_folder(e)
            and not workspace.exclude.matches(e.path)
        ]
    return files[:PACKAGE_FILES]


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_folder(entry: os.DirEntry) -> bool:
    """A folder, not a link to one (a link could lead out of the package, or around in a loop)."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False
