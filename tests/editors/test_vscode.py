"""VS Code (code-server 4.139.1 = VS Code 1.139) in headless Chromium, with the built nib.vsix installed.

The browser side is tests/editors/vscode_test.mjs (playwright-core): it acts and
reports what the editor showed; this file builds and installs the extension,
starts code-server, and asserts. The tools come from editors/tools.sh.

The security tests open a hostile workspace: one whose settings point the engine at a
listener of the test's and name a program to run, and tests/hostile.py's repository, whose
json.py, sitecustomize.py, nib/ ... would leave a marker if anything ran them.
"""

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from fixtures import DEMO, ROOT
from hostile import HELPERS, MAIN, hostile_repo

TOOLS = Path(os.environ.get("NIB_EDITOR_TOOLS", Path.home() / ".cache" / "nib-editors"))
BIN = TOOLS / "node_modules" / ".bin"
NODE = TOOLS / "node24" / "node_modules" / ".bin"
ARTIFACTS = ROOT / "out" / "editor-tests"
# Each setting's "scope", as the extension declares it.
SCOPES = {
    name: entry.get("scope", "window")
    for name, entry in json.loads((ROOT / "editors" / "vscode" / "package.json").read_text())["contributes"][
        "configuration"
    ]["properties"].items()
}
USER = {
    "nib.server.python": sys.executable,
    "nib.jedi.budgetMs": 5000,
    "nib.jedi.nameBudgetMs": 5000,
    "editor.wordBasedSuggestions": "off",
    "editor.snippetSuggestions": "none",
    "editor.quickSuggestions": {"other": "off"},
    "editor.autoClosingBrackets": "never",
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "extensions.ignoreRecommendations": True,
    "workbench.tips.enabled": False,
}
# What the extension says when a workspace sets the settings that are the user's alone (extension.ts).
IGNORED = (
    "nib: this workspace's settings set {}; nib ignores them: settings that send code off the machine or "
    "choose what runs are taken from your user settings only."
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vsix() -> Path:
    for need in (NODE / "node", BIN / "code-server", TOOLS / "node_modules" / "playwright-core"):
        assert need.exists(), f"{need} is missing: run editors/tools.sh"
    assert shutil.which("chromium"), "chromium is missing: run editors/tools.sh"
    env = {**os.environ, "PATH": f"{NODE}:{BIN}:{os.environ['PATH']}"}
    subprocess.run(
        [str(ROOT / "editors" / "vscode" / "build.sh")], check=True, env=env, capture_output=True, timeout=600
    )
    return ROOT / "editors" / "vscode" / "nib.vsix"


@pytest.fixture(scope="module")
def extensions(vsix, tmp_path_factory) -> Path:
    """An extensions folder with nib.vsix installed, shared by the module's code-server sessions."""
    folder = tmp_path_factory.mktemp("extensions")
    home = tmp_path_factory.mktemp("install-home")
    installed = subprocess.run(
        [
            str(BIN / "code-server"),
            "--user-data-dir",
            str(home / "data"),
            "--extensions-dir",
            str(folder),
            "--install-extension",
            str(vsix),
        ],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "was successfully installed" in installed.stdout, installed.stdout + installed.stderr
    return folder


def _env(home: Path) -> dict:
    return {
        **os.environ,
        "PATH": f"{NODE}:{BIN}:{os.environ['PATH']}",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "NIB_TOOLS": str(TOOLS),
    }


def code_server(
    name: str, tmp_path: Path, extensions: Path, workspace: Path, scenario: str, user: dict, cwd: Path | None = None
) -> tuple[dict, str]:
    """Start code-server on workspace with these user settings, run vscode_test.mjs's scenario in
    Chromium, stop it: what the editor showed, and the text of nib's output channel (both also
    kept as out/editor-tests/NAME.*). A step that failed is in seen["error"]: the test says when.
    """
    home, data, server_log = tmp_path / "home", tmp_path / "data", tmp_path / "nib-server.log"
    # A code-server window is a remote one: VS Code takes a "machine" setting from the remote's user
    # settings (data/Machine) and drops it from the browser's (data/User). Put in data/User, it counted
    # only when that file was parsed before nib's settings were registered: a race, which CI once lost.
    machine = {k: v for k, v in user.items() if SCOPES.get(k) == "machine"}
    for folder, settings in (("User", {k: v for k, v in user.items() if k not in machine}), ("Machine", machine)):
        (data / folder).mkdir(parents=True)
        (data / folder / "settings.json").write_text(json.dumps(settings))
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "code-server"),
            "--user-data-dir",
            str(data),
            "--extensions-dir",
            str(extensions),
            "--bind-addr",
            f"127.0.0.1:{port}",
            "--auth",
            "none",
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",
            "--disable-getting-started-override",
            str(workspace),
        ],
        # nib's log also into a file: code-server may not have written its output channel's last
        # lines to disk when it is stopped (a CI failure's log ended 40 s before the failing step)
        env={**_env(home), "NIB_LOG_FILE": str(server_log)},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        started = time.monotonic()
        try:
            done = subprocess.run(
                [
                    str(NODE / "node"),
                    str(ROOT / "tests" / "editors" / "vscode_test.mjs"),
                    f"http://127.0.0.1:{port}",
                    str(workspace),
                    str(data / "User" / "settings.json"),
                    str(ARTIFACTS / f"{name}.png"),
                    scenario,
                ],
                env=_env(home),
                capture_output=True,
                text=True,
                timeout=420,
            )
            out, stderr = done.stdout.strip(), done.stderr
        except subprocess.TimeoutExpired as e:
            out, stderr = "", f"the scenario ran past {e.timeout} s"
        seen = json.loads(out.splitlines()[-1]) if out else {"error": "no output"}
        print(f"code-server session {time.monotonic() - started:.1f} s; steps: {seen.get('steps')}")
        (ARTIFACTS / f"{name}.json").write_text(json.dumps(seen, indent=2))
    finally:
        server.terminate()
        server.wait(30)
    if "error" in seen:  # into pytest's captured output (CI keeps that, not the artifacts); the
        # extension host's log first: where nib's own log is missing, it says why
        seen["stderr"] = stderr
        for host in (data / "logs").rglob("remoteexthost.log"):
            print_tail(str(host.relative_to(data)), host.read_text(errors="replace"))
    logs = list((data / "logs").rglob("nib.nib/*.log"))
    assert logs, sorted(str(p) for p in (data / "logs").rglob("*.log"))
    text = "\n".join(p.read_text(errors="replace") for p in logs)
    (ARTIFACTS / f"{name}-nib.log").write_text(text)
    if "error" in seen:
        print_tail("nib's output channel", text)
        logged = server_log.read_text(errors="replace") if server_log.exists() else ""
        print_tail("nib's log file (NIB_LOG_FILE)", logged, lines=80)
    return seen, text


