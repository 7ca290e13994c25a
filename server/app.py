"""nib's language server: module-level handlers, each a few lines, over a session (`session.py`).

initialize        settings, position encoding, the editor's process watched (stdio)
didOpen/Change    documents in step; newer edits supersede running work; warm-up after a pause
nib/cursor        the cursor rests where it moved without an edit: the same warm-up there
completion        session.complete(Mode.LIST)      -> convert.completion_list
resolve           the focused item with jedi's signature and docstring (`resolve.py`)
inlineCompletion  session.complete(Mode.STATEMENT) -> convert.inline_list
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from nib.model.completion.request import Mode
from nib.model.text.lexeme import space_comes_next, typed_name

from . import convert, stdio
from .acceptance import ACCEPTED
from .daemon import check_bind, load_or_create_token, serve_tcp, token_path
from .limits import DAEMON, STDIO
from .parent import watch_parent
from .parsing import parse
from .paths import file_path
from .protocol import NibProtocol, SessionProtocol, Wire, field
from .resolve import resolve
from .session import NibServer
from .shared import Shared

log = logging.getLogger("nib")
TRIGGER_CHARACTERS = [".", "(", "[", ",", "=", "@"]
CURSOR = "nib/cursor"  # a notification of nib's editor plugins: where the cursor rests (`cursor_rested`)


def initialize(ls: NibServer, params: types.InitializeParams):
    encoding = ls.workspace.position_encoding or types.PositionEncodingKind.Utf16
    ls.encoding = getattr(encoding, "value", encoding)  # negotiated by pygls from the client's list
    options = params.initialization_options
    if isinstance(options, dict) and isinstance(options.get("nib"), dict):
        options = options["nib"]
    settings, ls.init_warnings = parse(options, ls.settings)
    ls.use(settings)
    ls.service.set_roots(workspace_roots(params))
    # A stdio server ends with its client; a shared TCP server outlives any one of them.
    if isinstance(params.process_id, int) and params.process_id > 0 and ls.own_process:
        watch_parent(params.process_id, ls.finish)


def workspace_roots(params: types.InitializeParams) -> list[str]:
    """The workspace folders' paths (the root URI's, from an older client): where project context may read."""
    uris = [f.uri for f in params.workspace_folders or []] or ([params.root_uri] if params.root_uri else [])
    return [p for p in (file_path(u) for u in uris) if p is not None]


def did_change_workspace_folders(ls: NibServer, params: types.DidChangeWorkspaceFoldersParams):
    """Project context reads in the folders open now: an added one from now on, a removed one no more.
    (pygls has applied the change to ls.workspace.folders before this runs.)"""
    uris = [f.uri for f in ls.workspace.folders.values()]
    ls.service.set_roots([p for p in (file_path(u) for u in uris) if p is not None])


async def initialized(ls: NibServer, params: types.InitializedParams):
    for w in ls.init_warnings:
        ls.log.warning("%s (initializationOptions)", w)
        ls.show(types.MessageType.Warning, w)
    ls.protocol.warm()  # the first keystroke's messages read as fast as the next ones'
    if ls.settings.jedi.enable:
        ls.shared.jedi.warm()  # jedi's first call loads its stubs: about a second, off the first request
    await ls.service.ready()  # load now: a model that cannot load is reported at once


def did_change_configuration(ls: NibServer, params: types.DidChangeConfigurationParams):
    raw = params.settings
    if isinstance(raw, dict) and "nib" in raw:
        raw = raw["nib"]
    ls.apply_settings(raw, "workspace/didChangeConfiguration")
    asyncio.ensure_future(ls.service.ready())  # a new model loads (or fails) now, not at the next request


def did_open(ls: NibServer, params: types.DidOpenTextDocumentParams):
    d = params.text_document
    if not ls.admit(d.uri, d.text):
        return
    ls.documents.open(d.uri, d.text, d.version)
    ls.opened(d.uri, d.text)


def did_change(ls: NibServer, params: types.DidChangeTextDocumentParams):
    doc = ls.documents.get(params.text_document.uri)
    if doc is None:
        ls.log.warning("didChange for %s, which is not open: ignored", params.text_document.uri)
        return
    last, inserted_at = None, -1
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            r = change.range
            start = doc.offset(r.start.line, r.start.character, ls.encoding)
            if ls.settings.stats.enable:
                end = max(start, doc.offset(r.end.line, r.end.character, ls.encoding))
                ls.acceptance.edited(doc.uri, start, end, change.text)
            inserted_at = start if r.start == r.end and len(params.content_changes) == 1 else -1
            doc.apply((r.start.line, r.start.character), (r.end.line, r.end.character), change.text, ls.encoding)
            last = start + len(change.text)
        else:
            doc.apply(None, None, change.text, ls.encoding)
            ls.acceptance.replaced(doc.uri, change.text)
    doc.version = params.text_document.version
    if ls.shared.limits.document_chars and not ls.admit(doc.uri, doc.text):
        return
    ls.edited(doc.uri, inserted_at, params.content_changes[-1].text if params.content_changes else "", last)


def cursor_rested(ls: NibServer, params) -> None:
    """`nib/cursor {textDocument: {uri}, position}` (nib's editor plugins send it once the cursor
    has stayed a moment where it moved without an edit): the user may type there next, so the
    list's jedi names and the prompt's state are made ready there before the first key."""
    document, position = field(params, "textDocument"), field(params, "position")
    uri, line, character = field(document, "uri"), field(position, "line"), field(position, "character")
    if not (isinstance(uri, str) and _integer(line) and _integer(character) and line >= 0 and character >= 0):
        ls.log.warning("nib/cursor with %.200r: ignored", params)
        return
    ls.rested(uri, line, character)


def did_close(ls: NibServer, params: types.DidCloseTextDocumentParams):
    ls.closed(params.text_document.uri)


async def completion(ls: NibServer, params: types.CompletionParams):
    trigger = types.CompletionTriggerKind
    typed = _line_asked_at(ls, params, trigger.TriggerCharacter)  # `,`, the `=` of `x =`, ...
    if typed is not None and space_comes_next(typed):
        return Wire(isIncomplete=True, items=[])  # the space would close it: the name's key asks
    ls.listed = params.text_document.uri  # where its items are resolved
    # Ctrl+Space where nothing of a name is typed: editors ask as one types only after a name's
    # character or a trigger character, so this one the user asked for (it waits for jedi)
    invoked = _line_asked_at(ls, params, trigger.Invoked)
    asked = invoked is not None and not typed_name(invoked)
    return await answer(ls, params, Mode.LIST, convert.completion_list, invoked=asked)


def _line_asked_at(ls: NibServer, params: types.CompletionParams, kind) -> str | None:
    """The cursor's line up to it, where the list was asked this way (a CompletionTriggerKind);
    None otherwise, or where the document is not open."""
    context, doc = params.context, ls.documents.get(params.text_document.uri)
    if context is None or context.trigger_kind != kind or doc is None:
        return None
    cursor = doc.offset(params.position.line, params.position.character, ls.encoding)
    return doc.text[doc.text.rfind("\n", 0, cursor) + 1 : cursor]


async def inline_completion(ls: NibServer, params: types.InlineCompletionParams):
    asked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
    if ls.settings.statement.trigger == "manual" and not asked:
        return None  # typing asks automatically; manual: only a key or command the user pressed
    return await answer(ls, params, Mode.STATEMENT, convert.inline_list, invoked=asked)


async def answer(ls: NibServer, params, mode: Mode, to_lsp, invoked: bool = False):
    """The list or the statement at the request's position as LSP items (to_lsp), each with its
    accept command. invoked: the user asked for it (a key, a command), not typing."""
    uri = params.text_document.uri
    found = await ls.complete(uri, params.position, mode, invoked)
    if found is None:
        return None
    doc, cursor, result = found
    return to_lsp(result, doc, cursor, ls.encoding, ls.commands(uri, mode, cursor, result))


def accepted(ls: NibServer, *args):
    """`nib.accepted OFFER ITEM [CHARS]`, the command of an item the user accepted (CHARS: only
    that many characters of it, a word or a line)."""
    n, index, chars = (list(args) + [None, None, None])[:3]
    if not (_integer(n) and _integer(index) and (chars is None or _integer(chars))):
        ls.log.warning("nib.accepted with arguments %r: ignored", list(args)[:4])
        return None
    ls.accepted(n, index, chars)
    return None


def _integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def shutdown(ls: NibServer, params):
    ls.service.scheduler.supersede_all()
    ls.stop_resting()
    ls.count_all_retained()
    ls.shared.stats.flush()


FEATURES: list[tuple[str, object, Callable[..., Any]]] = [
    (types.INITIALIZE, None, initialize),
    (types.INITIALIZED, None, initialized),
    (types.WORKSPACE_DID_CHANGE_CONFIGURATION, None, did_change_configuration),
    (types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS, None, did_change_workspace_folders),
    (types.TEXT_DOCUMENT_DID_OPEN, None, did_open),
    (types.TEXT_DOCUMENT_DID_CHANGE, None, did_change),
    (types.TEXT_DOCUMENT_DID_CLOSE, None, did_close),
    (CURSOR, None, cursor_rested),
    (
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS, resolve_provider=True),
        completion,
    ),
    (types.COMPLETION_ITEM_RESOLVE, None, resolve),
    (types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions(), inline_completion),
    (types.SHUTDOWN, None, shutdown),
]


@dataclass(frozen=True)
class Daemon:
    """`nib serve --tcp`: where it listens, its token, and what its owner fixed for every session."""

    address: str  # HOST:PORT
    token_file: Path | None = None
    allow_remote: bool = False
    engine_url: str = ""
    engine_key_env: str = ""
    engine_model: str = ""

    def fixed(self) -> dict:
        """The settings no client may change: the owner's engine, if one was given."""
        if not self.engine_url:
            return {}
        return {
            "engine": {
                "api": "openai",
                "url": self.engine_url,
                "apiKeyEnv": self.engine_key_env,
                "model": self.engine_model,
            }
        }


