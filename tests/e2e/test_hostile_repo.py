"""Opening a hostile repository runs none of its code: the server started in it as editors start it.

The repository (tests/hostile.py) shadows `json`, `typing`, `nib`... with files that leave a marker
when they run. Editors start the server with the project as its working directory; `python -m` puts
that directory first on `sys.path`, and so did jedi's worker before it ran isolated from nib's own folder.
"""

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import hostile_repo
from lsp import MODELS_OWN, complete, open_doc, started
from lsprotocol import types
from pytest_lsp import client_capabilities

NIB = str(Path(sys.executable).parent / "nib")  # the console script of this installation


@pytest.fixture
def repo(tmp_path):
    return hostile_repo(tmp_path)


async def jedi_list(client, uri, line, character):
    """The list once jedi has answered (its first call loads its stubs: retried)."""
    for _ in range(40):
        result = await complete(client, line, character, uri)
        if any(item.kind not in MODELS_OWN for item in result.items):
            return result
        await asyncio.sleep(0.5)
    raise AssertionError("jedi never answered")


@pytest.mark.parametrize(
    "command",
    [[NIB, "serve"], [sys.executable, "-I", "-m", "nib.server.cli", "serve"]],
    ids=["nib-serve", "python-I-m"],
)
async def test_completing_in_a_hostile_repository_runs_none_of_its_code(repo, command):
    with repo.runs_nothing():
        # the project as the working directory, as editors do
        async with started(*command, cwd=repo.root) as client:
            uri = repo.root.as_uri()
            await client.initialize_session(
                types.InitializeParams(
                    capabilities=client_capabilities("neovim"),
                    root_uri=uri,
                    workspace_folders=[types.WorkspaceFolder(uri=uri, name="repo")],
                )
            )
            open_doc(client, repo.main.read_text(), uri=repo.main.as_uri())
            result = await jedi_list(client, repo.main.as_uri(), *repo.cursor)
            found = [(item.label, item.kind) for item in result.items if item.label == "compute_totals"]
            assert found == [("compute_totals", types.CompletionItemKind.Function)]  # jedi's, from helpers.py
            await client.shutdown_session()


def test_python_m_in_the_repository_runs_its_nib(repo):
    """The control: without -I, `python -m` imports the repository's `nib/` (so the baits above are live)."""
    done = subprocess.run(
        [sys.executable, "-m", "nib.server.cli", "serve"],
        cwd=repo.root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert {"nib", "nib.server"} <= set(repo.markers()), repo.markers()
    assert f"from 'nib.server' ({repo.root}/nib/server/__init__.py)" in done.stderr  # then the server fails


def test_the_baits_run_where_python_looks(repo):
    """The baits work: a stdlib shadow runs and hands over to the real module; jedi can start the bait python."""
    code = "import json, typing, logging; print(json.dumps({'a': 1}), typing.Optional[int], logging.INFO)"
    done = subprocess.run([sys.executable, "-c", code], cwd=repo.root, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, '{"a": 1} typing.Optional[int] 20\n'), done.stderr  # the real modules
    assert {"json", "typing", "logging"} <= set(repo.markers())
    code = f"import jedi; jedi.create_environment({str(repo.root / 'bin' / 'python')!r}, safe=False)"
    subprocess.run([sys.executable, "-I", "-c", code], cwd=repo.marker_dir.parent, check=True, timeout=60)
    assert "jedi-environment" in repo.markers()
