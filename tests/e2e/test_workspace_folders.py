"""Workspace folders added and removed while the server runs (`workspace/didChangeWorkspaceFolders`,
as VS Code sends them): project context reads in an added folder, and no more in a removed one."""

import asyncio

import pytest_lsp
from fixtures import SERVER
from lsp import inline, open_doc, type_text
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

MODELS = "class Order:\n    def refund(self, reason: str) -> None:\n        ...\n"
APP = "from shop.models import Order\n\n\ndef cancel(order: Order) -> None:\n    order."
LINE, END = 4, len("    order.")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER + ["--test-requests"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(  # no folder yet: an editor opened on nothing
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"jedi": {"enable": False}, "statement": {"debounceMs": 0}},
        )
    )
    yield
    await lsp_client.shutdown_session()


def folders(client, added=(), removed=()):
    client.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in added],
                removed=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in removed],
            )
        )
    )


async def project(client, uri: str, settled) -> dict:
    """The project context uri's requests use once settled(found) holds (its warm-up runs after a pause)."""
    for _ in range(100):
        found = (await client.protocol.send_request_async("nib/_project", {"uri": uri}))._asdict()
        if settled(found):
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"the project context stayed {found}")


async def test_an_added_folder_is_read_and_a_removed_one_no_more(client: LanguageClient, tmp_path):
    root = tmp_path / "repo"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "models.py").write_text(MODELS)
    app = root / "shop" / "app.py"
    app.write_text(APP + "\n")
    uri = app.as_uri()
    open_doc(client, APP, uri=uri)
    await inline(client, LINE, END, uri)
    assert await project(client, uri, lambda found: True) == {"definitions": 0, "chunks": 0, "chars": 0}
    folders(client, added=[root])
    text = type_text(client, APP, LINE, END, "r", 2, uri)
    await inline(client, LINE, END + 1, uri)
    found = await project(client, uri, lambda found: found["definitions"])
    # models.py's Order, read from the added folder: `class Order:` and its method's stub
    assert found == {"definitions": 1, "chunks": 0, "chars": 59}
    folders(client, removed=[root])
    type_text(client, text, LINE, END + 1, "e", 3, uri)
    await inline(client, LINE, END + 2, uri)
    assert await project(client, uri, lambda found: not found["definitions"]) == {
        "definitions": 0,
        "chunks": 0,
        "chars": 0,
    }
