"""jedi's worker process: answers, fails cleanly, restarts, and is late without holding anything up."""

import json
import logging
import subprocess
import sys
import time

from fixtures import SLOW_JEDI, package_environment

from nib.model.listing.jedi import RETRY_S, JediCompleter
from nib.model.listing.jedi_answers import Description, JediAnswer


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
        for text in ("import os\ros.pa", "import os\r\nos.pa"):  # lines ended as old Macs and Windows end them
            assert "path" in [n.name for n in jedi.names(text, len(text)).names]
        jedi._process.kill()
        jedi._process.wait()
        result = jedi.names(text, len(text))  # a dead worker is replaced on the next request
        assert result is not None and "path" in [n.name for n in result.names]
    finally:
        jedi.close()


def test_where_a_name_starts_with_nothing_after_it_jedi_answers_with_the_functions_locals():
    """A `for` with no body yet, an expression with no operand at the document's end: the line
    stays in the function (the locals `rv`, `setter`, `value`), where parso alone ends it there
    and jedi gives the module's names."""
    import jedi

    from nib.model.listing.jedi_worker import complete

    text = "def pipe(*setters):\n    def wrapped(value):\n        rv = value\n\n        for setter in setters:\n"
    for line in ("            ", "            x = ", "            if not ", "            print(rv, "):
        for after in ("", "\n", "\n        return rv\n"):
            names = [n for n, _, _ in complete(text + line + after, len(text + line), None)["names"]]
            assert {"rv", "setter", "value", "pipe", "print"} <= set(names) and "_" not in names, (line, after)
    attributes = [n for n, _, _ in complete("import os\nos.pa", 15, None)["names"]]
    assert {"pardir", "path"} <= set(attributes) and all(n.lower().startswith("pa") for n in attributes)  # typed
    for ends in ("\r", "\r\n"):  # lines ended as old Macs and Windows end them, code after the line
        doc = (text + "            x = ").replace("\n", ends)
        names = [n for n, _, _ in complete(doc + ends + "        return rv" + ends, len(doc), None)["names"]]
        assert {"rv", "setter", "value"} <= set(names), repr(ends)
    continued = "def f(value):\n    x = 1 + \\"  # a continued line: a name after the `\\` would end it
    own = [c.name for c in jedi.Script(continued + "\n    2\n").complete(2, 13)]  # jedi's own, nothing added
    assert [n for n, _, _ in complete(continued + "\n    2\n", len(continued), None)["names"]] == own
    assert {"True", "x"} <= set(own)


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


def test_a_background_call_waits_in_a_place_of_its_own_which_a_lists_call_does_not_take(monkeypatch):
    monkeypatch.setenv("NIB_JEDI_DELAY_S", "30")
    jedi = JediCompleter(command=SLOW_JEDI)
    text = 'def area(w, h=2):\n    """The area."""\n\n\nar'
    try:
        busy = jedi.ask("import os\nos.", 13)  # the worker is on this one
        waiting = jedi.ask("import sys\nsys.", 15)
        opened = jedi.ask("x = 1\n", 6, at_name_start=False, background=True)  # a document opened meanwhile
        assert (opened.cancelled(), waiting.cancelled()) == (False, False)
        later = jedi.ask("import re\nre.", 13)  # a list's newer call replaces the list's waiting one only
        assert (waiting.cancelled(), opened.cancelled(), later.cancelled()) == (True, False, False)
        first = jedi.describe(text, len(text) - 2, "area")  # a newer background call replaces that one
        assert (opened.cancelled(), first.cancelled()) == (True, False)
        first.cancel()  # its caller gave up (the editor's focus moved on)
        second = jedi.describe(text, len(text) - 2, "ar")  # waits in its place
        third = jedi.describe(text, len(text) - 2, "area")  # the newest description replaces it
        assert (second.cancelled(), third.cancelled(), later.cancelled(), busy.done()) == (True, False, False, False)
    finally:
        jedi.close()


