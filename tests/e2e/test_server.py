"""The real server over stdio with the bundled model, driven by a real LSP client."""

import asyncio

import pytest
import pytest_lsp
from fixtures import DEMO, SERVER, SLOW_JEDI, heldout_file
from lsp import JEDI_WAITED, URI, apply_edit, complete, configure, inline, open_doc, started, static_list
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=["visual-studio-code", "neovim"])
async def client(lsp_client: LanguageClient, request):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities(request.param), initialization_options=JEDI_WAITED)
    )
    yield
    await lsp_client.shutdown_session()


@pytest.mark.parametrize("encodings, expected", [(None, "utf-16"), (["utf-8", "utf-16"], "utf-8")])
async def test_initialize_result(encodings, expected):
    async with started(*SERVER) as proc_client:
        caps = types.ClientCapabilities(general=types.GeneralClientCapabilities(position_encodings=encodings))
        result = await proc_client.initialize_session(types.InitializeParams(capabilities=caps))
        c = result.capabilities
        assert c.position_encoding == expected
        assert c.text_document_sync.change == types.TextDocumentSyncKind.Incremental
        assert list(c.completion_provider.trigger_characters) == [".", "(", "[", ",", "=", "@"]
        assert c.completion_provider.resolve_provider is True
        assert c.inline_completion_provider == types.InlineCompletionOptions()
        assert result.server_info.name == "nib"
        await proc_client.shutdown_session()


async def check_list(client, text, line, character, expect_items: bool = True):
    """Every item edits exactly the typed fragment, and applying it keeps the text before it."""
    result = await complete(client, line, character)
    assert not expect_items or result.items, f"no items at {line}:{character}"
    sort = [item.sort_text for item in result.items]
    assert sort == sorted(sort)
    for item in result.items:
        edit = item.text_edit
        assert edit.range.end == types.Position(line, character)
        assert edit.range.start.line == line and edit.range.start.character <= character
        typed = text.split("\n")[line][edit.range.start.character : character]
        assert edit.new_text.startswith(typed), (typed, edit.new_text)
        assert item.filter_text == edit.new_text
    return result


async def test_list_mid_word_heals(client: LanguageClient):
    text = DEMO.read_text()
    open_doc(client, text)
    line = 10  # "                found.append(os.path.join(dirpath, name))"
    col = text.split("\n")[line].index("append") + 2  # "found.ap|"
    result = await check_list(client, text, line, col)
    top = result.items[0]
    assert top.text_edit.range.start == types.Position(line, col - 2)
    assert (top.label, top.text_edit.new_text) == ("append", "append")


@pytest.mark.parametrize("healing", ["prefix", "exact"])
async def test_mid_word_edits_keep_what_is_typed(client: LanguageClient, healing):
    """In both healing modes, list and inline items applied mid-word give text that starts with what is typed."""
    text = DEMO.read_text()
    open_doc(client, text)
    configure(client, {"model": {"healing": healing}})
    lines = text.split("\n")
    for line, word in ((10, "append"), (10, "join"), (9, "endswith"), (7, "walk"), (15, "argv")):
        col = lines[line].index(word) + 2
        typed_line = lines[line][:col]
        result = await check_list(client, text, line, col)
        inline_result = await inline(client, line, col)
        edits = [(i.text_edit.range, i.text_edit.new_text) for i in result.items]
        edits += [(i.range, i.insert_text) for i in inline_result.items]
        assert edits
        for rng, new in edits:
            applied = apply_edit(text, line, rng.start.character, rng.end.character, new).split("\n")[line]
            replaced = lines[line][rng.start.character : col]
            assert rng.end == types.Position(line, col) and new.startswith(replaced), (healing, word, new)
            assert applied.startswith(typed_line) and word[:2] * 2 not in applied, (healing, word, new)
        if word == "append":
            assert (result.items[0].label, inline_result.items[0].insert_text) == ("append", "append(name)")


async def test_list_at_many_positions(client: LanguageClient):
    text = DEMO.read_text()
    open_doc(client, text)
    lines = text.split("\n")
    for line in (4, 7, 10, 16, 17):
        for col in sorted({len(lines[line]) // 3, len(lines[line]) // 2, len(lines[line])}):
            if lines[line][:col].strip():  # after a closing bracket only operators come: not list items
                await check_list(client, text, line, col, expect_items=lines[line][col - 1] not in ")]}")


async def test_inline_statement_stops_at_end_of_statement(client: LanguageClient):
    text = DEMO.read_text()
    line = 16  # "    for path in list_python_files(argv[0] if argv else "."):"
    cut = "    for path in "
    text = apply_edit(text, line, len(cut), len(text.split("\n")[line]), "")
    open_doc(client, text)
    result = await inline(client, line, len(cut))
    assert len(result.items) == 1
    item = result.items[0]
    assert item.range.end == types.Position(line, len(cut))
    new = item.insert_text
    assert "\n" not in new  # a `for` header stops at its own line end (no block body by default)


async def test_incremental_edits_then_complete(client: LanguageClient):
    text = "import os\n\n"
    open_doc(client, text)
    version = 1
    for i, ch in enumerate("os.pa"):
        version += 1
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=URI, version=version),
                [
                    types.TextDocumentContentChangePartial(
                        range=types.Range(types.Position(2, i), types.Position(2, i)), text=ch
                    )
                ],
            )
        )
    text += "os.pa"
    result = await check_list(client, text, 2, 5)
    starts = [i.text_edit.range.start for i in result.items if i.kind != types.CompletionItemKind.Snippet]
    assert starts and all(s == types.Position(2, 3) for s in starts)  # every name replaces the typed `pa`


