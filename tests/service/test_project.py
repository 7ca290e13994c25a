"""Project context: the imports of a file resolved to workspace files, shown as stubs; never a file
outside the workspace folders (symbolic links resolved first); never a module imported or run."""

import sys
import time

from nib.model.completion.request import Project
from nib.model.service.exclude import Exclude
from nib.model.service.project import NO_BLOCK, ProjectContext, scope_start

MODELS = '''import sys
sys.exit("a module of the workspace must never run")


class User:
    """Someone who signs in."""

    def rename(self, new_name: str) -> None:
        pass


def find_user(email: str) -> "User":
    pass
'''
APP = """from shop.models import find_user
from . import util


def greet(email):
    user = find_user(email)
    util.shout(user.name)
    user."""


def workspace(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "models.py").write_text(MODELS)
    (tmp_path / "shop" / "util.py").write_text(
        "def shout(text: str) -> str:\n    return text.upper()\n\n\ndef quiet(): ...\n"
    )
    (tmp_path / "shop" / "app.py").write_text(APP)
    return tmp_path


def test_the_block_shows_what_the_imports_define_most_used_last(tmp_path):
    root = workspace(tmp_path)
    project = ProjectContext([str(root)])
    block = project.block(str(root / "shop" / "app.py"), APP, len(APP), 2000, recent=False)
    assert block.project == Project(
        root.name,
        (
            ("shop/util.py", "def shout(text: str) -> str: ..."),
            (
                "shop/models.py",
                "class User:\n"
                '    """Someone who signs in."""\n'
                "    def rename(self, new_name: str) -> None: ...\n"
                "def find_user(email: str) -> 'User': ...",
            ),
        ),
        "shop/app.py",
    )
    assert (block.definitions, block.chunks) == (2, 0)
    assert "shop.models" not in sys.modules  # read, not imported


def test_the_budget_keeps_the_most_relevant_and_none_gives_nothing(tmp_path):
    root = workspace(tmp_path)
    project = ProjectContext([str(root)])
    block = project.block(str(root / "shop" / "app.py"), APP, len(APP), 150, recent=False)
    assert [path for path, _ in block.project.files] == ["shop/models.py"] and block.definitions == 1
    assert project.block(str(root / "shop" / "app.py"), APP, len(APP), 0) == NO_BLOCK


def test_nothing_outside_the_workspace_is_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "vault.py").write_text("def token(): ...\nKEY = 'hunter2'\n")
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "vault.py").symlink_to(outside / "vault.py")  # a hostile repository's link
    text = "from pkg.vault import token, KEY\nfrom outside.vault import token\n\ntoken(KEY)"
    project = ProjectContext([str(root)])
    assert project.block(str(root / "pkg" / "app.py"), text, len(text), 2000, recent=False) == NO_BLOCK
    assert ProjectContext([]).block(str(root / "pkg" / "app.py"), text, len(text), 2000, recent=False) == NO_BLOCK


def test_an_excluded_file_is_never_read(tmp_path):
    root = workspace(tmp_path)
    project = ProjectContext([str(root)])
    project.workspace.exclude = Exclude(("models.py",))
    block = project.block(str(root / "shop" / "app.py"), APP, len(APP), 2000, recent=False)
    assert [path for path, _ in block.project.files] == ["shop/util.py"]
    (root / "shop" / "link.py").symlink_to(root / "shop" / "models.py")  # nor through a link
    linked = APP.replace("shop.models", "shop.link")
    block = project.block(str(root / "shop" / "app.py"), linked, len(linked), 2000, recent=False)
    assert [path for path, _ in block.project.files] == ["shop/util.py"]


def test_recent_chunks_come_after_the_definitions_budget_allowing(tmp_path):
    root = workspace(tmp_path)
    project = ProjectContext([str(root)])
    seen = "\n".join(f"def view_{i}(user):\n    user.rename(user.name + '{i}')" for i in range(5))
    project.recent.add(str(root / "shop" / "views.py"), seen, 0)
    block = project.block(str(root / "shop" / "app.py"), APP, len(APP), 2000)
    assert (block.definitions, block.chunks) == (2, 1)
    assert block.project.files[0] == ("shop/views.py", seen)


def test_scope_start():
    text = "import x\n\n\n@decorate\ndef f():\n    pass\n\n\nclass C:\n    def m(self):\n        x."
    assert scope_start(text, len(text)) == text.index("class C")
    assert scope_start(text, text.index("pass")) == text.index("@decorate")
    assert scope_start(text, 5) == 0


def test_on_an_import_line_the_package_modules_and_their_names(tmp_path):
    root = workspace(tmp_path)
    text = "from .util import shout\nfrom ."
    block = ProjectContext([str(root)]).block(str(root / "shop" / "app.py"), text, len(text), 2000, recent=False)
    assert block.project.files == (
        ("shop/util.py", "def shout(text: str) -> str: ..."),
        ("shop/__init__.py", "from .models import User, find_user\nfrom .util import shout, quiet"),
    )