def test_a_description_is_answered_after_the_lists_call_waiting_with_it(monkeypatch):
    """The worker busy, an item resolved, then a list's call: the list's goes first, and the
    description is still answered (it was dropped, and the item shown bare, before)."""
    monkeypatch.setenv("NIB_JEDI_DELAY_S", "0.3")
    monkeypatch.setenv("NIB_JEDI_DESCRIBE_DELAY_S", "0.3")
    jedi = JediCompleter(command=SLOW_JEDI)
    text = 'def area(w, h=2):\n    """The area."""\n\n\nar'
    order = []
    try:
        jedi.ask("import os\nos.", 13)  # the worker is on this one
        described = jedi.describe(text, len(text) - 2, "area")
        listed = jedi.ask("import sys\nsys.", 15)
        described.add_done_callback(lambda f: order.append("description"))
        listed.add_done_callback(lambda f: order.append("list"))
        assert described.result(timeout=60) == Description("area(w, h=2)", "The area.")
        assert "argv" in [n.name for n in listed.result(timeout=60).names]
        assert order == ["list", "description"]
    finally:
        jedi.close()


def test_a_description_is_the_names_first_signature_and_its_docstring():
    jedi = JediCompleter()
    text = 'def area(w, h=2):\n    """The area.\n\n    In metres."""\n\n\nx = 1\nar'
    try:
        assert jedi.describe(text, len(text) - 2, "area").result(timeout=60) == Description(
            "area(w, h=2)", "The area.\n\nIn metres."
        )
        assert jedi.describe(text, len(text) - 2, "x").result(timeout=60) == Description("", "")  # none
        assert jedi.describe(text, len(text) - 2, "nowhere").result(timeout=60) == Description("", "")
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


def test_a_worker_that_cannot_start_fails_the_calls_that_need_it_and_is_started_once_it_can(
    monkeypatch, tmp_path, caplog
):
    """A worker that answered dies under a call with a list's call and a description waiting, and
    its command is gone: both waiting calls and the next one fail at once (a list then goes on
    without jedi), said once in the log, and so do the calls of the next second, which start
    nothing; once the command is back and that second is over, the next call starts a worker again."""
    caplog.set_level(logging.WARNING, logger="nib.jedi")
    monkeypatch.setenv("NIB_JEDI_DELAY_S", "0.5")
    jedi = JediCompleter(command=SLOW_JEDI)
    try:
        assert jedi.names("import io\nio.", 11, budget_ms=30_000) is not None
        busy = jedi.ask("import os\nos.", 13)
        waiting = jedi.ask("import sys\nsys.", 15)
        described = jedi.describe("import os\nos.path", 13, "path")
        jedi.command = [str(tmp_path / "gone")]
        jedi._process.kill()
        assert repr(busy.exception(timeout=30)) == 'RuntimeError("jedi\'s worker process ended")'
        assert type(waiting.exception(timeout=30)) is FileNotFoundError
        assert type(described.exception(timeout=30)) is FileNotFoundError
        assert type(jedi.ask("import json\njson.", 17).exception(timeout=0)) is FileNotFoundError
        monkeypatch.setenv("NIB_JEDI_DELAY_S", "0")
        jedi.command = SLOW_JEDI
        # for a second after it failed, a call fails without starting one, though it now could
        ended = jedi._process
        assert type(jedi.ask("import re\nre.", 13).exception(timeout=0)) is FileNotFoundError
        assert jedi._process is ended
        later = time.monotonic() + RETRY_S[0]
        jedi.clock = lambda: later
        answer = jedi.names("import sys\nsys.", 15, budget_ms=30_000)
        assert (answer.position, "argv" in [n.name for n in answer.names]) == ("attribute", True)
    finally:
        jedi.close()
    said = [r.getMessage().split(":")[0] for r in caplog.records if r.name == "nib.jedi"]
    assert said == ["jedi's worker cannot start"]  # once, not at each call


def test_a_worker_that_ends_before_its_first_answer_is_started_again_after_a_wait_that_doubles(tmp_path):
    """A worker that dies as it starts (no memory for it, a crash as it imports jedi) is not started
    again at every keystroke: the calls of the next second fail at once, then those of the next two."""
    starts = tmp_path / "starts"
    dies = [sys.executable, "-c", f"import sys; sys.stdin.readline(); open({str(starts)!r}, 'a').write('x'); exit(3)"]
    jedi = JediCompleter(command=dies)
    now = 100.0
    jedi.clock = lambda: now
    ended = 'RuntimeError("jedi\'s worker process ended")'
    waits = "RuntimeError('it ended (3) before its first answer')"
    try:
        assert repr(jedi.ask("import os\nos.", 13).exception(timeout=30)) == ended
        assert repr(jedi.ask("import sys\nsys.", 15).exception(timeout=0)) == waits
        assert starts.read_text() == "x"
        now += RETRY_S[0]  # its wait is over: started again, it ends again
        assert repr(jedi.ask("import re\nre.", 13).exception(timeout=30)) == ended
        assert starts.read_text() == "xx"
        now += 1.5 * RETRY_S[0]  # the wait is now twice as long
        assert repr(jedi.ask("import io\nio.", 11).exception(timeout=0)) == waits
        assert starts.read_text() == "xx"
        now += 0.5 * RETRY_S[0]
        assert repr(jedi.ask("import json\njson.", 17).exception(timeout=30)) == ended
        assert starts.read_text() == "xxx"
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


