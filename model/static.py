"""Static candidates: the names jedi knows are valid at the cursor.

jedi runs in-process on its own thread with a time budget. When it is slow,
fails, or is still busy with an earlier request, the answer is None and the
list falls back to the model's own candidates: static analysis makes the list
better, it never makes a request fail.
"""

from __future__ import annotations

import logging
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

log = logging.getLogger("nib.static")

_IMPORT = re.compile(r"^\s*(from\s+[\w.]*(\s+import\s+.*)?|import\s+.*)$")
_NAME_TAIL = re.compile(r"\w*$")


@dataclass(frozen=True)
class Static:
    name: str  # as inserted: a keyword argument ends in "="
    kind: str  # jedi's type: module, class, instance, function, param, keyword, property, statement, path
    detail: str


@dataclass
class StaticResult:
    names: list[Static]
    position: str  # attribute | import | kwarg | name
    typed: str  # the identifier fragment before the cursor

    @property
    def confident(self) -> bool:
        """After `.` or in an import, a non-empty static list is the whole truth."""
        return bool(self.names) and self.position in ("attribute", "import")


def position_kind(line_prefix: str) -> str:
    """What the cursor's identifier is, from the line before it.

    Example: position_kind("    os.pa") == "attribute"; position_kind("from os import pa") == "import"
    """
    head = line_prefix[: len(line_prefix) - len(_NAME_TAIL.search(line_prefix).group())]
    if head.rstrip().endswith(".") and not head.rstrip().endswith(".."):
        return "import" if _IMPORT.match(line_prefix) and " import " not in line_prefix else "attribute"
    if _IMPORT.match(line_prefix):
        return "import"
    if head.rstrip().endswith(("(", ",")):
        return "kwarg"  # or a positional argument: jedi offers both, `name=` marks the keyword ones
    return "name"


class StaticCompleter:
    """jedi completions with a time budget, one request at a time."""

    def __init__(self, budget_ms: int = 200):
        self.budget_ms = budget_ms
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nib-jedi")
        self._busy: Future | None = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Load jedi and the builtins' stubs ahead of the first request (about a second)."""
        self._pool.submit(self._complete, "import os\nos.", 14, None)

    def names(self, text: str, cursor: int, path: str | None = None,
              budget_ms: int | None = None) -> StaticResult | None:
        """jedi's names at cursor (a character offset), or None when it cannot answer in time."""
        with self._lock:
            if self._busy is not None and not self._busy.done():
                return None  # an earlier call is still running past its budget: do not queue behind it
            self._busy = self._pool.submit(self._complete, text, cursor, path)
            future = self._busy
        try:
            return future.result(timeout=(budget_ms or self.budget_ms) / 1e3)
        except FutureTimeout:
            log.debug("jedi over its %d ms budget", budget_ms or self.budget_ms)
        except Exception:  # jedi on code it cannot parse or infer: the model still answers
            log.debug("jedi failed", exc_info=True)
        return None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    @staticmethod
    def _complete(text: str, cursor: int, path: str | None) -> StaticResult:
        import jedi

        line_start = text.rfind("\n", 0, cursor) + 1
        line_prefix = text[line_start:cursor]
        script = jedi.Script(text, path=path)
        found = script.complete(text.count("\n", 0, cursor) + 1, cursor - line_start)
        typed = _NAME_TAIL.search(line_prefix).group()
        names = [Static(c.name, c.type, _detail(c)) for c in found]
        return StaticResult(names, position_kind(line_prefix), typed)


def _detail(completion) -> str:
    """A short description jedi has without inferring types (cheap)."""
    if completion.type == "module":
        return f"module {completion.full_name or completion.name}"
    return completion.type
