"""Qwen2.5-Coder 0.5B and 1.5B through an inference engine: llama.cpp's server (built by
tests/engine_tools.sh) serving each GGUF (`nib model gguf NAME`, assembled from the pinned
wheels), behind `nib serve` with engine.api openai, healed mid-word as for Gemma."""

import pytest
import pytest_lsp
from fixtures import DEMO, SERVER
from lsp import configure, inline, open_doc
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from nib.model.errors import ModelError
from nib.model.pretrained import registry
from nib.model.pretrained.llama_server import llama_server

SIZES = {"qwen2.5-coder-0.5b": ("0.9.0", 491_400_064), "qwen2.5-coder-1.5b": ("0.2.0", 1_117_320_768)}
LINE = 10  # "                found.append(os.path.join(dirpath, name))" in the demo file


@pytest.fixture(scope="module", params=sorted(SIZES))
def engine_url(request):
    with llama_server(model=request.param) as url:
        yield url


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.parametrize("name", sorted(SIZES))
def test_the_gguf_is_the_pinned_file(name):
    version, size = SIZES[name]
    path = registry.gguf(name)
    assert (path.name, path.stat().st_size) == (f"{name}-{version}.gguf", size)


def test_the_1_5b_is_for_an_engine_only():
    with pytest.raises(ModelError, match=r"^qwen2.5-coder-1.5b is served by an inference engine, not imported: "):
        registry.import_model("qwen2.5-coder-1.5b")


async def test_the_engine_completes_mid_word(client: LanguageClient, engine_url):
    lines = DEMO.read_text().split("\n")
    cut = "                found.ap"
    lines[LINE] = cut
    configure(client, {"engine": {"api": "openai", "url": engine_url, "timeoutMs": 60_000}})
    open_doc(client, "\n".join(lines[: LINE + 1]))
    [item] = (await inline(client, LINE, len(cut))).items
    # "ap" backed off and written again by the engine: the item replaces it. Which argument the
    # engine writes varies between runs of llama.cpp's server (its prompt cache changes the batch
    # shapes): `append(name)` and `append(os.path.join(dirpath, name))` were both seen.
    assert item.range == types.Range(types.Position(LINE, 22), types.Position(LINE, len(cut)))
    assert item.insert_text.startswith("append(") and item.insert_text.endswith(")"), item.insert_text
