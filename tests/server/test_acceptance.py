"""Acceptance: an item's command counts it accepted; what it added is followed through edits and
counted a minute later as the characters still there."""

import pytest

from nib.server import acceptance
from nib.server.acceptance import Acceptance, Offer, stats_name
from nib.server.stats import Row, Stats, report

DAY = "2026-11-30"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def setup(tmp_path):
    stats, clock = Stats(tmp_path / "stats.sqlite3", today=lambda: DAY), Clock()
    return stats, clock, Acceptance(stats, clock)


def rows(stats):
    stats.flush()
    return report(stats.path)


def one(text: str, start: int, cursor: int, kind="statement", model="qwen") -> Offer:
    return Offer("u", kind, model, ((text, start),), cursor)


def test_an_accept_counts_what_the_item_added_and_a_minute_later_what_is_left(tmp_path):
    stats, clock, acc = setup(tmp_path)
    text = "x = foo.ap"
    n = acc.offer(one("append(1)", 8, 10))  # replaces the typed "ap"
    text = text[:8] + "append(1)"
    assert acc.accepted(n, 0) is not None and acc.accepted(n, 0) is None  # once only
    acc.edited("u", 0, 0, "abcd")  # text above: the placed text moves
    text = "abcd" + text
    acc.edited("u", 19, 20, "2")  # "1" -> "2" inside what was accepted
    text = text[:19] + "2" + text[20:]
    clock.now = acceptance.RETAINED_AFTER_S - 1
    acc.count_due(lambda uri: text)
    assert rows(stats) == [Row(DAY, "qwen", "statement", 0, 1, 7, 0, 4, 7 / 4)]  # not yet
    clock.now = acceptance.RETAINED_AFTER_S
    acc.count_due(lambda uri: text)
    assert rows(stats) == [Row(DAY, "qwen", "statement", 0, 1, 7, 6, 4, 7 / 4)]


def test_a_word_of_it_a_closed_document_and_an_edit_after_it(tmp_path):
    stats, _, acc = setup(tmp_path)
    n = acc.offer(one("items.append(x)", 0, 0))
    acc.accepted(n, 0, chars=len("items."))
    acc.edited("u", 6, 6, "app")  # typed after it: it stays whole
    acc.count_due(lambda uri: "items.app", everything_of="u")  # closed: counted at once
    assert rows(stats) == [Row(DAY, "qwen", "statement", 0, 1, 6, 6, 3, 2.0)]


def test_an_item_of_a_big_list_and_unknown_or_old_offers(tmp_path):
    stats, _, acc = setup(tmp_path)
    big = Offer("u", "list", "bundled", tuple((f"name{i}", 0) for i in range(500)), 0)
    n = acc.offer(big)
    assert acc.accepted(n, 500) is None and acc.accepted(n + 1, 0) is None
    assert acc.accepted(n, 499) is big  # the last of 500 items: one offer holds them all
    first = acc.offer(one("path", 0, 0, "list", "bundled"))
    for _ in range(acceptance.OFFERS):
        acc.offer(one("path", 0, 0, "list", "bundled"))
    assert acc.accepted(first, 0) is None
    assert rows(stats) == [Row(DAY, "bundled", "list", 0, 1, 7, 0, 0, 0.0)]


@pytest.mark.parametrize(
    "edit, text_after, kept",
    [
        ((0, 10, ""), "", 0),  # the line deleted
        ((5, 8, ""), "012hs9", 2),  # over its end: "hs" left
        ((2, 4, "XY"), "01XYsep89", 3),  # over its start: "sep" left
        ((5, 5, "__"), "012hs__ep89", 4),  # written inside: nothing lost
    ],
)
def test_edits_over_what_was_accepted(tmp_path, edit, text_after, kept):
    stats, _, acc = setup(tmp_path)
    # the document "012hsep89": "pat" typed at 0, the item "pathsep" added "hsep", now at [3, 7)
    acc.accepted(acc.offer(one("pathsep", 0, 3, "list", "bundled")), 0)
    acc.edited("u", *edit)
    acc.count_due(lambda uri: text_after, everything_of="u")
    assert [(r.accepted_chars, r.retained_chars) for r in rows(stats)] == [(4, kept)]


def test_a_command_before_its_edit_finds_the_text_when_the_edit_comes(tmp_path):
    stats, _, acc = setup(tmp_path)
    n = acc.offer(one("items.append(x)", 4, 4))
    acc.accepted(n, 0, text_of=lambda uri: "def ")  # VS Code: the command, then the edit
    acc.edited("u", 4, 4, "items.append(x)")
    text = "def items.append(x)"
    acc.edited("u", 0, 0, "# \n")  # then it moves as any text does
    acc.count_due(lambda uri: "# \n" + text, everything_of="u")
    assert rows(stats) == [Row(DAY, "qwen", "statement", 0, 1, 15, 15, 18, 15 / 18)]


def test_a_text_never_found_counts_nothing_kept_and_clear_forgets(tmp_path):
    stats, _, acc = setup(tmp_path)
    acc.accepted(acc.offer(one("items", 0, 0)), 0, text_of=lambda uri: "")  # its edit never comes
    acc.count_due(lambda uri: "items", everything=True)
    n = acc.offer(one("other", 0, 0))
    acc.clear()
    assert acc.accepted(n, 0) is None
    assert rows(stats) == [Row(DAY, "qwen", "statement", 0, 1, 5, 0, 0, 0.0)]


def test_stats_name_keeps_no_place():
    class Key:
        def __init__(self, path, remote=False, name=""):
            self.path, self.remote, self.name = path, remote, name

    assert stats_name(Key("bundled")) == "bundled"
    assert stats_name(Key("/home/me/models/my-model/")) == "my-model"
    assert stats_name(Key("http://10.0.0.5:8080/v1", True, "qwen2.5-coder-7b")) == "engine qwen2.5-coder-7b"
    assert stats_name(Key("http://10.0.0.5:8080/v1", True)) == "engine"
