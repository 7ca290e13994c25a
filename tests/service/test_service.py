"""The completion service's own bookkeeping: how long a request waited for its model's thread,
nothing kept of a document closed while its list was computed, memory returned once requests stop."""

import asyncio
import functools
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from nib.model.completion.engine import EngineError, EngineOptions
from nib.model.completion.request import Kind, Mode, Options
from nib.model.completion.result import Result, Timings
from nib.model.completion.steps import TYPED
from nib.model.listing.jedi import JediCompleter
from nib.model.listing.jedi_answers import JediAnswer, JediName
from nib.model.listing.jedi_futures import Asked
from nib.model.runtime import heap
from nib.model.service import scheduler
from nib.model.service.config import Config
from nib.model.service.hosts import Hosts, ModelKey
from nib.model.service.scheduler import queued, wait_until
from nib.model.service.service import CompletionService

_QUIET = (lambda *args: None, logging.getLogger("test"))  # notify, log


def test_the_wait_for_the_inference_thread_is_the_requests_queue_ms():
    free = threading.Event()
    with ThreadPoolExecutor(1) as thread:
        thread.submit(free.wait, 5)  # another request's work, on the thread first
        waiting = thread.submit(queued(lambda cancel: Result([], Timings(prefill_ms=5.0))), None)
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
        service.ranker.scopes.remember("doc", "x = a", 5, JediAnswer([JediName("a", "statement", "statement")], "name"))

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


async def test_a_statement_s_budget_counts_from_its_request_a_busy_thread_included():
    """The budget is the editor's wait: a request that waited 400 ms for its model's thread (a
    superseded decode ending) has spent its 250 ms there, so no decoding pass begins; its prompt,
    prefilled before but for the key's own tokens, gives the statement's first token."""
    key = ModelKey("bundled", "cpu", 1)
    config = Config(key, key, Options(statement_budget_ms=250), EngineOptions(), False, 200, 30)
    service = CompletionService(Hosts(), JediCompleter(), config, lambda *args: None, logging.getLogger("test"))
    host = await service.model.ready()
    text = "import sys\nsys.ar"
    host.engine.warm(text[:-1], len(text) - 1, config.options, doc="doc")  # the keys before, in a pause
    host.worker.submit(time.sleep, 0.4)
    late = await service.complete("doc", text, len(text), Mode.STATEMENT)
    assert late.timings.queue_ms >= 350 and late.timings.passes == 0
    assert [(c.text, c.start, c.cut) for c in late.candidates] == [("argv", 15, True)]
    text += "g"  # typed through: the cut statement is decoded on, now within its budget
    now = await service.complete("doc", text, len(text), Mode.STATEMENT)
    assert now.timings.passes > 0 and now.candidates[0].text.startswith("argv")
    service.close()


async def _slow_to_prefill(service: CompletionService):
    """The statement's host, its steps as slow lately as a second a token (no prompt fits a 250 ms
    budget), its prefills of more than a key's own tokens taking 400 ms (past the budget)."""
    host = await service.model.ready()
    host.engine.step_cost.add(1, 1.0)
    real = host.engine.runtime.prefill

    def prefill(ids, types, state=None, **kw):
        if len(ids) - (len(state) if state is not None else 0) > TYPED:
            time.sleep(0.4)
        return real(ids, types, state, **kw)

    host.engine.runtime.prefill = prefill
    return host


async def test_a_prompt_that_would_not_fit_the_budget_is_answered_at_once_and_prefilled_off_the_keystroke():
    """The prompt would not be prefilled within the 250 ms budget, so the answer is nothing, at
    once. Then, on the thread, the prompt is prefilled (past that budget), so the next key's
    request prefills only its own tokens and decodes the statement within its budget, whole."""
    key = ModelKey("bundled", "cpu", 1)
    config = Config(key, key, Options(statement_budget_ms=250), EngineOptions(), False, 200, 30)
    service = CompletionService(Hosts(), JediCompleter(), config, *_QUIET)
    host = await _slow_to_prefill(service)
    text = "import sys\nsys.ar"
    first = await service.complete("doc", text, len(text), Mode.STATEMENT)
    assert (first.candidates, first.timings.unfilled) == ([], first.timings.prompt_tokens)  # no step begun
    await asyncio.wrap_future(host.worker.submit(lambda: None))  # after the prefill queued behind it
    typed = await service.complete("doc", text + "g", len(text) + 1, Mode.STATEMENT)
    service.close()
    assert [(c.text, c.start, c.cut) for c in typed.candidates] == [("argv import get_system", 15, False)]
    assert (typed.timings.unfilled, typed.timings.prefill_ms < 400) == (0, True)  # not the whole prompt


