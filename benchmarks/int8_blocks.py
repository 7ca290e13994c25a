"""int8 blocks of 16 against 32 (and int8 weights with fp32 compute), for nib's own models and Gemma.

- agreement: a toy CodeLM trained here as tests/train/test_pipeline.py trains it (the stdlib's json
  package), exported by `nib export`; each of the package's files scored by `export.parity` (int8
  top-1 against fp32) with the fp32 graph quantized three ways;
- cost: the bundled model's architecture (random weights: the time does not depend on them), each
  graph's file size, one decode step over a 448-token prompt, a step of 4 beams, a 448-token prefill,
  interleaved so that the machine's noise falls on both;
- with --gemma: Gemma 3 270M's serving graph built from the installed GGUF (as benchmarks/levers.py
  builds it), 2,048 tokens of the dev split: top-1 against fp32, a step, a prefill, the file's size.

    python benchmarks/int8_blocks.py --gemma --json benchmarks/results/int8_blocks.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from latency import write_report

NIB = [sys.executable, "-I", "-m", "nib.server.cli"]
VARIANTS = {
    "blocks of 32, int8 compute": (32, 4),
    "blocks of 16, int8 compute": (16, 4),
    "blocks of 32, fp32 compute": (32, 1),
}


def quantized(src: Path, dst: Path, block: int, level: int) -> Path:
    import logging

    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)
    q = MatMulNBitsQuantizer(onnx.load(str(src)), bits=8, block_size=block, is_symmetric=True, accuracy_level=level)
    q.process()
    q.model.save_model_to_file(str(dst))
    return dst


def toy(work: Path) -> Path:
    """The test's toy: corpus, tokenizer, encode, train, export with its fp32 graph kept."""
    (work / "corpus.toml").write_text('stdlib = true\nstdlib_include = ["json/*.py"]\npackages = []\n')
    train = ["--layers", 2, "--width", 64, "--block-size", 64, "--batch-size", 16, "--threads", 2]
    for args in (
        ["corpus", "--manifest", "corpus.toml", "--out", "data/corpus"],
        ["tokenizer", "--vocab", 600],
        ["encode"],
        ["train", "--out", "runs/toy", *train, "--budget-tokens", 64 * 16 * 400],
        ["export", "runs/toy/ckpt.pt", "--out", "model", "--keep-fp32"],
    ):
        subprocess.run(NIB + [str(a) for a in args], cwd=work, check=True, capture_output=True, timeout=600)
    return work


def agreement(work: Path) -> dict:
    import json as stdlib_json

    from nib.model.net.network import load_checkpoint
    from nib.model.net.tokenizer import BPE
    from nib.model.text.streams import INPUT_TYPE, token_types
    from nib.model.train.export import parity

    model, bpe = load_checkpoint(work / "runs/toy/ckpt.pt"), BPE.load(work / "model/tokenizer.json")
    fp32 = work / "model/model.fp32.onnx"
    graphs = {name: quantized(fp32, work / f"{b}_{lv}.onnx", b, lv) for name, (b, lv) in VARIANTS.items()}
    out: dict = {name: {} for name in graphs}
    for f in sorted(Path(stdlib_json.__file__).parent.glob("*.py")):
        text = f.read_text()
        ids = bpe.encode(text)
        types = INPUT_TYPE[token_types(text, ids, bpe.token_bytes)].tolist()
        for name, graph in graphs.items():
            p = parity(model, fp32, graph, ids, types)
            out[name][f.name] = {"tokens": p["tokens"], "agree": round(p["int8_vs_fp32_top1_agreement"] * p["tokens"])}
    for files in out.values():
        tokens, agree = sum(v["tokens"] for v in files.values()), sum(v["agree"] for v in files.values())
        files["all"] = {"tokens": tokens, "agree": agree, "agreement": round(agree / tokens, 4)}
    return out


