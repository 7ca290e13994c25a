"""Static candidates: the names jedi knows are valid at the cursor.

jedi runs in a worker process of its own (`static_worker.py`, one JSON line
per request and per answer over its stdin and stdout), with a time budget. A
process, not a thread: jedi is pure Python and would hold the GIL against the
event loop and the decoder (a `$/cancelRequest` was seen to arrive late while
jedi loaded its stubs); in a process it runs beside the model on the second
core. A plain subprocess rather than multiprocessing, whose "spawn" re-runs the
parent's main script. When jedi is slow, fails, or is still busy with an
earlier request, the answer is None and the list falls back to the model's own
candidates: static analysis makes the list better, it never makes a request fail.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from .lexeme import typed_name

log = logging.getLogger("nib.static")

_IMPORT = re.compile(r"^\s*(from\s+[\w.]*(\s+import\s+.*)?|import\s+.*)$")


@dataclass(frozen=True)
class Static:
    name: str  # as inserted: a keyword argument ends in "="
    kind: str  # jedi's type: module, class, instance, function, param, keyword, property, statement, path
    detail: str


@dataclass
class StaticResult:
    names: list[Static]
    position: str  # attribute | import | kwarg | name

    @property
    def confident(self) -> bool:
        """After `.` or in an import, a non-empty static list is the whole truth."""
        return bool(self.names) and self.position in ("attribute", "import")


def position_kind(line_prefix: str) -> str:
    """What the cursor's identifier is, from the line before it.

    Example: position_kind("    os.pa") == "attribute"; position_kind("from os import pa") == "import"
    """
    head = line_prefix[: len(line_prefix) - len(typed_name(line_prefix))]
    if head.rstrip().endswith(".") and not head.rstrip().endswith(".."):
        return "import" if _IMPORT.match(line_prefix) and " import " not in line_prefix else "attribute"
    if _IMPORT.match(line_prefix):
        return "import"
    if head.rstrip().endswith(("(", ",")):
        return "kwarg"  # or a positional argument: jedi offers both, `name=` marks the keyword ones
    return "name"


class StaticCompleter:
    """jedi completions in a worker process, with a time budget, one request at a time."""

    def __init__(self, budget_ms: int = 200):
        self.budget_ms = budget_ms
        self._process: subprocess.Popen | None = None  # started on first use
        self._pending: dict[int, Future] = {}
        self._ids = itertools.count()
        self._busy: Future | None = None
        self._lock = threading.Lock()
        self._memo: tuple | None = None  # (where jedi was asked, its answer): the last one

    def _submit(self, text: str, cursor: int, path: str | None) -> Future:
        """Under self._lock."""
        if self._process is None or self._process.poll() is not None:
            if self._process is not None:
                log.warning("jedi's worker process ended (%s); starting another", self._process.returncode)
            self._start()
        future: Future = Future()
        request_id = next(self._ids)
        self._pending[request_id] = future
        line = json.dumps({"id": request_id, "text": text, "cursor": cursor, "path": path}) + "\n"
        try:
            self._process.stdin.write(line)
            self._process.stdin.flush()
        except OSError as e:  # it died between the check and the write: the next call restarts it
            self._pending.pop(request_id, None)
            future.set_exception(e)
        return future

    def _start(self) -> None:
        # stdin/stdout are the worker's channel, so jedi's output can never reach the LSP stream;
        # its stderr is the server's log. When the server ends, the worker reads EOF and ends too.
        self._process = subprocess.Popen(
            [sys.executable, "-m", "nib.model.static_worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, encoding="utf-8", errors="surrogatepass", bufsize=1,
        )
        threading.Thread(target=self._read, args=(self._process,), daemon=True, name="nib-jedi-reader").start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            answer = json.loads(line)
            future = self._pending.pop(answer["id"], None)
            if future is None:
                continue
            if "error" in answer:
                future.set_exception(RuntimeError(answer["error"]))
            else:
                future.set_result(StaticResult([Static(*n) for n in answer["names"]], answer["position"]))
        for future in list(self._pending.values()):  # the worker ended: nothing more will come
            future.set_exception(RuntimeError("jedi's worker process ended"))
        self._pending.clear()

    def warm(self) -> None:
        """Start the worker and load jedi and the builtins' stubs ahead of the first request (about a second)."""
        with self._lock:
            self._busy = self._submit("import os\nos.", 13, None)

    def ask(self, text: str, cursor: int, path: str | None = None, budget_ms: int | None = None,
            at_name_start: bool = True):
        """Start jedi on the names at cursor (a character offset) and return a function that
        waits for them: it gives a StaticResult, or None when jedi cannot answer within the
        budget (counted from now) or failed. A call still running (the warm-up, or a request
        past its budget) is waited for within the same budget; requests never queue up.

        jedi is asked at the start of the identifier being typed (the fragment stays in the
        text: without it, an indented line at the end of the text would fall out of its
        function's scope) and its answer is kept: every further keystroke in the same
        identifier reuses it (the caller filters by what is typed), so jedi runs once per name.
        at_name_start False: at the cursor itself, jedi's own answer for what is typed, not kept.
        """
        budget = (budget_ms if budget_ms is not None else self.budget_ms) / 1e3
        started = time.monotonic()
        line_start = text.rfind("\n", 0, cursor) + 1
        name_start = cursor - len(typed_name(text, line_start, cursor))
        key = (path, text[:name_start], text[cursor:])
        if not at_name_start:
            key = None
        elif self._memo is not None and self._memo[0] == key:
            remembered = self._memo[1]
            return lambda: remembered
        else:
            cursor = name_start
        future = None
        with self._lock:
            busy = self._busy if self._busy is not None and not self._busy.done() else None
            if busy is None:
                self._busy = future = self._submit(text, cursor, path)

        def left() -> float:
            return max(0.0, budget - (time.monotonic() - started))

        def wait() -> StaticResult | None:
            nonlocal future
            try:
                if busy is not None:
                    try:
                        busy.result(timeout=left())
                    except FutureTimeout:
                        raise
                    except Exception:  # the earlier call failed; ours may not  # noqa: S110
                        pass
                    with self._lock:
                        self._busy = future = self._submit(text, cursor, path)
                result = future.result(timeout=left())
                if key is not None:
                    self._memo = (key, result)
                return result
            except FutureTimeout:
                log.debug("jedi over its %.0f ms budget", budget * 1e3)
            except Exception as e:  # jedi on code it cannot parse or infer: the model still answers
                log.debug("jedi failed: %s", e)
            return None

        return wait

    def names(self, text: str, cursor: int, path: str | None = None, budget_ms: int | None = None,
              at_name_start: bool = True) -> StaticResult | None:
        """jedi's names at cursor, waiting for them (see ask)."""
        return self.ask(text, cursor, path, budget_ms, at_name_start)()

    def wait_idle(self) -> None:
        """Wait for a call still running past its budget (so that the next one is not refused)."""
        busy = self._busy
        if busy is not None:
            try:
                busy.result()
            except Exception:
                pass

    def close(self) -> None:
        with self._lock:
            if self._process is not None:
                self._process.kill()  # a call past its budget may still be running: do not wait for it
                self._process.wait()
                self._process = None
