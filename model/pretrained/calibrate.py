"""`nib model calibrate`: how long an imported model's statement takes on this machine.

At cuts where a name starts in a text shipped with nib (its decoder's source), the prompt
before the cut is prefilled, as the server does when a file is opened or the user pauses,
and then the statement is timed after the name's first character: a keystroke on code the
model has not been shown, the whole statement (no budget cuts it). The p50 decides whether
the model can be the default here (`runtime/choice.py`).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import time
from pathlib import Path

import numpy as np

from nib.model.runtime import artifacts
from nib.model.runtime.choice import calibration_file

CUTS = 12
TEXT = Path(__file__).parents[1] / "completion" / "decode.py"
_NAME_START = re.compile(r"(?<=[ (\[=])[A-Za-z_]\w{2,}")


def cuts(text: str, n: int = CUTS, skip: int = 2000) -> list[int]:
    """n offsets, evenly spread after the first `skip` characters, where a name of 3+ characters starts.

    Example: cuts("x = alpha + beta(gamma)", 2, 0) == [4, 12]
    """
    starts = [m.start() for m in _NAME_START.finditer(text) if m.start() >= skip]
    step = max(1, len(starts) // n)
    return starts[::step][:n]


def calibrate(name: str, threads: int = 0) -> dict:
    """Time the model's statement at CUTS keystrokes; write and return the calibration."""
    from nib.model.completion.local import LocalCompleter
    from nib.model.completion.request import Mode, Options, Request

    completer = LocalCompleter.load(name, threads=threads)
    text = TEXT.read_text()
    times = []
    for cut in cuts(text):
        completer.shown.clear()  # each keystroke is new: nothing typed through
        completer.warm(text[:cut], cut)
        start = time.perf_counter()
        # timed whole: the budget would cut it at itself, and the p50 is compared with the budget
        completer.complete(Request(text[: cut + 1], cut + 1, Mode.STATEMENT, Options(statement_budget_ms=10_000)))
        times.append((time.perf_counter() - start) * 1e3)
    out = {
        "model": name,
        "statement_ms_p50": round(float(np.percentile(times, 50)), 1),
        "statement_ms_p95": round(float(np.percentile(times, 95)), 1),
        "statement_ms": [round(t, 1) for t in times],
        "cpus": os.cpu_count(),
        "threads": threads,
        "nib": _version(),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = calibration_file(artifacts.nib_home(), name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    return out


def _version() -> str | None:
    try:
        return importlib.metadata.version("nib")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        return None
