"""`nib finetune NAME`: continued training of an imported pretrained code model with
fill-in-the-middle on nib's corpus (`fim.py`), on a GPU in minutes (or on a CPU in bf16, in an
hour); writes the adapter file that `nib model import NAME --adapter FILE` merges, and a report
of its dev-split figures before and after (greedy middles exact, by `fim.measure`, each FIM
layout and fim off on the same cuts).

The weights are the pinned GGUF's (`runtime/pinned.py`), read by transformers as the import
reads them; the dev split's files are never trained on (they are the held-out code's).
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from pathlib import Path

from nib.model.errors import ModelError

LAYOUTS = ("psm", "spm", "line")  # fim.LAYOUTS, spelled here: the CLI is built without importing torch


def run(
    name: str,
    corpus: Path,
    out: Path,
    seconds: float,
    examples: int,
    rank: int,
    lr: float,
    max_tokens: int,
    device: str,
    dev_cuts: int = 500,
    layouts: tuple[str, ...] = LAYOUTS,
    dtype: str = "auto",
    project_cuts: Path | None = None,
    say=print,
) -> dict:
    import torch

    from nib.model.pretrained import registry
    from nib.model.pretrained.convert import vocabulary_order
    from nib.model.sources import read_corpus
    from nib.model.train import fim, lora

    texts = [text for _, text in read_corpus(corpus)] if (corpus / "files.jsonl").is_file() else []
    if not texts:
        raise ModelError(f"no training files in {corpus}: run `nib corpus --out {corpus}`")
    started = time.monotonic()
    model, tokenizer, dev = _load(name, device, dtype)
    say(f"loaded {name} in {time.monotonic() - started:.0f} s")
    kept = registry.get(name).kept()
    tokens = fim.Tokens.of(tokenizer, vocabulary_order(kept, len(tokenizer)), len(kept))
    dev_sets = _dev_sets(tokens, dev_cuts)
    report: dict = {
        "model": name,
        "corpus": json.loads((corpus / "corpus.json").read_text())["sha256"],
        "rank": rank,
        "lr": lr,
        "max_tokens": max_tokens,
        "device": str(dev),
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "layouts": list(layouts),
        "dev_cuts": len(dev_sets["off"]),
    }
    model.eval()
    report["before"] = {k: fim.measure(model, v, dev, tokens.token_bytes) for k, v in dev_sets.items()}
    say(f"before: {report['before']}")
    torch.manual_seed(0)  # the adapters' starting A: the same run gives the same adapter (on the same device)
    adapters = lora.attach(model, rank, alpha=2.0 * rank)
    params = [p for a in adapters.values() for p in (a.a, a.b)]
    model.train()
    report["train"] = fim.train(
        model, params, _examples(texts, tokens, examples, layouts, project_cuts), dev, seconds, max_tokens, lr, say
    )
    lora.save(adapters, out, _about(name, report, layouts))
    model.eval()
    report["after"] = {k: fim.measure(model, v, dev, tokens.token_bytes) for k, v in dev_sets.items()}
    say(f"after: {report['after']}")
    report["adapter"] = str(out)
    report["seconds"] = round(time.monotonic() - started, 1)
    return report


def _examples(texts, tokens, count: int, layouts, project_cuts: Path | None) -> list:
    """fim.mixed's examples, and up to as many again from the cuts with project context (when
    given; in the line layout, the only one they are laid out in), shuffled together: the model
    learns to read the context without forgetting the file alone."""
    from nib.model.train import fim
    from nib.model.train import project_cuts as with_project

    if project_cuts is not None and "line" not in layouts:
        raise ModelError("--project-cuts trains the line layout: add --layouts line")
    examples = fim.mixed(texts, tokens, count, 1, layouts)
    if project_cuts is None:
        return examples
    cuts = with_project.read(project_cuts)[:count]
    examples += with_project.examples(cuts, tokens, random.Random(2))
    random.Random(3).shuffle(examples)
    return examples


def _about(name: str, report: dict, layouts: tuple[str, ...]) -> dict:
    """The adapter's meta: what it was trained on and how; trained for one layout, the adapted model
    serves in it (its "defaults", `ModelDir.defaults`)."""
    about = {"model": name, "corpus": report["corpus"], "layouts": list(layouts), "train": report["train"]}
    return about | ({"defaults": {"fim": layouts[0]}} if len(layouts) == 1 else {})


def _load(name: str, device: str, dtype: str = "auto"):
    """transformers' model of the pinned GGUF, its tokenizer, the device. dtype auto: bf16 on a GPU,
    fp32 on the CPU; bf16 pays on a CPU only where it multiplies bf16 natively (AMX, AVX-512 BF16;
    `benchmarks/finetune_dtype.py` times both)."""
    import torch

    from nib.model.pretrained import registry
    from nib.model.runtime.pinned import assemble
    from nib.model.runtime.torch import load_hf, torch_device

    spec = registry.get(name)
    _, dev = torch_device(device)
    with tempfile.TemporaryDirectory() as tmp:
        gguf = Path(tmp) / "model.gguf"
        assemble(spec, gguf)
        model, tokenizer = load_hf(gguf)
    half = dtype == "bf16" or (dtype == "auto" and dev.type == "cuda")
    return model.to(dev, torch.bfloat16 if half else torch.float32), tokenizer, dev


def _dev_sets(tokens, n: int) -> dict:
    """n rest-of-line cuts of the dev split, as each FIM layout and without FIM (the same cuts)."""
    from nib.model.eval.heldout import fetch
    from nib.model.train import fim

    held = [p.read_text(errors="replace") for p in sorted(fetch("dev").rglob("*.py"))]
    if not held:
        raise ModelError("no dev split files: run `nib heldout dev`")
    rng = random.Random(7)
    cuts = [c for _ in range(2 * n) if (c := fim.cut(rng.choice(held), rng, span=False)) is not None][:n]
    sets = {layout: fim.fim_examples(cuts, tokens, random.Random(8), (layout,)) for layout in ("psm", "spm", "line")}
    return sets | {"off": fim.off_examples(cuts, tokens)}


def register(sub) -> None:
    p = sub.add_parser(
        "finetune", help="continued training with fill-in-the-middle (LoRA; a GPU, or a CPU with --dtype bf16)"
    )
    p.add_argument("name", help="an importable pretrained model with FIM tokens")
    p.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    p.add_argument("--out", type=Path, required=True, help="the adapter file to write")
    p.add_argument("--report", type=Path, help="also write the report (JSON) here")
    p.add_argument("--seconds", type=float, default=180, help="0: one pass over the examples (reproducible)")
    p.add_argument("--examples", type=int, default=60000)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--max-tokens", type=int, default=16384, help="tokens a batch, padding included")
    p.add_argument("--device", default="auto")
    p.add_argument("--dev-cuts", type=int, default=500, help="dev split cuts measured before and after")
    p.add_argument("--layouts", nargs="+", choices=LAYOUTS, default=list(LAYOUTS), help="FIM layouts trained, in turn")
    p.add_argument(
        "--dtype", choices=("auto", "bf16", "fp32"), default="auto", help="auto: bf16 on a GPU, fp32 on the CPU"
    )
    p.add_argument(
        "--project-cuts", type=Path, help="also train on these cuts with project context (`nib project-cuts`)"
    )
    p.set_defaults(run=_main)

    p = sub.add_parser("project-cuts", help="training cuts with the project context the server would show")
    p.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    p.add_argument("--out", type=Path, default=Path("data/corpus/project_cuts.jsonl"))
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--jobs", type=int, default=2)
    p.set_defaults(run=_project_cuts)


def _project_cuts(args) -> int:
    from nib.model.sources import read_corpus
    from nib.model.train import project_cuts

    rows = project_cuts.build(read_corpus(args.corpus), args.count, args.seed, args.jobs)
    with open(args.out, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    print(f"{len(rows)} cuts with project context -> {args.out}")
    return 0


def _main(args) -> int:
    report = run(
        args.name,
        args.corpus,
        args.out,
        args.seconds,
        args.examples,
        args.rank,
        args.lr,
        args.max_tokens,
        args.device,
        args.dev_cuts,
        tuple(dict.fromkeys(args.layouts)),  # each once: `--layouts line line` is line alone
        args.dtype,
        args.project_cuts,
    )
    text = json.dumps(report, indent=2) + "\n"
    if args.report:
        args.report.write_text(text)
    print(text, end="")
    return 0