def test_on_from_module_import_the_names_of_that_module(tmp_path):
    root = workspace(tmp_path)
    text = "import os\nfrom .models import "
    block = ProjectContext([str(root)]).block(str(root / "shop" / "app.py"), text, len(text), 2000, recent=False)
    assert block.project.files[-1] == ("shop/models.py", "from .models import User, find_user")
    text = "from shop."
    block = ProjectContext([str(root)]).block(str(root / "main.py"), text, len(text), 2000, recent=False)
    assert block.project.files == (
        ("shop/__init__.py", "from shop.models import User, find_user\nfrom shop.util import shout, quiet"),
    )


LEDGER = """class Ledger:
    def reconcile(self, tolerance_cents: int) -> bool: ...
"""
ACCOUNT = """from .ledger import Ledger


class Account:
    owner: "User"

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
"""


def test_on_an_import_line_what_the_package_imports_most_goes_first(tmp_path):
    root = workspace(tmp_path)
    for name in ("orders.py", "admin.py"):  # two files import find_user, none User; util twice, models once
        (root / "shop" / name).write_text("from .models import find_user\nfrom .util import quiet\n")
    (root / "shop" / "cli.py").write_text("from shop.util import shout, quiet\n")
    project = ProjectContext([str(root)])
    text = "import os\nfrom .models import "
    block = project.block(str(root / "shop" / "app.py"), text, len(text), 2000, recent=False)
    assert block.project.files[-1] == ("shop/models.py", "from .models import find_user, User")
    text = "from .util import shout, "  # a name on the line already is not offered again
    block = project.block(str(root / "shop" / "app.py"), text, len(text), 2000, recent=False)
    assert block.project.files[-1] == ("shop/util.py", "from .util import quiet")
    text = "from .util import shout"  # the name being typed is (it may go on: shout_loud)
    block = project.block(str(root / "shop" / "app.py"), text, len(text), 2000, recent=False)
    assert block.project.files[-1] == (
        "shop/util.py",
        "def shout(text: str) -> str: ...\nfrom .util import quiet, shout",
    )
    text = "from ."
    block = project.block(str(root / "shop" / "app.py"), text, len(text), 2000, recent=False)
    assert block.project.files[-1] == (
        "shop/__init__.py",
        "from .util import quiet, shout\nfrom .models import find_user, User",
    )


def test_a_package_listing_names_a_linked_module_by_its_link_and_keeps_the_most_imported(tmp_path):
    root = workspace(tmp_path)
    (root / "shop" / "compat.py").symlink_to(root / "shop" / "util.py")  # imported as .compat, the link's name
    for n in range(35):  # with them, zeta comes past the listing's 40 modules by name
        (root / "shop" / f"a{n:02}.py").write_text(f"def f{n}(): ...\n")
    (root / "shop" / "zeta.py").write_text("def last(): ...\n")
    (root / "shop" / "cli.py").write_text("from .zeta import last\n")
    text = "from ."
    block = ProjectContext([str(root)]).block(str(root / "shop" / "app.py"), text, len(text), 4000, recent=False)
    listing = block.project.files[-1][1].split("\n")
    assert listing[0] == "from .zeta import last" and "from .compat import shout, quiet" in listing
    assert not any(line.startswith("from .util ") for line in listing)  # the same file, once


def test_the_class_of_the_object_before_the_dot_through_its_attributes(tmp_path):
    root = workspace(tmp_path)
    (root / "shop" / "ledger.py").write_text(LEDGER)
    (root / "shop" / "account.py").write_text(ACCOUNT)
    text = "from shop.account import Account\nfrom shop.models import find_user\n\n\ndef close(acct: Account):\n    acct.ledger."
    block = ProjectContext([str(root)]).block(str(root / "shop" / "app.py"), text, len(text), 2000, recent=False)
    assert block.project.files[-1] == ("shop/ledger.py", LEDGER.strip())  # nearest the cursor
    assert [path for path, _ in block.project.files] == ["shop/models.py", "shop/account.py", "shop/ledger.py"]
    narrowed = (
        "from shop.ledger import Ledger\n\n\ndef check(books):\n    if isinstance(books, Ledger):\n        books."
    )
    block = ProjectContext([str(root)]).block(str(root / "app.py"), narrowed, len(narrowed), 2000, recent=False)
    assert block.project.files == (("shop/ledger.py", LEDGER.strip()),)


def test_attributes_that_lead_back_to_the_file_itself_show_none_of_it(tmp_path):
    """The file's own text on disk (saved, or whole as `nib project-cuts` writes it) may hold what
    comes after the cursor: a class of its own, reached back through another module's attribute,
    is not a piece, as the file is never one through its imports."""
    root = workspace(tmp_path)
    (root / "shop" / "account.py").write_text(ACCOUNT)
    text = (
        "from shop.account import Account\n\n\nclass Ledger:\n    pass\n\n\ndef close(acct: Account):\n    acct.ledger."
    )
    after = "reconcile(0)\n\n\nclass Ledger:\n    def after_the_cursor(self): ...\n"
    (root / "shop" / "ledger.py").write_text(text + after)
    block = ProjectContext([str(root)]).block(str(root / "shop" / "ledger.py"), text, len(text), 2000, recent=False)
    assert [path for path, _ in block.project.files] == ["shop/account.py"]


