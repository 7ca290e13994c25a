"""The modules an import may name while jedi is late, read from the text alone."""

import pytest

from nib.model.text.imported_modules import STDLIB, importable, module_start


@pytest.mark.parametrize(
    "line, expected",
    [
        ("import t", True),
        ("    import t", True),  # under a `try:`
        ("from t", True),
        ("import os, sy", True),
        ("import numpy as np, sy", True),
        ("import ", True),
        ("from os import pa", False),  # a module's names: jedi's
        ("import os.pa", False),  # a package's modules: jedi's
        ("from .x", False),
        ("from . import x", False),
        ("importx", False),
        ("x = import_", False),
    ],
)
def test_where_a_top_level_module_is_named(line, expected):
    assert module_start(line) == expected


def test_the_files_own_packages_first_then_the_standard_librarys_without_another_platforms():
    text = "try:\n    import yaml\nexcept ImportError:\n    pass\nfrom tests.util import x\nimport y\nfrom yaml import load\n"
    assert importable(text, text.index("\nimport y\n") + 9, "y") == ["yaml"]
    assert importable(text, len(text), "t")[:1] == ["tests"] and "tests" not in STDLIB
    assert "time" in importable(text, len(text), "t")
    assert "msvcrt" not in STDLIB and "_thread" not in STDLIB and "__future__" in STDLIB


def test_every_package_of_an_import_line_and_no_prose_that_starts_like_one():
    text = (
        '"""Usage.\n\nimport the data first, then\nfrom the docs import it\n"""\n'
        "import os, yaml as y  # config\nimport numpy.linalg as la\nfrom and import x\nfrom attr.validators import in_\n"
    )
    assert importable(text, len(text), "")[:4] == ["os", "yaml", "numpy", "attr"]
    assert {"the", "and"}.isdisjoint(importable(text, len(text), ""))
