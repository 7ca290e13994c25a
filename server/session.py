"""One client's session: its documents, settings, log level and messages, over its completion service.

The handlers (`app.py`) keep documents in step and ask `complete`, which finds the
document and the cursor, asks the completion service (`model/service/`: the models,
the list, the statement, fallback, speculation, warm-up) and drops a result whose
document moved on meanwhile.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections import deque
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from nib.model.completion.request import Mode
from nib.model.completion.result import Result
from nib.model.listing.ranker import Listing
from nib.model.service.service import CompletionService

from . import __version__
from .acceptance import ACCEPTED, RETAINED_AFTER_S, Acceptance, Offer, stats_name
from .configure import config
from .documents import Documents
from .parsing import parse
from .paths import file_path, real_path
from .protocol import NibProtocol, is_parse_error
from .request_log import log_answer
from .settings import Settings
from .shared import Shared
from .status import status
from .trust import engine_problems, jedi_environment

_sessions = itertools.count(1)
FINISH_WAIT_S = 1.0  # SIGTERM's wait for a save begun on another thread
MESSAGE = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
}


class NibServer(LanguageServer):
    protocol: NibProtocol

    def __init__(
        self,
        shared: Shared,
        model_path: Path | None = None,
        protocol_cls: type[NibProtocol] = NibProtocol,
        own_process: bool = True,
        log_level: str | None = None,
        fixed: dict | None = None,
    ):
        super().__init__(
            "nib",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=protocol_cls,
        )
        self.shared = shared
        self.own_process = own_process  # stdio: the process is this session's; TCP: shared with others
        self.settings = Settings()
        if model_path:
            self.settings.model.path = str(model_path)
        if log_level:  # `nib serve --log-level`: the sessions' default, which a client may change
            self.settings.log.level = log_level.lower()
        self.fixed = fixed or {}  # settings the daemon's owner fixed for every session (its engine)
        self.documents = Documents()
        self._resting: tuple[str, object] | None = None  # (document, token): a rest waiting for the models
        self.encoding = "utf-16"
        self.init_warnings: list[str] = []
        # stdio: the process's log level is the session's; TCP: each session has a logger of its own,
        # outside logging's registry (which would keep every session's logger for the process's life)
        self.log = logging.getLogger("nib") if own_process else _session_logger(next(_sessions))
        self._big_logged: set[str] = set()
        self.last_result: Result | Listing | None = None
        self.listed: str | None = None  # the document of the last list asked (`resolve.py`)
        self.timings: deque | None = None  # (mode, timings) of the requests answered, kept by `inspection.py`
        self.acceptance = Acceptance(shared.stats)
        self._finishing = threading.RLock()  # SIGTERM's handler runs on the loop's thread
        self._finished, self._saving = False, 0  # the thread saving at the end (its ident), 0: none
        self.service = CompletionService(
            shared.hosts, shared.jedi, config(self.settings, shared.limits), self.notify, self.log
        )

    def report_server_error(self, error: Exception, source) -> None:
        """pygls's hook for what its read loop could not handle: bytes that are not JSON get a
        parse error; the rest is logged, not shown (a client's bad message is not the user's
        problem, and a fuzzing client would flood the editor with messages)."""
        if is_parse_error(error):
            self.protocol.parse_error(error)
        self.log.warning("%s: %s", getattr(source, "__name__", source), error)

    def show(self, kind: types.MessageType, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(kind, message))

    def notify(self, level: int, message: str, shown: str | None = None) -> None:
        """A line for the user: logged, and shown in the editor (as `shown`, if given)."""
        self.log.log(level, "%s", message)
        self.show(MESSAGE[level], shown or message)

    def apply_settings(self, raw, source: str) -> None:
        new, warnings = parse(raw, self.settings)
        for w in warnings:
            self.log.warning("%s (%s)", w, source)
            self.show(types.MessageType.Warning, w)
        self.use(new)

    def use(self, settings: Settings) -> None:
        if self.fixed:  # the daemon owner's settings win over a client's
            settings, _ = parse(self.fixed, settings)
        self.settings = settings
        level = settings.log.level.upper()
        self.log.setLevel(level)
        if self.own_process:
            logging.getLogger().setLevel(level)
        jedi_problem = jedi_environment(settings.jedi.environment)[1]
        for message in engine_problems(settings.engine) + ([jedi_problem] if jedi_problem else []):
            self.notify(logging.WARNING, message)
        was = {uri for uri in self.documents.uris() if self.excluded(uri)}
        self.service.configure(config(settings, self.shared.limits))  # a model loads only if it changed
        for uri in self.documents.uris():
            if self.excluded(uri) != (uri in was):
                self._excluded_now(uri)
        if not settings.stats.enable:
            self.acceptance.clear()

    def end_session(self) -> None:
        for uri in self.documents.uris():
            self.closed(uri)
        self.service.close()

    def admit(self, uri: str, text: str) -> bool:
        """Whether this session may hold one more document (or this one grown to text): within the
        process's limits. Over them, the document is dropped (no completions in it), with a warning."""
        limits, docs = self.shared.limits, self.documents
        known = docs.get(uri)
        over = None
        if limits.documents and known is None and docs.count() >= limits.documents:
            over = f"{docs.count()} documents open, this server's limit"
        elif (
            limits.document_chars
            and docs.chars() - (len(known.text) if known else 0) + len(text) > limits.document_chars
        ):
            over = f"over {limits.document_chars} characters in open documents, this server's limit"
        if over is None:
            return True
        if known is not None:
            self.service.forget(uri)
            docs.close(uri)
        message = f"nib: {uri} gets no completions: this session has {over}"
        self.log.warning("%s", message)
        self.show(types.MessageType.Warning, message)
        return False

    # -- completion ---------------------------------------------------------

    def excluded(self, uri: str) -> bool:
        """Whether the setting `exclude` matches the document, under its own name or the one its
        symbolic links lead to (a repository's `settings_local.py` -> `.env`): no completions, nothing
        of it read."""
        exclude, path = self.service.config.exclude, file_path(uri)
        return exclude.matches(path) or exclude.matches(real_path(path))

    def _excluded_now(self, uri: str) -> None:
        """The document became excluded (or stopped being so): forget what was kept of it, and say so."""
        if self.excluded(uri):
            self.service.forget(uri, file_path(uri) or uri)
        self.protocol.notify("nib/status", status(uri, excluded=self.excluded(uri)))

    def should_complete(self, uri: str, mode: Mode):
        """The document, or None when this request does not apply."""
        s = self.settings
        doc = self.documents.get(uri)
        if doc is None or not s.enable or not (s.listing.enable if mode == "list" else s.statement.enable):
            return None
        if self.excluded(uri):
            return None
        if len(doc.text) > s.max_document_chars:
            if uri not in self._big_logged:
                self._big_logged.add(uri)
                self.log.info(
                    "%s has %d characters, over maxDocumentChars=%d: no completions",
                    uri,
                    len(doc.text),
                    s.max_document_chars,
                )
            return None
        return doc

    async def complete(self, uri: str, position: types.Position, mode: Mode, invoked: bool = False):
        """(document, cursor offset, result) or None when nothing applies. invoked: asked by the
        user, not by typing (`Request.invoked`)."""
        doc = self.should_complete(uri, mode)
        if doc is None:
            return None
        version, text = doc.version, doc.text
        cursor = doc.offset(position.line, position.character, self.encoding)

        def edited() -> bool:
            """Edited or closed since: by the text itself (a client may repeat a version number; the
            answer's positions would be in a text that is no more)."""
            return doc.text is not text or self.documents.get(uri) is not doc

        debounce = self.settings.statement.debounce_ms
        if mode == Mode.STATEMENT and debounce:  # wait for more typing; a newer keystroke asks again
            await asyncio.sleep(debounce / 1e3)
            if edited():
                return None
        result = await self.service.complete(uri, text, cursor, mode, file_path(uri), invoked=invoked)
        if result is None:
            return None
        self.last_result = result  # for the test suite's inspection requests
        if edited():
            self.log.debug("%s for version %d dropped: document is at %d", mode.value, version, doc.version)
            if self.documents.get(uri) is None:  # closed while it was computed: what it kept goes too
                self.service.forget(uri)
            return None
        if self.excluded(uri):  # `exclude` changed while it was computed
            return None
        if self.timings is not None:  # with --test-requests: for the benchmarks' breakdown (`nib/_timings`)
            self.timings.append((mode.value, result.timings.as_dict()))
        if self.log.isEnabledFor(logging.INFO):  # the line costs a dict per keystroke: only when it is written
            log_answer(self.log, mode, uri, position, result)
        if mode == Mode.STATEMENT:
            self._status(uri, result)
        return doc, cursor, result

    def commands(self, uri: str, mode: Mode, cursor: int, result):
        """The `nib.accepted` command of result's i-th item (a function of i), the answer counted as
        shown; None when statistics are off."""
        host = (self.service.model if mode == Mode.STATEMENT else self.service.list_model).serving
        if not self.settings.stats.enable or not result.candidates or host is None:
            return None
        kind, model = ("statement" if mode == Mode.STATEMENT else "list"), stats_name(host.key)
        self.acceptance.stats.shown(model, kind)
        items = tuple((c.text, c.start) for c in result.candidates)
        n = self.acceptance.offer(Offer(uri, kind, model, items, cursor))
        return lambda i: types.Command(title="nib: accepted", command=ACCEPTED, arguments=[n, i])

    def accepted(self, n: int, index: int, chars: int | None) -> None:
        """The editor ran an item's command: it was accepted (chars: that many characters of it)."""
        if not self.settings.stats.enable:
            return
        offer = self.acceptance.accepted(n, index, chars, self._text_of)
        if offer is not None:
            self.log.debug("accepted a %s item of %s (%s characters)", offer.kind, offer.model, chars or "all")
            asyncio.get_running_loop().call_later(RETAINED_AFTER_S + 1, self.count_retained)

    def _text_of(self, uri: str) -> str | None:
        return doc.text if (doc := self.documents.get(uri)) else None

    def count_retained(self, closing: str | None = None) -> None:
        self.acceptance.count_due(self._text_of, closing)

    def count_all_retained(self) -> None:
        """The session ends: what was accepted is counted as it stands now."""
        self.acceptance.count_due(self._text_of, everything=True)

    def finish(self, signalled: bool = False) -> bool:
        """The process ends with this session (stdio: the editor quit, with or without `shutdown`):
        what it counted is saved once, by whichever of the loop's end, SIGTERM or the editor's death
        comes first. A second caller waits until the first has saved (it ends the process once this
        returns); SIGTERM's handler (signalled) at most FINISH_WAIT_S: it runs on the loop's thread,
        which may hold a lock the save on another thread needs. Whether the process may end now:
        False when SIGTERM came in the middle of its own thread's save, which ends it once saved."""
        me = threading.get_ident()
        if signalled and self._saving == me:
            return False
        if not self._finishing.acquire(timeout=FINISH_WAIT_S if signalled else -1):
            return True
        try:
            if not self._finished:
                self._finished, self._saving = True, me
                self.count_all_retained()
                self.shared.close()
        finally:
            self._saving = 0
            self._finishing.release()
        return True

    def _status(self, uri: str, result) -> None:
        """`nib/status` for the editor's status: which model answered the ghost text, in how long,
        and with what project context (counts, never code or names)."""
        host, block = self.service.model.serving, self.service.block_in_use(uri)
        self.protocol.notify(
            "nib/status",
            status(
                uri,
                model=host.key.describe() if host else "",
                ms=round(result.timings.total_ms()),
                shown=bool(result.candidates),
                definitions=block.definitions,
                chunks=block.chunks,
            ),
        )

    def edited(self, uri: str, inserted_at: int, inserted: str, last: int | None) -> None:
        """After an edit (applied): work in flight is superseded; the user goes on where it ended."""
        self.stop_resting(uri)  # typed over
        self.service.edited(uri, inserted_at, inserted)
        if last is not None:
            self._ahead(uri, last)

    def rested(self, uri: str, line: int, character: int) -> None:
        """The editor's cursor rests at (line, character), moved there without an edit (`nib/cursor`):
        the user may type there next. Before the first key, as after one."""
        doc = self.documents.get(uri)
        if doc is None:
            self.log.debug("nib/cursor in %s, which is not open: ignored", uri)
            return
        self.service.moved(uri)
        cursor, self._resting = doc.offset(line, character, self.encoding), None
        if self._loading():
            self._resting = resting = (uri, object())
            asyncio.ensure_future(self._rest_once_loaded(resting, line, character, cursor))
        else:
            self._rest(uri, line, character, cursor)

    def _loading(self) -> bool:
        """Whether a model is loading and none serves yet: the session's first seconds."""
        return any(m.serving is None and m.loading is not None for m in (self.service.model, self.service.list_model))

    async def _rest_once_loaded(self, resting: tuple[str, object], line: int, character: int, cursor: int) -> None:
        """A rest while the models load (as a file opens), made ready once they have: not if typed over or left."""
        while self._loading():
            await self.service.ready()  # (a settings change meanwhile: the model it loads)
        if self._resting is resting:
            self._resting = None
            try:
                self._rest(resting[0], line, character, cursor)
            except Exception:  # noqa: BLE001 - a task of its own: nothing else would report it
                self.log.exception("making the place where the cursor rests ready failed")

    def stop_resting(self, uri: str | None = None) -> None:
        """The rest waiting for the models (`rested`) is not made ready: one in uri (None: any)."""
        if self._resting is not None and uri in (None, self._resting[0]):
            self._resting = None

    def _rest(self, uri: str, line: int, character: int, cursor: int) -> None:
        if self._ahead(uri, cursor, delay_s=0.0, rested=True):
            self.log.info("cursor at rest at %s:%d:%d: made ready there", uri.rsplit("/", 1)[-1], line, character)

    def _ahead(self, uri: str, cursor: int, delay_s: float | None = None, rested: bool = False) -> bool:
        """Where the user will type next: the list is speculated there and the prompt state warmed
        after a pause (delay_s: another than the scheduler's, 0 when the editor waited already;
        rested: the cursor rests there, `Service.speculate`).
        False where nothing is done (nib off, the document excluded or too big, no list and no
        ghost text before it is asked for)."""
        doc, s = self.documents.get(uri), self.settings
        if doc is None or len(doc.text) > s.max_document_chars or not s.enable or self.excluded(uri):
            return False
        if s.listing.enable:
            self.service.speculate(uri, doc.text, cursor, file_path(uri), rested)
        line, character = doc.position(cursor, self.encoding)

        def text_now():
            now = self.documents.get(uri)
            if now is None or len(now.text) > self.settings.max_document_chars:
                return None
            return now.text, now.offset(line, character, self.encoding)

        warm = s.statement.trigger == "auto"  # manual: no statement is computed before it is asked for
        if warm:  # the statement decoded ahead only where ghost texts are asked for
            self.service.warm_later(uri, text_now, file_path(uri), delay_s, ahead=s.statement.enable)
        return s.listing.enable or warm

    def opened(self, uri: str, text: str) -> None:
        if self.excluded(uri):
            self.protocol.notify("nib/status", status(uri, excluded=True))
        elif len(text) <= self.settings.max_document_chars:
            self.service.opened(uri, text, file_path(uri))

    def closed(self, uri: str) -> None:
        self.stop_resting(uri)
        self.count_retained(closing=uri)  # what stands in it now is what was kept
        self.service.forget(uri)
        self.documents.close(uri)


def _session_logger(n: int) -> logging.Logger:
    """A daemon session's logger: under "nib" (its handlers, its level as default), not registered."""
    logger = logging.Logger(f"nib.session{n}")
    logger.parent = logging.getLogger("nib")
    return logger
