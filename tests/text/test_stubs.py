"""What a module defines, as stubs: signatures and first docstring lines, read with `ast`, never run."""

import time

from nib.model.text.stubs import Import, defined, imports, module, stubs

SOURCE = '''import os

LIMIT = 10
_PRIVATE = 1


class Ledger(Base, metaclass=Meta):
    """A shop's ledger.

    More text that is not shown.
    """

    __slots__ = ("entries",)
    currency: str = "EUR"

    def __init__(self, currency: str):
        self.currency = currency

    def _helper(self):
        pass

    @property
    def total(self) -> int:
        return 0

    async def post(self, amount: int, *, note: str = "") -> "Receipt":
        """Post an entry."""
        raise SystemExit("never run")


def load(path) -> "Ledger | None":
    os.remove(path)
'''


def test_stubs_keep_signatures_docstrings_and_public_methods():
    assert stubs(SOURCE, {"Ledger", "load"}) == (
        "class Ledger(Base, metaclass=Meta):\n"
        '    """A shop\'s ledger."""\n'
        "    currency: str = 'EUR'\n"
        "    def __init__(self, currency: str): ...\n"
        "    @property\n"
        "    def total(self) -> int: ...\n"
        "    async def post(self, amount: int, *, note: str='') -> 'Receipt':\n"
        '        """Post an entry."""\n'
        "def load(path) -> 'Ledger | None': ..."
    )


def test_all_names_include_constants_and_a_file_that_does_not_parse_gives_nothing():
    assert stubs(SOURCE).startswith("LIMIT = 10\n_PRIVATE = 1\nclass Ledger(")
    assert stubs("def broken(:\n") == ""


def test_imports_of_a_file_being_typed():
    text = (
        "from .models import (\n    User,\n    Admin as A,\n)\nimport pkg.sub\nfrom x import *\ndef f(:\n    import y\n"
    )
    assert imports(text) == [
        Import("models", 1, "User", "User"),
        Import("models", 1, "Admin", "A"),
        Import("pkg.sub", 0, "", "pkg"),
        Import("y", 0, "", "y"),  # indented: under `if TYPE_CHECKING:`, in a function
    ]


def test_defined_and_returned_classes():
    assert defined(SOURCE) == {"LIMIT": "constant", "_PRIVATE": "constant", "Ledger": "class", "load": "function"}
    assert module(SOURCE).returns == {"load": frozenset({"Ledger", "None"})}


def test_a_hostile_file_gives_nothing_and_never_raises():
    deep = "def f(a=" + "-" * 100_000 + "1): pass\n"  # past the parser's and ast.unparse's recursion
    wide = "def f(a=" + "1+" * 100_000 + "1): pass\n"
    assert (module(deep).stubs, module(wide).stubs, imports("from x import " + "(" * 300)) == ({}, {}, [])


def test_a_module_records_its_classes_attribute_types_and_its_imports():
    found = module(
        "from .ledger import Ledger as L\n\n\nclass Account:\n    owner: 'models.User'\n\n"
        "    def __init__(self, ledger: L, n):\n        self.ledger = ledger\n        self.log = Log()\n"
        "        self.count: int = n\n        self.n = n\n"
    )
    assert found.attributes == {
        "Account": {
            "owner": frozenset({"User"}),
            "ledger": frozenset({"L"}),
            "log": frozenset({"Log"}),
            "count": frozenset({"int"}),
        }
    }
    assert found.imports == (Import("ledger", 1, "Ledger", "L"),)


def test_an_unclosed_import_list_costs_a_bounded_read_not_the_rest_of_the_file():
    text = "from a import (b,\n" + "x = (1, 2)\n" * 60_000 + "import os\n"  # a repository's file, never closed
    started = time.perf_counter()
    assert imports(text) == [Import("os", 0, "", "os")]
    assert time.perf_counter() - started < 2.0  # read line by line to the end before: quadratic, minutes
