"""Named sources of Python code: the interpreter's standard library and pinned wheels from PyPI.

Both the training corpus (`train/corpus.toml`) and the held-out evaluation code
(`eval/heldout.toml`) are data named by package, version and (for wheels) SHA-256,
fetched by `pip download` into a cache: never vendored, never fetched while serving.
"""

from __future__ import annotations

import fnmatch
import hashlib
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

# Test suites are large, repetitive and full of deliberately odd code.
SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stdlib_files(include: list[str] | None = None) -> list[tuple[str, str]]:
    """The stdlib's .py files (tests excluded); with include, only paths matching one of its globs."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if SKIP_DIRS.intersection(rel.parts[:-1]):
            continue
        if include is not None and not any(fnmatch.fnmatch(rel.as_posix(), g) for g in include):
            continue
        text = read_source(path.read_bytes())
        if text is not None:
            files.append((f"stdlib/{rel.as_posix()}", text))
    return files


def wheel(name: str, version: str, cache: Path, digest: str | None = None) -> Path:
    """The wheel of name==version in cache, downloaded once; checked against digest when given.

    Raises ValueError when the wheel's SHA-256 is not the pinned one.
    """
    cache.mkdir(parents=True, exist_ok=True)
    found = _find_wheel(cache, name, version)
    if found is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--dest", str(cache), f"{name}=={version}"],
            check=True,
        )
        found = _find_wheel(cache, name, version)
    if found is None:
        raise FileNotFoundError(f"pip download of {name}=={version} left no wheel in {cache}")
    if digest is not None and sha256(found) != digest:
        raise ValueError(f"{found} has SHA-256 {sha256(found)}, the manifest pins {digest}: "
                         f"delete it and fetch again, or check the manifest")
    return found


def wheel_files(path: Path, prefix: str = "", exclude: list[str] = ()) -> list[tuple[str, str]]:
    """The .py files in a wheel (tests and paths matching an exclude glob left out), as (prefix + path, text)."""
    files = []
    with zipfile.ZipFile(path) as zf:
        for member in sorted(zf.namelist()):
            parts = member.split("/")
            if not member.endswith(".py") or SKIP_DIRS.intersection(parts[:-1]):
                continue
            if any(fnmatch.fnmatch(member, g) for g in exclude):
                continue
            text = read_source(zf.read(member))
            if text is not None:
                files.append((prefix + member, text))
    return files


def _find_wheel(cache: Path, name: str, version: str) -> Path | None:
    norm = name.lower().replace("-", "_")
    for found in cache.glob("*.whl"):
        wname, wversion = found.name.split("-")[:2]
        if wname.lower().replace("-", "_") == norm and wversion == version:
            return found
    return None


def read_source(data: bytes) -> str | None:
    """data as source text, or None for what teaches nothing about code (not UTF-8, generated tables)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if len(data) > 1_000_000 or max((len(line) for line in text.splitlines()), default=0) > 1000:
        return None
    return text
