"""The repository-level eval's cross-file subset: cuts whose rest of the line uses a name another
module of the same package defines, and the file itself does not."""

from pathlib import Path

from nib.model.eval.points import Point
from nib.model.eval.repo import cross_file, defined_names

MODELS = """
import os

LIMIT = 3


class Store:
    def put(self, key):
        pass

    def __len__(self):
        return 0


def open_store(path):
    return Store()
"""


def test_a_module_defines_its_top_level_names_and_its_classes_methods_but_no_dunders():
    assert defined_names(MODELS) == {"LIMIT", "Store", "put", "open_store"}
    assert defined_names("def broken(:\n") == set()  # what cannot be parsed defines nothing


def test_cross_file_cuts_use_a_name_only_another_module_of_the_package_defines():
    root, other_root = Path("/w/pkg"), Path("/w/other")
    files = [root / "models.py", root / "app.py", other_root / "elsewhere.py"]
    texts = [MODELS, "def put(x):\n    pass\n", "def far_away():\n    pass\n"]
    roots = [root, root, other_root]
    cuts = [
        Point(1, 0, "store = open_store(path)", "identifier"),  # defined in a sibling: cross-file
        Point(1, 0, "put(len(items))", "identifier"),  # app.py defines put itself
        Point(1, 0, "value = far_away()", "identifier"),  # defined in another package only
        Point(0, 0, "LIMIT + 1", "identifier"),  # its own file's name
        Point(1, 0, "print(LIMIT)", "identifier"),  # a builtin, then a sibling's name
    ]
    assert cross_file(files, texts, roots, cuts) == [True, False, False, False, True]