async def test_an_edit_while_a_prompt_is_found_not_to_fit_leaves_it_unfilled():
    """An edit that comes while the request runs (the request's text is stale): no prefill after it."""
    key = ModelKey("bundled", "cpu", 1)
    config = Config(key, key, Options(statement_budget_ms=250), EngineOptions(), False, 200, 30)
    service = CompletionService(Hosts(), JediCompleter(), config, *_QUIET)
    host = await _slow_to_prefill(service)
    loop, real = asyncio.get_running_loop(), host.engine.complete

    def edited_meanwhile(request):
        result = real(request)
        loop.call_soon_threadsafe(service.edited, "doc", 0, "#")
        time.sleep(0.2)  # the loop handles the edit before this request's answer
        return result

    host.engine.complete = edited_meanwhile
    text = "import sys\nsys.ar"
    first = await service.complete("doc", text, len(text), Mode.STATEMENT)
    await asyncio.wrap_future(host.worker.submit(lambda: None))
    states = len(host.engine.states)
    service.close()
    assert first.timings.unfilled == first.timings.prompt_tokens
    assert (states, service.scheduler.running) == (0, {})


async def test_when_the_engine_fails_after_the_budget_the_local_model_has_a_budget_of_its_own():
    """An engine that answers nothing within its engine.timeoutMs (here 400 ms, past the 250 ms
    budget) leaves the statement to the local model, whose budget starts at the failure."""
    local = ModelKey("bundled", "cpu", 1)
    remote = ModelKey("http://127.0.0.1:9/v1", "", 0, kind=Kind.HTTP)
    config = Config(remote, local, Options(statement_budget_ms=250), EngineOptions(), False, 200, 30)
    service = CompletionService(Hosts(), JediCompleter(), config, *_QUIET)
    await service.ready()
    text, failed, asked = "import sys\nsys.ar", [], []
    engine, fallback = (await service.model.ready()).engine, service.list_model.serving.engine
    real_complete = fallback.complete

    async def too_late(request, how):
        await asyncio.sleep(0.4)
        failed.append(time.monotonic())
        raise EngineError("the engine at http://127.0.0.1:9/v1 did not answer within 400 ms (engine.timeoutMs)")

    engine.complete = too_late
    fallback.complete = lambda request: asked.append(request) or real_complete(request)
    after = await service.complete("doc", text, len(text), Mode.STATEMENT)
    service.close()
    assert len(asked) == 1 and asked[0].since >= failed[0]
    assert after.timings.passes > 0 and after.candidates[0].text.startswith("argv")


class _GatedJedi(JediCompleter):
    """jedi that answers `late_s` after `gate` is set, from another thread, as its process would."""

    def __init__(self, gate: threading.Event, late_s: float):
        super().__init__()
        self.gate, self.late_s, self.answered_at = gate, late_s, 0.0

    def ask(self, text, cursor, path=None, at_name_start=True, background=False, environment=""):
        future: Future = Future()

        def answer():
            self.gate.wait(10)
            time.sleep(self.late_s)
            self.answered_at = time.perf_counter()
            future.set_result(JediAnswer([JediName("ledger", "statement", "statement")], "name"))

        threading.Thread(target=answer, daemon=True).start()
        return future


async def _two_models(jedi, name_budget_ms: int, options: Options = Options()) -> CompletionService:
    statement, listing = ModelKey("bundled", "cpu", 1), ModelKey("bundled", "cpu", 2)  # two hosts: the list's own
    config = Config(statement, listing, options, EngineOptions(), True, 5000, name_budget_ms)  # statement item on
    service = CompletionService(Hosts(), jedi, config, lambda *args: None, logging.getLogger("test"))
    await service.ready()
    return service


