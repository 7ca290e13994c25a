"""The engine's chain of steps with the bundled model: what runs, what it waits for, when it stops."""

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from nib.model.completion.decode import _Budget
from nib.model.completion.local import ANSWER_MS, LocalCompleter
from nib.model.completion.request import Options, Request
from nib.model.completion.result import Timings
from nib.model.completion.steps import PREFILL_STEP
from nib.model.errors import Cancelled

TEXT = "import os\nos.pa"


@pytest.fixture(scope="module")
def engine():
    return LocalCompleter.load()


def test_names_given_as_the_whole_truth_are_the_whole_list(engine):
    """After `.` jedi's names (given by the list's owner) are scored by the model, no lexeme of the model's own."""
    result = engine.list(Request(TEXT, len(TEXT), "list"), ["path", "pardir", "walk", "pa"], names_only=True)
    names = sorted((c.kind, c.label, c.start) for c in result.candidates if c.kind != "statement")
    # walk does not begin with `pa`; `pa` itself, typed whole, is listed
    assert names == [("name", "pa", 13), ("name", "pardir", 13), ("name", "path", 13)]
    assert [c.kind for c in result.candidates].count("statement") == 1
    assert result.timings.decode_list_ms == 0 and result.timings.score_names_ms > 0


def test_the_name_typed_whole_is_scored_where_the_prompt_backs_off_into_it(engine):
    def scored(text, names):
        return sorted(c.label for c in engine.score_names(Request(text, len(text), "list"), names).candidates)

    assert scored("a = 1\nx_", ["x_", "x_abc"]) == ["x_", "x_abc"]  # `x_` backed off: P(x_) is read
    # the bundled model's prompt does not back off from `print`: nothing of it is left to score, so it
    # is not listed (an empty sequence once failed the whole list)
    assert scored("a = 1\nprint", ["print", "printabc"]) == ["printabc"]


def test_names_scored_after_the_list_continue_its_prompt_state(engine, monkeypatch):
    request = Request(TEXT, len(TEXT), "list")
    listed = engine.list(request)
    assert {c.kind for c in listed.candidates} == {"token", "statement"}
    ran = []
    real = engine.runtime.forward
    monkeypatch.setattr(
        engine.runtime, "forward", lambda ids, *rest, **kw: ran.append(ids.shape[1]) or real(ids, *rest, **kw)
    )
    named = engine.score_names(request, ["path", "pardir"])
    assert sorted(c.label for c in named.candidates) == ["pardir", "path"]
    assert named.timings.prompt_tokens == listed.timings.prompt_tokens and named.timings.score_names_ms > 0
    assert ran[0] == 1  # the prompt's last token again (its logits), not the whole prompt


def test_a_statement_request_runs_only_the_prompt_and_the_statement(engine):
    result = engine.complete(Request(TEXT, len(TEXT), "statement", Options(statement_budget_ms=251)))  # a new prompt
    t = result.timings
    assert [c.kind for c in result.candidates] == ["statement"]
    assert result.candidates[0].start == 13 and result.candidates[0].text.startswith("pa")
    assert (t.decode_list_ms, t.score_names_ms) == (0, 0) and t.prefill_ms > 0
    assert (t.prompt_tokens, t.healed_bytes) == (6, 2)  # <|endoftext|> "import" " os" "\n" "os" "."; "pa" healed


def test_a_statement_decoded_ahead_while_idle_is_typed_through_by_the_next_key(engine):
    """Warmed, then ahead (the cursor rests): the statement there is decoded as if asked; the
    ghost text asked once its first character is typed is that statement, with no pass run."""
    text = "import sys\n\nfor arg in sys."  # a text of its own: the engine is shared by this module's tests
    engine.warm(text, len(text), Options(), doc="ahead")
    engine.ahead(Request(text, len(text), "statement", Options(), doc="ahead"))
    ahead = engine.last_statement(text, len(text), Options())
    assert ahead is not None and ahead.text == "modules:"
    typed = text + "m"
    answer = engine.complete(Request(typed, len(typed), "statement", Options(), doc="ahead"))
    t = answer.timings
    assert answer.candidates == [ahead] and (t.passes, t.prefill_ms, t.prompt_tokens) == (0, 0, 0)
    kept = len(engine.shown._items)
    engine.ahead(Request(typed, len(typed), "statement", Options(), doc="ahead"))  # on screen still: not again
    assert len(engine.shown._items) == kept


def test_a_statement_decoded_ahead_stops_at_a_key_and_leaves_nothing(engine):
    text, key = "import sys\n\nwhile sys.", threading.Event()
    key.set()  # a keystroke (or a request for the model) came
    with pytest.raises(Cancelled):
        engine.ahead(Request(text, len(text), "statement", Options(), key, doc="ahead"))
    assert not engine.shown.stands(text, len(text), engine.own(Options()), "ahead")


