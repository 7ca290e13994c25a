"""Collect the training corpus from named sources: the stdlib and pinned packages.

The result is a folder with `files.jsonl` (one {"path", "text"} per file) and
`corpus.json` (the manifest it came from, the interpreter, file count, bytes and
a SHA-256 over paths and contents) so a model's manifest can name its data.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

DEFAULT_MANIFEST = Path(__file__).with_name("corpus.toml")

# Test suites are large, repetitive and full of deliberately odd code.
_STDLIB_SKIP = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__"}


def stdlib_files(include: list[str] | None = None) -> list[tuple[str, str]]:
    """The stdlib's .py files (tests excluded); with include, only paths matching one of its globs."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if _STDLIB_SKIP.intersection(rel.parts[:-1]):
            continue
        if include is not None and not any(fnmatch.fnmatch(rel.as_posix(), g) for g in include):
            continue
        text = _read_source(path.read_bytes())
        if text is not None:
            files.append((f"stdlib/{rel.as_posix()}", text))
    return files


def package_files(requirement: str, cache: Path) -> list[tuple[str, str]]:
    """The .py files of a pinned package's wheel, downloaded into cache once."""
    name, _, version = requirement.partition("==")
    if not version:
        raise ValueError(f"corpus package {requirement!r} must pin an exact version (name==version)")
    cache.mkdir(parents=True, exist_ok=True)
    wheel = _find_wheel(cache, name, version)
    if wheel is None:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--dest", str(cache), requirement],
            check=True,
        )
        wheel = _find_wheel(cache, name, version)
    if wheel is None:
        raise FileNotFoundError(f"pip download of {requirement} left no wheel in {cache}")
    files = []
    with zipfile.ZipFile(wheel) as zf:
        for member in sorted(zf.namelist()):
            parts = member.split("/")
            if not member.endswith(".py") or _STDLIB_SKIP.intersection(parts[:-1]):
                continue
            text = _read_source(zf.read(member))
            if text is not None:
                files.append((f"{requirement}/{member}", text))
    return files


def _find_wheel(cache: Path, name: str, version: str) -> Path | None:
    norm = name.lower().replace("-", "_")
    for wheel in cache.glob("*.whl"):
        wname, wversion = wheel.name.split("-")[:2]
        if wname.lower().replace("-", "_") == norm and wversion == version:
            return wheel
    return None


def _read_source(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    # Generated tables and minified blobs teach nothing about code.
    if len(data) > 1_000_000 or max((len(line) for line in text.splitlines()), default=0) > 1000:
        return None
    return text


def build(out: Path, manifest_path: Path = DEFAULT_MANIFEST, cache: Path | None = None) -> dict:
    manifest = tomllib.loads(manifest_path.read_text())
    cache = cache or out / "wheels"
    files = stdlib_files(manifest.get("stdlib_include")) if manifest.get("stdlib", True) else []
    for requirement in manifest.get("packages", []):
        files.extend(package_files(requirement, cache))
    digest = hashlib.sha256()
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "files.jsonl", "w") as f:
        for path, text in files:
            digest.update(path.encode() + b"\0" + text.encode() + b"\0")
            f.write(json.dumps({"path": path, "text": text}) + "\n")
    info = {
        "manifest": manifest,
        "python": sys.version.split()[0],
        "files": len(files),
        "bytes": sum(len(t.encode()) for _, t in files),
        "sha256": digest.hexdigest(),
    }
    (out / "corpus.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def load(corpus_dir: Path) -> list[tuple[str, str]]:
    with open(corpus_dir / "files.jsonl") as f:
        return [(d["path"], d["text"]) for d in map(json.loads, f)]
