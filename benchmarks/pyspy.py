"""Where nib's time goes: py-spy's raw samples of a replay, summed by step of the pipeline.

    python benchmarks/latency.py --no-jedi --lines 0 --profile /tmp/nib.txt   # samples nib's processes
    python benchmarks/pyspy.py /tmp/nib.txt [--rate 250] [--json OUT]

Each sample (a stack, root first) is charged to the deepest step it is in, and
split by whether the model's forward pass (onnxruntime or torch) is on top of it.
Idle threads are not sampled, so the shares are of busy CPU time across threads
and processes (jedi's worker runs in a process of its own, beside the server).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

# (frame substring, step): the deepest frame that matches names the step
STEPS = [
    ("asyncio/", "event loop"),
    ("pygls/", "protocol (pygls, JSON)"),
    ("cattrs/", "protocol (pygls, JSON)"),
    ("json/", "protocol (pygls, JSON)"),
    ("server/documents.py", "documents (edits, offsets)"),
    ("server/positions.py", "documents (edits, offsets)"),
    ("server/convert.py", "conversion to LSP items"),
    ("ListRanker.complete", "mixing"),
    ("listing/mixing.py", "mixing"),
    ("listing/identifiers.py", "identifier n-gram"),
    ("listing/jedi.py", "jedi (asking, in the server)"),
    ("LocalCompleter._prompt", "prefill"),
    ("text/context.py", "context"),
    ("service/project.py", "project context"),
    ("text/stubs.py", "project context"),
    ("prompt.py", "lex + heal"),
    ("LocalCompleter._decode_list", "list: the model's own lexemes"),
    ("LocalCompleter._decode_statement", "statement"),
    ("LocalCompleter._score_names", "list: scoring jedi's names"),
    ("CompletionService.speculate", "speculative list (in a pause)"),
    ("CompletionService._warm", "warm-up (idle prefill)"),
]
FORWARD = ("onnxruntime/", "torch/")


def charge(stack: str) -> tuple[str, bool]:
    """(step, whether the model's forward pass is running) for one sample's stack."""
    frames = stack.split(";")
    if any("jedi_worker" in f for f in frames if f.startswith("process ")):  # a child process's samples
        return "jedi (worker process)", False
    step = "other"
    for frame in frames:
        for needle, name in STEPS:
            if needle in frame:
                step = name
    return step, any(f in frame for frame in frames for f in FORWARD)


def summarise(path: Path, rate: int) -> dict:
    steps, forward = Counter(), Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():  # a frame name with a line break in it: the sample goes on next line
            continue
        step, in_forward = charge(stack)
        steps[step] += int(count)
        forward[step] += int(count) if in_forward else 0
    total = sum(steps.values())
    return {
        "samples": total,
        "rate_hz": rate,
        "steps": {
            step: {
                "ms": round(n * 1e3 / rate),
                "share": round(n / total, 3),
                "forward_share": round(forward[step] / n, 3),
            }
            for step, n in steps.most_common()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("raw", type=Path, help="py-spy record --format raw output")
    parser.add_argument("--rate", type=int, default=250, help="py-spy's sampling rate (latency.py uses 250)")
    parser.add_argument("--json", type=Path, dest="json_out")
    parser.add_argument("--replay", default="", help="the command that recorded the samples, kept in the JSON")
    args = parser.parse_args()
    report = {"command": "python benchmarks/pyspy.py " + " ".join(sys.argv[1:]), **summarise(args.raw, args.rate)}
    print(f"{'step':36} {'CPU ms':>8} {'share':>6} {'in forward':>10}")
    for step, s in report["steps"].items():
        print(f"{step:36} {s['ms']:>8} {s['share']:>6.1%} {s['forward_share']:>10.0%}")
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
