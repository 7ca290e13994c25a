"""The watch on the editor's process: a stdio server ends with its client."""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger("nib.host")


# What the editor sent just before it went (an accept's command, `shutdown`) is still in stdin's
# pipe: the loop reads it, reaches the pipe's end and ends the server itself, saving what that
# command counted. The watch ends the server only when it has not, within this grace: a stdin held
# open by another process (a grandchild, a shell, a crashed editor's helper), or a stuck loop.
GRACE_S = 0.5
EVERY_S = 0.1  # how often the editor is looked for: a signal 0 costs nothing; with the grace, 0.6 s at most


def watch_parent(pid: int, on_exit, every_s: float = EVERY_S, grace_s: float = GRACE_S, end=os._exit) -> None:
    """End the server when the editor that started it is gone (LSP `processId`), even when
    its stdin is still open. on_exit saves what is left; end(0) ends the process."""

    def watch():
        while True:
            time.sleep(every_s)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:  # alive, owned by another user
                pass
        time.sleep(grace_s)
        log.info("the client process %d is gone: exiting", pid)
        on_exit()
        end(0)  # the inference thread cannot be interrupted; nothing is left to save

    threading.Thread(target=watch, daemon=True, name="nib-parent-watch").start()
