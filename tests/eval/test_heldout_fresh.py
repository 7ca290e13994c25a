"""The "fresh" held-out splits: code the pretrained models cannot have seen ("fresh" to report
on, "fresh-dev" to tune on), kept apart from every other split and from the training corpus,
fetched like the others (`nib heldout fresh`)."""

import re
import subprocess
import sys
import tomllib

import pytest

from nib.model.eval import heldout
from nib.model.train import corpus

NIB = [sys.executable, "-I", "-m", "nib.server.cli"]
FRESH = {"langextract-1.0.0": 13, "pydantic-evals-0.1.0": 18, "strands-agents-0.1.0": 47}  # folder: .py files


def normal(name: str) -> str:
    """A distribution name as PyPI compares them (PEP 503): Pydantic_Evals and pydantic-evals are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def names(split: str) -> set[str]:
    return {normal(p["name"]) for p in heldout.packages(split)}


def test_the_fresh_split_is_these_pins():
    assert [(p["name"], p["version"]) for p in heldout.packages("fresh")] == [
        ("langextract", "1.0.0"),
        ("pydantic-evals", "0.1.0"),
        ("strands-agents", "0.1.0"),
    ]


def test_fresh_shares_no_package_with_the_other_splits_or_the_training_corpus():
    trained = {
        normal(re.split(r"[=<>!~\[ ]", r, maxsplit=1)[0])
        for r in tomllib.loads(corpus.DEFAULT_MANIFEST.read_text())["packages"]
    }
    assert {"django", "requests"} <= trained  # the requirements were read as names
    assert names("fresh").isdisjoint(names("dev") | names("test") | names("fresh-dev") | trained)
    assert names("fresh-dev").isdisjoint(names("dev") | names("test") | trained)
    assert names("dev").isdisjoint(names("test"))
    assert [(p["name"], p["version"]) for p in heldout.packages("fresh-dev")] == [
        ("google-adk", "0.1.0"),
        ("openai-agents", "0.1.0"),
    ]


def test_every_pin_names_a_version_and_a_sha256_and_a_known_split():
    pins = tomllib.loads(heldout.MANIFEST.read_text())["package"]
    assert {p["split"] for p in pins} == set(heldout.SPLITS)
    for p in pins:
        assert p["name"] and re.fullmatch(r"\d[\w.!+-]*", p["version"]), p
        assert re.fullmatch(r"[0-9a-f]{64}", p["sha256"]), p
    assert len({normal(p["name"]) for p in pins}) == len(pins)  # a package is in one split, once


def test_an_unknown_split_is_refused_by_name():
    with pytest.raises(ValueError, match="^unknown held-out split 'new': use one of dev, test, fresh, fresh-dev$"):
        heldout.packages("new")


def test_nib_heldout_fresh_fetches_the_pinned_wheels_into_folders_of_python_files():
    """Network on first use, like the dev split the server tests read (tests/fixtures.py)."""
    done = subprocess.run([*NIB, "heldout", "fresh"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = heldout.fetch("fresh")
    assert done.stdout == f"{out}\n"
    assert heldout.folder("fresh") == out
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(FRESH)
    assert {d: len(list((out / d).rglob("*.py"))) for d in FRESH} == FRESH
    assert (out / "strands-agents-0.1.0" / "strands" / "agent" / "agent.py").is_file()
    assert not [p for p in out.rglob("*") if p.is_file() and p.suffix != ".py" and p.name != "heldout.json"]
