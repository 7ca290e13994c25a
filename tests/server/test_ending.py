"""A stdio server's end when its editor quits: what the editor sent before it went is handled,
and whichever end comes second (the loop's, SIGTERM's, the parent watch's) waits for the first."""

import subprocess
import sys
import threading
import time

from nib.server import session
from nib.server.app import create_server
from nib.server.parent import watch_parent
from nib.server.shared import Shared


def test_the_parent_watch_leaves_the_loop_its_grace_before_it_ends_the_server():
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    events: list[tuple[str, object]] = []
    ended = threading.Event()

    def end(code):
        events.append(("end", code))
        ended.set()

    watch_parent(parent.pid, lambda: events.append(("saved", time.monotonic())), every_s=0.01, grace_s=0.3, end=end)
    time.sleep(0.05)
    assert events == []  # the editor is alive
    gone = time.monotonic()  # before the kill: the watch may see the death before wait() returns
    parent.kill()
    parent.wait()
    assert ended.wait(10)
    (saved, at), last = events
    assert (saved, last) == ("saved", ("end", 0))
    assert at - gone >= 0.3  # the loop had its grace to read what the editor sent before it went


def test_a_second_finish_waits_until_the_first_has_saved(monkeypatch):
    monkeypatch.setattr(session, "FINISH_WAIT_S", 0.1)
    shared = Shared()
    server = create_server(shared)
    closing, release = threading.Event(), threading.Event()
    close = shared.close

    def slow_close():
        closing.set()
        assert release.wait(10)
        close()

    shared.close = slow_close  # type: ignore[method-assign]
    first = threading.Thread(target=server.finish)
    first.start()
    assert closing.wait(10)
    second = threading.Thread(target=server.finish)  # the parent watch, which then ends the process
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waiting: ending the process now would lose what the first is saving
    # SIGTERM's handler waits a while only: the loop's thread it runs on may hold what the save needs
    assert server.finish(signalled=True) is True
    assert first.is_alive() and second.is_alive()
    release.set()
    first.join(10)
    second.join(10)
    assert not first.is_alive() and not second.is_alive()
    server.finish()  # once saved, a later call returns at once


def test_sigterm_in_the_middle_of_a_save_on_its_own_thread_lets_that_save_end_the_process():
    shared = Shared()
    server = create_server(shared)
    close, said = shared.close, []

    def close_with_a_signal():
        said.append(server.finish(signalled=True))  # SIGTERM's handler, run by this thread inside its save
        close()

    shared.close = close_with_a_signal  # type: ignore[method-assign]
    assert server.finish() is True
    assert said == [False]  # the handler does not end the process: the save goes on and ends it
