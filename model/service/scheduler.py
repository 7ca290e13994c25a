"""When completion work runs: off the event loop, superseded by newer edits, dropped when stale.

- Inference runs on the model host's one inference thread (`run`); the loop only does I/O,
  such as a request to an engine over HTTP (`run_async`), which an edit cancels.
- An edit to a document cancels the work still running for it (`supersede`), and
  `$/cancelRequest` cancels a request's task, which sets its cancel flag: a statement's
  prefill and decoding stop between steps.
- `warm_later` prefills the KV state after a pause in typing, so the next request is warm; a
  request for the same model (any document, any session) stops it at its next step, as it does
  any `background` work (a prompt that would not fit a statement's budget, prefilled after it).
- `speculate` computes the list where a name is about to start, in the pause before its
  first character, once jedi has answered; the next edit cancels it (`edited`) unless it
  types a name right there into work already running, and a move of the cursor stops it.
- A statement asked with a list (an editor asks for both on each keystroke) starts once the
  list is answered, `LIST_FIRST_S` at most (`listing`, `after_list`): the list takes about a
  millisecond on the server, and the statement's model, starting beside it, would hold the
  cores while the list's answer waits to be written.
- `when_idle` runs housekeeping once no request has come for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from concurrent.futures import Future

from nib.model.errors import Cancelled
from nib.model.runtime import heap
from nib.model.text.lexeme import typed_name

IDLE_S = 1.0  # idle work waits this long after the last request
LIST_FIRST_S = 0.003  # the statement's wait for the list at most: a narrowed one's (a new name's ~100 ms is not)
LIST_TURNS = 8  # turns of the loop in which that list's request may start (a message read: 3 or 4)


class Scheduler:
    # every session's scheduler in this process (a daemon serves several): idle work waits for all
    everyone: weakref.WeakSet[Scheduler] = weakref.WeakSet()
    # each worker's warm-ups and other background work in flight, every session's (a daemon's share
    # the model hosts): a request on that worker stops them, so no keystroke waits behind a whole prompt's prefill
    warming: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __init__(self, warm_delay_s: float = 0.3, idle_s: float = IDLE_S):
        self.warm_delay_s, self.idle_s = warm_delay_s, idle_s
        self._idle: asyncio.TimerHandle | None = None
        self._closed = False  # shut down: no idle work any more
        Scheduler.everyone.add(self)
        self.running: dict[str, set[threading.Event]] = {}  # uri -> cancel flags of work in flight
        self.tasks: dict[str, set[asyncio.Task]] = {}  # uri -> requests to an engine in flight
        self._warm: dict[str, asyncio.TimerHandle] = {}
        self._speculating: dict[str, tuple[int, threading.Event]] = {}  # uri -> (cursor offset, cancel flag)
        self._listing: dict[str, tuple] = {}  # uri -> (text, cursor, done once answered): the latest list in flight

    async def run(self, worker, fn, uri: str, cancel: threading.Event | None = None):
        """fn(cancel_event) on worker; the event is set if this request is cancelled or superseded.
        cancel: the flag of a request that runs in turns (`holding`), else one for this run alone."""
        if cancel is None:
            with self.holding(uri) as cancel:
                return await self.run(worker, fn, uri, cancel)
        for warm in Scheduler.warming.get(worker, ()):
            warm.set()  # the steps done are kept: the next warm-up or request goes on from them
        try:
            return await asyncio.get_running_loop().run_in_executor(worker, fn, cancel)
        except asyncio.CancelledError:
            cancel.set()
            raise

    @contextlib.contextmanager
    def holding(self, uri: str):
        """A cancel flag for a request on uri, set by an edit or a close while the block runs (the
        request is in flight for `busy` meanwhile, also between its turns on the thread)."""
        cancel = threading.Event()
        self.running.setdefault(uri, set()).add(cancel)
        try:
            yield cancel
        finally:
            _discard(self.running, uri, cancel)

    @contextlib.contextmanager
    def listing(self, uri: str, text: str, cursor: int):
        """The block computes the list at cursor in uri's text: a statement asked there meanwhile
        waits for its end (`after_list`)."""
        entry = (text, cursor, asyncio.get_running_loop().create_future())
        self._listing[uri] = entry
        try:
            yield
        finally:
            entry[2].set_result(None)
            if self._listing.get(uri) is entry:
                del self._listing[uri]

    async def after_list(self, uri: str, text: str, cursor: int) -> float:
        """Once the list asked at cursor in uri's text with this statement is answered, LIST_FIRST_S
        at most; the seconds waited. The list's request comes beside this one, before or just after
        it: a few turns of the loop let the reader hand over a message it has already
        (`stdio.InOrder` yields before each line). An edit meanwhile raises Cancelled."""
        started = time.monotonic()
        with self.holding(uri) as cancel:
            for _ in range(LIST_TURNS):
                if self._listed_at(uri, text, cursor) is not None:
                    break
                await asyncio.sleep(0)
            if (listed := self._listed_at(uri, text, cursor)) is not None:
                await asyncio.wait([listed], timeout=LIST_FIRST_S)
                await asyncio.sleep(0)  # the list's answer written first (its request's task ends after the block)
            if cancel.is_set():
                raise Cancelled()
        return time.monotonic() - started

    def _listed_at(self, uri: str, text: str, cursor: int) -> asyncio.Future | None:
        """The end of the list being computed at cursor in uri's text (not an older keystroke's)."""
        entry = self._listing.get(uri)
        return entry[2] if entry is not None and entry[1] == cursor and entry[0] == text else None

    async def run_async(self, coro, uri: str):
        """coro as a task that an edit to uri cancels (raising Cancelled here), as does cancelling
        the caller: a request over HTTP is then closed, not left running."""
        task = asyncio.ensure_future(coro)
        self.tasks.setdefault(uri, set()).add(task)
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            assert current is not None  # a coroutine awaiting a task runs in one
            if current.cancelling():  # the caller itself was cancelled ($/cancelRequest)
                raise
            raise Cancelled() from None  # superseded by an edit
        finally:
            _discard(self.tasks, uri, task)

    def busy(self, uri: str) -> bool:
        return bool(self.running.get(uri)) or bool(self.tasks.get(uri))

    def supersede(self, uri: str) -> None:
        for cancel in self.running.get(uri, ()):
            cancel.set()
        for task in self.tasks.get(uri, ()):
            task.cancel()

    def moved(self, uri: str) -> None:
        """The cursor moved to another place in uri: its warm-ups and other background work in
        flight stop at their next step (the steps done are kept), so that the new place's starts
        at once, and so does the list speculated at the place before; its requests go on."""
        self.stop_speculating(uri)
        warming = set().union(*Scheduler.warming.values())
        for cancel in self.running.get(uri, ()):
            if cancel in warming:
                cancel.set()

    def when_idle(self, fn) -> None:
        """Call fn() idle_s after the last call of this (each call restarts the wait), once no
        session of this process has work in flight (until then it waits on); never after shutdown."""
        if self._closed:
            return

        def fire():
            self._idle = None
            if self._closed:
                return
            if any(s.running or s.tasks for s in list(Scheduler.everyone)):
                self.when_idle(fn)
                return
            fn()

        if self._idle is not None:
            self._idle.cancel()
        with contextlib.suppress(RuntimeError):  # no loop runs (closing): nothing is idle any more
            self._idle = asyncio.get_running_loop().call_later(self.idle_s, fire)

    def supersede_all(self) -> None:
        """Shutdown: everything in flight is cancelled, and no idle work runs from now on."""
        self._closed = True
        if self._idle is not None:
            self._idle.cancel()
        for uri in list(self.running):
            self.supersede(uri)
        self.stop_all_speculating()

    def stop_all_speculating(self) -> None:
        """Every document's speculative list stops (new settings: another model, another jedi)."""
        for uri in list(self._speculating):
            self.stop_speculating(uri)

    def speculate(self, worker, fn, uri: str, cursor: int, after: asyncio.Future | None = None) -> None:
        """fn(cancel_event) on worker, ahead of a request expected at cursor (an offset); with after,
        once that has ended (what fn needs, waited for on the loop), unless cancelled meanwhile."""
        self.stop_speculating(uri)
        cancel = threading.Event()
        self._speculating[uri] = (cursor, cancel)
        if after is None:
            worker.submit(fn, cancel)
            return

        def submit(_):
            if self._speculating.get(uri, (None, None))[1] is cancel and not cancel.is_set():
                with contextlib.suppress(RuntimeError):  # the worker shut down meanwhile: its model was replaced
                    worker.submit(fn, cancel)

        after.add_done_callback(submit)

    def edited(self, uri: str, at: int, inserted: str) -> None:
        """An edit inserting `inserted` at offset `at` (-1: any other edit) cancels the speculative
        work on uri, unless it types the start of a name where that work is."""
        cursor, cancel = self._speculating.pop(uri, (None, None))
        if cancel is not None and not (at == cursor and inserted and typed_name(inserted) == inserted):
            cancel.set()

    def stop_speculating(self, uri: str) -> None:
        self.edited(uri, -1, "")

    def background(self, worker, fn, uri: str) -> None:
        """fn(cancel_event) on worker, work no request waits for: an edit to uri sets the event
        (`supersede`), and fn stops at its next look at it. Once done, failed or dropped unrun (its
        worker shut down when its model was replaced), it no longer counts as running. None after shutdown."""
        if self._closed:
            return
        cancel, loop = threading.Event(), asyncio.get_running_loop()
        try:
            future = worker.submit(fn, cancel)
        except RuntimeError:  # the worker has shut down: its model was replaced
            return
        self.running.setdefault(uri, set()).add(cancel)
        Scheduler.warming.setdefault(worker, set()).add(cancel)

        def tidy():
            _discard(self.running, uri, cancel)
            Scheduler.warming.get(worker, set()).discard(cancel)

        def done(_):  # on the loop, which alone changes `running` and `warming`
            with contextlib.suppress(RuntimeError):  # the loop closed: nothing is left to tidy
                loop.call_soon_threadsafe(tidy)

        future.add_done_callback(done)

    def warm_later(self, uri: str, fn, delay_s: float | None = None) -> None:
        """Call fn() after a pause in typing on uri (each call restarts the pause; delay_s: this
        one's length, default warm_delay_s), once no work for uri is in flight: a request still
        running when the pause ends (a list, or a ghost text the user asked for at a new place, a
        whole prompt to prefill) delays the warm-up, it does not drop it."""
        if handle := self._warm.pop(uri, None):
            handle.cancel()
        loop = asyncio.get_running_loop()

        def fire():
            if self._closed:
                return
            if self.busy(uri):
                self._warm[uri] = loop.call_later(self.warm_delay_s, fire)
                return
            del self._warm[uri]
            fn()

        self._warm[uri] = loop.call_later(self.warm_delay_s if delay_s is None else delay_s, fire)

    def forget(self, uri: str) -> None:
        self.supersede(uri)
        self.stop_speculating(uri)
        if handle := self._warm.pop(uri, None):
            handle.cancel()


