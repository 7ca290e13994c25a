"""nib's language server: thin LSP handlers over the completion engine.

The event loop only does I/O. Inference runs on one worker thread; an edit to
a document cancels the work still running for it, `$/cancelRequest` stops a
request's decoding, and a result computed for an older version is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lsprotocol import types
from pygls.io_ import run_async
from pygls.lsp.server import LanguageServer

from nib.model.cache import IdentifierCache
from nib.model.errors import Cancelled, ModelError
from nib.model.listing import ListRanker
from nib.model.static import StaticCompleter

from . import __version__
from .documents import Documents
from .protocol import NibProtocol, SessionProtocol, is_parse_error
from .settings import Settings, parse

log = logging.getLogger("nib")
TRIGGER_CHARACTERS = [".", "(", "[", ",", "=", "@"]
WARM_DELAY_S = 0.3
K = types.CompletionItemKind
KINDS = {"module": K.Module, "class": K.Class, "instance": K.Variable, "function": K.Function, "param": K.Variable,
         "keyword": K.Keyword, "property": K.Property, "statement": K.Variable, "path": K.File}


def _kind_and_detail(c, static: dict) -> tuple[types.CompletionItemKind, str]:
    """What an item is: the statement, one of jedi's names (its kind), or the model's own lexeme."""
    if c.kind == "statement":
        return K.Snippet, "nib: rest of the statement"
    known = static.get(c.label) if c.kind == "name" else None
    if known is not None:
        return KINDS.get(known.kind, K.Text), f"nib · {known.detail}"
    return K.Text, "nib"


def _path(uri: str) -> str | None:
    """A file URI's path, for jedi to find the project and imports next to the file."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else None


class ModelHost:
    """One model and one inference thread per process, shared by every client session."""

    def __init__(self):
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nib-infer")
        self.static = StaticCompleter()  # jedi's worker process, shared like the model
        self.engine = None
        self.error: str | None = None
        self.key = None  # the settings the engine was loaded with

    def load(self, settings: Settings) -> str | None:
        """On the worker: (re)load when the model settings changed. Returns a new error, if any."""
        from nib.model.engine import Engine

        key = (settings.model_path, settings.device, settings.threads)
        if key == self.key:
            return None
        self.key = key
        backend = "onnx" if settings.device == "cpu" else "torch"
        started = time.perf_counter()
        try:
            path = Path(settings.model_path) if settings.model_path else None
            self.engine = Engine.load(path, backend, settings.threads, settings.device)
            self.error = None
            log.info("model loaded from %s in %.0f ms", self.engine.model_dir.path,
                     (time.perf_counter() - started) * 1e3)
        except ModelError as e:
            self.engine, self.error = None, str(e)
            log.error("%s", e)
            return self.error
        return None


