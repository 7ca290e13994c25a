"""The watch on the editor's process: a stdio server ends with its client."""

from __future__ import annotations

import logging
import os
import threading
import time

log = logging.getLogger("nib.host")


def watch_parent(pid: int, on_exit, every_s: float = 0.25) -> None:
    """End the server when the editor that started it is gone (LSP `processId`), even when
    its stdin is still open (held by a grandchild, a shell, a crashed editor's helper)."""

    def watch():
        while True:
            time.sleep(every_s)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                log.info("the client process %d is gone: exiting", pid)
                on_exit()
                os._exit(0)  # the inference thread cannot be interrupted; nothing is left to save
            except PermissionError:  # alive, owned by another user
                pass

    threading.Thread(target=watch, daemon=True, name="nib-parent-watch").start()