def test_the_statement_budget_counts_from_the_request_s_arrival(engine):
    """A request that came a second ago has spent its 250 ms: no decoding pass begins; its prompt,
    prefilled before but for the key's own tokens (`steps.TYPED`), gives the first token."""
    text, options = "import sys\nsys.ar", Options(statement_budget_ms=250)
    engine.warm(text[:-1], len(text) - 1)
    late = engine.complete(Request(text, len(text), "statement", options, since=time.monotonic() - 1))
    assert late.timings.passes == 0 and [(c.kind, c.start, c.text) for c in late.candidates] == [
        ("statement", 15, "argv")
    ]
    now = engine.complete(Request(text, len(text), "statement", replace(options, statement_max_tokens=31)))
    assert now.timings.passes > 0 and now.candidates[0].text.startswith("argv")


def test_the_last_pass_leaves_the_answer_its_way_to_the_editor(engine, monkeypatch):
    """No pass may end in the budget's last ANSWER_MS: the answer's postprocessing and its trip."""
    deadlines, real = [], engine._decode_statement
    monkeypatch.setattr(engine, "_decode_statement", lambda p, o, d, *a: deadlines.append(d) or real(p, o, d, *a))
    text, since = "import sys\nsys.ar", time.monotonic()
    engine.complete(Request(text, len(text), "statement", Options(statement_budget_ms=250), since=since))
    assert ANSWER_MS > 0 and deadlines == [since + (250 - ANSWER_MS) / 1e3]


def test_a_statement_the_budget_cut_is_decoded_on_as_it_is_typed_through(engine):
    text, options = "import sys\nfor a in sys.ar", Options(statement_budget_ms=250)
    engine.warm(text[:-1], len(text) - 1)  # the keys before, in a pause
    late = engine.complete(Request(text, len(text), "statement", options, since=time.monotonic() - 1))
    assert [(c.text, c.start, c.cut) for c in late.candidates] == [("argv", 24, True)]
    typed = text + "g"  # the user types its next character: the rest comes, decoded on from its end
    on = engine.complete(Request(typed, len(typed), "statement", options))
    assert [(c.text, c.start, c.cut) for c in on.candidates] == [("argv.", 24, False)] and on.timings.passes > 0
    again = typed + "v"  # typed through again: the statement is whole now, nothing is decoded
    assert engine.complete(Request(again, len(again), "statement", options)).candidates == on.candidates


def test_a_statement_s_decoding_stops_under_min_confidence(engine, monkeypatch):
    """The decoder is given statement.minConfidence as its floor (`Decoder.statement` stops under
    it), none where every statement is shown; a statement decoded under one floor is not reused
    under another, where it may have stopped early."""
    floors, real = [], engine.decoder.statement
    monkeypatch.setattr(engine.decoder, "statement", lambda *a, **kw: floors.append(kw["floor"]) or real(*a, **kw))
    text = "import sys\nwhile a in sys.ar"
    for confidence in (0, 20, 20, 50):
        engine.complete(Request(text, len(text), "statement", Options(statement_min_confidence=confidence)))
    assert floors == [-math.inf, math.log(0.2), math.log(0.5)]


def test_no_pass_begins_that_would_end_past_the_deadline_at_the_slowest_pass_s_cost(monkeypatch):
    clock = iter([10.0, 10.0, 10.05, 10.08, 10.16, 10.3, 10.3])
    monkeypatch.setattr(time, "monotonic", lambda: next(clock))
    counts = Timings()
    budget = _Budget(10.2, counts)  # made at 10.0
    assert not budget.spent()  # 10.0: no pass yet
    counts.passes += 1
    assert not budget.spent()  # 10.05: one of 50 ms, 150 ms left
    counts.passes += 1
    assert not budget.spent()  # 10.08: the slowest still 50 ms, 120 left
    assert budget.spent()  # 10.16 (no pass since: a draft's token): 40 ms left
    assert not _Budget(None, counts).spent()


@pytest.mark.parametrize("mode, method", [("statement", "extend"), ("list", "step_rows")])
def test_a_request_cancelled_while_decoding_stops_at_the_next_step(engine, monkeypatch, mode, method):
    cancel, decoding = threading.Event(), threading.Event()
    real = getattr(engine.runtime, method)

    def held(*args):  # the first decoding step waits until the request is cancelled
        decoding.set()
        cancel.wait(10)
        return real(*args)

    monkeypatch.setattr(engine.runtime, method, held)
    options = Options(list_statement=False, statement_budget_ms=10_000, list_budget_ms=10_000)
    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(engine.complete, Request("x = 1\nprint(", 12, mode, options, cancel))
        assert decoding.wait(10)
        cancel.set()
        with pytest.raises(Cancelled):
            done.result(10)


