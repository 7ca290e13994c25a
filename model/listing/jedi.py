"""jedi's names at the cursor: the names static analysis knows are valid there.

jedi runs in a worker process of its own (`jedi_worker.py`, one JSON line per request and per answer
over its stdin and stdout). A process, not a thread: jedi is pure Python and would hold the GIL
against the event loop and the decoder (a `$/cancelRequest` was seen to arrive late while jedi
loaded its stubs); in a process it runs beside the model on the second core. A plain subprocess
rather than multiprocessing, whose "spawn" re-runs the parent's main script.

`ask` returns a future at once; the list (`ranker.py`) waits for it within its budget. When jedi is
slow or fails there is no answer in time, and the list does without it (what it offers then:
`ranker.py`): static analysis makes the list better, it never makes a request fail. A line on the
worker's stdout that is not an answer is logged and skipped; when the worker ends (or cannot be
heard), its calls fail at once and the next call starts another.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shlex
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout

from nib.model.text.lexeme import typed_name

from .jedi_answers import Description, JediAnswer, JediName
from .jedi_futures import Asked, copy, done, failed, failed_with, fresh

log = logging.getLogger("nib.jedi")

MEMO_SIZE = 8
DESCRIBED_KEPT = 32  # the descriptions kept: an editor resolves the focused item again as the name grows
# After the worker failed to start or ended before its first answer, calls fail at once this long (doubling
# at each failure, to the last): no fork at each keystroke of a worker with no command, memory or jedi.
RETRY_S = (1.0, 30.0)
BUDGET_MS = 200  # how long a list after `.` or in an import waits for jedi (setting jedi.budgetMs)
# -I: the worker never imports from its current directory (editors start nib in the project, and a
# cloned repository's `json.py` would run as the user) nor from PYTHON* variables or the user's site.
WORKER = [sys.executable, "-I", "-m", "nib.model.listing.jedi_worker"]


def worker_command() -> list[str]:
    """jedi's worker process; NIB_JEDI_WORKER replaces it (the tests' late jedi)."""
    override = os.environ.get("NIB_JEDI_WORKER")
    return shlex.split(override) if override else WORKER


class JediCompleter:
    """jedi in a worker process, one call at a time, at most one more waiting behind it."""

    def __init__(self, budget_ms: int = BUDGET_MS, command: list[str] | None = None):
        self.budget_ms = budget_ms
        self.command = command or worker_command()
        self._process: subprocess.Popen | None = None  # started on first use
        # request id -> its future, until the worker answers: one dict per process, failed when it ends
        self._pending: dict[int, Future] = {}
        self._ids = itertools.count()
        self._busy: Future | None = None  # the call the worker is on
        # background? -> (future, call): the next calls when the worker is free, a list's first
        self._waiting: dict[bool, tuple[Future, dict]] = {}
        self._lock = threading.RLock()  # RLock: a done callback may run at once, inside the lock
        # where jedi was asked -> its answer: the last few (typing back over a name finds it again)
        self._memo: OrderedDict[tuple, JediAnswer] = OrderedDict()
        self._asked: tuple | None = None  # (where, future): the last call, answered or not
        self._described: OrderedDict[tuple, Description] = OrderedDict()  # (path, text before, name, environment)
        self._unstartable: BaseException | None = None  # why the worker failed to start last time, until one answers
        self._retry_at, self._retry_s = 0.0, 0.0  # when a failed start is tried again; after how long
        self.clock = time.monotonic

    def ask(
        self,
        text: str,
        cursor: int,
        path: str | None = None,
        at_name_start: bool = True,
        background: bool = False,
        environment: str = "",
    ) -> Future:
        """A future of jedi's names at cursor (a character offset): a JediAnswer, or an exception.

        jedi is asked at the start of the identifier being typed (the fragment stays in the
        text: without it, an indented last line would fall out of its function's scope) and
        its answer is kept: every further keystroke in the same identifier reuses it (the
        caller filters by what is typed), so jedi runs once per name. at_name_start False:
        at the cursor itself, jedi's own answer for what is typed, not kept.

        When the worker is busy, the call waits behind it; a newer call replaces a waiting
        one (whose future is cancelled), so calls never pile up behind a slow one. background:
        a call no list waits for (a document just opened, an item's description), which waits
        in a place of its own, after a list's waiting call: it never delays a list that waits
        and is not dropped by one. environment: the interpreter or virtual environment whose
        packages jedi reads (`jedi.environment`); "": nib's own.
        """
        key = None
        if at_name_start:
            name_start = cursor - len(typed_name(text, text.rfind("\n", 0, cursor) + 1, cursor))
            key = (path, text[:name_start], text[cursor:], environment)
            cursor = name_start
        with self._lock:
            if key is not None and key in self._memo:
                self._memo.move_to_end(key)
                return done(self._memo[key])
            asked = self._asked
            if key is not None and asked is not None and asked[0] == key and not failed(asked[1]):
                return asked[1]  # the same name start, asked a keystroke ago: its answer is on the way
            future = self._call(_call(text, cursor, path, environment), background)
            if not background:
                self._asked = (key, future)
        if key is not None:
            future.add_done_callback(lambda f: self._remember(self._memo, MEMO_SIZE, key, f))
        return future

    def describe(self, text: str, cursor: int, name: str, path: str | None = None, environment: str = "") -> Future:
        """A future of jedi's Description of name, completed at cursor (the start of the name). A
        background call (`ask`): it waits behind a list's call waiting for the worker, though a
        list's call may wait behind it once the worker is on it."""
        key = (path, hash(text[:cursor]), name, environment)
        with self._lock:
            if key in self._described:
                self._described.move_to_end(key)
                return done(self._described[key])
            future = self._call(_call(text, cursor, path, environment) | {"describe": name}, background=True)
        future.add_done_callback(lambda f: self._remember(self._described, DESCRIBED_KEPT, key, f))
        return future

    def names(
        self,
        text: str,
        cursor: int,
        path: str | None = None,
        budget_ms: int | None = None,
        at_name_start: bool = True,
        environment: str = "",
    ) -> JediAnswer | None:
        """jedi's names at cursor, waiting at most the budget; None when there are none in time."""
        budget = (self.budget_ms if budget_ms is None else budget_ms) / 1e3
        future = self.ask(text, cursor, path, at_name_start, environment=environment)
        try:
            return future.result(timeout=budget)
        except FutureTimeout:
            future.cancel()
        except (CancelledError, Exception) as e:
            log.debug("jedi gave no answer: %s", e)
        return None

    def warm(self) -> None:
        """Start the worker and load jedi and the builtins' stubs ahead of the first request (about a second)."""
        with self._lock:
            if self._busy is None or self._busy.done():
                self._submit(_call("import os\nos.", 13, None))

    def wait_idle(self, timeout: float | None = None) -> None:
        """Wait for the call the worker is on (so that the next one starts at once)."""
        busy = self._busy
        if busy is not None:
            try:
                busy.result(timeout=timeout)
            except Exception:  # noqa: BLE001 - only its end matters here
                pass

    def close(self) -> None:
        with self._lock:
            for future, _ in self._waiting.values():  # nothing waits for a worker that is gone
                future.cancel()
            self._waiting.clear()
            if self._process is not None:
                self._process.kill()  # a call past its budget may still be running: do not wait for it
                self._process.wait()
                self._process = None

    # -- the worker -------------------------------------------------------------

    def _call(self, call: dict, background: bool) -> Future:
        """Under self._lock: call sent now, or when the worker is free, replacing the call of its
        kind (a list's, a background one) waiting there."""
        replaced = self._waiting.pop(background, None)
        if replaced is not None:
            replaced[0].cancel()  # also where the worker is free but its _next has not run yet
        if self._busy is None or self._busy.done():
            return self._submit(call)
        future = Asked()
        self._waiting[background] = (future, call)
        return future

    def _next(self, _finished: Future) -> None:
        """The worker is free: start the next call waiting behind whose caller still wants it, a
        list's before a background one."""
        with self._lock:
            if self._busy is not None and not self._busy.done():
                return  # a call was sent as this one ended: the end of that one starts the next
            for background in (False, True):
                waiting = self._waiting.pop(background, None)
                if waiting is not None and waiting[0].set_running_or_notify_cancel():
                    outer, call = waiting
                    break
            else:
                return
            inner = self._submit(call)
        inner.add_done_callback(lambda f: copy(f, outer))

    def _submit(self, call: dict) -> Future:
        """Under self._lock: send one call to the worker (started, or restarted, as needed)."""
        if self._process is None or self._process.poll() is not None:
            if self._unstartable is not None and self.clock() < self._retry_at:
                return failed_with(self._unstartable)
            if self._process is not None and self._unstartable is None:
                log.warning("jedi's worker process ended (%s); starting another", self._process.returncode)
            try:
                self._start()
            # its command gone, no memory to fork or for a thread: this call fails, and those until a retry
            except (OSError, RuntimeError) as e:
                self._cannot_start(e)
                return failed_with(e)
        future = Asked()
        future.set_running_or_notify_cancel()  # running from now on: it cannot be cancelled, only waited for
        request_id = next(self._ids)
        self._pending[request_id] = future
        self._busy = future
        future.add_done_callback(self._next)
        line = json.dumps({"id": request_id} | call) + "\n"
        process = self._process
        assert process is not None and process.stdin is not None  # just started, with stdin a pipe
        try:
            process.stdin.write(line)
            process.stdin.flush()
        except OSError as e:  # it died between the check and the write: the next call restarts it
            self._pending.pop(request_id, None)
            future.set_exception(e)
        return future

    def _cannot_start(self, e: BaseException) -> None:
        """Under self._lock: the worker failed to start, or to live; said once, until a worker answers."""
        log.log(logging.DEBUG if self._unstartable else logging.WARNING, "jedi's worker cannot start: %s", e)
        self._unstartable = e
        self._retry_s = min(RETRY_S[1], self._retry_s * 2) if self._retry_s else RETRY_S[0]
        self._retry_at = self.clock() + self._retry_s
        for waiting, _ in self._waiting.values():  # no worker will free to start them
            if waiting.set_running_or_notify_cancel():
                waiting.set_exception(fresh(e))
        self._waiting.clear()

    def _start(self) -> None:
        # stdin/stdout are the worker's channel, so jedi's output can never reach the LSP stream; its stderr
        # is the server's log. When the server ends, the worker reads EOF and ends too. Requests and answers
        # are ASCII JSON; errors="replace" turns stray bytes into a line _read skips.
        # jedi runs a Python of its own for compiled modules, not isolated (no -I): without VIRTUAL_ENV and
        # CONDA_PREFIX it is nib's own Python, not theirs (and their `.pth` files' code; `jedi.environment` is
        # read, not run), and without PYTHON* variables it imports nothing from a PYTHONPATH folder (a
        # `sitecustomize.py`, a compiled module).
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("VIRTUAL_ENV", "CONDA_PREFIX") and not k.startswith("PYTHON")
        }
        self._process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=os.path.dirname(__file__),
            env=env,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self._pending = {}
        try:
            threading.Thread(
                target=self._read, args=(self._process, self._pending), daemon=True, name="nib-jedi-reader"
            ).start()
        except RuntimeError:  # no thread to read it: a worker no one hears is no worker
            self._process.kill()
            self._process.wait()
            self._process = None
            raise

    def _read(self, process: subprocess.Popen, pending: dict[int, Future]) -> None:
        """The worker's answers, until it ends; a line that is not one (something jedi or a module
        it imports printed) is logged and skipped."""
        assert process.stdout is not None  # started with stdout a pipe
        answered = False
        try:
            for line in process.stdout:
                try:
                    _answer(line, pending)
                    if not answered:
                        answered = True
                        self._lives(process)
                except Exception as e:  # noqa: BLE001 - one bad line must not stop the answers behind it
                    log.warning("jedi's worker wrote a line that is not an answer (%r), skipped: %r", e, line[:200])
        except Exception:  # noqa: BLE001 - reading itself failed: treated as the worker's end
            log.exception("reading jedi's worker failed")
        finally:
            self._ended(process, pending, answered)

    def _lives(self, process: subprocess.Popen) -> None:
        """process answered: a worker that starts and lives, so a failure to start is news again."""
        with self._lock:
            if self._process is process:
                self._unstartable, self._retry_s = None, 0.0

    def _ended(self, process: subprocess.Popen, pending: dict[int, Future], answered: bool) -> None:
        """Nothing more comes from process: end it (the next call starts another, or after a wait if it
        never answered) and fail its calls."""
        if process.poll() is None:  # its output ended or could not be read, yet it runs: it cannot be heard
            process.kill()  # before taking the lock: a write to its stdin under the lock ends now
        with self._lock:
            if self._process is process:
                process.wait()
                self._process = None
                if not answered:
                    self._cannot_start(RuntimeError(f"it ended ({process.returncode}) before its first answer"))
            failed = list(pending.values())
            pending.clear()
        for future in failed:
            if not future.done():
                future.set_exception(RuntimeError("jedi's worker process ended"))

    def _remember(self, memo: OrderedDict, size: int, key, future: Future) -> None:
        """future's answer kept in memo under key, the oldest dropped past size."""
        if future.cancelled() or future.exception() is not None:
            return
        with self._lock:
            memo[key] = future.result()
            while len(memo) > size:
                memo.popitem(last=False)


def _answer(line: str, pending: dict[int, Future]) -> None:
    """Settle the call a line of the worker answers; raises when the line is not a whole answer
    (a malformed answer to a known call fails that call first)."""
    answer = json.loads(line)
    future = pending.pop(answer["id"], None)
    if future is None:
        return
    if "error" in answer:
        future.set_exception(RuntimeError(answer["error"]))
        return
    if "doc" in answer:
        signature, doc = answer.get("signature"), answer["doc"]
        if not (isinstance(signature, str) and isinstance(doc, str)):
            future.set_exception(RuntimeError("jedi's worker gave a malformed description"))
            raise ValueError(f"a description of the wrong type: {line[:200]!r}")
        future.set_result(Description(signature, doc))
        return
    try:
        names, position = answer["names"], answer["position"]
        if not (
            isinstance(position, str)
            and isinstance(names, list)
            and all(isinstance(n, list) and len(n) == 3 and all(isinstance(x, str) for x in n) for n in names)
        ):
            raise ValueError("names or position of the wrong type")
    except Exception as e:
        future.set_exception(RuntimeError(f"jedi's worker gave a malformed answer: {e!r}"))
        raise
    future.set_result(JediAnswer([JediName(*n) for n in names], position))


def _call(text: str, cursor: int, path: str | None, environment: str = "") -> dict:
    """A call to the worker, without its id."""
    return {"text": text, "cursor": cursor, "path": path} | ({"environment": environment} if environment else {})
