"""Which model serves the statement when no setting names one: the best imported model whose
statement is fast enough on this machine.

Best: the order of `choice.json` beside this module, written by `nib eval dev ...
--write-choice` from the rest-of-line figures on the dev split (where choices are made; the
test and fresh splits report them).
Fast enough: the model's calibrated statement p50 on this machine (`nib model calibrate`, run by
`nib model import`, kept in $NIB_HOME/calibration/NAME.json) within the statement's budget
(the user's `statement.budgetMs`, 250 ms by default). Where no imported model fits, the bundled
one serves, which needs nothing.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from .onnx import threads_used

CHOICE_FILE = Path(__file__).with_name("choice.json")
BUDGET_MS = 250  # the default statement.budgetMs: what a keystroke's ghost text may take
# The default before calibration existed, where imported: it still serves uncalibrated when no
# calibrated model fits, so that an update does not take it from its users unasked.
BEFORE = "gemma3-270m"


@dataclass(frozen=True)
class Choice:
    name: str  # what serves ("bundled" where no imported model fits)
    why: str  # one line a user reads in `nib info`


def calibration_file(home: Path, name: str) -> Path:
    return home / "calibration" / f"{name}.json"


def calibrated_threads(home: Path, name: str) -> int:
    """The threads the last calibration of name ran on (0, the default, where it does not say)."""
    try:
        threads = json.loads(calibration_file(home, name).read_text()).get("threads", 0)
    except (OSError, ValueError, AttributeError):
        return 0
    return threads if isinstance(threads, int) and not isinstance(threads, bool) and 0 <= threads <= 64 else 0


def calibrated_p50(home: Path, name: str) -> float | None:
    """The statement p50 (ms) the last calibration of name measured here, None if never calibrated
    (or if the file holds no positive, finite number: written by something else)."""
    try:
        p50 = json.loads(calibration_file(home, name).read_text())["statement_ms_p50"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    ok = isinstance(p50, int | float) and not isinstance(p50, bool) and math.isfinite(p50) and p50 > 0
    return float(p50) if ok else None


def order(choice_file: Path = CHOICE_FILE) -> list[str]:
    """The imported models from best to worst on the dev split."""
    try:
        names = json.loads(choice_file.read_text())["order"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return [n for n in names if isinstance(n, str) and n and "/" not in n] if isinstance(names, list) else []


def choose(
    home: Path, imported, budget_ms: float = BUDGET_MS, threads: int = 0, choice_file: Path = CHOICE_FILE
) -> Choice:
    """imported(name) -> whether that model is in the model cache; threads: the setting
    `model.threads` it will run with (a calibration on other threads does not count).

    Example: choose(Path("/nonexistent"), lambda name: False, choice_file=Path("/nonexistent")) ==
             Choice("bundled", "no imported model: the bundled one")
    """
    passed, uncalibrated = [], []
    for name in order(choice_file):
        if not imported(name):
            continue
        p50 = calibrated_p50(home, name)
        ran, wanted = threads_used(calibrated_threads(home, name)), threads_used(threads)
        if p50 is not None and ran != wanted:
            passed.append(
                f"{name} was calibrated on {ran} thread{'s' * (ran != 1)}, not the {wanted} of `model.threads` "
                f"(`nib model calibrate {name} --threads {wanted}`)"
            )
            uncalibrated.append(name)
        elif p50 is None:
            passed.append(f"{name} is not calibrated here (`nib model calibrate {name}`)")
            uncalibrated.append(name)
        elif p50 > budget_ms:
            passed.append(f"{name}'s statement p50 here is {p50:.0f} ms, over the {budget_ms:.0f} ms budget")
        else:
            why = f"the best imported model on the dev split whose statement p50 here ({p50:.0f} ms) fits {budget_ms:.0f} ms"
            return Choice(name, "; ".join([why, *passed]))
    if BEFORE in uncalibrated:
        return Choice(BEFORE, "; ".join([f"{BEFORE} serves uncalibrated, as before calibration existed", *passed]))
    return Choice("bundled", "; ".join(passed) if passed else "no imported model: the bundled one")
