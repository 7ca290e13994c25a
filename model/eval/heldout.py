"""The held-out evaluation code: pinned wheels fetched by name, version and SHA-256, split by package.

`heldout.toml` names the packages; `fetch("test")` downloads the wheels of that
split once (pip, checked against their SHA-256) and unpacks their .py files into
`$NIB_HOME/heldout/<split>/`, which `nib eval test` reads. Tune on "dev", report on
"test" and "fresh": no two splits share a package, so they never share a point. "fresh"
holds only packages first published after the pretrained models' training data: code they
cannot have memorised, unlike "test" (public for years), so its figures are not inflated by recall.
"fresh-dev" is such code to tune on, where memorised code would hide a gain (project context).

For example, fetch("dev") gives ~/.cache/nib/heldout/dev (attrs-26.1.0/attr/_make.py, ...).
"""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

from .. import sources

MANIFEST = Path(__file__).with_name("heldout.toml")
SPLITS = ("dev", "test", "fresh", "fresh-dev")


def home() -> Path:
    """nib's cache: $NIB_HOME, else $XDG_CACHE_HOME/nib, else ~/.cache/nib."""
    from nib.model.runtime.artifacts import nib_home

    return nib_home()


def packages(split: str, manifest: Path = MANIFEST) -> list[dict]:
    if split not in SPLITS:
        raise ValueError(f"unknown held-out split {split!r}: use one of {', '.join(SPLITS)}")
    return [p for p in tomllib.loads(manifest.read_text())["package"] if p["split"] == split]


def fetch(split: str, cache: Path | None = None, manifest: Path = MANIFEST) -> Path:
    """The folder of a split's .py files, fetched and unpacked once (again if the manifest changed)."""
    cache = cache or home() / "heldout"
    pins = packages(split, manifest)
    out = cache / split
    stamp = out / "heldout.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == pins:
        return out
    if out.exists():
        shutil.rmtree(out)
    for p in pins:
        path = sources.wheel(p["name"], p["version"], cache / "wheels", p["sha256"])
        for name, text in sources.wheel_files(path, exclude=p.get("exclude", [])):
            file = out / f"{p['name']}-{p['version']}" / name
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text)
    stamp.write_text(json.dumps(pins, indent=2) + "\n")  # last: a half-unpacked split is fetched again
    return out


def folder(name: str) -> Path:
    """A split's folder (fetched if needed) for a name in SPLITS, else name as a directory path."""
    return fetch(name) if name in SPLITS else Path(name)