def print_tail(title: str, text: str, lines: int = 40) -> None:
    print(f"--- {title}, last {lines} lines ---", *text.splitlines()[-lines:], sep="\n")


def log_errors(text: str) -> list[str]:
    """The error lines of nib's output channel. The client files every line of the server's stderr
    under [error]; those are nib's own log lines, with nib's own level, which must not be ERROR."""
    server_line = re.compile(r"\[error\] \d{4}-\d\d-\d\d [\d:,]+ (DEBUG|INFO|WARNING) ")
    return [
        line
        for line in text.split("\n")
        if ("[error]" in line and not server_line.search(line)) or " ERROR " in line or "Traceback" in line
    ]


class Listener:
    """An HTTP server on 127.0.0.1 in a thread that records each request and answers 503:
    an engine that is down (nib then takes the statement from the local model)."""

    def __init__(self):
        self.requests: list[tuple[str, str, str]] = []  # method, path, the Authorization header's scheme
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                requests.append((self.command, self.path, (self.headers.get("Authorization") or "").split(" ")[0]))
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/v1"

    def __enter__(self):
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.http.shutdown()
        self.http.server_close()


def engine_settings(url: str) -> dict:
    """Settings that would post the code before the cursor to url, with $PATH as the bearer token."""
    return {"nib.engine.api": "openai", "nib.engine.url": url, "nib.engine.apiKeyEnv": "PATH"}


def project(workspace: Path) -> None:
    """The hostile repository's main.py and helpers.py alone (its settings are the test's bait)."""
    workspace.mkdir(parents=True)
    (workspace / "main.py").write_text(MAIN)
    (workspace / "helpers.py").write_text(HELPERS)


