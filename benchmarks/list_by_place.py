"""The list's latencies of a `latency.py` replay split by where they were asked, in code or in a
comment or a docstring (where nib lists nothing since 27379bd). The replay's keystrokes are made
again from its files and seeds, so a report written before the split was recorded can be split.

    python benchmarks/list_by_place.py benchmarks/results/breakdown/list_prose_*.json
"""

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from latency import TRIGGERS, point_edits, stats  # noqa: E402  (a script beside this one)

from nib.model.text.prose import in_prose  # noqa: E402


def places(report: dict) -> list[tuple[int, str]]:
    """For each list the replay asked, in the order of its raw latencies (the first list at each
    point, then the later ones, as `latency.main` keeps them): its seed and where it was asked,
    "first" (the first list at a point), "code" or "prose"."""
    files = [Path(p) for p in report["files"]]
    firsts, later = [], []
    for seed in report["seeds"]:
        for edit in point_edits(files, 1, report["keys"], random.Random(seed)):
            text, first = edit.text[: edit.at] + edit.text[edit.at + len(edit.typed) :], True
            for i, ch in enumerate(edit.typed):
                cursor = edit.at + i
                text = text[:cursor] + ch + text[cursor:]
                if ch.isalnum() or ch == "_" or ch in TRIGGERS:
                    if first:
                        firsts.append((seed, "first"))
                        first = False
                    else:
                        later.append((seed, "prose" if in_prose(text, cursor + 1)[0] else "code"))
    return firsts + later


def split(report: dict) -> dict[str, dict[str, dict]]:
    """The percentiles (`latency.stats`) of the later lists in code, in prose, and of all of them seed by seed, for each
    server in the replay."""
    (replay,) = report["raw_list_ms"].values()
    where = places(report)
    out: dict[str, dict[str, dict]] = {}
    for server, raw in replay.items():
        if len(raw) != len(where):  # not the replay these keystrokes were made from
            raise SystemExit(f"{server}: {len(raw)} lists in the report, {len(where)} made again")
        later = [(seed, place, ms) for (seed, place), ms in zip(where, raw, strict=True) if place != "first"]
        for place in ("code", "prose"):
            out.setdefault(place, {})[server] = stats([ms for _, p, ms in later if p == place])
        for seed in report["seeds"]:
            out.setdefault(f"seed {seed}", {})[server] = stats([ms for s, _, ms in later if s == seed])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path)
    args = parser.parse_args()
    for path in args.reports:
        for place, by_server in split(json.loads(path.read_text())).items():
            cells = "; ".join(f"{s} n={v['n']} p50 {v['p50']} p95 {v['p95']} ms" for s, v in by_server.items())
            print(f"{path.name} {place}: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
