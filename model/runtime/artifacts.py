"""The model directory: model.onnx + tokenizer.json + manifest.json (+ the files its family
needs: an imported model's embedding table and vocabulary order), checked on load.

Format version 1. The manifest names the architecture (its family, `families/`), the
type inventory the model was trained with (nib's own models), and each file's size and
SHA-256, so a truncated or mismatched file is caught before it is used. A model is named by
its directory, or by the name it was imported under (`nib model import`), which
resolves to a directory of the model cache (`$NIB_HOME/models`).
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from nib.model.errors import ModelError
from nib.model.text.lexer import TYPES

from .adapter import ADAPTER_FILE
from .choice import BUDGET_MS, Choice, choose
from .families import FAMILIES, Family, family
from .pinned import sha256

log = logging.getLogger("nib.model")
FORMAT_VERSION = 1
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "weights"
MODEL_FILE, TOKENIZER_FILE, MANIFEST_FILE = "model.onnx", "tokenizer.json", "manifest.json"
TOKENIZER_ARRAYS_FILE = "tokenizer.npz"  # tokenizer.json's BPE as arrays, where `net/compact_bpe.py` reads it
# the manifest's "files" keys and their names in the directory: model and tokenizer always, then each family's
FILES = {
    "model": MODEL_FILE,
    "tokenizer": TOKENIZER_FILE,
    "adapter": ADAPTER_FILE,  # an imported model's adapter from `nib finetune`, where it has one
    "tokenizer_arrays": TOKENIZER_ARRAYS_FILE,  # where the tokenizer is one `net/compact_bpe.py` encodes
    **{key: name for f in FAMILIES.values() for key, name in f.files.items()},
}


def nib_home() -> Path:
    """Where imported models live: $NIB_HOME, else the user's cache directory."""
    if os.environ.get("NIB_HOME"):
        return Path(os.environ["NIB_HOME"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nib"


def models_dir() -> Path:
    return nib_home() / "models"


@dataclass
class ModelDir:
    path: Path
    manifest: dict

    @property
    def onnx(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def tokenizer(self) -> Path:
        return self.path / TOKENIZER_FILE

    def file(self, key: str) -> Path:
        return self.path / FILES[key]

    @property
    def kind(self) -> str:
        """The architecture's name: "CodeLM" (nib's own) or "Gemma3" (imported)."""
        return self.manifest["architecture"].get("name", "CodeLM")

    @property
    def family(self) -> Family:
        return family(self.kind)

    @property
    def defaults(self) -> dict:
        """What the settings leave to the model: its family's defaults, overridden by the manifest's,
        then by its adapter's (one trained for a FIM layout serves in it: `nib finetune --layouts`).

        For example, a Gemma3 manifest with "defaults": {"min_confidence": 10} gives
        {"context_tokens": 448, "min_confidence": 10, "draft_tokens": 0, "fim": "off"}.
        """
        adapter = self.manifest.get("adapter")  # what `adapter.meta` read at the import (checked there)
        adapted = adapter.get("defaults", {}) if isinstance(adapter, dict) else {}
        return {**self.family.defaults, **self.manifest.get("defaults", {}), **adapted}

    @property
    def type_stream(self) -> bool:
        return bool(self.manifest["architecture"].get("type_stream", False))


BUNDLED = "bundled"  # the name of the model shipped in the package


def default_model(budget_ms: float = BUDGET_MS, threads: int = 0) -> str:
    """What an empty model setting means: $NIB_MODEL if set, else the best imported model that is
    fast enough here for a statement budget of budget_ms on `threads` threads (`choice.py`; the
    user's `statement.budgetMs` and `model.threads`), else the bundled model, which needs nothing."""
    return os.environ.get("NIB_MODEL") or default_choice(budget_ms, threads).name


def default_choice(budget_ms: float = BUDGET_MS, threads: int = 0) -> Choice:
    """The default model for this process, budget and threads: chosen once, so that a calibration
    another process writes does not change the model under a running server."""
    return _choice(nib_home(), budget_ms, threads)


@functools.cache
def _choice(home: Path, budget_ms: float, threads: int) -> Choice:
    choice = choose(home, lambda name: (home / "models" / name / MANIFEST_FILE).is_file(), budget_ms, threads)
    log.info("the default model is %s: %s", choice.name, choice.why)
    return choice


def resolve(path: Path | str | None) -> tuple[Path, str]:
    """The directory a model setting names, and what to do if it is broken.

    Example: resolve("gemma3-270m") == (models_dir() / "gemma3-270m", "import it with `nib model import gemma3-270m`")
    """
    path = path or default_model()
    if str(path) == BUNDLED:
        return DEFAULT_DIR, "reinstall nib for the bundled model"
    path = Path(path)
    if not path.exists() and len(path.parts) == 1:  # a bare name: an imported model
        return models_dir() / path.name, f"import it with `nib model import {path.name}`"
    if path.resolve().parent == models_dir().resolve():
        return path, f"import it again with `nib model import {path.name} --force`"
    return path, "reinstall nib for the bundled model, or re-export with `nib export`"


def load(path: Path | str | None = None) -> ModelDir:
    """Read and check a model directory; raise ModelError saying what is wrong and what to do."""
    path, fix = resolve(path)
    manifest_path = path / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ModelError(f"model manifest not found: {manifest_path} ({fix})")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"model manifest {manifest_path} is not valid JSON: {e} ({fix})") from None
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if version != FORMAT_VERSION:
        raise ModelError(
            f"model manifest {manifest_path} has format version {version!r}; this nib reads version "
            f"{FORMAT_VERSION} ({fix})"
        )
    arch = manifest.get("architecture") if isinstance(manifest.get("architecture"), dict) else {}
    try:
        types = family(arch.get("name", "CodeLM")).types
    except ModelError as e:
        raise ModelError(f"model manifest {manifest_path}: {e} ({fix})") from None
    if types and manifest.get("types") != list(TYPES):
        raise ModelError(f"model {manifest_path} was trained with another token-type inventory ({fix})")
    files = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    unknown = sorted(set(files) - set(FILES))
    if unknown:
        raise ModelError(f"model manifest {manifest_path} lists files this nib does not know: {unknown} ({fix})")
    for key in ["model", "tokenizer"] + sorted(set(files) - {"model", "tokenizer"}):
        file = path / FILES[key]
        expect = files.get(key, {})
        if not file.is_file():
            raise ModelError(f"model file not found: {file} ({fix})")
        if file.stat().st_size != expect.get("bytes"):
            raise ModelError(
                f"model file {file} has {file.stat().st_size} bytes, its manifest says {expect.get('bytes')}: "
                f"truncated or replaced ({fix})"
            )
        if sha256(file) != expect.get("sha256"):
            raise ModelError(f"model file {file} does not match the SHA-256 in {manifest_path} ({fix})")
    return ModelDir(path, manifest)


def file_entry(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": sha256(path)}
