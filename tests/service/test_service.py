"""The completion service's own bookkeeping: how long a request waited for its model's thread,
nothing kept of a document closed while its list was computed, memory returned once requests stop."""

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from nib.model.completion.engine import EngineOptions
from nib.model.completion.request import Mode, Options
from nib.model.completion.result import Result, Timings
from nib.model.listing.jedi import JediAnswer, JediCompleter, JediName
from nib.model.runtime import heap
from nib.model.service.hosts import Hosts, ModelKey
from nib.model.service.service import CompletionService, Config, _queued


def test_the_wait_for_the_inference_thread_is_the_requests_queue_ms():
    free = threading.Event()
    with ThreadPoolExecutor(1) as thread:
        thread.submit(free.wait, 5)  # another request's work, on the thread first
        waiting = thread.submit(_queued(lambda cancel: Result([], Timings(prefill_ms=5.0))), None)
        time.sleep(0.1)
        free.set()
        result = waiting.result(5)
    assert result.timings.queue_ms >= 100 and result.timings.prefill_ms == 5.0
    assert result.timings.total_ms() == result.timings.queue_ms + 5.0


def test_a_list_that_ends_after_its_document_closed_leaves_nothing_of_it():
    key = ModelKey("bundled", "cpu", 0)
    config = Config(key, key, Options(), EngineOptions(), True, 200, 30)
    service = CompletionService(Hosts(), JediCompleter(), config, lambda *args: None, logging.getLogger("test"))
    host = service.list_model.serving = service.list_model.loading  # never loaded: its thread is what counts
    assert host is not None
    go = threading.Event()

    def list_in_flight():  # the ranker keeps jedi's answer as the list ends
        go.wait(5)
        service.ranker._remember("doc", "x = a", 5, JediAnswer([JediName("a", "statement", "statement")], "name"))

    host.worker.submit(list_in_flight)
    service.forget("doc")  # closed while that list runs on the inference thread
    go.set()
    host.worker.submit(lambda: None).result(5)
    assert service.ranker.scopes_kept() == 0
    service.close()


async def test_the_heap_s_free_memory_is_returned_once_requests_stop(monkeypatch):
    key = ModelKey("bundled", "cpu", 1)
    config = Config(key, key, Options(), EngineOptions(), False, 200, 30)
    service = CompletionService(Hosts(), JediCompleter(), config, lambda *args: None, logging.getLogger("test"))
    service.scheduler.idle_s = 0.05
    await service.ready()  # loading returns what it freed, before what is counted here
    returned = []
    monkeypatch.setattr(heap, "return_freed", lambda: returned.append(time.perf_counter()))
    for typed in ("os.p", "os.pa"):
        assert await service.complete("doc", "import os\n" + typed, 10 + len(typed), Mode.STATEMENT) is not None
        assert returned == []  # not between two requests
    await asyncio.sleep(0.5)
    assert len(returned) == 1  # once, after the last
    service.close()
    await service.complete("doc", "import os\nos.", 13, Mode.STATEMENT)  # a request after shutdown
    await asyncio.sleep(0.5)
    assert len(returned) == 1
