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
    (root / "shop" / "orders.py").write_text(ORDERS.replace("shipped", "delivered"))
    found = similar.best(cancel, BEFORE)
    assert found.text == "\n".join(ORDERS.replace("shipped", "delivered").split("\n")[:12]).strip("\n")
    (root / "shop" / "orders.py").write_text("x = 1\n")
    assert similar.best(cancel, BEFORE) is None


def test_the_window_found_in_the_middle_of_a_file_and_its_four_lines_after(tmp_path):
    root = tmp_path / "repo"
    (root / "pay").mkdir(parents=True)
    lines = [f"filler_{i} = {i}" for i in range(10)] + [""]
    lines += [f"    total_{i} = order.price_{i} * rate" for i in range(7)]  # lines 11-17
    lines += [f"    after_{i}(order)" for i in range(4)] + [f"tail_{i} = {i}" for i in range(8)]
    (root / "pay" / "tax.py").write_text("\n".join(lines))
    before = "\n".join(lines[11:18]) + "\n    "
    found = Similar(Workspace([str(root)])).best(root / "pay" / "vat.py", before)
    assert found == Window(root / "pay" / "tax.py", "\n".join(lines[11:22]), 1.0)


def test_a_link_to_the_file_itself_a_file_outside_the_workspace_or_a_path_too_long(tmp_path):
    root = folder(tmp_path)
    cancel = root / "shop" / "cancel.py"
    os.remove(root / "shop" / "orders.py")
    (root / "shop" / "alias.py").symlink_to(cancel)  # the file itself under another name
    assert Similar(Workspace([str(root)])).best(cancel, BEFORE) is None
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "orders.py").write_text(ORDERS)
    assert Similar(Workspace([str(root)])).best(elsewhere / "cancel.py", BEFORE) is None
    assert Similar(Workspace([str(root)])).best(root / ("a" * 300) / "x.py", BEFORE) is None


def test_a_query_reads_no_file_past_its_bytes_and_the_index_stays_within_its_size(tmp_path, monkeypatch):
    from nib.model.service import similar

    root = folder(tmp_path)
    cancel = root / "shop" / "cancel.py"
    finder = Similar(Workspace([str(root)]))
    # orders.py alone would fit; after cart.py (first by name) it does not: the bytes are counted together
    monkeypatch.setattr(similar, "READ_BYTES", len(ORDERS) + 10)
    assert finder.best(cancel, BEFORE) is None
    assert [p.name for p in finder._files] == ["cart.py"]
    monkeypatch.setattr(similar, "READ_BYTES", 1 << 20)
    monkeypatch.setattr(similar, "CACHE_BYTES", 1)  # one file's index at a time
    assert finder.best(cancel, BEFORE).path == root / "shop" / "orders.py"
    assert [p.name for p in finder._files] == ["orders.py"]