@pytest.mark.parametrize("encodings", [None, ["utf-8"]])
async def test_position_encodings_with_astral_text(encodings):
    async with started(*SERVER) as c:
        caps = types.ClientCapabilities(general=types.GeneralClientCapabilities(position_encodings=encodings))
        init = await c.initialize_session(types.InitializeParams(capabilities=caps, initialization_options=JEDI_WAITED))
        text = 'name = "😀é"\nname.up'
        open_doc(c, text)
        units = {"utf-16": 7, "utf-8": 7}[init.capabilities.position_encoding]  # line 1 is ASCII
        result = await complete(c, 1, units)
        assert result.items
        for item in result.items:
            assert item.text_edit.range.end == types.Position(1, 7)
        # a cursor after astral characters on the same line
        text2 = 's = "😀😀"; s.st'
        open_doc(c, text2, uri="file:///tmp/astral.py")
        enc = init.capabilities.position_encoding
        col = len(text2.encode("utf-16-le")) // 2 if enc == "utf-16" else len(text2.encode())
        result = await complete(c, 0, col, uri="file:///tmp/astral.py")
        assert result.items
        for item in result.items:
            r = item.text_edit.range
            assert r.end == types.Position(0, col)
            typed_units = col - r.start.character
            assert item.text_edit.new_text.startswith("st"[:typed_units])
        await c.shutdown_session()


async def test_settings_take_effect(client: LanguageClient):
    text = DEMO.read_text()
    open_doc(client, text)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(
            settings={"nib": {"list": {"size": 3, "statement": False}, "jedi": {"enable": False}}}
        )
    )
    result = await complete(client, 10, 30)
    assert [i.kind for i in result.items] == [types.CompletionItemKind.Text] * 3  # the model's own three
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings={"nib": {"enable": False}}))
    assert await complete(client, 10, 30) is None
    assert await inline(client, 10, 30) is None


async def test_bad_setting_warns_and_keeps_working(client: LanguageClient):
    open_doc(client, DEMO.read_text())
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"nib": {"statement": {"maxTokens": "many"}, "colour": "blue"}})
    )
    result = await complete(client, 10, 30)
    assert result.items
    texts = [m.message for m in client.messages]
    assert "nib: setting statement.maxTokens must be an integer, got 'many'; using the default 32" in texts
    assert "nib: unknown setting 'colour' ignored" in texts


async def test_stale_version_is_dropped(client: LanguageClient):
    text = DEMO.read_text()
    open_doc(client, text)
    configure(client, {"statement": {"debounceMs": 300}})
    pending = asyncio.ensure_future(inline(client, 10, 30))
    await asyncio.sleep(0.05)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(0, 0), types.Position(0, 0)), text="#"
                )
            ],
        )
    )
    assert await pending is None


