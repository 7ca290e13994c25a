"""One client's session: its documents, settings, log level, scheduler and model in use.

Handlers (`app.py`) call `complete`, which runs the engine's pipeline on the
model host's inference thread: should_complete -> [debounce] -> model ready ->
scheduler.run(list ranker | engine) -> drop if stale.
"""

from __future__ import annotations

import itertools
import logging
import os
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
from .protocol import NibProtocol, is_parse_error
from .scheduler import Scheduler
from .settings import Settings, parse

_sessions = itertools.count(1)


class Shared:
    """What all sessions of one process share: the model hosts and jedi's worker process."""

    def __init__(self):
        self.hosts = Hosts()
        self.jedi = JediCompleter()

    def close(self) -> None:
        self.jedi.close()


class NibServer(LanguageServer):
    def __init__(self, shared: Shared, model_path: Path | None = None, protocol_cls=NibProtocol,
                 own_process: bool = True, log_level: str | None = None):
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
        # stdio: the process's log level is the session's; TCP: each session has a logger of its own
        self.log = logging.getLogger("nib") if own_process else logging.getLogger(f"nib.session{next(_sessions)}")
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
        self.settings = settings
        level = settings.log.level.upper()
        self.log.setLevel(level)
        if self.own_process:
            logging.getLogger().setLevel(level)
        for message in _engine_problems(settings.engine):
            self.log.warning("%s", message)
            self.show(types.MessageType.Warning, message)
        statement, listing = ModelKey.of(settings), ModelKey.for_list(settings)
        self.model.want(statement)  # loads only if the model settings changed
        self.list_model.want(listing)
        self.separate_list = listing != statement

    def end_session(self) -> None:
        self.scheduler.supersede_all()
        self.model.close()
        self.list_model.close()

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

        def work(cancel):
            if mode == "list":
                return self._list(engine, uri, text, cursor, cancel)
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

    def _list(self, engine, uri: str, text: str, cursor: int, cancel, speculative: bool = False):
        """The ranker's list under this session's settings; a speculative one, computed ahead of
        its keystroke, waits for jedi its whole budget at a name too."""
        s = self.settings
        options = s.options()
        if self.separate_list:  # the list's model would decode a worse statement than the ghost text's
            options = replace(options, list_statement=False)
        return self.ranker.complete(engine, text, cursor, options, cancel, key=uri, path=_path(uri),
                                    use_jedi=s.jedi.enable, jedi_ms=s.jedi.budget_ms,
                                    name_jedi_ms=None if speculative else s.jedi.name_budget_ms)

    def speculate(self, uri: str, cursor: int) -> None:
        """Where a name is about to start (cursor: an offset), compute the list now, in the pause
        before its first character: the request that comes with it then only narrows this one
        (`ListRanker.narrow`) instead of waiting for jedi and the model."""
        doc, host, s = self.documents.get(uri), self.list_model.serving, self.settings
        if doc is None or host is None or host.engine is None or not (s.enable and s.listing.enable) \
                or not name_may_start(doc.text[doc.text.rfind("\n", 0, cursor) + 1:cursor]):
            return
        text, engine = doc.text, host.engine

        def work(cancel):
            try:
                self._list(engine, uri, text, cursor, cancel, speculative=True)
            except Cancelled:
                pass
            except Exception:  # speculation is an optimisation: never let it fail anything
                self.log.exception("the speculative list failed")

        self.scheduler.speculate(host.worker, work, uri, cursor)

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


def _engine_problems(e) -> list[str]:
    """What is wrong with the engine settings, before any request: each a warning."""
    if e.api != "openai":
        return []
    if not e.url:
        return ["nib: engine.api is openai but engine.url is empty: statements come from the local model"]
    problems = []
    if not e.url.startswith(("http://", "https://")):
        problems.append(f"nib: engine.url must start with http:// or https://, got {e.url!r}")
    if e.api_key_env and e.api_key_env not in os.environ:
        problems.append(f"nib: engine.apiKeyEnv names {e.api_key_env}, which is not set in nib's environment: "
                        "requests go without a key")
    return problems


def _path(uri: str) -> str | None:
    """A file URI's path, for jedi to find the project and imports next to the file."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else None
