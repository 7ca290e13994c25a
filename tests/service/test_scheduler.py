"""When completion work runs: cancelled by newer edits, speculation kept for the name it expected,
warm-up after a pause."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from nib.model.errors import Cancelled
from nib.model.service import scheduler
from nib.model.service.scheduler import Scheduler


@pytest.fixture
def worker():
    pool = ThreadPoolExecutor(1)
    yield pool
    pool.shutdown(wait=True)


def waits_for_cancel(started: threading.Event):
    def fn(cancel: threading.Event):
        started.set()
        if not cancel.wait(5):
            return "finished"
        raise Cancelled()

    return fn


async def test_an_edit_supersedes_the_work_running_for_its_document_only(worker):
    s, started = Scheduler(), threading.Event()
    running = asyncio.ensure_future(s.run(worker, waits_for_cancel(started), "a"))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    assert s.busy("a") and not s.busy("b")
    s.supersede("b")
    assert not running.done()
    s.supersede("a")
    with pytest.raises(Cancelled):
        await asyncio.wait_for(running, 5)
    assert not s.busy("a") and s.running == {}


async def test_cancelling_the_request_sets_its_flag(worker):
    s, started, flags = Scheduler(), threading.Event(), []

    def fn(cancel):
        flags.append(cancel)
        started.set()
        cancel.wait(5)
        return cancel.is_set()

    running = asyncio.ensure_future(s.run(worker, fn, "a"))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert flags[0].is_set()


async def test_speculation_survives_a_name_typed_where_it_expected_one(worker):
    s = Scheduler()
    flags = []
    s.speculate(worker, flags.append, "a", cursor=10)
    s.edited("a", 10, "x")  # the name's first character, where the list was speculated
    s.speculate(worker, flags.append, "a", cursor=20)
    s.edited("a", 21, "y")  # typed elsewhere
    s.speculate(worker, flags.append, "a", cursor=30)
    s.edited("a", 30, "(")  # not a name
    await asyncio.get_running_loop().run_in_executor(worker, lambda: None)  # the worker is done
    assert [f.is_set() for f in flags] == [False, True, True]


async def test_speculation_after_a_future_runs_once_it_is_done_unless_superseded(worker):
    s, ran = Scheduler(), []
    loop = asyncio.get_running_loop()
    first, second = loop.create_future(), loop.create_future()
    s.speculate(worker, lambda cancel: ran.append("first"), "a", 5, after=first)
    s.speculate(worker, lambda cancel: ran.append("second"), "a", 6, after=second)  # replaces the first
    first.set_result(None)
    second.set_result(None)
    await asyncio.sleep(0)
    await loop.run_in_executor(worker, lambda: None)
    assert ran == ["second"]


async def test_warm_up_runs_after_a_pause_and_each_call_restarts_the_pause():
    s, ran = Scheduler(warm_delay_s=0.05), []
    s.warm_later("a", lambda: ran.append(1))
    s.warm_later("a", lambda: ran.append(2))  # typing goes on before the pause ends: the first is dropped
    s.warm_later("b", lambda: ran.append(3))
    s.forget("b")  # closed before its pause ended
    assert ran == []  # nothing before the pause
    await asyncio.sleep(0.3)
    assert ran == [2]


async def test_a_warm_up_waits_for_the_work_in_flight_on_its_document_then_runs(worker):
    s, ran, started = Scheduler(warm_delay_s=0.05), [], threading.Event()
    running = asyncio.ensure_future(s.run(worker, waits_for_cancel(started), "a"))  # a's ghost text, say
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    s.warm_later("a", lambda: ran.append("a"))
    s.warm_later("b", lambda: ran.append("b"))
    await asyncio.sleep(0.3)
    assert ran == ["b"]  # a's request still runs when its pause ends
    s.supersede("a")
    with pytest.raises(Cancelled):
        await asyncio.wait_for(running, 5)
    await asyncio.sleep(0.3)
    assert ran == ["b", "a"]  # then a's warm-up runs, once
    await asyncio.sleep(0.2)
    assert ran == ["b", "a"]


async def test_a_request_stops_the_warm_ups_on_its_worker_whatever_their_document_or_session(worker):
    """A warm-up (where the cursor rests in a.py) holds the model's thread; a request for b.py
    from another session (a daemon's second editor) stops it at its next look at its flag, so the
    request waits one step, not a whole prompt; a request on another worker stops nothing."""
    mine, theirs, started = Scheduler(), Scheduler(), threading.Event()
    flags: list[threading.Event] = []

    def warm(cancel):
        flags.append(cancel)
        started.set()
        cancel.wait(5)

    other = ThreadPoolExecutor(1)
    try:
        mine.background(worker, warm, "a")
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        assert await theirs.run(other, lambda cancel: "elsewhere", "b") == "elsewhere"
        assert not flags[0].is_set()
        assert await asyncio.wait_for(theirs.run(worker, lambda cancel: "answered", "b"), 2) == "answered"
        assert flags[0].is_set()
        await asyncio.sleep(0.05)
        assert not mine.busy("a") and not Scheduler.warming.get(worker)
    finally:
        other.shutdown(wait=True)


async def test_a_move_stops_the_warm_ups_of_its_document_and_no_request(worker):
    s, other, requests = Scheduler(), Scheduler(), ThreadPoolExecutor(1)
    started, ran = threading.Event(), []
    s.background(worker, lambda cancel: ran.append(cancel.wait(5)), "a")
    request = asyncio.ensure_future(other.run(requests, waits_for_cancel(started), "a"))
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    s.moved("b")  # another document: nothing stops
    other.moved("a")  # the request's own scheduler: a request is no warm-up
    await asyncio.sleep(0.1)
    assert ran == [] and not request.done()
    s.moved("a")
    await asyncio.sleep(0.1)
    assert ran == [True] and not request.done()
    other.supersede("a")
    with pytest.raises(Cancelled):
        await asyncio.wait_for(request, 5)
    requests.shutdown(wait=True)


async def test_background_work_dropped_unrun_leaves_its_document_idle():
    pool, release = ThreadPoolExecutor(1), threading.Event()
    s = Scheduler()
    pool.submit(release.wait, 5)  # the worker is busy
    s.background(pool, lambda cancel: None, "a")  # queued behind it
    assert s.busy("a")
    pool.shutdown(wait=False, cancel_futures=True)  # its model replaced: what is queued is dropped
    release.set()
    await asyncio.sleep(0.1)
    assert not s.busy("a")
    s.background(pool, lambda cancel: None, "a")  # a worker shut down takes no more
    assert not s.busy("a")


async def test_idle_work_runs_once_requests_stop_and_waits_for_every_session_s_work(worker):
    s, other, ran = Scheduler(idle_s=0.05), Scheduler(), []
    s.when_idle(lambda: ran.append(1))
    s.when_idle(lambda: ran.append(2))  # another request ended: the wait restarts
    await asyncio.sleep(0.3)
    assert ran == [2]
    started = threading.Event()
    running = asyncio.ensure_future(other.run(worker, waits_for_cancel(started), "a"))  # another session's
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    s.when_idle(lambda: ran.append(3))
    await asyncio.sleep(0.3)
    assert ran == [2]  # the other session's "a" still runs
    other.supersede("a")
    with pytest.raises(Cancelled):
        await asyncio.wait_for(running, 5)
    await asyncio.sleep(0.3)
    assert ran == [2, 3]  # then it runs


async def test_no_idle_work_after_shutdown():
    s, ran = Scheduler(idle_s=0.05), []
    s.when_idle(lambda: ran.append(1))
    s.supersede_all()
    s.when_idle(lambda: ran.append(2))  # a request that ended during shutdown
    await asyncio.sleep(0.3)
    assert ran == []


async def test_a_statement_starts_once_the_list_asked_beside_it_is_answered(monkeypatch):
    """The list's request read a few turns of the loop after the statement's (as the stdio reader
    hands messages over), or at once: the statement waits for that list, LIST_FIRST_S at most
    (5 s here, then 10 ms), and for no other document's or keystroke's."""
    s, events = Scheduler(), []
    monkeypatch.setattr(scheduler, "LIST_FIRST_S", 5.0)

    async def list_request(doc: str, text: str, turns: int, seconds: float):
        for _ in range(turns):
            await asyncio.sleep(0)
        with s.listing(doc, text, len(text)):
            await asyncio.sleep(seconds)
            events.append(f"list {doc} {text} answered")

    async def statement(doc: str, text: str):
        await s.after_list(doc, text, len(text))
        events.append(f"statement {doc} {text} starts")

    await asyncio.gather(statement("a", "x"), list_request("a", "x", 3, 0.005))
    await asyncio.gather(statement("a", "x"), list_request("b", "x", 0, 0.5))
    await asyncio.gather(statement("a", "xy"), list_request("a", "x", 0, 0.5))  # the keystroke before's list
    monkeypatch.setattr(scheduler, "LIST_FIRST_S", 0.01)
    await asyncio.gather(statement("a", "x"), list_request("a", "x", 0, 0.5))
    assert events == [
        "list a x answered",
        "statement a x starts",
        "statement a x starts",  # another document's list
        "list b x answered",
        "statement a xy starts",
        "list a x answered",
        "statement a x starts",  # a list that takes longer: not waited for past LIST_FIRST_S
        "list a x answered",
    ]
    assert (s._listing, s.running) == ({}, {})


async def test_an_edit_while_a_statement_waits_for_the_list_ends_it(monkeypatch):
    s = Scheduler()
    monkeypatch.setattr(scheduler, "LIST_FIRST_S", 5.0)
    with s.listing("a", "x", 1):
        waiting = asyncio.ensure_future(s.after_list("a", "x", 1))
        await asyncio.sleep(0.01)
        s.supersede("a")
    with pytest.raises(Cancelled):
        await waiting
    assert (s._listing, s.running) == ({}, {})
