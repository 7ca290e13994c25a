"""benchmarks/load.py at a small N: editors at once on one `nib serve --tcp`, no edit lost or crossed."""

import json
import subprocess
import sys

from fixtures import ROOT


def test_three_editors_at_once_each_keep_their_own_documents(tmp_path):
    out = tmp_path / "load.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), "--editors", "3", "--keys", "6",
                          "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    [r] = json.loads(out.read_text())["runs"]
    # 3 editors x 8 files x 1 point: each document as its editor typed it, in the server's copy
    assert (r["editors"], r["documents_checked"], r["documents_wrong"]) == (3, 24, [])
    assert r["statement"]["n"] == 3 * 8 * 6 and r["list"]["n"] > 0
