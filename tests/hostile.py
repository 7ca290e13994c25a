"""A hostile repository: files that run code when something imports or executes them from the project.

Opening a repository must never run its code (nib's issue: `python -m` put the project first on
`sys.path`, so a cloned repository's `json.py` or `nib/` ran as the user). Each bait here writes a
marker file, named after the bait, into a folder outside the repository; `markers()` lists the ones
that ran. The stdlib shadows then hand over to the real module, so a process that imports one keeps
working and the test fails on its marker rather than on a crash.

Left out: `os.py` and the other modules Python imports (most of them frozen) before it adds the
script's folder to `sys.path`, which no file of the project can shadow.
"""

from __future__ import annotations

import json
import shlex
import stat
import sys
import sysconfig
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# Modules that nib's server, its jedi worker, jedi and pygls import after startup.
STDLIB_SHADOWS = (
    "json",
    "typing",
    "re",
    "argparse",
    "logging",
    "asyncio",
    "subprocess",
    "threading",
    "shlex",
    "dataclasses",
)

HELPERS = '''\
def compute_totals(rows):
    """The sum of each row."""
    return [sum(row) for row in rows]
'''

MAIN = """\
from helpers import compute_totals

rows = [(1, 2), (3, 4)]
total = compute_"""

SHADOW = """\
open({marker!r}, "w").close()  # the proof that this file ran
# then the real module in this one's place, so that the process goes on as if nothing happened
import sys
from importlib.machinery import PathFinder
from importlib.util import module_from_spec

_spec = PathFinder.find_spec(__name__, [{stdlib!r}])
_module = module_from_spec(_spec)
sys.modules[__name__] = _module
_spec.loader.exec_module(_module)
"""


@dataclass(frozen=True)
class HostileRepo:
    root: Path  # the repository: open it, start editors and servers in it
    marker_dir: Path  # outside the repository: a bait that runs leaves a file here
    main: Path  # main.py, completed at `cursor`
    cursor: tuple[int, int]  # (line, character), 0-based, at the end of `total = compute_`

    def markers(self) -> list[str]:
        """The baits that ran, e.g. ["json", "nib"]; [] when the repository ran nothing."""
        return sorted(p.name for p in self.marker_dir.iterdir())

    @contextmanager
    def runs_nothing(self):
        """Fail if a bait ran by the end of the block, naming them, whatever else failed in it."""
        try:
            yield
        finally:
            ran = self.markers()
            assert ran == [], f"the repository's code ran: {ran}"


def hostile_repo(folder: Path) -> HostileRepo:
    """Write the hostile repository into folder/repo and its marker folder into folder/markers."""
    root, marker_dir = folder / "repo", folder / "markers"
    marker_dir.mkdir(parents=True)

    def write(path: str, text: str) -> Path:
        file = root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
        return file

    def mark(name: str) -> str:
        return f"open({str(marker_dir / name)!r}, 'w').close()\n"

    stdlib = sysconfig.get_paths()["stdlib"]
    for name in STDLIB_SHADOWS:
        write(f"{name}.py", SHADOW.format(marker=str(marker_dir / name), stdlib=stdlib))
    write("nib/__init__.py", mark("nib"))  # `python -m nib...` in the project imports these first
    write("nib/server/__init__.py", mark("nib.server"))
    write("sitecustomize.py", mark("sitecustomize"))  # imported by `site` from anywhere on sys.path
    write("usercustomize.py", mark("usercustomize"))
    write("evil.pth", "import builtins; " + mark("evil.pth"))  # run if the folder were a site folder
    write("setup.py", mark("setup.py"))  # a root marker for jedi and Neovim: only ever read
    # A python that jedi would start as the project's environment if it honoured the project file's
    # `environment_path` (jedi ignores it: "a code base must not point Jedi at a binary to execute").
    python = write(
        "bin/python",
        f"#!/bin/sh\n: > {shlex.quote(str(marker_dir / 'jedi-environment'))}\n"
        f'exec {shlex.quote(sys.executable)} "$@"\n',
    )
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    project = {"path": str(root), "environment_path": str(python), "load_unsafe_extensions": True}
    write(".jedi/project.json", json.dumps([1, project]))
    write("pyproject.toml", '[project]\nname = "hostile"\nversion = "0"\n')
    write("helpers.py", HELPERS)
    write("main.py", MAIN)
    return HostileRepo(root, marker_dir, root / "main.py", (MAIN.count("\n"), len(MAIN.split("\n")[-1])))