class NibServer(LanguageServer):
    def __init__(self, host: ModelHost, model_path: Path | None = None, protocol_cls=NibProtocol):
        super().__init__("nib", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
                         protocol_cls=protocol_cls)
        self.host = host
        self.settings = Settings(model_path=str(model_path or ""))
        self.documents = Documents()
        self.ranker = ListRanker(host.static, IdentifierCache())
        self.encoding = "utf-16"
        self.init_warnings: list[str] = []
        self.running: dict[str, set[threading.Event]] = {}  # uri -> cancel flags of work in flight
        self._warm_handles: dict[str, asyncio.TimerHandle] = {}
        self._big_logged: set[str] = set()

    def report_server_error(self, error: Exception, source) -> None:
        """pygls's hook for what its read loop could not handle: bytes that are not JSON get a
        parse error; the rest is logged, not shown (a client's bad message is not the user's
        problem, and a fuzzing client would flood the editor with messages)."""
        if is_parse_error(error):
            self.protocol.parse_error(error)
        log.warning("%s: %s", getattr(source, "__name__", source), error)

    # -- the model ----------------------------------------------------------

    @property
    def engine(self):
        return self.host.engine

    @property
    def worker(self):
        return self.host.worker

    def load_engine(self) -> None:
        """On the worker thread: (re)load the model named by the settings."""
        error = self.host.load(self.settings)
        if error is not None:
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"nib: {error}"))

    async def run(self, fn, uri: str):
        """Run fn(cancel_event) on the worker; cancel it if this request is cancelled."""
        cancel = threading.Event()
        self.running.setdefault(uri, set()).add(cancel)
        try:
            return await asyncio.get_running_loop().run_in_executor(self.worker, fn, cancel)
        except asyncio.CancelledError:
            cancel.set()
            raise
        finally:
            self.running.get(uri, set()).discard(cancel)

    def supersede(self, uri: str) -> None:
        for cancel in self.running.get(uri, ()):
            cancel.set()

    # -- completion ---------------------------------------------------------

    async def complete(self, uri: str, position: types.Position, mode: str):
        """(document, cursor offset, candidates) or None when nothing applies."""
        s = self.settings
        doc = self.documents.get(uri)
        if doc is None or not s.enable or (mode == "list" and not s.list) or (mode == "statement" and not s.statement):
            return None
        if len(doc.text) > s.max_document_chars:
            if uri not in self._big_logged:
                self._big_logged.add(uri)
                log.info("%s has %d characters, over maxDocumentChars=%d: no completions",
                         uri, len(doc.text), s.max_document_chars)
            return None
        version, text = doc.version, doc.text
        cursor = doc.offset(position.line, position.character, self.encoding)
        if mode == "statement" and s.debounce_ms:
            await asyncio.sleep(s.debounce_ms / 1e3)
            if doc.version != version:
                return None

        def work(cancel):
            if self.engine is None:
                return None
            if mode == "list":
                return self.ranker.complete(self.engine, text, cursor, s.options(), cancel, key=uri,
                                            path=_path(uri), use_static=s.static, static_ms=s.static_ms)
            return self.engine.complete(text, cursor, mode, s.options(), cancel)

        started = time.perf_counter()
        try:
            result = await self.run(work, uri)
        except Cancelled:
            log.debug("%s superseded", mode)
            return None
        if result is None:
            return None
        if doc.version != version or self.documents.get(uri) is not doc:
            log.debug("%s for version %d dropped: document is at %d", mode, version, doc.version)
            return None
        t = result.timings
        log.info("%s %s:%d:%d %.1f ms (context %.1f, prefill %.1f over %d tokens, decode %.1f) %d items",
                 mode, uri.rsplit("/", 1)[-1], position.line, position.character,
                 (time.perf_counter() - started) * 1e3, t.get("context_ms", 0), t.get("prefill_ms", 0),
                 t.get("prompt_tokens", 0), t.get("decode_ms", 0), len(result.candidates))
        return doc, cursor, result

    def range(self, doc, start: int, end: int) -> types.Range:
        """An LSP range, in the client's encoding, for character offsets of doc."""
        return types.Range(types.Position(*doc.position(start, self.encoding)),
                           types.Position(*doc.position(end, self.encoding)))

    def schedule_warm(self, uri: str, line: int, character: int) -> None:
        """After a pause in typing, prefill the cache at the last edit so the next request is warm."""
        if handle := self._warm_handles.pop(uri, None):
            handle.cancel()

        def warm():
            doc = self.documents.get(uri)
            too_big = doc is not None and len(doc.text) > self.settings.max_document_chars
            if doc is None or self.engine is None or self.running.get(uri) or too_big:
                return
            text, cursor = doc.text, doc.offset(line, character, self.encoding)
            self.worker.submit(self._warm, uri, text, cursor)

        self._warm_handles[uri] = asyncio.get_running_loop().call_later(WARM_DELAY_S, warm)

    def _warm(self, uri: str, text: str, cursor: int) -> None:
        try:
            self.engine.warm(text, cursor, self.settings.options())
            self.ranker.cache.around(uri, text, cursor)
        except Exception:  # warming is an optimisation: never let it fail anything
            log.exception("warming the cache failed")

    def apply_settings(self, raw, source: str) -> None:
        new, warnings = parse(raw, self.settings)
        for w in warnings:
            log.warning("%s (%s)", w, source)
            self.window_show_message(types.ShowMessageParams(types.MessageType.Warning, w))
        self.settings = new
        logging.getLogger().setLevel(new.log_level.upper())
        self.worker.submit(self.load_engine)  # reloads only if the model settings changed


def watch_parent(pid: int, host: ModelHost, every_s: float = 0.25) -> None:
    """End the server when the editor that started it is gone (LSP `processId`), even when
    its stdin is still open (held by a grandchild, a shell, a crashed editor's helper)."""

    def watch():
        while True:
            time.sleep(every_s)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                log.info("the client process %d is gone: exiting", pid)
                host.static.close()
                os._exit(0)  # the inference thread cannot be interrupted; nothing is left to save
            except PermissionError:  # alive, owned by another user
                pass

    threading.Thread(target=watch, daemon=True, name="nib-parent-watch").start()