def _watch_decodes(service: CompletionService, after=lambda: None) -> list[float]:
    """When the list's model decodes its own lexemes (the start of each call); after() at its end."""
    engine, started = service.list_model.serving.engine, []
    real_list = engine.list

    def listed(*args, **kwargs):
        started.append(time.perf_counter())
        result = real_list(*args, **kwargs)
        after()
        return result

    engine.list = listed
    return started


async def test_at_a_new_name_where_jedi_answered_in_the_scope_before_its_wait_runs_beside_the_decode(monkeypatch):
    """Where jedi answered at a name in this scope before, its names there stand in for a late answer
    (but for a few locals): the list's wait for jedi ends `jedi.nameBudgetMs` after jedi was asked,
    the decode's time included. In a scope jedi has not answered in, and for a list the user asked
    for, it ends that long after the decode, as when the model decoded after the wait."""
    waits: list[float] = []  # the deadline each wait after a decode was given, less when it was called

    async def recorded(future, until):
        waits.append(until - time.monotonic())
        return await wait_until(future, until)

    monkeypatch.setattr("nib.model.service.service.wait_until", recorded)
    gate = threading.Event()
    gate.set()
    jedi = _GatedJedi(gate, 0.0)
    service = await _two_models(jedi, 100)
    slow: list[bool] = []
    _watch_decodes(service, after=lambda: time.sleep(0.3) if slow else None)
    text = "def pay(ledger):\n    x = le"
    assert not (await service.complete("doc", text, len(text), Mode.LIST)).stale  # answered in pay's scope
    slow.append(True)
    jedi.late_s = 5.0  # late from now on; each decode takes 0.3 s and more, past the 100 ms budget
    waits.clear()
    text += "dger\n    y = le"
    here = await service.complete("doc", text, len(text), Mode.LIST)
    assert here.stale and [n.name for n in here.jedi.names][:1] == ["ledger"]  # pay's names, kept
    jedi.late_s = 0.5
    text += "dger\n    z = "  # Ctrl+Space in pay's scope: it waits jedi.budgetMs (5000 here) after the decode
    assert not (await service.complete("doc", text, len(text), Mode.LIST, invoked=True)).stale
    jedi.late_s = 5.0
    text += "\n\n\ndef refund(ledger):\n    x = le"
    there = await service.complete("doc", text, len(text), Mode.LIST)
    assert there.stale
    assert len(waits) == 3 and waits[0] <= 0.0 and waits[1] >= 4.0 and waits[2] >= 0.05, waits
    service.close()


class _OneCallJedi(JediCompleter):
    """jedi whose every call shares one future, set by the test: a call for one name, as the worker's
    (its wait counted from the latest ask)."""

    def __init__(self):
        super().__init__()
        self.future = Asked()

    def ask(self, text, cursor, path=None, at_name_start=True, background=False, environment=""):
        self.future.asked_at = time.monotonic()
        return self.future


async def test_typing_on_into_a_name_while_jedi_works_narrows_the_stale_list_and_jedis_answer_joins_it_undecoded():
    jedi = _OneCallJedi()
    service = await _two_models(jedi, 200)
    decoded_at = _watch_decodes(service)
    text = "ledger = 1\nprint(le"
    first = await service.complete("doc", text, len(text), Mode.LIST)
    assert first.stale and not first.narrowed and len(decoded_at) == 1
    text += "d"
    grown = await service.complete("doc", text, len(text), Mode.LIST)
    assert (grown.stale, grown.narrowed, len(decoded_at)) == (True, True, 1)  # no model: jedi would still be late
    assert grown.candidates[0].label == "ledger" and grown.timings.jedi_wait_ms == 0.0
    jedi.future.set_result(JediAnswer([JediName("ledger", "statement", "statement")], "name"))
    text += "g"
    again = await service.complete("doc", text, len(text), Mode.LIST)
    assert (again.stale, again.narrowed, len(decoded_at)) == (False, False, 1)  # jedi's names scored, no decode
    assert [(n.name, n.kind) for n in again.jedi.names] == [("ledger", "statement")]
    assert [(c.label, c.kind) for c in again.candidates if c.kind == "name"][:1] == [("ledger", "name")]
    service.close()