# The bundled model's ghost text after `import os\nos.pa` (greedy, so the same every time).
STATEMENT_AFTER_OS_PA = "path.dirname(path.dirname)"
LATE_JEDI = {**__import__("os").environ, "NIB_JEDI_WORKER": " ".join(SLOW_JEDI), "NIB_JEDI_DELAY_S": "60"}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, server_env=LATE_JEDI))
async def late_jedi_client(lsp_client: LanguageClient):
    """A server whose jedi answers each call 60 s late."""
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def test_cancel_request_stops_the_work_on_the_inference_thread(late_jedi_client: LanguageClient):
    """A list after `.` waits for jedi on the inference thread (budget 5 s, jedi 60 s late);
    $/cancelRequest stops that wait, so the next request runs at once instead of 5 s later."""
    client = late_jedi_client
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"nib": {"jedi": {"budgetMs": 5000}}})
    )
    open_doc(client, "import os\nos.pa")
    pending = asyncio.ensure_future(
        client.protocol.send_request_async(
            "textDocument/completion",
            types.CompletionParams(types.TextDocumentIdentifier(URI), types.Position(1, 5)),
            msg_id="the-list",
        )
    )
    await asyncio.sleep(0.5)  # the list is waiting for jedi on the inference thread
    client.protocol.notify("$/cancelRequest", types.CancelParams(id="the-list"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(pending, 4)
    result = await asyncio.wait_for(inline(client, 1, 5), 4)  # not queued behind the 5 s wait
    assert [i.insert_text for i in result.items] == [STATEMENT_AFTER_OS_PA]


async def test_jedi_late_after_a_dot_invents_nothing_and_at_a_name_the_model_answers(late_jedi_client: LanguageClient):
    """jedi misses its 200 ms budget: after `.` the list is incomplete (the next keystroke asks
    again) and holds only what the file uses after the same name and `.` (`os.walk` above
    `found.append(os.`; nothing after `found.`; no statement decoded for it): no attribute the
    object may not have. At a name, what jedi would give there, read from the text (a variable of
    the function, the builtins), with the model's own, incomplete too."""
    client = late_jedi_client
    text = DEMO.read_text()
    open_doc(client, text)
    after_dot = await complete(client, 10, 24)
    assert (list(after_dot.items), after_dot.is_incomplete) == ([], True)
    after_os = await complete(client, 10, 32)
    K = types.CompletionItemKind
    assert ([(i.label, i.kind) for i in after_os.items], after_os.is_incomplete) == ([("walk", K.Text)], True)
    result = await check_list(client, text, 10, 18)  # `fo` of `found` typed
    assert [(i.label, i.kind) for i in result.items] == [
        ("for", K.Keyword),
        ("found", K.Variable),  # read from the text: a variable of the function, as jedi would say
        ("format", K.Function),  # a builtin
        ("fordir", K.Text),
        ("found_file", K.Text),
        ("founddir", K.Text),
        ("for name in os.path.split(name):", K.Snippet),
    ]
    assert result.is_incomplete


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER + ["--model", "/nonexistent/nib-model"]))
async def broken_client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(), initialization_options=JEDI_WAITED)
    )
    yield
    await lsp_client.shutdown_session()


async def test_missing_model_is_a_clear_message(broken_client: LanguageClient):
    """The statement's model is missing: no ghost text, one message; the list has its own model."""
    open_doc(broken_client, "import os\nos.pa")
    assert await inline(broken_client, 1, 5) is None
    assert (await complete(broken_client, 1, 5)).items[0].label == "pardir"  # jedi's names, the bundled model's order
    assert [m.message for m in broken_client.messages] == [
        "nib: model manifest not found: /nonexistent/nib-model/manifest.json "
        "(reinstall nib for the bundled model, or re-export with `nib export`)"
    ]


MID_WORD = [
    ("import o", "import o"),
    ("x = os.path.jo", "x = os.path.jo"),
    ("def f(**kw", "def f(**kw"),
    ("if a =", "if a ="),
    ('print("hel', 'print("hel'),
    ("for name in filen", "for name in filen"),
    ("value = 12", "value = 12"),
]


@pytest.mark.parametrize("line, typed", MID_WORD)
async def test_mid_word_edits_keep_what_was_typed(client: LanguageClient, line, typed):
    """Applied to the document, every list item and the ghost text give text that starts
    with what the user typed, with no fragment duplicated."""
    text = "import os\nfilenames = []\n" + line
    open_doc(client, text)
    pos = (2, len(line))
    result = await complete(client, *pos)
    inline_result = await inline(client, *pos)
    edits = [(i.text_edit.range, i.text_edit.new_text) for i in result.items]
    edits += [(i.range, i.insert_text) for i in inline_result.items]
    assert edits
    for rng, new in edits:
        assert rng.start.line == rng.end.line == 2 and rng.end.character == len(line)
        after = line[: rng.start.character] + new
        assert after.startswith(typed), (line, new, after)
        assert len(after) > len(typed)


async def test_a_list_typed_where_a_space_comes_next_is_empty_and_asked_by_hand_is_not(client: LanguageClient):
    """`x =` and `f(a,` typed: the next key is a space, which would close the list (PEP 8)."""
    text = "ledger = 1\nbalance =\nprint(ledger,\nprint(end="
    open_doc(client, text)
    uri = types.TextDocumentIdentifier(URI)
    key = types.CompletionTriggerKind.TriggerCharacter

    async def listed(line, character, context):
        params = types.CompletionParams(uri, types.Position(line, character), context)
        return await client.text_document_completion_async(params)

    for line, character, typed in ((1, 9, "="), (2, 13, ",")):
        result = await listed(line, character, types.CompletionContext(key, typed))
        assert (result.is_incomplete, list(result.items)) == (True, [])
        by_hand = await listed(line, character, types.CompletionContext(types.CompletionTriggerKind.Invoked))
        assert len(by_hand.items) > 0  # computed as before
    keyword = await listed(3, 10, types.CompletionContext(key, "="))  # a keyword argument's value
    assert len(keyword.items) > 0