def create_server(host: ModelHost, model_path: Path | None = None, protocol_cls=NibProtocol,
                  test_requests: bool = False) -> NibServer:
    """A server for one client, its handlers registered, on a (possibly shared) model host."""
    server = NibServer(host, model_path, protocol_cls)
    if test_requests:
        from .inspection import register

        register(server)

    @server.feature(types.INITIALIZE)
    def initialize(ls: NibServer, params: types.InitializeParams):
        encoding = ls.workspace.position_encoding or types.PositionEncodingKind.Utf16
        ls.encoding = getattr(encoding, "value", encoding)  # negotiated by pygls from the client's list
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("nib"), dict):
            options = options["nib"]
        new, ls.init_warnings = parse(options, ls.settings)
        ls.settings = new
        logging.getLogger().setLevel(new.log_level.upper())
        # A stdio server ends with its client; a shared TCP server outlives any one of them.
        if isinstance(params.process_id, int) and params.process_id > 0 and \
                not isinstance(ls.protocol, SessionProtocol):
            watch_parent(params.process_id, ls.host)

    @server.feature(types.INITIALIZED)
    def initialized(ls: NibServer, params: types.InitializedParams):
        for w in ls.init_warnings:
            log.warning("%s (initializationOptions)", w)
            ls.window_show_message(types.ShowMessageParams(types.MessageType.Warning, w))
        ls.worker.submit(ls.load_engine)
        if ls.settings.static:
            ls.host.static.warm()  # jedi's first call loads its stubs: about a second, off the first request

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: NibServer, params: types.DidChangeConfigurationParams):
        raw = params.settings
        if isinstance(raw, dict) and "nib" in raw:
            raw = raw["nib"]
        ls.apply_settings(raw, "workspace/didChangeConfiguration")

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: NibServer, params: types.DidOpenTextDocumentParams):
        d = params.text_document
        ls.documents.open(d.uri, d.text, d.version)
        if len(d.text) <= ls.settings.max_document_chars:  # its identifiers count for the other files' lists
            ls.worker.submit(ls.ranker.cache.around, d.uri, d.text, None)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: NibServer, params: types.DidChangeTextDocumentParams):
        doc = ls.documents.get(params.text_document.uri)
        if doc is None:
            log.warning("didChange for %s, which is not open: ignored", params.text_document.uri)
            return
        ls.supersede(doc.uri)
        last = None
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                r = change.range
                doc.apply((r.start.line, r.start.character), (r.end.line, r.end.character), change.text, ls.encoding)
                last = doc.position(doc.offset(r.start.line, r.start.character, ls.encoding) + len(change.text),
                                    ls.encoding)
            else:
                doc.apply(None, None, change.text, ls.encoding)
        doc.version = params.text_document.version
        if last is not None and len(doc.text) <= ls.settings.max_document_chars:
            ls.schedule_warm(doc.uri, *last)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: NibServer, params: types.DidCloseTextDocumentParams):
        ls.supersede(params.text_document.uri)
        ls.documents.close(params.text_document.uri)
        ls.ranker.cache.forget(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_COMPLETION,
                    types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS, resolve_provider=False))
    async def completion(ls: NibServer, params: types.CompletionParams):
        found = await ls.complete(params.text_document.uri, params.position, "list")
        if found is None:
            return None
        doc, cursor, listing = found
        static = {n.name: n for n in listing.static.names} if listing.static else {}
        items = []
        for rank, c in enumerate(listing.candidates):
            label = c.label.split("\n")[0] + (" …" if "\n" in c.label else "")
            kind, detail = _kind_and_detail(c, static)
            items.append(types.CompletionItem(
                label=label,
                kind=kind,
                detail=detail,
                sort_text=f"{rank:04d}",
                filter_text=c.text,
                text_edit=types.TextEdit(range=ls.range(doc, c.start, cursor), new_text=c.text),
                insert_text_format=types.InsertTextFormat.PlainText,
            ))
        # Incomplete: the ranking depends on every character typed, so clients ask again.
        return types.CompletionList(is_incomplete=True, items=items)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: NibServer, params: types.InlineCompletionParams):
        found = await ls.complete(params.text_document.uri, params.position, "statement")
        if found is None:
            return None
        doc, cursor, result = found
        return types.InlineCompletionList(items=[
            types.InlineCompletionItem(insert_text=c.text, range=ls.range(doc, c.start, cursor))
            for c in result.candidates
        ])

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: NibServer, params):
        for uri in list(ls.running):
            ls.supersede(uri)

    return server


def serve(model_path: Path | None, tcp: str | None, log_level: str | None, test_requests: bool = False) -> int:
    logging.basicConfig(stream=sys.stderr, level=(log_level or "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pygls").setLevel(logging.WARNING)
    # pygls logs a traceback for each message it cannot read; nib answers those and logs one line
    logging.getLogger("pygls.protocol.json_rpc").setLevel(logging.CRITICAL)
    logging.getLogger("pygls.io_").setLevel(logging.CRITICAL)
    host = ModelHost()
    try:
        if not tcp:
            create_server(host, model_path, test_requests=test_requests).start_io()
            return 0
        address, _, port = tcp.rpartition(":")
        asyncio.run(_serve_tcp(host, model_path, address or "127.0.0.1", int(port)))
        return 0
    finally:
        host.static.close()


async def _serve_tcp(host: ModelHost, model_path: Path | None, address: str, port: int) -> None:
    """Each connection is its own LSP session; all of them share the host's model."""

    async def session(reader, writer):
        server = create_server(host, model_path, SessionProtocol)
        server.protocol.set_writer(writer)
        log.info("client connected")
        try:
            await run_async(threading.Event(), reader, server.protocol, log, server.report_server_error)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            log.info("client disconnected")

    listener = await asyncio.start_server(session, address, port)
    log.info("listening on %s:%d", address, port)
    async with listener:
        await listener.serve_forever()