async def test_at_a_name_the_list_s_own_model_decodes_while_jedi_works_and_frees_its_thread_meanwhile():
    gate = threading.Event()
    jedi = _GatedJedi(gate, 0.3)
    service = await _two_models(jedi, 5000)
    decoded_at = _watch_decodes(service)
    text = "ledger = 1\nprint(le"
    listing = asyncio.ensure_future(service.complete("doc", text, len(text), Mode.LIST))
    while not decoded_at:
        await asyncio.sleep(0.01)
    other = await asyncio.wrap_future(service.list_model.serving.worker.submit(time.perf_counter))  # another doc's
    gate.set()  # jedi answers only now: the model decoded, and the thread was free, before it did
    result = await listing
    assert decoded_at[0] < other < jedi.answered_at
    assert result.candidates[0].label == "ledger" and not result.stale  # and jedi's answer, waited for, ranks
    assert result.timings.jedi_wait_ms >= 250  # on the event loop, after decoding
    assert all(c.kind != "statement" for c in result.candidates)  # the list's own model decodes none
    text += "d"  # the same name grows: narrowed, neither decoded nor asked of jedi again
    narrowed = await service.complete("doc", text, len(text), Mode.LIST)
    assert narrowed.narrowed and narrowed.candidates[0].label == "ledger" and len(decoded_at) == 1
    jedi.answered_at = 0.0
    text = "ledger = 1\nprint(ledger.re"  # after `.` jedi's names are the whole list: waited for first
    result = await service.complete("doc", text, len(text), Mode.LIST)
    assert jedi.answered_at < decoded_at[-1]
    service.close()


async def test_after_a_dot_the_list_s_own_model_prefills_its_prompt_while_jedi_works():
    gate = threading.Event()
    jedi = _GatedJedi(gate, 0.0)
    service = await _two_models(jedi, 5000)
    engine = service.list_model.serving.engine
    warmed: list[float] = []
    real_warm = engine.warm
    engine.warm = lambda *args, **kwargs: real_warm(*args, **kwargs) or warmed.append(time.perf_counter())
    found: list[tuple[int, int]] = []  # each prompt's tokens and how many a kept state already held
    real_best = engine.states.best
    engine.states.best = lambda ids, types: found.append((len(ids), (best := real_best(ids, types))[1])) or best
    listed_at = _watch_decodes(service)
    text = "ledger = 1\nprint(ledger."
    listing = asyncio.ensure_future(service.complete("doc", text, len(text), Mode.LIST))
    for _ in range(500):  # the prompt prefilled before jedi answers (it never does until the gate opens)
        if warmed:
            break
        await asyncio.sleep(0.01)
    assert warmed
    other = await asyncio.wrap_future(service.list_model.serving.worker.submit(time.perf_counter))  # another doc's
    gate.set()  # jedi answers only now: the prompt was prefilled, and the thread free, before
    result = await listing
    assert warmed[0] < other < jedi.answered_at < listed_at[0]  # jedi's names scored once it answered
    assert result.jedi is not None and "ledger" in [c.label for c in result.candidates]  # jedi's, waited for
    (tokens, _), (again, held) = found[0], found[-1]
    assert len(found) == 2 and tokens == again == held  # the second turn's prompt was the prefilled one
    service.close()


async def test_the_list_s_own_model_reads_list_context_tokens_its_warm_up_too_and_the_statement_its_own():
    opened = threading.Event()
    opened.set()
    text = "".join(f"value_{i} = {i}\n" for i in range(300)) + "print(val"
    service = await _two_models(_GatedJedi(opened, 0.0), 5000, Options(list_context_tokens=256))
    engine = service.list_model.serving.engine
    found: list[tuple[int, int]] = []  # each prompt's tokens and how many a kept state already held
    real_best = engine.states.best
    engine.states.best = lambda ids, types: found.append((len(ids), (best := real_best(ids, types))[1])) or best
    # as after a pause (path False: the list's own model)
    warm = functools.partial(service._warm, engine, "doc", text, len(text), False, False, threading.Event())
    await asyncio.wrap_future(service.list_model.serving.worker.submit(warm))
    listing = await service.complete("doc", text, len(text), Mode.LIST)
    statement = await service.complete("doc", text, len(text), Mode.STATEMENT)
    (warmed, _), (listed, held) = found[0], found[-1]
    assert 20 < listed <= 256 and listed == warmed == held  # the list's window, prefilled by the warm-up
    assert listing.timings.prompt_tokens == listed
    assert 256 < statement.timings.prompt_tokens <= 448  # the statement's model: its own budget (448)
    service.close()