def test_alternating_documents_each_reuse_their_own_prompt_state(engine, monkeypatch):
    """Two documents (two editors on one daemon) take turns: each prompt runs only its new tokens."""
    a, b = "import os\n\ndef walk(root):\n    return os.listdir(root)\n\nwalk(", "class Point:\n    x = 0\n    y = "
    engine.complete(Request(a, len(a), "statement"))
    engine.complete(Request(b, len(b), "statement"))
    ran = []
    real = engine.runtime.forward
    monkeypatch.setattr(
        engine.runtime, "forward", lambda ids, *rest, **kw: ran.append(ids.shape[1]) or real(ids, *rest, **kw)
    )
    engine.complete(Request(a + "'", len(a) + 1, "statement", Options(statement_max_tokens=1)))
    engine.complete(Request(b + "1", len(b) + 1, "statement", Options(statement_max_tokens=1)))
    assert ran[0] <= 3 and ran[-1] <= 3, ran  # a few new tokens each, not the whole document again


LONG = "".join(
    f"def handler_{i}(request, response):\n    return response.send(request.body[{i}])\n\n" for i in range(12)
)
LONG += "def handler_12(request, response):\n    return response.send(request.bo"


def _prefills(engine, monkeypatch, then=lambda: None) -> list[int]:
    """The length of the state each prefill of engine goes on from (0: none); then() after each."""
    reused, real = [], engine.runtime.prefill

    def prefill(ids, types, state, **kw):
        reused.append(0 if state is None else len(state))
        then()
        return real(ids, types, state, **kw)

    monkeypatch.setattr(engine.runtime, "prefill", prefill)
    return reused


def test_a_statement_whose_prompt_would_not_fit_its_budget_is_answered_with_nothing_and_the_steps_kept(
    monkeypatch,
):
    """Steps of 100 ms (a clock only prefill moves). A model's first prompt: one step runs (what
    a step costs is not known before), then the rest would end past 250 ms: the answer is
    nothing, and one state is kept. The next request, the cost known, begins no step; with room
    for the rest, it goes on from that state."""
    engine, now = LocalCompleter.load(), [1000.0]  # a model of its own: its own prompt states
    reused = _prefills(engine, monkeypatch, lambda: now.__setitem__(0, now[0] + 0.1))
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    options = Options(statement_budget_ms=250)
    first = engine.complete(Request(LONG, len(LONG), "statement", options, since=now[0]))
    tokens = first.timings.prompt_tokens
    assert tokens > 4 * PREFILL_STEP
    assert (first.candidates, first.timings.passes, first.timings.unfilled) == ([], 0, tokens - PREFILL_STEP)
    assert (reused, len(engine.states)) == ([0], 1)
    assert engine.step_cost.seconds(PREFILL_STEP) == pytest.approx(0.1)
    again = engine.complete(Request(LONG, len(LONG), "statement", options, since=now[0]))
    assert (again.candidates, again.timings.unfilled, reused) == ([], tokens - PREFILL_STEP, [0])
    roomy = replace(options, statement_budget_ms=100 * tokens // PREFILL_STEP + 200)  # the rest's steps fit
    filled = engine.complete(Request(LONG, len(LONG), "statement", roomy, since=now[0]))
    assert (filled.timings.unfilled, reused[:2]) == (0, [0, PREFILL_STEP])
    assert [c.kind for c in filled.candidates] == ["statement"] and len(engine.states) == 1


def test_a_statement_the_user_asked_for_is_prefilled_whatever_its_budget(monkeypatch):
    """Invoked (a key, a command): the whole prompt however late, in a statement's steps (a
    superseding edit stops it), then the first token; asked by typing, as late: nothing prefilled."""
    late = time.monotonic() - 1
    typed = LocalCompleter.load().complete(Request(LONG, len(LONG), "statement", since=late))
    assert (typed.candidates, typed.timings.unfilled) == ([], typed.timings.prompt_tokens)
    engine = LocalCompleter.load()
    reused = _prefills(engine, monkeypatch)
    cancel = threading.Event()
    asked = engine.complete(Request(LONG, len(LONG), "statement", cancel=cancel, since=late, invoked=True))
    assert reused == list(range(0, asked.timings.prompt_tokens, PREFILL_STEP))
    assert [(c.kind, c.text, c.cut) for c in asked.candidates] == [("statement", "body", True)]
    assert (asked.timings.unfilled, asked.timings.passes) == (0, 0)


def test_a_superseded_statement_stops_its_prefill_between_two_steps(monkeypatch):
    """An edit sets the request's cancel during its first step: no second step runs, and the
    first one's state is where the next request goes on from."""
    engine, cancel = LocalCompleter.load(), threading.Event()
    reused = _prefills(engine, monkeypatch, cancel.set)
    options = Options(statement_budget_ms=10_000)
    with pytest.raises(Cancelled):
        engine.complete(Request(LONG, len(LONG), "statement", options, cancel=cancel))
    assert (reused, len(engine.states)) == ([0], 1)
    engine.complete(Request(LONG, len(LONG), "statement", options))
    assert (reused[1], len(engine.states)) == (PREFILL_STEP, 1)


def test_a_warm_up_keeps_one_state_its_last():
    engine = LocalCompleter.load()
    engine.warm(LONG, len(LONG), cancel=threading.Event())
    assert len(engine.states) == 1
