"""benchmarks/load.py at a small N: editors at once on one `nib serve --tcp`, no edit lost or crossed."""

import json
import subprocess
import sys

from fixtures import ROOT


def test_three_editors_at_once_each_keep_their_own_documents(tmp_path):
    out = tmp_path / "load.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--editors", "3", "--keys", "6", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [r] = json.loads(out.read_text())["runs"]
    # 3 editors x 8 files x 1 point: each document as its editor typed it, in the server's copy
    assert (r["editors"], r["documents_checked"], r["documents_wrong"]) == (3, 24, [])
    assert r["statement"]["n"] == 3 * 8 * 6 and r["list"]["n"] > 0


def test_editors_with_and_without_the_engine_each_keep_their_own(tmp_path):
    """4 editors, two with llama.cpp's server for the statement, two with the local model, on
    one daemon: every document as sent, every session with its own statement's source."""
    out = tmp_path / "load.json"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "load.py"),
            "--editors",
            "4",
            "--keys",
            "4",
            "--engine",
            "llama",
            "--mixed",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    [r] = json.loads(out.read_text())["runs"]
    assert (r["editors"], r["documents_checked"], r["documents_wrong"]) == (4, 32, [])
    assert r["statement"]["n"] == 4 * 8 * 4
    engine = r["engine_requests"]
    assert engine["requests"] > 0 and engine["requests"] == engine["answered"] + engine["cancelled"] + engine["failed"]
