"""jedi's worker, late: each answer comes NIB_JEDI_DELAY_S seconds (default 30) after its request;
with NIB_JEDI_LATE_AT, only where the cursor's line before it holds that text, or one of its texts
split at `|` (the rest at once).
A description (an item resolved) comes NIB_JEDI_DESCRIBE_DELAY_S seconds late (default 0).

Tests use it where jedi must miss its budget, deterministically (a real jedi is fast or slow by chance).
"""

import os
import time

from nib.model.listing import jedi_worker

_complete = jedi_worker.complete
_describe = jedi_worker.describe


def late(text, cursor, path, environment=None):
    where = os.environ.get("NIB_JEDI_LATE_AT")
    line = text[text.rfind("\n", 0, cursor) + 1 : cursor]
    if where is None or any(w in line for w in where.split("|")):
        time.sleep(float(os.environ.get("NIB_JEDI_DELAY_S", "30")))
    return _complete(text, cursor, path, environment)


def late_description(text, cursor, path, environment, name):
    time.sleep(float(os.environ.get("NIB_JEDI_DESCRIBE_DELAY_S", "0")))
    return _describe(text, cursor, path, environment, name)


jedi_worker.complete = late
jedi_worker.describe = late_description
jedi_worker.main()
