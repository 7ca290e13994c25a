"""Acceptance: an item's command counts it accepted; what it added is followed through edits and
counted a minute later as the characters still there."""

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


def test_an_accept_counts_what_the_item_added_and_a_minute_later_what_is_left(tmp_path):
    stats, clock, acc = setup(tmp_path)
    text = "x = foo.ap"
    n = acc.offer(Offer("u", "statement", "qwen", "append(1)", 8, 2))  # replaces the typed "ap"
    text = text[:8] + "append(1)"
    assert acc.accepted(n) is not None and acc.accepted(n) is None  # once only
    acc.edited("u", 0, 0, "abcd")  # "y = 1\n"-like text above: the placed text moves
    text = "abcd" + text
    acc.edited("u", 19, 20, "2")  # "1" -> "2" inside what was accepted
    text = text[:19] + "2" + text[20:]
    clock.now = acceptance.RETAINED_AFTER_S - 1
    acc.count_due(lambda uri: text)
    assert acc.due() == acceptance.RETAINED_AFTER_S  # not yet
    clock.now = acceptance.RETAINED_AFTER_S
    acc.count_due(lambda uri: text)
    assert acc.due() is None
    assert rows(stats) == [Row(DAY, "qwen", "statement", 0, 1, 7, 6, 4, 7 / 4)]


def test_a_word_of_it_a_closed_document_and_an_edit_after_it(tmp_path):
    stats, _, acc = setup(tmp_path)
    n = acc.offer(Offer("u", "statement", "qwen", "items.append(x)", 0, 0))
    acc.accepted(n, chars=len("items."))
    acc.edited("u", 6, 6, "app")  # typed after it: it stays whole
    acc.count_due(lambda uri: "items.app", everything_of="u")  # closed: counted at once
    assert rows(stats) == [Row(DAY, "qwen", "statement", 0, 1, 6, 6, 3, 2.0)]


def test_unknown_and_old_offers_count_nothing(tmp_path):
    stats, _, acc = setup(tmp_path)
    first = acc.offer(Offer("u", "list", "bundled", "path", 0, 0))
    for _ in range(acceptance.OFFERS):
        acc.offer(Offer("u", "list", "bundled", "path", 0, 0))
    assert acc.accepted(first) is None and acc.accepted(10**6) is None
    assert rows(stats) == []


def test_text_deleted_before_its_minute_counts_nothing_kept(tmp_path):
    stats, _, acc = setup(tmp_path)
    acc.accepted(acc.offer(Offer("u", "list", "bundled", "pathsep", 3, 3)))  # "pat" typed: "hsep" added
    acc.edited("u", 0, 10, "")  # the line deleted
    acc.count_due(lambda uri: "", everything_of="u")
    assert rows(stats) == [Row(DAY, "bundled", "list", 0, 1, 4, 0, 0, 0.0)]


def test_a_command_before_its_edit_finds_the_text_when_the_edit_comes(tmp_path):
    stats, _, acc = setup(tmp_path)
    n = acc.offer(Offer("u", "statement", "qwen", "items.append(x)", 4, 0))
    acc.accepted(n, text_of=lambda uri: "def ")  # VS Code: the command, then the edit
    acc.edited("u", 4, 4, "items.append(x)")
    text = "def items.append(x)"
    acc.edited("u", 0, 0, "# \n")  # then it moves as any text does
    acc.count_due(lambda uri: "# \n" + text, everything_of="u")
    assert rows(stats) == [Row(DAY, "qwen", "statement", 0, 1, 15, 15, 18, 15 / 18)]


def test_stats_name_keeps_no_place():
    class Key:
        def __init__(self, path, remote=False, name=""):
            self.path, self.remote, self.name = path, remote, name

    assert stats_name(Key("bundled")) == "bundled"
    assert stats_name(Key("/home/me/models/my-model/")) == "my-model"
    assert stats_name(Key("http://10.0.0.5:8080/v1", True, "qwen2.5-coder-7b")) == "engine qwen2.5-coder-7b"
    assert stats_name(Key("http://10.0.0.5:8080/v1", True)) == "engine"
