"""What the end-to-end tests send and read through pytest-lsp's client: documents, edits, requests."""

import asyncio
import contextlib

from lsprotocol import types
from pytest_lsp import LanguageClient

URI = "file:///tmp/nib_demo.py"
# After `.` a list waits this long for jedi (a late jedi gives nothing there: tested on its own), so
# that a test's list is jedi's names ranked whatever jedi's speed on the machine that runs it.
JEDI_WAITED = {"jedi": {"budgetMs": 5000}}
K = types.CompletionItemKind
MODELS_OWN = (K.Text, K.Snippet, K.Keyword, K.Value)  # the kinds of items the model makes without jedi


@contextlib.asynccontextmanager
async def started(*command, **kwargs):
    """A client of the server that command starts (`start_io`'s keywords), ended however the test ends: a
    server left running after a failed assertion would hold its models' memory until pytest itself ends."""
    client = LanguageClient()
    await client.start_io(*command, **kwargs)
    try:
        yield client
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await client.stop()


def open_doc(client, text, uri=URI, version=1):
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)
        )
    )


async def complete(client, line, character, uri=URI):
    return await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(line, character))
    )


async def inline(client, line, character, uri=URI):
    return await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
            text_document=types.TextDocumentIdentifier(uri),
            position=types.Position(line, character),
        )
    )


def configure(client, settings: dict) -> None:
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"nib": settings}))


def apply_edit(text: str, line: int, start: int, end: int, new: str) -> str:
    lines = text.split("\n")
    lines[line] = lines[line][:start] + new + lines[line][end:]
    return "\n".join(lines)


def type_text(client, text: str, line: int, character: int, typed: str, version: int, uri=URI) -> str:
    """Insert `typed` at (line, character) as one didChange; the new text."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(line, character), types.Position(line, character)), text=typed
                )
            ],
        )
    )
    return apply_edit(text, line, character, character, typed)


async def static_list(client, text, line, character, settings):
    """The list once jedi answers (its first call loads its stubs: retried with a generous budget)."""
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"nib": settings}))
    open_doc(client, text)
    for _ in range(20):
        result = await complete(client, line, character)
        if any(item.kind not in MODELS_OWN for item in result.items):
            return result
        await asyncio.sleep(0.5)
    raise AssertionError("jedi never answered")
