"""The workspace folders' Python files as the project context reads them: only inside the folders
(symbolic links resolved first, `exclude` applied), parsed once per change on disk into stubs
(`text/stubs.py`; never imported or run), and modules resolved to files as Python would find them.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from nib.model.text.stubs import Module, module

from .exclude import Exclude

MAX_FILE_BYTES = 256 << 10  # a bigger file (generated, data) is not read
FILES = 64  # parsed workspace files kept, by path


class Workspace:
    """The workspace folders' Python files, read only inside them, parsed once per change on disk."""

    def __init__(self, roots: list[str], exclude: Exclude | None = None):
        self.roots = [Path(os.path.realpath(r)) for r in roots]
        self.exclude = exclude or Exclude()  # the setting `exclude`: files never read
        self._files: dict[Path, tuple[tuple[int, int], Module]] = {}  # path -> ((mtime, size), its stubs)
        self._lock = threading.Lock()

    def inside(self, path: Path) -> Path | None:
        """path's real path, when that is a file inside a workspace folder that `exclude` does not
        match (under its own name or its link's)."""
        try:
            real = Path(os.path.realpath(path))
            if self.exclude.matches(str(path)) or self.exclude.matches(str(real)):
                return None
            return real if real.is_file() and any(real.is_relative_to(r) for r in self.roots) else None
        except (OSError, ValueError):  # a name too long for the file system (a hostile import line), a NUL
            return None

    def version(self, path: Path) -> tuple[Path, tuple[int, int]] | None:
        """path's real path and (mtime, size), which change with it on disk, when it is a file inside
        the workspace of at most MAX_FILE_BYTES (None: outside, excluded, too big or gone)."""
        real = self.inside(path)
        if real is None:
            return None
        try:
            stat = real.stat()
        except OSError:  # gone since
            return None
        return (real, (stat.st_mtime_ns, stat.st_size)) if stat.st_size <= MAX_FILE_BYTES else None

    def module(self, path: Path) -> Module | None:
        """What the workspace file at path defines, read and parsed once per change on disk (None:
        not a file inside the workspace, or too big). Only its stubs are kept, not its text."""
        found = self.version(path)
        if found is None:
            return None
        real, key = found
        with self._lock:
            cached = self._files.get(real)
        if cached is not None and cached[0] == key:
            return cached[1]
        parsed = module(real.read_bytes().decode("utf-8", "replace"))
        with self._lock:
            self._files[real] = (key, parsed)
            while len(self._files) > FILES:
                self._files.pop(next(iter(self._files)))
        return parsed

    def holds(self, path: Path) -> bool:
        """Whether path (links resolved) is inside a workspace folder."""
        return self._root(path) is not None

    def relative(self, path: Path) -> str:
        """path in its workspace folder (its name alone outside them: a recent chunk's untitled buffer)."""
        root = self._root(path)
        return str(Path(os.path.realpath(path)).relative_to(root)) if root else Path(path).name

    def name(self, path: str | None) -> str:
        """The name of the workspace folder holding path (the first folder's, else "")."""
        root = self._root(Path(path)) if path else None
        return (root or (self.roots[0] if self.roots else Path())).name

    def _root(self, path: Path) -> Path | None:
        real = Path(os.path.realpath(path))
        return next((r for r in self.roots if real.is_relative_to(r)), None)

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