def test_vscode_extension_in_code_server(extensions, tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy(DEMO, workspace / "demo.py")
    seen, text = code_server("vscode", tmp_path, extensions, workspace, "demo", USER)
    assert "error" not in seen, seen

    # the list after `os.pa`: jedi's names, the model's first choice first
    labels = [label.split(",")[0] for label in seen["list"]]
    assert labels[0] == "path", seen["list"]
    assert {"pardir", "pathsep", "pathconf"} <= set(labels)
    lines = (workspace / "demo.py").read_text().split("\n")
    assert lines[2] == "os.path"  # accepted mid-word: `pa` replaced, not duplicated
    # ghost text after `found.app`, accepted with Tab
    assert seen["ghost"].startswith("end("), seen["ghost"]
    assert lines[11] == "                found.app" + seen["ghost"]
    # the focused item's details, resolved: jedi's signature and docstring of the file's own function
    assert seen["details"] == {
        "first": "list_python_files, Function",
        "type": "nib · def list_python_files(root)",
        "docs": "Return the .py files under root, sorted.",
    }
    # the status item's tooltip: which model answered the ghost text, in how long (no project context here)
    assert re.fullmatch(
        r"nib: ready \(last ghost text: .+ \(cpu\), \d+ ms\)\. Click for the log\.", seen["status_after"]
    )
    # "nib: Toggle Completions" turned nib off in this workspace, and the server heard it: no ghost
    # text, no items, the status says so, and nothing was written into the workspace (VS Code's state)
    assert seen["after_setting"] == {
        "ghost": "",
        "labels": [],
        "status": "nib: off (in this workspace; nib: Toggle Completions turns it on). Click for the log.",
        "workspaceFiles": ["demo.py"],
    }
    assert log_errors(text) == []
    assert "INFO nib.host: model loaded" in text
    # the server was told where the cursor rested after Go to Line 11 (`nib/cursor`), and never
    # where the keys typed on lines 3 and 12 put it: their edits tell it. (After Go to Line 3 too,
    # but that rest is made ready only once the model has loaded, and `os.pa` may be typed first.)
    rests = re.findall(r"cursor at rest at demo\.py:(\d+):(\d+): made ready there", text)
    assert ("10", "0") in rests, rests
    assert [r for r in rests if r[0] in ("2", "11") and r[1] != "0"] == [], rests
    # isolated: `python -I`, in the extension's own folder
    started = re.search(r"starting `(.*)` in (.*)", text)
    assert started and started.group(1) == f"{sys.executable} -I -m nib.server.cli serve", text
    assert Path(started.group(2)).parent == extensions


def test_vscode_habits_partial_accept_auto_pairs_manual_trigger_exclusion_and_stats(extensions, tmp_path):
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    shutil.copy(DEMO, workspace / "demo.py")
    shutil.copy(DEMO, workspace / "secrets.py")  # the default `nib.exclude` holds `*secret*`
    user = {
        **USER,
        "editor.autoClosingBrackets": "always",
        "editor.autoClosingQuotes": "always",
        # the list would open on `(` and take the Tab (VS Code's suggest widget goes first): this is about the ghost text
        "editor.suggestOnTriggerCharacters": False,
        # a block's header with its body, wherever it is written (the other steps write no header)
        "nib.statement.lines": "multi",
        "nib.statement.maxTokens": 128,
        "nib.statement.budgetMs": 10000,
    }
    seen, text = code_server("vscode-habits", tmp_path, extensions, workspace, "habits", user)
    assert "error" not in seen, seen
    lines = (workspace / "demo.py").read_text().split("\n")
    # statement.lines multi: a block's header with its body, as one ghost text, accepted with Tab
    assert lines[9:11] == [
        "            if not os.path.exists(dir):",
        '                raise ValueError("unsupported file")',
    ]
    # Ctrl+Right (VS Code's editor.action.inlineSuggest.acceptNextWord) took one word of nib's item
    assert seen["word"] == "end(dir)" and lines[12] == "                found.append"
    # the editor closed ( and " as they were typed; the ghost text did not write them again
    assert (seen["paren"], lines[13]) == ("dir, 'rb'", "                print(dir, 'rb')")
    assert (seen["quote"], lines[14]) == (".py", '                name.endswith(".py")')
    # ghost text and the list at once: Tab takes the list's selected item (VS Code's rule), once
    assert seen["menu"]["shown"] == "end(dir)" and seen["menu"]["first"].startswith("append")
    assert lines[15] == "                found.append"
    # manual: nothing while typing, ghost text when asked (nib: Ghost Text Now)
    assert seen["manual"]["typing"] == "" and seen["manual"]["asked"] == "end(dir)"
    assert seen["manual"]["status"].startswith("nib: manual (ghost text when asked: Alt+\\ or nib: Ghost Text Now")
    assert seen["excluded"] == (
        "nib: excluded (this file matches nib.exclude: nib neither completes in nor reads it). Click for the log."
    )
    assert log_errors(text) == []
    # the server counted, on this machine, the three ghost texts accepted whole (VS Code runs an item's
    # command on a whole accept only, not on Ctrl+Right's word), all still there as the editor closed
    from nib.server.stats import report

    for _ in range(100):  # the server ends just after its editor, and writes them then
        rows = report(tmp_path / "home" / ".local" / "share" / "nib" / "stats.sqlite3")
        if any(r.kind == "statement" and r.retained_chars for r in rows):
            break
        time.sleep(0.1)
    row = next(r for r in rows if r.kind == "statement")
    # Tab took the item answered after `print(` (adds "dir, 'rb'"), or, when VS Code kept showing the one
    # answered at `print` as `(` was typed, that one ("(dir, 'rb')": VS Code merges its closer with the
    # auto-closed one); likewise the item answered after `name.endswith("` (".py") or the one answered after
    # `name.endswith(` ('".py")', over the auto-closed `)`). The lines are the same either way.
    block = len('not os.path.exists(dir):\n                raise ValueError("unsupported file")')
    counts = {block + paren + quote for paren in (len("dir, 'rb'"), len("(dir, 'rb')")) for quote in (3, len('".py")'))}
    assert (row.model, row.kind, row.accepted) == ("bundled", "statement", 3)
    assert row.accepted_chars in counts and row.retained_chars == row.accepted_chars
    assert row.shown > 2 and row.typed_chars > row.accepted_chars


def test_vscode_ignores_a_workspaces_engine_and_server_settings(extensions, tmp_path):
    """A cloned repository's .vscode/settings.json cannot send the code to its URL with the
    user's secret, nor choose the program nib (or jedi) runs: nib warns, completes from the local model."""
    workspace = tmp_path / "workspace"
    project(workspace)
    with Listener() as engine:
        (workspace / ".vscode").mkdir()
        (workspace / ".vscode" / "settings.json").write_text(
            json.dumps(
                {
                    **engine_settings(engine.url),
                    "nib.server.python": "/bin/false",
                    "nib.server.command": ["/bin/false"],
                    "nib.jedi.environment": str(workspace / ".venv"),  # jedi would run the repository's python
                    # other names the server once read for user-only settings: not passed on (the
                    # server would have warned of each, a notification more)
                    "nib.listing.model": str(workspace / "model"),
                    "nib.modelPath": str(workspace / "model"),
                    "nib.engine.api_key_env": "GITHUB_TOKEN",
                }
            )
        )
        seen, text = code_server("vscode-hostile-settings", tmp_path, extensions, workspace, "hostile-settings", USER)
    assert engine.requests == []
    assert "error" not in seen, seen
    # rewritten while nib ran, the workspace's nib.server.* restarted nothing
    assert seen["rewritten"].startswith("nib: manual"), seen
    assert re.findall(r"\[info\] starting `(.*?)`", text) == [f"{sys.executable} -I -m nib.server.cli serve"], text
    assert seen["ghost"], seen  # from the local model
    warning = IGNORED.format(
        "nib.jedi.environment, nib.engine.api, nib.engine.url, nib.engine.apiKeyEnv, nib.server.python, "
        "nib.server.command"
    )
    assert seen["notifications"] == [warning]
    assert text.count(f"[warning] {warning}") == 1
    assert log_errors(text) == []


def test_vscode_sends_to_the_users_own_engine(extensions, tmp_path):
    """The same engine settings in the user's settings are taken."""
    workspace = tmp_path / "workspace"
    project(workspace)
    with Listener() as engine:
        seen, text = code_server(
            "vscode-user-engine", tmp_path, extensions, workspace, "project", {**USER, **engine_settings(engine.url)}
        )
    assert ("POST", "/v1/completions", "Bearer") in engine.requests, (engine.requests, seen)
    assert "error" not in seen, seen
    assert "nib ignores them" not in text + "".join(seen["notifications"])


def test_vscode_runs_nothing_of_a_hostile_repository(extensions, tmp_path):
    """code-server started in a repository whose json.py, re.py, sitecustomize.py, nib/ ... each
    leave a marker if run: none is, and jedi still lists the repository's own names (from source)."""
    repo = hostile_repo(tmp_path)
    with repo.runs_nothing():
        seen, text = code_server(
            "vscode-hostile-repository", tmp_path, extensions, repo.root, "project", USER, cwd=repo.root
        )
    assert "error" not in seen, seen
    assert "compute_totals, Function" in seen["list"], seen["list"]  # jedi's, read from helpers.py
    assert "INFO nib.host: model loaded" in text
    assert log_errors(text) == []