def create_server(
    shared: Shared,
    model_path: Path | None = None,
    protocol_cls=NibProtocol,
    test_requests: bool = False,
    log_level: str | None = None,
    fixed: dict | None = None,
) -> NibServer:
    """A session for one client, its handlers registered, over the process's shared model hosts."""
    server = NibServer(
        shared,
        model_path,
        protocol_cls,
        own_process=protocol_cls is not SessionProtocol,
        log_level=log_level,
        fixed=fixed,
    )
    for method, options, handler in FEATURES:
        server.feature(method, options)(handler)
    server.command(ACCEPTED)(accepted)
    if test_requests:
        from .inspection import register

        register(server)
    return server


def _log_handlers() -> list[logging.Handler]:
    """stderr (the editor's log), and the file NIB_LOG_FILE names, if any: an editor may keep
    stderr in a buffer that is lost when it ends (code-server's output channel) or not at all."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    path = os.environ.get("NIB_LOG_FILE")
    if path:
        try:
            handlers.append(logging.FileHandler(path, encoding="utf-8"))
        except OSError as e:
            print(f"nib: NIB_LOG_FILE: cannot write {path} ({e.strerror}); logging to stderr only", file=sys.stderr)
    return handlers


def serve(model_path: Path | None, daemon: Daemon | None, log_level: str | None, test_requests: bool = False) -> int:
    logging.basicConfig(
        handlers=_log_handlers(),
        level=(log_level or "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request to an engine: nib logs its own
    # pygls logs a traceback for each message it cannot read; nib answers those and logs one line
    logging.getLogger("pygls.protocol.json_rpc").setLevel(logging.CRITICAL)
    logging.getLogger("pygls.io_").setLevel(logging.CRITICAL)
    if daemon is None:
        shared = Shared(STDIO)
        server = create_server(shared, model_path, test_requests=test_requests, log_level=log_level)
        on_terminate(lambda: server.finish(signalled=True))
        try:
            stdio.serve(server)
        finally:
            server.finish()
        return server.protocol.exit_code
    address, _, port = daemon.address.rpartition(":")
    address = address or "127.0.0.1"
    check_bind(address, daemon.allow_remote)
    token = load_or_create_token(daemon.token_file or token_path())
    shared = Shared(DAEMON)
    on_terminate(shared.close)
    try:
        asyncio.run(
            serve_tcp(
                lambda: create_server(shared, model_path, SessionProtocol, test_requests, log_level, daemon.fixed()),
                address,
                int(port),
                token,
            )
        )
    finally:
        shared.close()
    return 0


def on_terminate(end: Callable[[], bool | None]) -> None:
    """SIGTERM (an editor that quits, a service manager) runs end, which saves the statistics, and
    exits at once: unwinding would wait for the thread that reads stdin, which never returns. end
    returning False: the signal came in the middle of the save that ends the process, on the same thread."""

    def handler(*_) -> None:
        ends: bool | None = True
        try:
            ends = end()
        finally:
            if ends is not False:
                os._exit(0)

    signal.signal(signal.SIGTERM, handler)