async def test_the_list_s_own_model_reads_no_more_than_a_lower_model_context_tokens():
    text = "".join(f"value_{i} = {i}\n" for i in range(300)) + "print(val"
    service = await _two_models(_GatedJedi(threading.Event(), 0.0), 0, Options(context_tokens=128))
    listing = await service.complete("doc", text, len(text), Mode.LIST)
    statement = await service.complete("doc", text, len(text), Mode.STATEMENT)
    assert 64 < listing.timings.prompt_tokens <= 128 and 64 < statement.timings.prompt_tokens <= 128
    service.close()


async def test_jedi_has_as_long_to_answer_as_when_the_list_decoded_after_waiting():
    decoded = threading.Event()
    jedi = _GatedJedi(decoded, 0.1)  # 100 ms after the decode ends: past its 200 ms budget, within budget + decode
    service = await _two_models(jedi, 200)
    engine = service.list_model.serving.engine
    real_list = engine.list
    engine.list = lambda *args, **kwargs: time.sleep(0.5) or real_list(*args, **kwargs)  # a slow decode
    _watch_decodes(service, decoded.set)
    text = "ledger = 1\nprint(le"
    result = await service.complete("doc", text, len(text), Mode.LIST)
    assert result.jedi is not None and not result.stale
    service.close()


async def test_a_list_asked_for_where_nothing_is_typed_waits_for_jedi_as_after_a_dot():
    """Ctrl+Space where a name starts (the server's `invoked`): jedi has `jedi.budgetMs` (5000 here),
    not the 0 ms of a list asked by typing."""
    gate = threading.Event()
    gate.set()
    service = await _two_models(_GatedJedi(gate, 0.3), 0)  # jedi answers 300 ms after each call
    text = "ledger = 1\nprint("
    listing = await service.complete("a", text, len(text), Mode.LIST, invoked=True)
    assert (listing.jedi is not None, listing.stale) == (True, False)
    gate.clear()  # jedi does not answer at all now: the list by typing never has it, however slow
    listing = await service.complete("b", text, len(text), Mode.LIST)
    assert listing.stale and "ledger" in {n.name for n in listing.jedi.names}  # jedi's names read from the text
    gate.set()
    service.close()


async def test_a_statement_asked_with_a_list_starts_once_the_list_is_answered(monkeypatch):
    """The list asked on the same keystroke answers first, the statement's model started after it
    (`Scheduler.after_list`; its bound 5 s here: this first list decodes, longer than a narrowed one)."""
    monkeypatch.setattr(scheduler, "LIST_FIRST_S", 5.0)
    gate = threading.Event()
    gate.set()
    service = await _two_models(_GatedJedi(gate, 0.0), 0)
    engine, started = service.model.serving.engine, []
    real_complete = engine.complete
    engine.complete = lambda request: started.append(time.perf_counter()) or real_complete(request)
    text = "ledger = 1\nprint("
    statement = asyncio.ensure_future(service.complete("doc", text, len(text), Mode.STATEMENT))
    listing = await service.complete("doc", text, len(text), Mode.LIST)
    answered = time.perf_counter()
    assert (listing is not None, started) == (True, [])
    await statement
    assert len(started) == 1 and started[0] > answered
    service.close()


async def test_an_edit_or_a_close_between_the_list_s_two_turns_ends_it():
    for end in ("edited", "forget"):
        gate = threading.Event()
        service = await _two_models(_GatedJedi(gate, 0.0), 5000)
        decoded_at = _watch_decodes(service)
        text = "ledger = 1\nprint(le"
        listing = asyncio.ensure_future(service.complete("doc", text, len(text), Mode.LIST))
        while not decoded_at:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # the first turn over, jedi waited for
        service.edited("doc", 0, "x") if end == "edited" else service.forget("doc")
        gate.set()
        assert await listing is None
        await asyncio.wrap_future(service.list_model.serving.worker.submit(lambda: None))
        assert service.ranker.scopes_kept() == 0  # nothing of it remembered
        service.close()