def test_a_piece_bigger_than_the_room_left_is_cut_at_a_line(tmp_path):
    root = workspace(tmp_path)
    methods = "".join(f"    def method_{i}(self, value: int) -> int: ...\n" for i in range(40))
    (root / "shop" / "big.py").write_text("class Big:\n" + methods)
    text = "from shop.big import Big\n\n\ndef use(big: Big):\n    big."
    block = ProjectContext([str(root)]).block(str(root / "shop" / "app.py"), text, len(text), 400, recent=False)
    ((path, shown),) = block.project.files
    assert path == "shop/big.py" and len(shown) <= 400
    assert shown.startswith("class Big:\n    def method_0(self, value: int) -> int: ...\n") and shown.endswith(
        "\n    ..."
    )


def test_hostile_files_cost_no_more_than_reading_them(tmp_path):
    """Classes whose attributes lead back to each other through two names, a line of 200 dots, a
    256 KB line of hex, a module name too long for the file system: each block in well under a
    second (an exponential walk or a backtracking pattern took hours), and nothing raises."""
    root = tmp_path
    (root / "m.py").write_text('from n import A as B\n\n\nclass A:\n    a: "A | B"\n')
    (root / "n.py").write_text("from m import A\n")
    project = ProjectContext([str(root)])
    lines = [
        "from m import A\n\n\ndef f(x: A):\n    x" + ".a" * 40 + ".",
        "from " + "." * 200_000 + "!",
        'K = "' + "0123456789abcdef" * 16_000,
        "from " + "a" * 300 + " import ",
        "from ." + "a" * 300 + ".",
        "def f(" + "a: a[" * 50_000,
    ]
    for text in lines:
        started = time.perf_counter()
        project.block(str(root / "app.py"), text, len(text), 1024, recent=False)
        assert time.perf_counter() - started < 5, text[:40]
    chained = lines[0]
    block = project.block(str(root / "app.py"), chained, len(chained), 1024, recent=False)
    # as ast.unparse writes it; then n.py's lines, like the line's (`similar.py`)
    assert block.project.files == (("m.py", "class A:\n    a: 'A | B'"), ("n.py", "from m import A"))


def test_a_sibling_s_lines_like_the_cursor_s_come_last_and_count_as_a_chunk(tmp_path):
    root = workspace(tmp_path)
    admin = "from shop.models import find_user\n\n\ndef welcome(email):\n    user = find_user(email)\n"
    admin += "    util.shout(user.name)\n    user.rename(user.name.title())\n"
    (root / "shop" / "admin.py").write_text(admin)
    project = ProjectContext([str(root)])
    block = project.block(str(root / "shop" / "app.py"), APP, len(APP), 2000, recent=False)
    assert block.project.files[-1] == ("shop/admin.py", admin.strip("\n"))
    assert (block.definitions, block.chunks) == (2, 1)
    assert (
        ProjectContext([str(root)], similar=False)
        .block(str(root / "shop" / "app.py"), APP, len(APP), 2000, recent=False)
        .project.files
        == block.project.files[:-1]
    )


def test_the_window_keeps_its_last_lines_within_600_characters_and_none_on_an_import_line(tmp_path):
    root = tmp_path / "repo"
    (root / "pay").mkdir(parents=True)
    lines = [
        f"    amount_{i} = invoice.line_{i}.price * invoice.rate + invoice.fee_{i}  # " + "x" * 30 for i in range(12)
    ]
    (root / "pay" / "tax.py").write_text("\n".join(lines))
    before = "\n".join(lines[:7]) + "\n    "
    block = ProjectContext([str(root)]).block(str(root / "pay" / "vat.py"), before, len(before), 2000, recent=False)
    assert len(lines[0]) == 100 and block.project.files == (("pay/tax.py", "\n".join(lines[7:12])),)  # 504 characters
    assert block.chunks == 1
    before = "\n".join(lines[:7]) + "\nfrom pay.tax import "
    assert ProjectContext([str(root)]).block(str(root / "pay" / "vat.py"), before, len(before), 2000) == NO_BLOCK


def test_a_sibling_s_huge_line_is_read_in_time_and_not_shown(tmp_path):
    root = tmp_path / "repo"
    (root / "gen").mkdir(parents=True)
    names = " ".join(f"name_{i}" for i in range(23_000))  # about 240 KB on one line: read (under 256 KB)
    (root / "gen" / "table.py").write_text(f"TABLE = '{names}'\n")
    before = "TABLE = 'name_0 name_1 name_2 name_3"
    started = time.perf_counter()
    block = ProjectContext([str(root)]).block(str(root / "gen" / "use.py"), before, len(before), 2000, recent=False)
    assert time.perf_counter() - started < 5 and block == NO_BLOCK
    (root / "gen" / "table.py").write_text("TABLE = '" + "name_0 name_1 name_2 name_3 " * 25 + "'\n")  # all alike
    block = ProjectContext([str(root)]).block(str(root / "gen" / "use.py"), before, len(before), 2000, recent=False)
    assert block == NO_BLOCK  # its one line is longer than the window's 600 characters
