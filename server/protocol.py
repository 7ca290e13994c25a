"""JSON-RPC as the spec says it, where pygls only logs.

pygls drops a request it cannot parse (wrong params, an unknown method
without params, a batch, a bare number) with a log line, so the client waits
forever. Here every request gets an answer: -32700 for bytes that are not
JSON, -32600 for what is not a request object (or a request after
`shutdown`), -32601 for an unknown method, -32602 for params of the wrong
shape. A notification that cannot be used is logged and dropped, as JSON-RPC
says.
"""

from __future__ import annotations

import logging

from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcMethodNotFound,
    JsonRpcParseError,
)
from pygls.protocol import LanguageServerProtocol, lsp_method

log = logging.getLogger("nib.protocol")


class Wire(dict):
    """A result already in JSON's shape, sent as it is: the list's hundred items built as
    lsprotocol objects and unstructured by cattrs cost the server about 3.7 ms a keystroke
    to build and write, as plain dicts 1.8 (`benchmarks/results/wire/`)."""


class Rejected:
    """A message that structure_message could not make into a request or notification."""

    def __init__(self, data: dict, error: JsonRpcException):
        self.id = data.get("id")
        self.method = data.get("method")
        self.has_id = "id" in data
        self.error = error


def _valid_id(value) -> bool:
    return isinstance(value, (int, str)) and not isinstance(value, bool)


class NibProtocol(LanguageServerProtocol):
    exit_code = 0  # LSP: 1 when `exit` came without `shutdown` before it (pygls's own exit is caught)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args):
        self.exit_code = 0 if self._shutdown else 1
        yield from super().lsp_exit(*args)

    def structure_message(self, data):
        if not isinstance(data, dict) or "jsonrpc" not in data:
            return data  # a nested object, or something handle_message rejects
        try:
            return super().structure_message(data)
        except JsonRpcException:
            method = data.get("method")
            known = isinstance(method, str) and (method in self.fm.features or method in self.fm.builtin_features)
            return Rejected(data, JsonRpcInvalidParams() if known else JsonRpcMethodNotFound.of(str(method)))

    def handle_message(self, message):
        if isinstance(message, Rejected):
            if message.has_id and not _valid_id(message.id):
                self._error(None, JsonRpcInvalidRequest.of(f"id {message.id!r}"))
            elif message.has_id:
                self._error(message.id, message.error)
            else:
                log.warning("dropped a notification %r that could not be read: %s", message.method, message.error)
            return
        if not hasattr(message, "jsonrpc"):  # a batch, a number, an object without "jsonrpc"
            request_id = message.get("id") if isinstance(message, dict) else None
            self._error(request_id if _valid_id(request_id) else None, JsonRpcInvalidRequest())
            return
        if hasattr(message, "method") and hasattr(message, "id") and not _valid_id(message.id):
            self._error(None, JsonRpcInvalidRequest.of(f"id {message.id!r}"))  # true, 1.5, [1]: not an id
            return
        is_request = hasattr(message, "method") and _valid_id(getattr(message, "id", None))
        if self._shutdown and is_request and message.method != types.EXIT:
            # LSP: after shutdown, requests get InvalidRequest (pygls would not answer at all)
            self._error(message.id, JsonRpcInvalidRequest.of("the server is shutting down"))
            return
        super().handle_message(message)

    # nib keeps its own documents (server/documents.py). pygls's workspace would hold a second
    # copy of each and, applying an edit, rewrites the edit's range in place (a reversed or
    # out-of-range one) before nib sees it: the document would drift from the client's.
    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None

    def _send_response(self, msg_id, result=None, error=None):
        if error is None and isinstance(result, Wire):
            self._result_types.pop(msg_id, None)  # (pygls's type for the answer: not needed here)
            self._send_data({"jsonrpc": "2.0", "id": msg_id, "result": result})
        else:
            super()._send_response(msg_id, result, error)

    def warm(self) -> None:
        """Read and write once each message a keystroke brings (`_KEYSTROKE`), so that cattrs writes
        its code for them now, not on the session's first keystroke: about 6 ms there otherwise.
        (Each session of a shared daemon warms its own converter, on the loop they share.)"""
        try:
            for message in _KEYSTROKE:
                if isinstance(self.structure_message(message), Rejected):
                    log.warning("a sample message no longer reads (%s): not warmed", message.get("method"))
            item = types.InlineCompletionItem("x", range=types.Range(types.Position(0, 0), types.Position(0, 1)))
            self._converter.unstructure(types.InlineCompletionList([item]))  # a ghost text's answer
        except Exception:  # noqa: BLE001 - a speed-up only: the session goes on without it
            log.exception("reading the sample messages failed")

    def parse_error(self, error: Exception) -> None:
        """Bytes that are not JSON (UTF-8): answer with id null, as JSON-RPC says."""
        self._error(None, JsonRpcParseError.of(str(error)))

    def _error(self, request_id, error: JsonRpcException) -> None:
        if request_id is None:  # pygls's serializer would drop a null id; JSON-RPC wants "id": null
            self._send_data({"jsonrpc": "2.0", "id": None, "error": {"code": error.code, "message": error.message}})
        else:
            self._send_response(request_id, None, error.to_response_error())


_AT = {"textDocument": {"uri": "file:///warm.py"}, "position": {"line": 0, "character": 1}}
_KEYSTROKE = (  # an edit, the last key's requests cancelled, then the list and the ghost text asked together
    {
        "jsonrpc": "2.0",
        "method": types.TEXT_DOCUMENT_DID_CHANGE,
        "params": {
            "textDocument": {"uri": "file:///warm.py", "version": 2},
            "contentChanges": [{"range": {"start": _AT["position"], "end": _AT["position"]}, "text": "x"}],
        },
    },
    {"jsonrpc": "2.0", "method": types.CANCEL_REQUEST, "params": {"id": 0}},
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": types.TEXT_DOCUMENT_COMPLETION,
        "params": {**_AT, "context": {"triggerKind": 1}},
    },
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": types.TEXT_DOCUMENT_INLINE_COMPLETION,
        "params": {**_AT, "context": {"triggerKind": 2}},
    },
)


class SessionProtocol(NibProtocol):
    """For one client of a shared TCP server: `exit` ends the session, not the process."""

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args):
        if (handler := self.fm.features.get(types.EXIT)) is not None:
            yield handler, args, None
        if self.writer is not None:
            self.writer.close()


def field(params, key: str):
    """A field of a message's parameters, read as a dict or as the named tuples pygls makes of a
    method it has no type for (nib's own); None where params has no such field."""
    return params.get(key) if isinstance(params, dict) else getattr(params, key, None)


def is_parse_error(error: Exception) -> bool:
    """Whether the read loop could not decode a message: not JSON, not UTF-8 (both ValueErrors), a
    number of over 4,300 digits (a ValueError of Python's int) or arrays nested too deep to parse."""
    return isinstance(error, ValueError | RecursionError)
