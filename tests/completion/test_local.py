"""The engine's chain of steps with the bundled model: what runs, what it waits for, when it stops."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from nib.model.completion.local import LocalCompleter
from nib.model.completion.request import Options, Request
from nib.model.errors import Cancelled

TEXT = "import os\nos.pa"


@pytest.fixture(scope="module")
def engine():
    return LocalCompleter.load()


def test_names_given_as_the_whole_truth_are_the_whole_list(engine):
    """After `.` jedi's names (given by the list's owner) are scored by the model, no lexeme of the model's own."""
    result = engine.list(Request(TEXT, len(TEXT), "list"), ["path", "pardir", "walk"], names_only=True)
    names = sorted((c.kind, c.label, c.start) for c in result.candidates if c.kind != "statement")
    assert names == [("name", "pardir", 13), ("name", "path", 13)]  # walk does not extend `pa`
    assert [c.kind for c in result.candidates].count("statement") == 1
    assert result.timings.decode_list_ms == 0 and result.timings.score_names_ms > 0


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