async def test_both_kinds_at_many_positions_of_a_heldout_file(client: LanguageClient):
    """Seeded cursor positions in real code: list items edit only the typed fragment, and each
    statement, applied, ends where its statement ends (or is cut by the token budget)."""
    import random

    from nib.model.text.prose import in_prose
    from nib.model.text.stops import bracket_depth, statement_end

    path = heldout_file("attrs-26.1.0/attr/validators.py")
    text = path.read_text()
    lines = text.split("\n")
    open_doc(client, text)
    rng = random.Random(7)
    candidates = [i for i, line in enumerate(lines) if len(line.strip()) > 10]
    statements = 0
    for line in rng.sample(candidates, 12):
        col = rng.randrange(len(lines[line]) - len(lines[line].lstrip()) + 1, len(lines[line]) + 1)
        prose = in_prose(text, sum(len(s) + 1 for s in lines[:line]) + col)[0]  # a docstring: no list
        await check_list(client, text, line, col, expect_items=not prose)
        assert not prose or list((await complete(client, line, col)).items) == []
        result = await inline(client, line, col)
        statements += len(result.items)
        for item in result.items:
            assert item.range.end == types.Position(line, col)
            start = item.range.start.character
            prefix = lines[line][:start]
            depth = max(0, bracket_depth("\n".join(lines[:line]) + "\n"))
            end = statement_end(prefix, item.insert_text, depth)
            assert end is None or end == len(item.insert_text.rstrip("\n")), (prefix, item.insert_text)
    assert statements >= 6  # most positions get ghost text


async def test_document_over_the_size_limit_gets_no_completion(client: LanguageClient):
    """A generated 3 MB file: no completion, one log line, and the server keeps serving others."""
    big = "x = 1\n" * 500_000 + "os.pa"
    open_doc(client, big, uri="file:///tmp/big.py")
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri="file:///tmp/big.py", version=2),
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(types.Position(500_000, 5), types.Position(500_000, 5)), text="t"
                )
            ],
        )
    )
    assert await complete(client, 500_000, 6, uri="file:///tmp/big.py") is None
    assert await inline(client, 500_000, 6, uri="file:///tmp/big.py") is None
    open_doc(client, "import os\nos.pa")
    assert (await complete(client, 1, 5)).items


async def test_list_after_dot_is_exactly_jedis_names_ranked_by_the_file(client: LanguageClient):
    text = "import os\nos.pathsep\nos.path.join(a, b)\nos.path.exists(a)\nos.pa"
    result = await static_list(client, text, 4, 5, {"jedi": {"budgetMs": 5000}})
    names = [
        (i.label, i.kind, i.detail, i.text_edit.new_text, i.text_edit.range)
        for i in result.items
        if i.kind != types.CompletionItemKind.Snippet
    ]
    K, r = types.CompletionItemKind, types.Range(types.Position(4, 3), types.Position(4, 5))
    # no invented attribute: jedi is confident after `.`; PathLike does not extend `pa` as typed
    assert sorted(names, key=lambda n: n[0]) == [
        ("pardir", K.Module, "nib · module os.pardir", "pardir", r),
        ("path", K.Variable, "nib · statement", "path", r),
        ("pathconf", K.Function, "nib · function", "pathconf", r),
        ("pathconf_names", K.Variable, "nib · statement", "pathconf_names", r),
        ("pathsep", K.Module, "nib · module os.pathsep", "pathsep", r),
    ]
    # `os.path` twice in the file puts `path` ahead of jedi's alphabetical first, `pardir`
    assert [n[0] for n in names[:2]] == ["path", "pardir"]
    assert [i.sort_text for i in result.items] == sorted(i.sort_text for i in result.items)


async def test_list_with_static_off_is_the_models_own(client: LanguageClient):
    configure(client, {"jedi": {"enable": False}})
    open_doc(client, "import os\nos.pa")
    await asyncio.sleep(1.5)  # time enough for jedi, were it asked
    result = await complete(client, 1, 5)
    assert {i.kind for i in result.items} == {types.CompletionItemKind.Text, types.CompletionItemKind.Snippet}


async def test_in_a_comment_or_a_docstring_the_list_is_empty(client: LanguageClient):
    """Prose: no names offered (as jedi, Pylance and VS Code's defaults do); code again after it."""
    text = 'def area(width, height):\n    """Return the wid"""\n    return wid  # the wid'
    listed = await static_list(client, text, 2, 14, {"jedi": {"nameBudgetMs": 5000}})  # `return wid`: code
    assert listed.items[0].label == "width"
    for line, character in ((1, 21), (2, 26)):  # in the docstring after `wid`, in the comment
        listed = await complete(client, line, character)
        assert (listed.is_incomplete, list(listed.items)) == (True, [])
