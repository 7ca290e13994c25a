"""jedi's worker process: answers, fails cleanly, restarts, and is late without holding anything up."""

from nib.model.listing.jedi import JediCompleter

from fixtures import SLOW_JEDI


def test_jedi_worker_answers_fails_cleanly_and_restarts():
    jedi = JediCompleter(budget_ms=30_000)
    try:
        text = "import os\nos.pa"
        result = jedi.names(text, len(text))
        assert (result.position, "path" in [n.name for n in result.names]) == ("attribute", True)
        # asked at the start of the name: every name of os, not only those starting with `pa`
        assert "walk" in [n.name for n in result.names]
        assert jedi.names(text + "t", len(text) + 1) is result  # the same name typed on: jedi's answer kept
        assert jedi.names(text, len(text) + 5) is None  # jedi raises on a column past the line: no answer
        jedi._process.kill()
        jedi._process.wait()
        result = jedi.names(text, len(text))  # a dead worker is replaced on the next request
        assert result is not None and "path" in [n.name for n in result.names]
    finally:
        jedi.close()


def test_late_jedi_is_no_answer_and_a_newer_call_replaces_a_waiting_one(monkeypatch):
    monkeypatch.setenv("NIB_JEDI_DELAY_S", "30")  # every answer 30 s late
    jedi = JediCompleter(command=SLOW_JEDI)
    try:
        assert jedi.names("import os\nos.", 13, budget_ms=50) is None  # over its budget: no answer
        first = jedi.ask("import sys\nsys.", 15)  # the worker is still busy: this one waits behind it
        second = jedi.ask("import re\nre.", 13)  # ... and replaces the waiting one
        assert (first.cancelled(), second.done()) == (True, False)
    finally:
        jedi.close()


def test_a_call_waiting_behind_a_busy_worker_starts_when_it_is_free(monkeypatch):
    monkeypatch.setenv("NIB_JEDI_DELAY_S", "0.3")
    jedi = JediCompleter(command=SLOW_JEDI)
    try:
        busy = jedi.ask("import os\nos.", 13)
        waiting = jedi.ask("import sys\nsys.", 15)
        answer = waiting.result(timeout=60)
        assert busy.done() and "path" in [n.name for n in busy.result().names]
        assert (answer.position, "argv" in [n.name for n in answer.names]) == ("attribute", True)
    finally:
        jedi.close()


def test_keystrokes_in_one_name_share_its_call_and_a_late_answer_is_kept(monkeypatch):
    """`os.p`, `os.pa`: jedi is asked once, at the name's start; a caller that stops waiting
    does not cancel it, and its answer serves the next keystroke at once."""
    monkeypatch.setenv("NIB_JEDI_DELAY_S", "0.5")
    jedi = JediCompleter(command=SLOW_JEDI)
    try:
        first = jedi.ask("import os\nos.p", 14)
        assert jedi.ask("import os\nos.pa", 15) is first  # the same name start: the same call
        assert jedi.names("import os\nos.pat", 16, budget_ms=10) is None  # late...
        answer = first.result(timeout=60)  # ... but not cancelled
        again = jedi.ask("import os\nos.path", 17)
        assert again.done() and again.result() is answer
    finally:
        jedi.close()