# jedi's worker, with lines that are no answers before each of its answers on stdout: what a
# module jedi imports might print, an answer to no call, and bytes that are not UTF-8
NOISY_JEDI = [
    sys.executable,
    "-I",
    "-c",
    """
import sys
from nib.model.listing import jedi_worker

complete = jedi_worker.complete


def noisy(*args):
    sys.__stdout__.buffer.write(b'Loading stubs... (not JSON)\\n[1, 2]\\n{"names": []}\\n\\xff\\xfe\\n')
    sys.__stdout__.buffer.flush()
    return complete(*args)


jedi_worker.complete = noisy
jedi_worker.main()
""",
]


def test_lines_that_are_no_answers_are_logged_and_skipped(caplog):
    caplog.set_level(logging.WARNING, logger="nib.jedi")
    jedi = JediCompleter(budget_ms=30_000, command=NOISY_JEDI)
    try:
        first = jedi.names("import os\nos.", 13)
        assert (first.position, "path" in [n.name for n in first.names]) == ("attribute", True)
        second = jedi.names("import sys\nsys.", 15)  # the reader is still there
        assert (second.position, "argv" in [n.name for n in second.names]) == ("attribute", True)
    finally:
        jedi.close()
    skipped = "jedi's worker wrote a line that is not an answer ({}), skipped: {!r}"
    assert [r.getMessage() for r in caplog.records if r.name == "nib.jedi"] == 2 * [
        skipped.format("JSONDecodeError('Expecting value: line 1 column 1 (char 0)')", "Loading stubs... (not JSON)\n"),
        skipped.format("TypeError('list indices must be integers or slices, not str')", "[1, 2]\n"),
        skipped.format("KeyError('id')", '{"names": []}\n'),
        skipped.format("JSONDecodeError('Expecting value: line 1 column 1 (char 0)')", "\ufffd\ufffd\n"),
    ]


# jedi's worker that, the first time it runs, reads a request, closes its stdout and runs on, deaf
# (a reader thread that ends while its worker lives); from then on the real worker
MUTE_ONCE = """
import os
import sys
import time
from pathlib import Path

from nib.model.listing import jedi_worker

marker = Path(sys.argv[1])
if not marker.exists():
    marker.touch()
    sys.stdin.readline()
    os.close(1)
    time.sleep(60)
jedi_worker.main()
"""


def test_when_the_reader_ends_the_call_fails_and_the_next_one_restarts_the_worker(tmp_path):
    jedi = JediCompleter(budget_ms=30_000, command=[sys.executable, "-I", "-c", MUTE_ONCE, str(tmp_path / "ran")])
    try:
        text = "import os\nos.pa"
        first = jedi.ask(text, len(text))
        assert (
            repr(first.exception(timeout=30)) == 'RuntimeError("jedi\'s worker process ended")'
        )  # at once, not at the end of its budget
        # a worker that never answered is started again after a second: the next call after it
        jedi.clock = lambda: time.monotonic() + RETRY_S[0]
        again = jedi.names(text, len(text))  # the same name: asked again, of a new worker
        assert (again.position, "path" in [n.name for n in again.names]) == ("attribute", True)
    finally:
        jedi.close()


