"""The similar window: a sibling file's lines most like those before the cursor, with the lines after
them; never the file itself, a file outside the workspace or an excluded one; read again when it changes."""

import os

from nib.model.service.exclude import Exclude
from nib.model.service.similar import Similar, Window
from nib.model.service.workspace import Workspace

ORDERS = """from shop.models import Order


def refund(order: Order, reason: str) -> None:
    order.status = "refunded"
    order.save(update_fields=["status"], reason=reason)


def ship(order: Order) -> None:
    order.status = "shipped"
    order.save(update_fields=["status"])
"""
BEFORE = """from shop.models import Order


def cancel(order: Order) -> None:
    order.status = "cancelled"
    """


def folder(tmp_path):
    root = tmp_path / "repo"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "orders.py").write_text(ORDERS)
    (root / "shop" / "cart.py").write_text("def total(items):\n    return sum(i.price for i in items)\n")
    (root / "shop" / "cancel.py").write_text(BEFORE + "order.save(update_fields=['status'])\n")  # on disk: saved
    return root


def test_the_window_most_like_the_lines_before_the_cursor_with_the_lines_after_it(tmp_path):
    root = folder(tmp_path)
    found = Similar(Workspace([str(root)])).best(root / "shop" / "cancel.py", BEFORE)
    lines = ORDERS.split("\n")
    # 9 names shared (from shop models import Order def order None status) of 17 in either
    assert found == Window(root / "shop" / "orders.py", "\n".join(lines[:12]).strip("\n"), 9 / 17)
    assert 'order.save(update_fields=["status"], reason=reason)' in found.text


def test_never_the_file_itself_outside_the_workspace_or_excluded(tmp_path):
    root = folder(tmp_path)
    cancel = root / "shop" / "cancel.py"
    assert Similar(Workspace([str(root / "elsewhere")])).best(cancel, BEFORE) is None
    os.remove(root / "shop" / "orders.py")
    assert Similar(Workspace([str(root)])).best(cancel, BEFORE) is None  # cart.py: too little alike
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text(ORDERS)
    (root / "shop" / "linked.py").symlink_to(outside / "secret.py")  # a hostile repository's link
    assert Similar(Workspace([str(root)])).best(cancel, BEFORE) is None
    os.remove(root / "shop" / "linked.py")
    (root / "shop" / "orders.py").write_text(ORDERS)
    excluded = Workspace([str(root)], Exclude(("orders.py",)))
    assert Similar(excluded).best(cancel, BEFORE) is None


def test_a_file_changed_on_disk_is_read_again(tmp_path):
    root = folder(tmp_path)
    similar = Similar(Workspace([str(root)]))
    cancel = root / "shop" / "cancel.py"
    assert similar.best(cancel, BEFORE).path == root / "shop" / "orders.py"
    (root / "shop" / "orders.py").write_text("x = 1\n")
    assert similar.best(cancel, BEFORE) is None
