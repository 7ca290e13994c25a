"""When the first ghost text at each point of a `latency.py` replay came, in time since the
point's first key rather than in keys: the replay sends a key every 1/cps seconds or when the
last key's answers are in, if later, so a server that answers slowly is given fewer keys in the
same time, and a count of keys would favour it. Each key is taken to last max(1/cps, its ghost
text's latency); the list's latency of the same key, answered together, is not in the raw JSON
and is left out (it passes 1/cps mostly at a point's first key, the first list there).

    python benchmarks/first_ghost.py benchmarks/results/fill/*.json
"""

import argparse
import json
import statistics
from pathlib import Path


def first_times(report: dict) -> tuple[list[float | None], list[float | None]]:
    """For each point: ms from its first key until a ghost text was first shown, and first right (None: never)."""
    keys, pace_ms = report["keys"], 1e3 / report["cps"]
    raw = report["replays"]["points"]["nib"]["raw_ghost"]
    shown, right = [], []
    for start in range(0, len(raw), keys):
        at, first_shown, first_right = 0.0, None, None
        for ms, was_shown, chars_right in raw[start : start + keys]:
            if was_shown and first_shown is None:
                first_shown = at + ms
            if chars_right and first_right is None:
                first_right = at + ms
            at += max(pace_ms, ms)
        shown.append(first_shown)
        right.append(first_right)
    return shown, right


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path)
    for path in parser.parse_args().reports:
        shown, right = first_times(json.loads(path.read_text()))
        parts = []
        for name, times in (("shown", shown), ("right", right)):
            came = [t for t in times if t is not None]
            median = f"{statistics.median(came):.0f} ms" if came else "-"
            parts.append(f"first {name}: median {median} at {len(came)} of {len(times)} points")
        print(f"{path.name}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
