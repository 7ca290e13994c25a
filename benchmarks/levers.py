"""Gemma 3 270M's speed levers, each measured with and without, in one run (test split).

- quantization: the serving graph in fp32, int8 everywhere (shipped), int8 with the head in fp32:
  one decode step, a 448-token prefill, the file's size, and top-1 agreement with fp32 over
  2048 tokens of held-out code;
- the pruned output head: the kept tokens (shipped) against all 262,144, both int8: one decode step;
- drafted decoding from the file (prompt lookup): the statement at identifier starts, drafts
  off against 3 tokens: latency, tokens run per pass, and whether the text is the same;
- chunked prefill: a 2k-token cold prompt at once, or in pieces.

Variants are built here from the GGUF of the installed package (about 4 minutes); the
imported model (`nib model import gemma3-270m`) serves the engine measurements.

    python benchmarks/levers.py --json benchmarks/results/pretrained/levers.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from latency import write_report

from nib.model.eval.heldout import fetch
from nib.model.eval.points import identifier_line_points, python_files
from nib.model.pretrained import registry
from nib.model.runtime import artifacts, open_runtime

STEPS = 40


def timed(fn, repeat: int) -> float:
    """Median ms of fn()."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    return round(float(np.median(out)), 2)


def session(path: Path, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads, opts.log_severity_level = threads, 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def graph_figures(path: Path, embeds: np.ndarray, reference: np.ndarray | None, threads: int) -> dict:
    """A graph's decode step after a 448-token prompt, the prefill itself, size, top-1 against reference."""
    s = session(path, threads)
    empty = np.zeros((18, 1, 1, 0, 256), np.float32)

    def run(e, pk, pv):
        feed = {"embeds": e, "prefix_keys": pk, "prefix_values": pv, "past_keys": empty, "past_values": empty}
        return s.run(None, {**feed, "scored": np.arange(e.shape[1])})  # every position, as measured before

    _, keys, values = run(embeds[:, :448], empty, empty)
    out = {
        "step_ms": timed(lambda: run(embeds[:, 448:449], keys, values), STEPS),
        "prefill_448_ms": timed(lambda: run(embeds[:, :448], empty, empty), 3),
        "mb": round(path.stat().st_size / 1e6),
    }
    if reference is not None:
        top1 = [run(embeds[:, lo : lo + 512], empty, empty)[0][0].argmax(-1) for lo in range(0, embeds.shape[1], 512)]
        out["top1_vs_fp32"] = round(float((np.concatenate(top1) == reference).mean()), 4)
    return out


def quantization_and_head(threads: int, text: str) -> dict:
    import torch

    from nib.model.net.gemma import Gemma
    from nib.model.net.sentencepiece import SentencePieceBPE
    from nib.model.pretrained.convert import to_onnx, vocabulary_order
    from nib.model.runtime.torch import load_hf
    from nib.model.train.export import quantize

    spec = registry.get("gemma3-270m")
    package = __import__(spec.module)
    kept = spec.kept()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        hf, tokenizer = load_hf(package.assemble(tmp / "model.gguf"))
        order = vocabulary_order(kept, hf.config.vocab_size)
        model_dir = artifacts.load(spec.dir)
        bpe = SentencePieceBPE.load(model_dir.tokenizer)
        ids = ([bpe.bos] + bpe.encode(text))[:2048]
        with torch.no_grad():
            embeds = hf.model.embed_tokens(torch.tensor([ids])).numpy()
        pruned, full = Gemma.from_hf(hf, torch.from_numpy(order[: len(kept)])), Gemma.from_hf(hf)
        to_onnx(pruned, tmp / "fp32.onnx")
        to_onnx(full, tmp / "full_fp32.onnx")
        head = (pruned.cfg.d_model, len(kept))
        quantize(tmp / "fp32.onnx", tmp / "int8_all.onnx", block_size=32)  # as imported
        quantize(tmp / "fp32.onnx", tmp / "int8_head_fp32.onnx", block_size=32, keep_fp32=lambda shape: shape == head)
        quantize(tmp / "full_fp32.onnx", tmp / "full_int8_all.onnx", block_size=32)
        ref = graph_figures(tmp / "fp32.onnx", embeds, None, threads)
        s = session(tmp / "fp32.onnx", threads)
        empty = np.zeros((18, 1, 1, 0, 256), np.float32)
        reference = np.concatenate(
            [
                s.run(
                    None,
                    {
                        "embeds": embeds[:, lo : lo + 512],
                        "prefix_keys": empty,
                        "prefix_values": empty,
                        "past_keys": empty,
                        "past_values": empty,
                        "scored": np.arange(embeds[:, lo : lo + 512].shape[1]),
                    },
                )[0][0].argmax(-1)
                for lo in range(0, embeds.shape[1], 512)
            ]
        )
        return {
            "tokens": len(ids),
            "quantization": {
                "fp32": {**ref, "top1_vs_fp32": 1.0},
                "int8 everywhere (shipped)": graph_figures(tmp / "int8_all.onnx", embeds, reference, threads),
                "int8, head fp32": graph_figures(tmp / "int8_head_fp32.onnx", embeds, reference, threads),
            },
            "head": {  # both int8 everywhere, as shipped
                f"pruned to {len(kept)} tokens (shipped)": graph_figures(tmp / "int8_all.onnx", embeds, None, threads),
                f"all {hf.config.vocab_size} tokens": graph_figures(tmp / "full_int8_all.onnx", embeds, None, threads),
            },
        }


def drafting(model: str, threads: int, points: int, split: str = "dev") -> dict:
    from nib.model.completion.local import LocalCompleter
    from nib.model.completion.request import Options, Request

    engine = LocalCompleter.load(model, threads=threads)
    options = Options(statement_budget_ms=10_000, statement_min_confidence=0)  # every statement, to compare
    texts = [f.read_text() for f in python_files(fetch(split))]
    cuts = identifier_line_points(texts, points, 0)
    out, answers = {"split": split}, {}
    for draft in (0, 3):
        engine.decoder.draft_tokens = draft
        ms, drafted, accepted, passes, texts_out = [], 0, 0, 0, []
        for p in cuts:
            engine._statement_memo.clear()
            engine.shown.clear()
            text = texts[p.file][: p.offset]
            engine.warm(text, p.offset)  # the prompt is prefilled: this measures decoding
            t0 = time.perf_counter()
            result = engine.complete(Request(text, p.offset, "statement", options))
            ms.append((time.perf_counter() - t0) * 1e3)
            texts_out.append(result.candidates[0].text if result.candidates else "")
            t = result.timings
            drafted, accepted, passes = drafted + t.drafted, accepted + t.accepted, passes + t.passes
        answers[draft] = texts_out
        out[f"drafts of {draft}" if draft else "no drafts"] = {
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1),
            "mean_ms": round(float(np.mean(ms)), 1),
            "drafted": drafted,
            "accepted": accepted,
            "forward_passes": passes,
            "tokens_per_pass": round((passes + accepted) / max(passes, 1), 3),
        }
    out["same_text"] = sum(a == b for a, b in zip(answers[0], answers[3], strict=True))
    out["cuts"] = len(cuts)
    return out


