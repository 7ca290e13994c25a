"""What the families' torch runtimes share: the device a setting names, arrays back to numpy, and
transformers' reading of a GGUF."""

from __future__ import annotations

import logging
from pathlib import Path

from nib.model.errors import ModelError

log = logging.getLogger(__name__)


def torch_device(device: str):
    """(torch, the device) for a `device` setting: cuda, cpu, or auto (CUDA where torch sees one)."""
    try:
        import torch
    except ImportError:
        raise ModelError(
            f"device {device!r} runs the model through torch, which is not installed "
            "(pip install torch, or set device to cpu)"
        ) from None
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelError("device 'cuda': torch sees no CUDA GPU on this machine (set device to cpu or auto)")
    return torch, torch.device(
        "cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device)
    )


def to_numpy(*tensors):
    return tuple(t.float().cpu().numpy() for t in tensors)


def load_hf(gguf: Path):
    """transformers' model (fp32) and tokenizer from a GGUF file."""
    from transformers import AutoTokenizer

    return load_hf_model(gguf), AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)


def load_hf_model(gguf: Path, config: dict | None = None):
    """transformers' model (fp32) from a GGUF file. config: its configuration as the import recorded
    it (the manifest's `hf_config`), so that the GGUF's metadata, a 150k-token vocabulary among it,
    is parsed once, for the weights, not twice (`benchmarks/results/torch_load/`)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    known = None
    if config:
        try:
            known = AutoConfig.for_model(**config)
        except (TypeError, ValueError, KeyError, AttributeError) as e:  # another transformers, or a damaged file
            log.warning("the manifest's hf_config is not one transformers reads (%s): reading the GGUF's", e)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, config=known, dtype=torch.float32)
    return model.eval()


def recorded_config(manifest: dict) -> dict | None:
    """The import's `hf_config` where it agrees with the manifest's architecture (its layers and KV
    heads: a wrong count would load with layers left at random, transformers only warning), else
    None: the config is read from the GGUF (a copy imported before it was kept, or a damaged one).

    Example: [recorded_config({"architecture": {"n_layer": 2, "n_kv_head": 1}, "hf_config": c}) for c in
              ({"num_hidden_layers": 2, "num_key_value_heads": 1}, {"num_hidden_layers": 3}, {})]
              == [{"num_hidden_layers": 2, "num_key_value_heads": 1}, None, None]
    """
    config, arch = manifest.get("hf_config"), manifest.get("architecture", {})
    if not isinstance(config, dict) or not config:
        return None
    fits = (config.get("num_hidden_layers"), config.get("num_key_value_heads")) == (
        arch.get("n_layer"),
        arch.get("n_kv_head"),
    )
    if not fits:
        log.warning("the manifest's hf_config does not fit its architecture: reading the GGUF's")
    return config if fits else None
