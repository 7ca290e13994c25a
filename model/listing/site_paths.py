"""The folders a Python environment imports from, read from its files: its interpreter never runs.

`jedi.environment` names the user's interpreter or virtual environment so that jedi knows the
packages installed there. Asking that interpreter for its `sys.path` would run its startup code
(the `import` lines of its `.pth` files, `sitecustomize`), and jedi's compiled-module access there
imports modules; so nib reads the folders instead and hands them to jedi as extra source folders
(`jedi.Project(added_sys_path=...)`), where jedi parses Python files and never loads compiled
extensions (those it loads only from the folders nib's own Python imports from).
"""

from __future__ import annotations

import functools
import stat
from pathlib import Path

PTH_BYTES = 1 << 20  # a `.pth` file is read up to this much: a few lines in practice


@functools.lru_cache(maxsize=8)
def site_paths(location: str) -> tuple[str, ...]:
    """The site-packages folders of the environment at location (a virtual environment's folder,
    or a `python*` in its `bin/` or `Scripts/`), then the folders its `.pth` files name; () when
    none is found or location is neither. A `.pth` line that starts with `import` is code: skipped,
    never run. A folder a new package is installed into is already here; a new `.pth` file is
    read after the server restarts.
    """
    root = Path(location).expanduser()
    try:
        if root.is_file():
            if not (root.name.startswith("python") and root.parent.name in ("bin", "Scripts")):
                return ()
            root = root.parent.parent  # .../bin/python3 -> the environment
        found = [
            site
            for pattern in ("lib*/python3*/site-packages", "lib*/python3*/dist-packages", "Lib/site-packages")
            for site in sorted(root.glob(pattern))
            if site.is_dir()
        ]
        sites, seen = [], set()
        for site in found:  # lib64 is often a link to lib: each folder once
            if site.resolve() not in seen:
                seen.add(site.resolve())
                sites.append(site)
        paths = [str(s) for s in sites]
        for site in sites:
            for pth in sorted(site.glob("*.pth")):
                paths += _named_folders(site, pth)
    except OSError:  # unreadable, or a name too long: no environment there
        return ()
    return tuple(dict.fromkeys(paths))


def _named_folders(site: Path, pth: Path) -> list[str]:
    """The existing folders a `.pth` file (a regular file) names, one a line, relative to its site-packages."""
    try:
        if not stat.S_ISREG(pth.stat().st_mode):  # a FIFO would block the read
            return []
        with pth.open("rb") as f:
            lines = f.read(PTH_BYTES).decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    folders = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or line.startswith(("import ", "import\t")):
            continue
        try:
            folder = site / line
            if folder.is_dir():
                folders.append(str(folder.resolve()))
        except (OSError, ValueError):  # a name too long, a folder not readable, a NUL byte
            continue
    return folders
