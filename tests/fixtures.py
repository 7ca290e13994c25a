"""What several test modules share: paths, the server command, a fake vocabulary and runtime, a slow jedi."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from nib.model.runtime import State
from nib.model.text.heal import VocabIndex

ROOT = Path(__file__).resolve().parent.parent
SERVER = [sys.executable, "-I", "-m", "nib.server.cli", "serve"]
DEMO = ROOT / "benchmarks" / "samples" / "demo.py"
# A jedi worker that waits this long before each answer (tests that need jedi to be late).
SLOW_JEDI = [sys.executable, str(Path(__file__).resolve().parent / "slow_jedi_worker.py")]


def imported(name: str):
    """An imported model's directory: a failure, not a skip, where it is missing (the README's test
    command imports every pretrained model the tests name before pytest)."""
    import pytest

    from nib.model.errors import ModelError
    from nib.model.runtime import artifacts

    try:
        return artifacts.load(name)
    except ModelError as e:
        pytest.fail(f"{e}: the README's test command imports it before pytest")


def package_environment(root: Path) -> Path:
    """A virtual environment at root (made by this Python, no pip) with a package of its own,
    `zzpkg`, that nib's environment does not have: `frobnicate(count)` and `Frobnicator`."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    package = Path(purelib) / "zzpkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        "def frobnicate(count: int) -> int:\n    return count\n\n\nclass Frobnicator:\n    pass\n"
    )
    return root


def heldout_file(name: str) -> Path:
    """A file of the dev split of the held-out code (fetched once, like `nib heldout dev`)."""
    from nib.model.eval.heldout import fetch

    return fetch("dev") / name


# -- a vocabulary and a runtime small enough to reason about ------------------------

VOCAB = [
    b"<|endoftext|>",
    b"p",
    b"r",
    b"i",
    b"n",
    b"t",
    b"v",
    b"a",
    b"e",
    b"pr",
    b"pri",
    b"print",
    b"private",
    b" ",
    b"=",
    b" =",
    b" ==",
    b"==",
    b"x",
    b"(",
    b'("',
    b'"',
    b"\xc3",
    b"\xa9",
    b"\xc3\xa9",
    b"\xc3\xa9t\xc3\xa9",
    b"\n",
    b"int",
]
INDEX = VocabIndex(VOCAB, {0})


def ids(*pieces):
    return [VOCAB.index(p) for p in pieces]


def greedy_encode(data: bytes) -> list[int]:
    """Longest match first: the test vocabulary's stand-in for BPE (canonical encodings)."""
    toks = []
    while data:
        piece = max((v for v in VOCAB[1:] if data.startswith(v)), key=len)
        toks.append(VOCAB.index(piece))
        data = data[len(piece) :]
    return toks


class TableModel:
    """A runtime whose next-token probabilities are a function of the bytes so far.

    Its caches hold the token ids themselves, so the rows of a beam work as in the real runtime.
    """

    uses_types = False

    def __init__(self, next_probs):
        self.next_probs = next_probs  # bytes so far -> {piece: probability}

    def logits(self, tokens) -> np.ndarray:
        out = np.full(len(VOCAB), -40.0)
        for piece, p in self.next_probs(b"".join(VOCAB[t] for t in tokens)).items():
            out[VOCAB.index(piece)] = np.log(p)
        return out

    def state(self, tokens) -> State:
        cache = np.array(tokens, dtype=np.int64)[None, None, None, :, None]
        return State(tuple(tokens), (0,) * len(tokens), cache, cache)

    def empty(self, batch: int = 1):
        cache = np.zeros((1, batch, 1, 0, 1), dtype=np.int64)
        return cache, cache

    def step_rows(self, prefix, keys, values, tokens, types):
        keys = np.concatenate([keys, np.array(tokens)[None, :, None, None, None]], axis=3)
        return (
            np.stack([self.logits(list(prefix.tokens) + keys[0, b, 0, :, 0].tolist()) for b in range(len(tokens))]),
            keys,
            keys,
        )

    def extend(self, prefix, keys, values, tokens, types):
        """One row, several tokens: the logits after each."""
        rows = []
        for tok in tokens:
            logits, keys, _ = self.step_rows(prefix, keys, keys, [tok], [0])
            rows.append(logits[0])
        return np.stack(rows), keys, keys