async def test_in_a_comment_or_a_docstring_the_list_is_empty_and_nothing_runs_for_it():
    asked: list[str] = []
    gate = threading.Event()
    gate.set()
    jedi = _GatedJedi(gate, 0.0)
    real_ask = jedi.ask
    jedi.ask = lambda text, *args, **kwargs: asked.append(text) or real_ask(text, *args, **kwargs)
    service = await _two_models(jedi, 5000)
    decoded_at = _watch_decodes(service)
    docstring = 'def f():\n    """Return the le'
    for text in (docstring, "x = 1  # the le", 'def f():\n    """Doc."""\n    # see os.'):
        listing = await service.complete("doc", text, len(text), Mode.LIST)
        assert (listing.candidates, listing.jedi, listing.position) == ([], None, ("prose", False))
    service.speculate("doc", docstring + "dger, or ", len(docstring) + 9, None)  # a name may start: not here
    await asyncio.sleep(0.2)
    assert asked == [] and decoded_at == []
    text = docstring + 'dger."""\n    return le'  # the docstring closed: code again
    listing = await service.complete("doc", text, len(text), Mode.LIST)
    assert listing.candidates[0].label == "ledger" and asked == [text] and len(decoded_at) == 1
    service.close()


async def test_a_speculated_list_waits_for_jedi_past_its_budget_and_a_rest_after_a_dot_is_speculated_too():
    """In a pause, jedi's first parse of a file outlasts a list's budget (200 ms here): the list
    speculated where a name may start waits for jedi's answer, so the name's first character
    narrows it (no model, no jedi). A name may start right after a keyword argument's `=` and a
    decorator's `@` too (no space comes between). Where the cursor rests after `.`, an attribute's
    first character may come next: speculated too; after typing a `.` the editor asks at once."""
    gate = threading.Event()
    gate.set()
    statement, listing = ModelKey("bundled", "cpu", 1), ModelKey("bundled", "cpu", 2)
    config = Config(statement, listing, Options(), EngineOptions(), True, 200, 30)
    service = CompletionService(Hosts(), _GatedJedi(gate, 0.5), config, *_QUIET)
    await service.ready()
    decoded_at = _watch_decodes(service)
    cases = ("ledger = 1\nprint(", False), ("ledger = 1\nprint(1, end=", False), ("ledger = 1\n@", False)
    for text, rested in (*cases, ("ledger = 1\nledger.", True)):
        doc, before = text, len(decoded_at)
        service.speculate(doc, text, len(text), None)
        await asyncio.sleep(0.7)  # jedi answered 0.5 s after it was asked
        if rested:
            assert len(decoded_at) == before  # typed: the editor asks itself
            service.speculate(doc, text, len(text), None, rested=True)
        for _ in range(300):
            if len(decoded_at) > before:
                break
            await asyncio.sleep(0.01)
        await asyncio.wrap_future(service.list_model.serving.worker.submit(lambda: None))  # its list done
        service.edited(doc, len(text), "l")
        result = await service.complete(doc, text + "l", len(text) + 1, Mode.LIST)
        assert (result.narrowed, result.jedi is not None, result.candidates[0].label) == (True, True, "ledger")
        assert len(decoded_at) == before + 1  # the speculated list's decode alone
    service.close()


async def test_a_speculated_list_waiting_for_jedi_is_dropped_by_an_edit_a_move_a_close_or_new_settings():
    """Its long wait for jedi is safe: whatever happens in doc meanwhile, nothing is decoded once jedi answers."""
    gate = threading.Event()
    gate.set()
    service = await _two_models(_GatedJedi(gate, 0.5), 30)
    decoded_at = _watch_decodes(service)
    text = "ledger = 1\nprint("
    ends = {
        "an edit elsewhere": lambda: service.edited("doc", 0, "#"),
        "a move": lambda: service.moved("doc"),
        "a close": lambda: service.forget("doc"),
        "new settings": lambda: service.configure(service.config),
    }
    for what, end in ends.items():
        service.speculate("doc", text, len(text), None)
        await asyncio.sleep(0.1)
        end()
        await asyncio.sleep(0.6)  # jedi answered 0.5 s after it was asked
        await asyncio.wrap_future(service.list_model.serving.worker.submit(lambda: None))
        assert decoded_at == [], what
    service.speculate("doc", text, len(text), None)  # and left alone, it is decoded
    for _ in range(300):
        if decoded_at:
            break
        await asyncio.sleep(0.01)
    assert len(decoded_at) == 1
    service.close()