def test_the_worker_answers_a_request_it_cannot_read_with_an_error_or_skips_it(tmp_path):
    requests = [
        b"not json\n",
        b'{"text": "x", "cursor": 0}\n',
        b"[1, 2]\n",
        b"\xff\n",
        b'{"id": 1, "text": "import os\\nos."}\n',
        b'{"id": 2, "text": "import os\\nos.", "cursor": 13, "path": null}\n',
    ]
    done = subprocess.run(
        [sys.executable, "-I", "-m", "nib.model.listing.jedi_worker"],
        input=b"".join(requests),
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    answers = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert (done.returncode, len(answers), answers[0]) == (0, 2, {"error": "KeyError: 'cursor'", "id": 1})
    assert (answers[1]["id"], answers[1]["position"]) == (2, "attribute")
    assert ["path", "statement", "statement"] in answers[1]["names"]
    skipped = "nib jedi worker: skipped a request that is not JSON with an id ({}): {!r}"
    assert [line for line in done.stderr.decode().splitlines() if line.startswith("nib jedi worker:")] == [
        skipped.format("JSONDecodeError('Expecting value: line 1 column 1 (char 0)')", "not json\n"),
        skipped.format("KeyError('id')", '{"text": "x", "cursor": 0}\n'),
        skipped.format("TypeError('list indices must be integers or slices, not str')", "[1, 2]\n"),
        skipped.format("JSONDecodeError('Expecting value: line 1 column 1 (char 0)')", "\ufffd\n"),
    ]


def test_jedi_reads_the_packages_of_the_environment_it_is_given_and_runs_nothing_of_it(tmp_path, monkeypatch):
    """`zzpkg` is installed only in the environment named (`jedi.environment`), `extra` only in a
    folder its `.pth` file names: jedi knows their names there, not in nib's own. The `.pth` file's
    `import` line, which a Python of that environment would run at its start, never runs: neither
    with the setting nor when the server was started with that environment activated (VIRTUAL_ENV);
    nor does a `sitecustomize.py` on PYTHONPATH, in the Python jedi runs for compiled modules."""
    environment = package_environment(tmp_path / "venv")
    marker, extra = tmp_path / "ran", tmp_path / "extra_folder"
    extra.mkdir()
    (extra / "extra.py").write_text("def widen(width):\n    return width\n")
    site = next((environment / "lib").glob("python3*/site-packages"))
    (site / "evil.pth").write_text(f"{extra}\nimport pathlib; pathlib.Path({str(marker)!r}).write_text('ran')\n")
    monkeypatch.setenv("VIRTUAL_ENV", str(environment))  # as if the editor was started from it
    startup = tmp_path / "on_pythonpath"
    startup.mkdir()
    (startup / "sitecustomize.py").write_text(f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')\n")
    monkeypatch.setenv("PYTHONPATH", str(startup))  # jedi's helper Python would import it at its start
    jedi = JediCompleter(budget_ms=60_000)  # not a test of jedi's speed
    try:
        text = "import zzpkg\nzzpkg.fr"
        theirs = jedi.names(text, len(text), environment=str(environment))
        assert [n.name for n in theirs.names if not n.name.startswith("__")] == ["frobnicate", "Frobnicator"]
        assert jedi.names(text, len(text)) == JediAnswer([], "attribute")
        text = "import extra\nextra.w"
        found = jedi.names(text, len(text), environment=str(environment / "bin" / "python"))
        assert [n.name for n in found.names if not n.name.startswith("__")] == ["widen"]
        assert "maxsize" in [n.name for n in jedi.names("import sys\nsys.m", 15).names]  # compiled: nib's own Python
    finally:
        jedi.close()
    assert not marker.exists()


def test_a_repositorys_jedi_project_file_adds_no_folder_outside_it(tmp_path):
    """A cloned repository's `.jedi/project.json` naming a folder outside it: jedi reads nothing there."""
    outside, repo = tmp_path / "outside", tmp_path / "repo"
    outside.mkdir()
    (outside / "privatemod.py").write_text("API_TOKEN = 'from another project'\n")
    (repo / ".jedi").mkdir(parents=True)
    (repo / ".jedi" / "project.json").write_text(
        json.dumps([1, {"path": str(repo), "added_sys_path": [str(outside)], "sys_path": [str(outside)]}])
    )
    (repo / "local.py").write_text("LOCAL = 1\n")
    (repo / "app.py").write_text("import local\n")  # on disk, as an editor's saved file: jedi's search starts at it
    jedi = JediCompleter(budget_ms=60_000)  # not a test of jedi's speed
    try:
        text = "import privatemod\nprivatemod.A"
        assert jedi.names(text, len(text), path=str(repo / "app.py")) == JediAnswer([], "attribute")
        text = "import local\nlocal.L"  # the repository's own module is still found beside the file
        found = jedi.names(text, len(text), path=str(repo / "app.py")).names
        assert [n.name for n in found if not n.name.startswith("__")] == ["LOCAL"]
    finally:
        jedi.close()
