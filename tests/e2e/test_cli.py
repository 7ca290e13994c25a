"""`nib` without an editor: one completion from the bundled model, and the version."""

import json
import subprocess
import sys

from fixtures import DEMO

NIB = [sys.executable, "-I", "-m", "nib.server.cli"]


def run(*args):
    return subprocess.run(NIB + [str(a) for a in args], capture_output=True, text=True, timeout=120)


def test_version():
    done = run("--version")
    assert (done.returncode, done.stdout) == (0, "nib 0.2.0\n")


def test_complete_mid_word_list():
    """`found.ap|` in the demo file: the first item is jedi's `append`, ranked first by the model, replacing `ap`."""
    done = run("complete", DEMO, "--line", 10, "--column", 24, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    first = out["candidates"][0]
    del first["score"]
    assert first == {"kind": "name", "label": "append", "text": "append", "replace_from": 263, "cursor": 265}
    assert DEMO.read_text()[263:265] == "ap"
    kinds = [c["kind"] for c in out["candidates"]]
    assert kinds.count("statement") == 1 and kinds[-1] == "statement"
    t = out["timings"]
    assert set(t) == {
        "queue_ms",
        "context_ms",
        "lex_ms",
        "heal_ms",
        "prefill_ms",
        "jedi_wait_ms",
        "decode_list_ms",
        "decode_statement_ms",
        "score_names_ms",
        "prompt_tokens",
        "healed_bytes",
        "project_tokens",
        "passes",
        "drafted",
        "accepted",
        "out_of_time",
        "unlikely",
        "unfilled",
    }
    # after `.` jedi's names are the whole truth: the model's own lexemes are not decoded
    assert t["decode_list_ms"] == 0 and t["jedi_wait_ms"] > 0 and t["score_names_ms"] > 0
    assert (t["prompt_tokens"] > 0, t["healed_bytes"]) == (True, 2)


def test_complete_without_jedi_is_the_model_alone():
    done = run("complete", DEMO, "--line", 10, "--column", 24, "--json", "--no-jedi")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [(c["kind"], c["label"]) for c in out["candidates"]][:1] == [("token", "append")]
    assert {c["kind"] for c in out["candidates"]} == {"token", "statement"}


def test_complete_rejects_a_position_outside_the_file():
    done = run("complete", DEMO, "--line", 999, "--column", 0)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"nib: {DEMO} has no line 999 column 0\n"


def test_complete_with_a_missing_model_is_one_clear_line():
    done = run("complete", DEMO, "--line", 1, "--column", 0, "--model", "/nonexistent")
    assert done.returncode == 2
    assert done.stderr == (
        "nib: model manifest not found: /nonexistent/manifest.json "
        "(reinstall nib for the bundled model, or re-export with `nib export`)\n"
    )
