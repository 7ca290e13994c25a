"""Futures of jedi's answers (`jedi.py`): made, copied, and waited for within a list's budget."""

from __future__ import annotations

import copy as copying
import logging
import time
from concurrent.futures import CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

from nib.model.errors import Cancelled

if TYPE_CHECKING:
    from .jedi_answers import JediAnswer

log = logging.getLogger("nib.jedi")
POLL_S = 0.02  # how often a wait for jedi checks whether its request was cancelled


class Asked(Future):
    """A future answer from jedi that knows when jedi was asked: a wait for it is counted from there."""

    def __init__(self) -> None:
        super().__init__()
        self.asked_at = time.monotonic()


def failed(future: Future) -> bool:
    """Cancelled, or ended without an answer (the worker died under it: asking again restarts it)."""
    return future.cancelled() or (future.done() and future.exception() is not None)


def done(answer) -> Future:
    future = Asked()
    future.set_result(answer)
    return future


def failed_with(error: BaseException) -> Future:
    future = Asked()
    future.set_exception(fresh(error))
    return future


def fresh(error: BaseException) -> BaseException:
    """A copy of error with no traceback: an error kept and given to many calls (the worker that
    cannot start, for up to 30 s of keystrokes) would gather the frames of each raise, and their locals.

    Example: repr(fresh(OSError(2, "gone"))) == "FileNotFoundError(2, 'gone')"
    """
    new = copying.copy(error)
    new.__traceback__ = None
    return new


def copy(source: Future, target: Future) -> None:
    if source.exception() is not None:
        target.set_exception(source.exception())
    else:
        target.set_result(source.result())


def deadline(budget_ms: int, future: Future | None = None) -> float:
    """The time.monotonic() by which a list stops waiting for jedi: budget_ms after jedi was
    asked for `future` (a call shared by the keystrokes of one name waits once), or from now."""
    return getattr(future, "asked_at", time.monotonic()) + budget_ms / 1e3


def wait(future: Future | None, until: float, cancel=None) -> JediAnswer | None:
    """jedi's answer from future, waiting until `until` (time.monotonic()) at most; None when
    there is none by then, or jedi failed. Raises Cancelled when cancel is set meanwhile."""
    if future is None:
        return None
    while True:  # in slices, so that a cancelled request stops waiting at once
        left = until - time.monotonic()
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        try:
            return future.result(timeout=max(0.0, min(left, POLL_S)))
        except FutureTimeout:
            if left > POLL_S:
                continue
            log.debug("jedi over its budget")  # not cancelled: its answer is kept for the next keystroke here
        except CancelledError:
            log.debug("jedi's request was superseded by a newer one")
        except Exception as e:  # noqa: BLE001 - jedi on code it cannot parse or infer: the model still answers
            log.debug("jedi failed: %s", e)
        return None
