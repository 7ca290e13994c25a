"""One client's session: its documents, settings, log level, scheduler and model in use.

Handlers (`app.py`) call `complete`, which runs the engine's pipeline on the
model host's inference thread: should_complete -> [debounce] -> model ready ->
scheduler.run(list ranker | engine) -> drop if stale.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import replace
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from nib.model.completion.remote import EngineError
from nib.model.completion.request import Request
from nib.model.errors import Cancelled
from nib.model.listing.identifiers import IdentifierNgram
from nib.model.listing.jedi import JediCompleter
from nib.model.listing.ranker import ListRanker
from nib.model.text.lexeme import name_may_start

from . import __version__
from .documents import Documents
from .host import Hosts, ModelKey, ModelUse
from .limits import STDIO, Limits
from .protocol import NibProtocol, is_parse_error
from .scheduler import Scheduler
from .settings import Settings, parse
from .trust import engine_problems, engine_refused

_sessions = itertools.count(1)


class Shared:
    """What all sessions of one process share: the model hosts, jedi's worker process, the limits."""

    def __init__(self, limits: Limits = STDIO):
        self.limits = limits
        self.hosts = Hosts(limits.models)
        self.jedi = JediCompleter()

    def close(self) -> None:
        self.jedi.close()


class NibServer(LanguageServer):
    def __init__(self, shared: Shared, model_path: Path | None = None, protocol_cls=NibProtocol,
                 own_process: bool = True, log_level: str | None = None, fixed: dict | None = None):
        super().__init__("nib", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=protocol_cls)
        self.shared = shared
        self.own_process = own_process  # stdio: the process is this session's; TCP: shared with others
        self.settings = Settings()
        if model_path:
            self.settings.model.path = str(model_path)
        if log_level:  # `nib serve --log-level`: the sessions' default, which a client may change
            self.settings.log.level = log_level.lower()
        self.documents = Documents()
        self.scheduler = Scheduler()
        self.model = ModelUse(shared.hosts, self.model_error)  # the statement's
        self.list_model = ModelUse(shared.hosts, self.model_error)  # the list's: the same host, or its own
        self.separate_list = False  # whether the list's model is not the statement's (set by `use`)
        self.ranker = ListRanker(shared.jedi, IdentifierNgram())
        self.encoding = "utf-16"
        self.init_warnings: list[str] = []
        self.fixed = fixed or {}  # settings the daemon's owner fixed for every session (its engine)
        # stdio: the process's log level is the session's; TCP: each session has a logger of its own,
        # outside logging's registry (which would keep every session's logger for the process's life)
        self.log = logging.getLogger("nib") if own_process else _session_logger(next(_sessions))
        self._disclosed: set[str] = set()  # the engines this session has said it sends code to
        self._big_logged: set[str] = set()
        self.last_result = None
        self.engine_failing = False  # warned that the engine fails; cleared when it answers again

    def report_server_error(self, error: Exception, source) -> None:
        """pygls's hook for what its read loop could not handle: bytes that are not JSON get a
        parse error; the rest is logged, not shown (a client's bad message is not the user's
        problem, and a fuzzing client would flood the editor with messages)."""
        if is_parse_error(error):
            self.protocol.parse_error(error)
        self.log.warning("%s: %s", getattr(source, "__name__", source), error)

    def show(self, kind: types.MessageType, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(kind, message))

    def model_error(self, message: str) -> None:
        self.log.error("%s", message)
        self.show(types.MessageType.Error, f"nib: {message}")

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
        for message in engine_problems(settings.engine):
            self.log.warning("%s", message)
            self.show(types.MessageType.Warning, message)
        statement, listing = ModelKey.of(settings), ModelKey.for_list(settings)
        self.model.want(statement)  # loads only if the model settings changed
        self.list_model.want(listing)
        self.separate_list = listing != statement

    def end_session(self) -> None:
        self.scheduler.supersede_all()
        for uri in self.documents.uris():
            self.scheduler.forget(uri)
            self.ranker.forget(uri)
            self.documents.close(uri)
        self.model.close()
        self.list_model.close()

    def admit(self, uri: str, text: str) -> bool:
        """Whether this session may hold one more document (or this one grown to text): within the
        process's limits. Over them, the document is dropped (no completions in it), with a warning."""
        limits, docs = self.shared.limits, self.documents
        known = docs.get(uri)
        over = None
        if limits.documents and known is None and docs.count() >= limits.documents:
            over = f"{docs.count()} documents open, this server's limit"
        elif limits.document_chars and docs.chars() - (len(known.text) if known else 0) + len(text) \
                > limits.document_chars:
            over = f"over {limits.document_chars} characters in open documents, this server's limit"
        if over is None:
            return True
        if known is not None:
            self.scheduler.forget(uri)
            self.ranker.forget(uri)
            docs.close(uri)
        message = f"nib: {uri} gets no completions: this session has {over}"
        self.log.warning("%s", message)
        self.show(types.MessageType.Warning, message)
        return False

    # -- completion ---------------------------------------------------------

    def should_complete(self, uri: str, mode: str):
        """The document, or None when this request does not apply."""
        s = self.settings
        doc = self.documents.get(uri)
        if doc is None or not s.enable or not (s.listing.enable if mode == "list" else s.statement.enable):
            return None
        if len(doc.text) > s.max_document_chars:
            if uri not in self._big_logged:
                self._big_logged.add(uri)
                self.log.info("%s has %d characters, over maxDocumentChars=%d: no completions",
                              uri, len(doc.text), s.max_document_chars)
            return None
        return doc

    async def complete(self, uri: str, position: types.Position, mode: str):
        """(document, cursor offset, result) or None when nothing applies."""
        doc = self.should_complete(uri, mode)
        if doc is None:
            return None
        s, version, text = self.settings, doc.version, doc.text
        cursor = doc.offset(position.line, position.character, self.encoding)
        if mode == "statement" and not await self.scheduler.debounce(doc, s.statement.debounce_ms):
            return None
        host = await (self.list_model if mode == "list" else self.model).ready()
        if host is None or host.engine is None:
            return None
        engine = host.engine
        jedi = await self._await_jedi(uri, text, cursor) if mode == "list" else None

        def work(cancel):
            if mode == "list":
                return self._list(engine, uri, text, cursor, cancel, jedi)
            return engine.complete(Request(text, cursor, "statement", s.options(), cancel))

        try:
            result = await (self._from_engine(engine, uri, text, cursor) if engine.remote
                            else self.scheduler.run(host.worker, work, uri))
        except Cancelled:
            self.log.debug("%s superseded", mode)
            return None
        if result is None:
            return None
        if mode == "list" and (statement := self._engine_statement(text, cursor)) is not None:
            result = replace(result, candidates=result.candidates + [statement])
        self.last_result = result  # for the test suite's inspection requests
        if doc.version != version or self.documents.get(uri) is not doc:
            self.log.debug("%s for version %d dropped: document is at %d", mode, version, doc.version)
            return None
        if self.log.isEnabledFor(logging.INFO):  # the line costs a dict per keystroke: only when it is written
            self._log_timings(mode, uri, position, result)
        return doc, cursor, result

    async def _from_engine(self, engine, uri: str, text: str, cursor: int):
        """The statement from the engine over HTTP; if it is down, slow or answers garbage, from
        the local model (the list's), with one warning until the engine answers again. Raises
        Cancelled when an edit supersedes it."""
        s = self.settings
        request = Request(text, cursor, "statement", s.options())
        self._disclose(engine.url)
        try:
            result = await self.scheduler.run_async(engine.complete(request, s.engine_options()), uri)
            if self.engine_failing:
                self.engine_failing = False
                self.log.info("the engine at %s answers again", engine.url)
            return result
        except EngineError as e:
            if not self.engine_failing:
                self.engine_failing = True
                message = f"nib: {e}; statements come from the local model until it answers again"
                self.log.warning("%s", message)
                self.show(types.MessageType.Warning, message)
            else:
                self.log.debug("%s", e)
        local = await self.list_model.ready()
        if local is None or local.engine is None:
            return None
        return await self.scheduler.run(local.worker, lambda cancel: local.engine.complete(
            replace(request, cancel=cancel)), uri)

    def _engine_statement(self, text: str, cursor: int):
        """The engine's statement answered at this very spot, as the list's statement item."""
        host = self.model.serving
        if host is None or not host.key.remote or not self.settings.listing.statement:
            return None
        return host.engine.last_statement(text, cursor, self.settings.options())

    def _log_timings(self, mode: str, uri: str, position: types.Position, result) -> None:
        t = result.timings
        steps = ", ".join(f"{k[:-3].replace('_', ' ')} {v:.1f}" for k, v in t.as_dict().items()
                          if k.endswith("_ms") and v) or ("narrowed from the last list" if getattr(
                              result, "narrowed", False) else "typed through")
        where = f" at a {'typed ' if result.position[1] else ''}{result.position[0]}" if mode == "list" else ""
        self.log.info("%s %s:%d:%d%s %.1f ms (%s; %d prompt tokens) %d items", mode, uri.rsplit("/", 1)[-1],
                      position.line, position.character, where, t.total_ms(), steps, t.prompt_tokens,
                      len(result.candidates))

    def _disclose(self, url: str) -> None:
        """Say once per session and engine, in the editor, where the code goes."""
        if url in self._disclosed:
            return
        self._disclosed.add(url)
        what = "and after it " if self.settings.engine.suffix else ""
        message = (f"nib: statements come from the engine at {url}: the code before the cursor {what}in the "
                   "files you edit is sent there (engine.url)")
        self.log.info("%s", message)
        self.show(types.MessageType.Info, message)

    async def _await_jedi(self, uri: str, text: str, cursor: int, speculative: bool = False):
        """jedi's answer for the list at cursor, waited for on the event loop within this session's
        budget (a speculative list, computed ahead of its keystroke, waits the whole budget at a name
        too), so that no session's wait for jedi holds a model's inference thread. A future, done or
        not (not: jedi had no answer in time; the list is the model's own); None without jedi."""
        s, limits = self.settings, self.shared.limits
        if not s.jedi.enable:
            return None
        future, until = self.ranker.ask_jedi(text, cursor, _path(uri), limits.jedi(s.jedi.budget_ms),
                                             None if speculative else limits.jedi(s.jedi.name_budget_ms))
        left = until - time.monotonic()
        if future is not None and not future.done() and left > 0:
            await asyncio.wait([asyncio.wrap_future(future)], timeout=left)
        return future

    def _list(self, engine, uri: str, text: str, cursor: int, cancel, jedi):
        """The ranker's list under this session's settings, with jedi's answer as it is now (no wait)."""
        s = self.settings
        options = s.options()
        if self.separate_list:  # the list's model would decode a worse statement than the ghost text's
            options = replace(options, list_statement=False)
        return self.ranker.complete(engine, text, cursor, options, cancel, key=uri, path=_path(uri),
                                    use_jedi=s.jedi.enable, jedi_ms=0, name_jedi_ms=0, jedi=jedi)

    def speculate(self, uri: str, cursor: int) -> None:
        """Where a name is about to start (cursor: an offset), compute the list now, in the pause
        before its first character: the request that comes with it then only narrows this one
        (`ListRanker.narrow`) instead of waiting for jedi and the model."""
        doc, host, s = self.documents.get(uri), self.list_model.serving, self.settings
        if doc is None or host is None or host.engine is None or not (s.enable and s.listing.enable) \
                or not name_may_start(doc.text[doc.text.rfind("\n", 0, cursor) + 1:cursor]):
            return
        text, engine = doc.text, host.engine
        jedi = asyncio.ensure_future(self._await_jedi(uri, text, cursor, speculative=True))

        def work(cancel):
            try:
                self._list(engine, uri, text, cursor, cancel, jedi.result())
            except Cancelled:
                pass
            except Exception:  # speculation is an optimisation: never let it fail anything
                self.log.exception("the speculative list failed")

        self.scheduler.speculate(host.worker, work, uri, cursor, after=jedi)

    def warm_later(self, uri: str, line: int, character: int) -> None:
        """After a pause in typing, prefill the KV state at the last edit so the next request is warm."""

        def warm():
            doc = self.documents.get(uri)
            if doc is None or self.scheduler.busy(uri) or len(doc.text) > self.settings.max_document_chars:
                return
            text, cursor = doc.text, doc.offset(line, character, self.encoding)
            for host in {self.model.serving, self.list_model.serving} - {None}:  # each model's own prompt state
                if host.engine is not None and not host.engine.remote:
                    host.worker.submit(self._warm, host.engine, uri, text, cursor)

        self.scheduler.warm_later(uri, warm)

    def _warm(self, engine, uri: str, text: str, cursor: int) -> None:
        try:
            engine.warm(text, cursor, self.settings.options())
            self.ranker.identifiers.around(uri, text, cursor)
        except Exception:  # warming is an optimisation: never let it fail anything
            self.log.exception("warming the KV state failed")

    def opened(self, uri: str, text: str) -> None:
        """A newly opened document: count its identifiers (they count in the other files' lists),
        and let jedi parse it now, so the first list in it finds jedi's parse cached."""
        if len(text) > self.settings.max_document_chars:
            return
        host = self.list_model.loading or self.list_model.serving
        if host is not None:
            host.worker.submit(self.ranker.identifiers.around, uri, text, None)
        if self.settings.jedi.enable:
            self.ranker.jedi.ask(text, 0, _path(uri), at_name_start=False)


def _session_logger(n: int) -> logging.Logger:
    """A daemon session's logger: under "nib" (its handlers, its level as default), not registered."""
    logger = logging.Logger(f"nib.session{n}")
    logger.parent = logging.getLogger("nib")
    return logger


def _path(uri: str) -> str | None:
    """A file URI's path, for jedi to find the project and imports next to the file."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else None