def cost(tmp: Path, threads: int, rounds: int = 60) -> dict:
    import onnxruntime as ort
    import torch

    from nib.model.net.network import CodeLM, Config
    from nib.model.runtime import artifacts
    from nib.model.train.export import to_onnx

    arch = json.loads((artifacts.DEFAULT_DIR / artifacts.MANIFEST_FILE).read_text())["architecture"]
    cfg = Config(**{k: v for k, v in arch.items() if k not in ("name", "params")})
    torch.manual_seed(0)
    to_onnx(CodeLM(cfg).eval(), tmp / "bundled_fp32.onnx")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.log_severity_level = threads, 3
    sessions, out = {}, {}
    for name, (block, level) in list(VARIANTS.items())[:2]:  # fp32 compute: far slower, see Gemma's
        path = quantized(tmp / "bundled_fp32.onnx", tmp / f"bundled_{block}.onnx", block, level)
        sessions[name] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        out[name] = {"mb": round(path.stat().st_size / 1e6, 2)}
    rng = np.random.default_rng(0)
    layers, heads, width = cfg.n_layer, cfg.n_head, cfg.d_model // cfg.n_head

    def feed(new: int, prompt: int, rows: int = 1) -> dict:
        cache = rng.standard_normal((layers, 1, heads, prompt, width)).astype(np.float32) * 0.1
        own = np.zeros((layers, rows, heads, 0, width), np.float32)
        ids = rng.integers(10, cfg.vocab_size, (rows, new))
        kv = {"prefix_keys": cache, "prefix_values": cache, "past_keys": own, "past_values": own}
        return {"input_ids": ids, "type_ids": np.zeros_like(ids), **kv}

    cases = {"step_ms": feed(1, 448), "beams_4_step_ms": feed(1, 448, 4), "prefill_448_ms": feed(448, 0)}
    times: dict = {name: {case: [] for case in cases} for name in sessions}
    for n in range(rounds + 1):
        for name, s in sessions.items():
            for case, f in cases.items():
                start = time.perf_counter()
                s.run(None, f)
                if n:  # the first run allocates
                    times[name][case].append((time.perf_counter() - start) * 1e3)
    for name in sessions:
        out[name].update({case: round(float(np.median(t)), 2) for case, t in times[name].items()})
    return {"architecture": arch, "threads": threads, "rounds": rounds, **out}


def gemma(tmp: Path, threads: int) -> dict:
    import torch
    from levers import graph_figures, session

    from nib.model.eval.heldout import fetch
    from nib.model.eval.points import python_files
    from nib.model.net.gemma import Gemma
    from nib.model.net.sentencepiece import SentencePieceBPE
    from nib.model.pretrained import registry
    from nib.model.pretrained.convert import to_onnx, vocabulary_order
    from nib.model.runtime import artifacts
    from nib.model.runtime.torch import load_hf

    spec = registry.get("gemma3-270m")
    hf, _ = load_hf(__import__(spec.module).assemble(tmp / "model.gguf"))
    kept = spec.kept()
    bpe = SentencePieceBPE.load(artifacts.load(spec.dir).tokenizer)
    text = "\n".join(f.read_text() for f in python_files(fetch("dev"))[:6])
    ids = ([bpe.bos] + bpe.encode(text))[:2048]
    with torch.no_grad():
        embeds = hf.model.embed_tokens(torch.tensor([ids])).numpy()
    order = torch.from_numpy(vocabulary_order(kept, hf.config.vocab_size)[: len(kept)])
    to_onnx(Gemma.from_hf(hf, order), tmp / "gemma_fp32.onnx")
    s, empty = session(tmp / "gemma_fp32.onnx", threads), np.zeros((18, 1, 1, 0, 256), np.float32)
    kv = {"prefix_keys": empty, "prefix_values": empty, "past_keys": empty, "past_values": empty}
    reference = np.concatenate(
        [
            s.run(None, {"embeds": e, **kv, "scored": np.arange(e.shape[1])})[0][0].argmax(-1)
            for e in (embeds[:, lo : lo + 512] for lo in range(0, embeds.shape[1], 512))
        ]
    )
    out = {"split": "dev", "tokens": len(ids)}
    for name, (block, level) in VARIANTS.items():
        path = quantized(tmp / "gemma_fp32.onnx", tmp / f"gemma_{block}_{level}.onnx", block, level)
        out[name] = graph_figures(path, embeds, reference, threads)
    return out


def machine() -> dict:
    """What the int8 kernels depend on: onnxruntime's version and the CPU's int8 instructions."""
    import onnxruntime

    flags = set(Path("/proc/cpuinfo").read_text().split()) if Path("/proc/cpuinfo").exists() else set()
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
    return {"onnxruntime": onnxruntime.__version__, "cpu_flags": [f for f in wanted if f in flags]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gemma", action="store_true", help="Gemma 3 270M too (about 10 minutes)")
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "toy").mkdir()
        report = {
            "command": "python benchmarks/int8_blocks.py " + " ".join(sys.argv[1:]),
            "machine": machine(),
            "toy_agreement": agreement(toy(tmp / "toy")),
            "bundled_shape_cost": cost(tmp, args.threads),
        }
        if args.gemma:
            report["gemma3-270m"] = gemma(tmp, args.threads)
    print(json.dumps(report, indent=1))
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
