"""The folders of a virtual environment jedi reads (`jedi.environment`), found from its files alone."""

import os
import threading

from fixtures import package_environment

from nib.model.listing.site_paths import site_paths


def test_an_environment_s_site_packages_and_the_folders_its_pth_files_name(tmp_path):
    """A `.pth` file's path lines are folders to read; its `import` lines are code and are skipped,
    as are comments, lines naming nothing, a name too long for the system, and a FIFO (never read)."""
    environment = package_environment(tmp_path / "venv")
    site = next((environment / "lib").glob("python3*/site-packages"))
    named = tmp_path / "named"
    named.mkdir()
    lines = [str(named), "import os", "import\tsys", "# a comment", "nowhere", "x" * 300, ""]
    (site / "a.pth").write_text("\n".join(lines))
    os.mkfifo(site / "b.pth")
    found: list = []
    reader = threading.Thread(target=lambda: found.append(site_paths(str(environment))), daemon=True)
    reader.start()
    reader.join(10)
    assert found == [(str(site), str(named))]
    site_paths.cache_clear()
    assert site_paths(str(environment / "bin" / "python")) == (str(site), str(named))


def test_a_file_that_is_not_an_environment_s_python_is_no_environment(tmp_path):
    (tmp_path / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0\n")
    assert site_paths(str(tmp_path / "etc" / "passwd")) == ()
    assert site_paths(str(tmp_path / "nowhere")) == ()
    assert site_paths(str(tmp_path)) == (str(tmp_path / "lib" / "python3.11" / "site-packages"),)
