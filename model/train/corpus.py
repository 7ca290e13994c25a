"""Collect the training corpus from named sources: the stdlib and pinned packages.

The result is a folder with `files.jsonl` (one {"path", "text"} per file, read
back by `sources.read_corpus`) and `corpus.json` (the manifest it came from, the
interpreter, file count, bytes and a SHA-256 over paths and contents) so a
model's manifest can name its data.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

from nib.model import sources

DEFAULT_MANIFEST = Path(__file__).with_name("corpus.toml")


def package_files(requirement: str, cache: Path) -> list[tuple[str, str]]:
    """The .py files of a pinned package's wheel (name==version), downloaded into cache once."""
    name, _, version = requirement.partition("==")
    if not version:
        raise ValueError(f"corpus package {requirement!r} must pin an exact version (name==version)")
    return sources.wheel_files(sources.wheel(name, version, cache), prefix=f"{requirement}/")


def build(out: Path, manifest_path: Path = DEFAULT_MANIFEST, cache: Path | None = None) -> dict:
    manifest = tomllib.loads(manifest_path.read_text())
    cache = cache or out / "wheels"
    files = sources.stdlib_files(manifest.get("stdlib_include")) if manifest.get("stdlib", True) else []
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