def copying_model(original: bytes):
    """Prefers the canonical next token of `original`; after a wrong turn, anything."""

    def next_probs(so_far):
        if not original.startswith(so_far) or so_far == original:
            return {v: 1 / 30 for v in VOCAB[1:]}
        rest = original[len(so_far) :]
        return {
            v: (0.9 if VOCAB.index(v) == greedy_encode(rest)[0] else 0.1 / 30)
            for v in VOCAB[1:]
            if v != b"\n" or rest.startswith(v)
        }

    return next_probs


def table_model(probs):
    """A TableModel over a fixed table: bytes so far (after the prompt's first byte) -> {piece: p}."""
    return TableModel(lambda so_far: probs.get(so_far[1:], {b"\n": 1.0}))


def torch_agrees_with_int8(torch_runtime, model_dir, device: str, tokens: int) -> None:
    """An imported model through torch in fp32 (`model.device`): its top-1 agrees with the int8 ONNX
    model on `tokens` tokens of nib's source as the import's parity says, and a cached step gives
    the same next token as one pass."""
    import numpy as np

    from nib.model.runtime import load_tokenizer
    from nib.model.runtime.embedded import EmbeddedRuntime

    fp32, int8 = torch_runtime(model_dir, device), EmbeddedRuntime(model_dir)
    ids = load_tokenizer(model_dir).encode((ROOT / "model" / "completion" / "decode.py").read_text())[:tokens]
    a, state = fp32.prefill(ids[:-1], [0] * (len(ids) - 1))
    b, _ = int8.prefill(ids[:-1], [0] * (len(ids) - 1))
    assert np.mean(a.argmax(-1) == b.argmax(-1)) >= 0.94
    step, _ = fp32.step(state, ids[-1], 0)
    whole, _ = fp32.prefill(ids, [0] * len(ids))
    assert step.argmax() == whole[-1].argmax()


def int8_matmuls(model_dir) -> tuple[int, set]:
    """An imported graph's int8 MatMuls: how many, and their (bits, block_size, accuracy_level)."""
    import onnx

    graph = onnx.load(str(model_dir.onnx), load_external_data=False).graph
    nodes = [{a.name: a.i for a in n.attribute} for n in graph.node if n.op_type == "MatMulNBits"]
    return len(nodes), {(n["bits"], n["block_size"], n["accuracy_level"]) for n in nodes}


def tiny_qwen2(vocab_size: int, layers: int, initializer_range: float = 0.02):
    """A random transformers Qwen2 (width 32, 4 heads on 2 KV heads), the same for a seed of 0."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        initializer_range=initializer_range,
    )
    return Qwen2ForCausalLM(config).eval()


def tokenizer_arrays_agree_with_hf(model_dir, extra: list[str]) -> None:
    """An import's tokenizer from arrays (`net/compact_bpe.py`) against HF tokenizers reading its
    tokenizer.json: the same tokens on nib's source and on `extra`, the same pieces and control ids."""
    from tokenizers import Tokenizer

    from nib.model.net.compact_bpe import CompactBPE
    from nib.model.runtime import load_tokenizer

    assert model_dir.manifest["files"]["tokenizer_arrays"]["bytes"] == model_dir.file("tokenizer_arrays").stat().st_size
    bpe = load_tokenizer(model_dir)
    assert type(bpe.tok) is CompactBPE
    hf = type(bpe)(Tokenizer.from_file(str(model_dir.tokenizer)), np.load(model_dir.file("vocab_order")))
    texts = [p.read_text() for p in sorted((ROOT / "model").rglob("*.py"))] + extra
    assert [bpe.encode(t) for t in texts] == [hf.encode(t) for t in texts]
    assert list(bpe.token_bytes) == list(hf.token_bytes)
    assert (bpe.bos, bpe.eot, bpe.stop, bpe.fim, bpe.repo) == (hf.bos, hf.eot, hf.stop, hf.fim, hf.repo)
    assert bpe.special_ids == hf.special_ids