def chunked_prefill(threads: int, text: str) -> dict:
    runtime, model_dir = open_runtime("gemma3-270m", threads=threads)
    from nib.model.runtime import load_tokenizer

    ids = ([2] + load_tokenizer(model_dir).encode(text))[:2000]
    out = {}
    for chunk in (None, 1024, 512, 256):
        runtime.prefill_chunk = chunk
        out[str(chunk or "at once")] = timed(lambda: runtime.prefill(ids, [0] * len(ids)), 3)
    return {"tokens": len(ids), "ms": out}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--points", type=int, default=100, help="identifier cuts for drafting")
    parser.add_argument("--drafting", nargs="+", default=["gemma3-270m"], help="the models drafting is measured on")
    parser.add_argument("--drafting-only", action="store_true", help="without the variants built from the GGUF")
    parser.add_argument("--split", default="dev", help="the held-out split drafting is measured on (a choice: dev)")
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    sample = "\n".join(f.read_text() for f in python_files(fetch("test"))[:6])
    report = {
        "command": "python benchmarks/levers.py " + " ".join(sys.argv[1:]),
        "threads": args.threads,
        "drafting": {model: drafting(model, args.threads, args.points, args.split) for model in args.drafting},
    }
    if not args.drafting_only:
        report.update(
            chunked_prefill=chunked_prefill(args.threads, sample), **quantization_and_head(args.threads, sample)
        )
    print(json.dumps(report, indent=1))
    write_report(args.json_out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
