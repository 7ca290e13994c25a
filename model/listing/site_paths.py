"""The folders a Python environment imports from, read from its files: its interpreter never runs.

`jedi.environment` names the user's interpreter or virtual environment so that jedi knows the
packages installed there. Asking that interpreter for its `sys.path` would run its startup code
(the `import` lines of its `.pth` files, `sitecustomize`), and jedi's compiled-module access there
imports modules; so nib reads the folders instead and hands them to jedi as extra source folders
(`jedi.Project(added_sys_path=...)`), where jedi parses Python files and never loads compiled
extensions (those it loads only from nib's own environment).
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.lru_cache(maxsize=8)
def site_paths(location: str) -> tuple[str, ...]:
    """The site-packages folders of the environment at location (a virtual environment's folder,
    or an interpreter in its `bin/`), then the folders its `.pth` files name; () when none is found.
    A `.pth` line that starts with `import` is code: skipped, never run. A folder a new package is
    installed into is already here; a new `.pth` file is read after the server restarts.
    """
    root = Path(location).expanduser()
    if root.is_file():
        root = root.parent.parent  # .../bin/python3 -> the environment
    sites = [
        site
        for pattern in ("lib*/python3*/site-packages", "lib*/python3*/dist-packages", "Lib/site-packages")
        for site in sorted(root.glob(pattern))
        if site.is_dir()
    ]
    paths = [str(s) for s in sites]
    for site in sites:
        for pth in sorted(site.glob("*.pth")):
            paths += _named_folders(site, pth)
    return tuple(dict.fromkeys(paths))


def _named_folders(site: Path, pth: Path) -> list[str]:
    """The existing folders a `.pth` file names, one a line, relative to its site-packages."""
    try:
        lines = pth.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    folders = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#") or line.startswith(("import ", "import\t")):
            continue
        folder = site / line
        if folder.is_dir():
            folders.append(str(folder.resolve()))
    return folders
