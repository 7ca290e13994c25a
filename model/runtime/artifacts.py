"""The model directory: model.onnx + tokenizer.json + manifest.json, checked on load.

Format version 1. The manifest names the architecture, the type inventory the
model was trained with, the tokenizer's SHA-256 and the ONNX file's size and
SHA-256, so a truncated or mismatched file is caught before it is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nib.model.errors import ModelError
from nib.model.sources import sha256
from nib.model.text.lexer import TYPES

FORMAT_VERSION = 1
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "weights"
MODEL_FILE, TOKENIZER_FILE, MANIFEST_FILE = "model.onnx", "tokenizer.json", "manifest.json"


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

    @property
    def type_stream(self) -> bool:
        return bool(self.manifest["architecture"].get("type_stream", False))


def load(path: Path | None = None) -> ModelDir:
    """Read and check a model directory; raise ModelError saying what is wrong and what to do."""
    path = Path(path or DEFAULT_DIR)
    fix = "reinstall nib for the bundled model, or re-export with `nib export`"
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
    if manifest.get("types") != list(TYPES):
        raise ModelError(f"model {manifest_path} was trained with another token-type inventory ({fix})")
    for name, key in ((MODEL_FILE, "model"), (TOKENIZER_FILE, "tokenizer")):
        file = path / name
        expect = manifest.get("files", {}).get(key, {})
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
