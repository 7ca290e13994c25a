"""How the project's files import one another: counted per module and name, read only inside the
workspace, the file being edited aside, never a module imported or run."""

import sys
from collections import Counter

from nib.model.service.exclude import Exclude
from nib.model.service.usage import Usage, _package_files
from nib.model.service.workspace import Workspace

RUNS = 'import sys\nsys.exit("a module of the workspace must never run")\n'


def package(root):
    (root / "pkg" / "sub").mkdir(parents=True)
    for folder in ("pkg", "pkg/sub"):
        (root / folder / "__init__.py").write_text("")
    (root / "pkg" / "models.py").write_text(RUNS + "class User: ...\nclass Admin: ...\n")
    (root / "pkg" / "app.py").write_text("from .models import User, Admin\n")
    (root / "pkg" / "sub" / "views.py").write_text("from ..models import User\nfrom pkg.models import User as U\n")
    (root / "pkg" / "sub" / "cli.py").write_text("def main():\n    from pkg import models\n    from os import path\n")
    return root


def test_names_are_counted_once_per_file_across_the_package_relative_or_absolute(tmp_path):
    root = package(tmp_path)
    usage = Usage(Workspace([str(root)]))
    found = usage.imported(root / "pkg" / "editing.py")
    assert found == {
        (root / "pkg" / "models.py").resolve(): Counter({"User": 2, "Admin": 1}),
        (root / "pkg" / "__init__.py").resolve(): Counter({"models": 1}),
    }
    assert usage.imported(root / "pkg" / "app.py") == {  # the file being edited does not count
        (root / "pkg" / "models.py").resolve(): Counter({"User": 1}),
        (root / "pkg" / "__init__.py").resolve(): Counter({"models": 1}),
    }
    assert "pkg.models" not in sys.modules  # read, not imported


def test_a_change_on_disk_is_read_again(tmp_path):
    root = package(tmp_path)
    usage = Usage(Workspace([str(root)]))
    assert usage.imported(root / "pkg" / "sub" / "views.py")[(root / "pkg" / "models.py").resolve()] == Counter(
        {"User": 1, "Admin": 1}
    )
    (root / "pkg" / "app.py").write_text("from .models import Admin  # one import now\n")
    assert usage.imported(root / "pkg" / "sub" / "views.py")[(root / "pkg" / "models.py").resolve()] == Counter(
        {"Admin": 1}
    )


def test_nothing_outside_the_workspace_is_read_nor_walked(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("from pkg.models import User\n")
    for above in (tmp_path, tmp_path / "repo"):  # a package above the workspace folder: not climbed into
        above.mkdir(exist_ok=True)
        (above / "__init__.py").write_text("")
    root = package(tmp_path / "repo")
    assert min(_package_files(root / "pkg" / "app.py", Workspace([str(root)]))) == root / "__init__.py"
    (root / "pkg" / "link.py").symlink_to(outside / "secret.py")  # a hostile repository's link
    usage = Usage(Workspace([str(root)]))
    assert usage.imported(root / "pkg" / "editing.py")[(root / "pkg" / "models.py").resolve()] == Counter(
        {"User": 2, "Admin": 1}
    )
    assert usage.imported(outside / "secret.py") == {}
    assert Usage(Workspace([])).imported(root / "pkg" / "editing.py") == {}


def test_a_file_in_no_package_counts_its_folder_s_files_only(tmp_path):
    root = package(tmp_path)
    (root / "script.py").write_text("from pkg.models import Admin\n")
    usage = Usage(Workspace([str(root)]))
    assert usage.imported(root / "other.py") == {(root / "pkg" / "models.py").resolve(): Counter({"Admin": 1})}


def test_the_walk_enters_no_link_hidden_excluded_or_too_deep_folder(tmp_path):
    root = package(tmp_path)
    (root / "pkg" / "loop").symlink_to(root / "pkg")  # a hostile repository's loop
    for hidden in (".git", "gen"):
        (root / "pkg" / hidden).mkdir()
        (root / "pkg" / hidden / "x.py").write_text("from pkg.models import Admin\n")
    deep = root / "pkg"
    for level in range(30):
        deep = deep / f"d{level}"
        deep.mkdir()
        (deep / "__init__.py").write_text("")
    (deep / "bottom.py").write_text("from pkg.models import Admin\n")
    workspace = Workspace([str(root)], Exclude(("gen",)))
    files = _package_files(root / "pkg" / "app.py", workspace)
    assert [f.relative_to(root).parts[:2] for f in files if "d0" not in f.parts] == [
        ("pkg", "__init__.py"),
        ("pkg", "app.py"),
        ("pkg", "models.py"),
        ("pkg", "sub"),
        ("pkg", "sub"),
        ("pkg", "sub"),
    ]
    assert max(len(f.relative_to(root / "pkg").parts) for f in files) == 17  # 16 folders down, not 30
    assert Usage(workspace).imported(root / "pkg" / "app.py")[(root / "pkg" / "models.py").resolve()] == Counter(
        {"User": 1}
    )
