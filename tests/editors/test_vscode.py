"""VS Code (code-server 4.139.1 = VS Code 1.139) in headless Chromium, with the built nib.vsix installed.

The browser side is tests/editors/vscode_test.mjs (playwright-core): it acts and
reports what the editor showed; this file builds and installs the extension,
starts code-server, and asserts. The tools come from editors/tools.sh.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from fixtures import DEMO, ROOT

TOOLS = Path(os.environ.get("NIB_EDITOR_TOOLS", Path.home() / ".cache" / "nib-editors"))
BIN = TOOLS / "node_modules" / ".bin"
NODE = TOOLS / "node24" / "node_modules" / ".bin"
ARTIFACTS = ROOT / "out" / "editor-tests"


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
    subprocess.run([str(ROOT / "editors" / "vscode" / "build.sh")], check=True, env=env, capture_output=True,
                   timeout=600)
    return ROOT / "editors" / "vscode" / "nib.vsix"


def test_vscode_extension_in_code_server(vsix, tmp_path):
    home, data, extensions, workspace = (tmp_path / d for d in ("home", "data", "extensions", "workspace"))
    for d in (home, data / "User", extensions, workspace):
        d.mkdir(parents=True)
    shutil.copy(DEMO, workspace / "demo.py")
    user_settings = data / "User" / "settings.json"
    user_settings.write_text(json.dumps({
        "nib.server.python": sys.executable, "nib.jedi.budgetMs": 5000,
        "editor.wordBasedSuggestions": "off", "editor.snippetSuggestions": "none", "editor.quickSuggestions":
            {"other": "off"}, "editor.autoClosingBrackets": "never", "workbench.startupEditor": "none",
        "security.workspace.trust.enabled": False, "telemetry.telemetryLevel": "off",
        "extensions.ignoreRecommendations": True, "workbench.tips.enabled": False,
    }))
    env = {**os.environ, "PATH": f"{NODE}:{BIN}:{os.environ['PATH']}", "HOME": str(home),
           "XDG_CONFIG_HOME": str(home / ".config"), "XDG_DATA_HOME": str(home / ".local" / "share"),
           "NIB_TOOLS": str(TOOLS)}
    common = ["--user-data-dir", str(data), "--extensions-dir", str(extensions)]
    installed = subprocess.run([str(BIN / "code-server"), *common, "--install-extension", str(vsix)], env=env,
                               capture_output=True, text=True, timeout=300)
    assert "was successfully installed" in installed.stdout, installed.stdout + installed.stderr
    port = free_port()
    server = subprocess.Popen([str(BIN / "code-server"), *common, "--bind-addr", f"127.0.0.1:{port}", "--auth",
                               "none", "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
                               "--disable-getting-started-override", str(workspace)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "vscode.png"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        started = time.monotonic()
        done = subprocess.run([str(NODE / "node"), str(ROOT / "tests" / "editors" / "vscode_test.mjs"),
                               f"http://127.0.0.1:{port}", str(workspace), str(user_settings), str(screenshot)],
                              env=env, capture_output=True, text=True, timeout=420)
        seen = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
        print(f"code-server session {time.monotonic() - started:.1f} s; steps: {seen.get('steps')}")
        (ARTIFACTS / "vscode.json").write_text(json.dumps(seen, indent=2))
    finally:
        server.terminate()
        server.wait(30)
    assert "error" not in seen, (seen, done.stderr)

    # the list after `os.pa`: jedi's names, the model's first choice first
    labels = [label.split(",")[0] for label in seen["list"]]
    assert labels[0] == "path", seen["list"]
    assert {"pardir", "pathsep", "pathconf"} <= set(labels)
    lines = (workspace / "demo.py").read_text().split("\n")
    assert lines[2] == "os.path"  # accepted mid-word: `pa` replaced, not duplicated
    # ghost text after `found.app`, accepted with Tab
    assert seen["ghost"].startswith("end("), seen["ghost"]
    assert lines[11] == "                found.app" + seen["ghost"]
    # "nib: Toggle Completions" set nib.enable false, and the server heard it: no ghost text, no items
    assert seen["after_setting"] == {"enable": False, "ghost": "", "labels": []}
    # no error in the extension's log. The client files every line of the server's stderr under
    # [error]; those are nib's own log lines, with nib's own level, which must not be ERROR.
    logs = list((data / "logs").rglob("nib.nib/*.log"))
    assert logs, sorted(str(p) for p in (data / "logs").rglob("*.log"))
    text = "\n".join(p.read_text(errors="replace") for p in logs)
    (ARTIFACTS / "vscode-nib.log").write_text(text)
    server_line = re.compile(r"\[error\] \d{4}-\d\d-\d\d [\d:,]+ (DEBUG|INFO|WARNING) ")
    errors = [line for line in text.split("\n")
              if ("[error]" in line and not server_line.search(line)) or " ERROR " in line or "Traceback" in line]
    assert errors == [], errors
    assert "INFO nib.host: model loaded" in text