def _discard(by_uri: dict[str, set], uri: str, item) -> None:
    """Remove item from uri's set, and the set once empty (a closed document leaves nothing behind)."""
    items = by_uri.get(uri)
    if items is not None:
        items.discard(item)
        if not items:
            del by_uri[uri]


def queued(work):
    """work(cancel) -> Result, with the time from now until the inference thread starts it
    added to its timings (`queue_ms`: behind the other keystrokes' and documents' work)."""
    queued = time.perf_counter()

    def timed(cancel):
        started = time.perf_counter()
        result = work(cancel)
        result.timings.queue_ms += (started - queued) * 1e3
        return result

    return timed


async def wait_until(future: Future, until: float) -> float:
    """Wait on the event loop for a thread's or process's future (jedi's) until the time.monotonic()
    `until`: the milliseconds waited."""
    left = until - time.monotonic()
    if future.done() or left <= 0:
        return 0.0
    started = time.perf_counter()
    waiting = asyncio.wrap_future(future)
    waiting.add_done_callback(lambda w: w.cancelled() or w.exception())  # its failure is its reader's to log
    await asyncio.wait([waiting], timeout=left)
    return (time.perf_counter() - started) * 1e3


def return_memory(log: logging.Logger) -> None:
    """Give the memory the models' work freed back to the system, which the heap keeps otherwise
    (`runtime/heap.py`); off the event loop. Only the first request after it maps fresh pages again."""
    started = time.perf_counter()
    try:
        done = asyncio.get_running_loop().run_in_executor(None, heap.return_freed)
    except RuntimeError:  # the loop's executor is shutting down: the process ends anyway
        return

    def returned(future) -> None:
        if not future.cancelled() and future.exception() is None:
            log.debug("freed memory returned in %.1f ms", (time.perf_counter() - started) * 1e3)

    done.add_done_callback(returned)
