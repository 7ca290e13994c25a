"""Acceptance statistics: counts added up in the user's SQLite file, read back, printed and plotted."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from nib.server import stats
from nib.server.cli import main
from nib.server.stats import Row, Stats, forget, plot, report, stats_path, table

QWEN, BUNDLED = "qwen2.5-coder-0.5b", "bundled"
TABLE = """\
day         model               kind       shown  accepted  accepted chars  retained chars  typed chars  share
2025-03-01  bundled             list           1         1               6               0          120   5.0%
2025-03-01  qwen2.5-coder-0.5b  statement      2         1              30              24          120  25.0%
2025-03-02  bundled             list           1         0               0               0           40   0.0%"""
ROWS = [
    Row("2025-03-01", BUNDLED, "list", 1, 1, 6, 0, 120, 0.05),
    Row("2025-03-01", QWEN, "statement", 2, 1, 30, 24, 120, 0.25),
    Row("2025-03-02", BUNDLED, "list", 1, 0, 0, 0, 40, 0.0),
]


class Clock:
    """A local date the test moves on."""

    def __init__(self, day: str):
        self.day = day

    def __call__(self) -> str:
        return self.day


def two_days(path: Path) -> None:
    """The counts behind ROWS and TABLE."""
    clock = Clock("2025-03-01")
    s = Stats(path, today=clock)
    s.shown(QWEN, "statement")
    s.shown(QWEN, "statement")
    s.accepted(QWEN, "statement", 30)
    s.retained(QWEN, "statement", 24)
    s.shown(BUNDLED, "list")
    s.accepted(BUNDLED, "list", 6)
    s.typed(120)
    s.flush()
    clock.day = "2025-03-02"
    s.shown(BUNDLED, "list")
    s.typed(40)
    s.flush()


def logged_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "nib" and r.levelno == logging.WARNING]


def test_the_file_is_in_the_users_data_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert stats_path() == tmp_path / "data" / "nib" / "stats.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert stats_path() == tmp_path / "home" / ".local" / "share" / "nib" / "stats.sqlite3"


def test_counts_are_read_back_whole(tmp_path):
    two_days(tmp_path / "stats.sqlite3")
    assert report(tmp_path / "stats.sqlite3") == ROWS


def test_the_file_is_private_versioned_and_in_wal_mode(tmp_path):
    path = tmp_path / "new" / "stats.sqlite3"
    two_days(path)
    assert (path.parent.stat().st_mode & 0o777, path.stat().st_mode & 0o777) == (0o700, 0o600)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (1,)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("SELECT * FROM counts WHERE kind = 'typed' ORDER BY day").fetchall() == [
        ("2025-03-01", "", "typed", 0, 0, 0, 0, 120),
        ("2025-03-02", "", "typed", 0, 0, 0, 0, 40),
    ]
    db.close()


def test_two_stats_on_one_file_add_up(tmp_path):
    path = tmp_path / "stats.sqlite3"
    day = Clock("2025-03-01")
    one, two = Stats(path, today=day), Stats(path, today=day)
    for s, chars in ((one, 10), (two, 7)):
        s.shown(QWEN, "statement")
        s.accepted(QWEN, "statement", chars)
        s.retained(QWEN, "statement", chars - 1)
        s.typed(50)
    one.flush()
    two.flush()
    one.shown(QWEN, "statement")
    one.flush()
    assert report(path) == [Row("2025-03-01", QWEN, "statement", 3, 2, 17, 15, 100, 0.17)]


def test_processes_flushing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "stats.sqlite3"
    script = (
        "import sys; from pathlib import Path; from nib.server.stats import Stats\n"
        "s = Stats(Path(sys.argv[1]), today=lambda: '2025-03-01')\n"
        "for _ in range(100):\n"
        "    s.shown('m', 'list'); s.accepted('m', 'list', 2); s.typed(4); s.flush()\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", script, str(path)]) for _ in range(4)]
    assert [w.wait(timeout=60) for w in workers] == [0, 0, 0, 0]
    assert report(path) == [Row("2025-03-01", "m", "list", 400, 400, 800, 0, 1600, 0.5)]


def test_a_flush_of_nothing_writes_nothing(tmp_path):
    path = tmp_path / "nib" / "stats.sqlite3"
    Stats(path).flush()
    assert not path.parent.exists()
    assert report(path) == []


def test_the_share_is_of_each_days_typed_characters(tmp_path):
    path = tmp_path / "stats.sqlite3"
    clock = Clock("2025-03-01")
    s = Stats(path, today=clock)
    s.accepted(QWEN, "statement", 10)
    s.typed(100)
    clock.day = "2025-03-02"
    s.accepted(QWEN, "statement", 10)
    s.accepted(BUNDLED, "list", 5)
    s.typed(50)
    s.flush()
    assert report(path) == [
        Row("2025-03-01", QWEN, "statement", 0, 1, 10, 0, 100, 0.1),
        Row("2025-03-02", BUNDLED, "list", 0, 1, 5, 0, 50, 0.1),
        Row("2025-03-02", QWEN, "statement", 0, 1, 10, 0, 50, 0.2),
    ]


def test_forget_deletes_the_file_and_its_journal(tmp_path):
    path = tmp_path / "stats.sqlite3"
    two_days(path)
    reader = sqlite3.connect(path)  # while a connection is open, the -wal and -shm are there
    reader.execute("SELECT * FROM counts").fetchall()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stats.sqlite3", "stats.sqlite3-shm", "stats.sqlite3-wal"]
    assert forget(path) is True
    assert list(tmp_path.iterdir()) == []
    reader.close()
    assert list(tmp_path.iterdir()) == []
    assert forget(path) is False


def corrupt(path: Path) -> None:
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"this is not a database" * 100)


def blocked(path: Path) -> None:
    path.parent.write_text("a file where the folder should be")


def newer(path: Path) -> None:
    path.parent.mkdir(exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 2")
    db.close()


@pytest.mark.parametrize("spoil", [corrupt, blocked, newer])
def test_a_file_that_cannot_be_written_is_logged_once_and_never_raises(tmp_path, caplog, spoil):
    path = tmp_path / "nib" / "stats.sqlite3"
    spoil(path)
    s = Stats(path)
    for _ in range(2):
        s.shown(QWEN, "statement")
        s.flush()
    [warning] = logged_warnings(caplog)
    assert warning.startswith(f"nib: statistics not saved to {path} (further failures not logged): ")


def test_counts_not_written_while_another_process_holds_the_file_are_written_later(tmp_path, caplog, monkeypatch):
    path = tmp_path / "stats.sqlite3"
    two_days(path)
    monkeypatch.setattr(stats, "TIMEOUT_S", 0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    s = Stats(path, today=lambda: "2025-03-02")
    s.shown(BUNDLED, "list")
    s.flush()
    assert len(logged_warnings(caplog)) == 1
    other.execute("COMMIT")
    other.close()
    s.flush()
    assert report(path)[-1] == Row("2025-03-02", BUNDLED, "list", 2, 0, 0, 0, 40, 0.0)


def test_a_corrupt_or_newer_file_is_reported_not_read(tmp_path):
    path = tmp_path / "stats.sqlite3"
    corrupt(path)
    with pytest.raises(stats.StatsError, match="file is not a database"):
        report(path)
    path.unlink()
    newer(path)
    with pytest.raises(stats.StatsError, match="has statistics version 2, from a newer nib; this one reads 1"):
        report(path)


def test_the_table():
    assert table(ROWS) == TABLE
    assert table([]) == "No statistics yet: nib records them while the setting stats.enable is on."


@pytest.fixture
def data(monkeypatch, tmp_path) -> Path:
    """XDG_DATA_HOME in tmp_path; the statistics file it holds."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    return tmp_path / "nib" / "stats.sqlite3"


def test_nib_stats_prints_the_table_and_the_file(data, capsys):
    assert main(["stats"]) == 0
    assert capsys.readouterr().out == f"{table([])}\n\nfile: {data}\n"
    two_days(data)
    assert main(["stats"]) == 0
    assert capsys.readouterr().out == f"{TABLE}\n\nfile: {data}\n"


def test_nib_stats_json(data, capsys):
    two_days(data)
    assert main(["stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "day": "2025-03-01",
            "model": BUNDLED,
            "kind": "list",
            "shown": 1,
            "accepted": 1,
            "accepted_chars": 6,
            "retained_chars": 0,
            "typed_chars": 120,
            "share": 0.05,
        },
        {
            "day": "2025-03-01",
            "model": QWEN,
            "kind": "statement",
            "shown": 2,
            "accepted": 1,
            "accepted_chars": 30,
            "retained_chars": 24,
            "typed_chars": 120,
            "share": 0.25,
        },
        {
            "day": "2025-03-02",
            "model": BUNDLED,
            "kind": "list",
            "shown": 1,
            "accepted": 0,
            "accepted_chars": 0,
            "retained_chars": 0,
            "typed_chars": 40,
            "share": 0.0,
        },
    ]


def test_nib_stats_plot_writes_a_png(data, tmp_path, capsys):
    two_days(data)
    png = tmp_path / "stats.png"
    assert main(["stats", "--plot", str(png)]) == 0
    assert capsys.readouterr().out == f"{TABLE}\n\nfile: {data}\nplot: {png}\n"
    written = png.read_bytes()
    assert written[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(written) > 10_000  # bars, a line, labels: not an empty canvas


def test_without_matplotlib_the_plot_names_the_extra(data, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # what a missing package raises: ImportError
    with pytest.raises(stats.StatsError, match=r"plotting needs matplotlib: pip install 'nib\[plot\]'"):
        plot(ROWS, tmp_path / "stats.png")
    assert main(["stats", "--plot", str(tmp_path / "stats.png")]) == 2
    assert capsys.readouterr().err.startswith("nib: plotting needs matplotlib: pip install 'nib[plot]' (")
    assert not (tmp_path / "stats.png").exists()


def test_nib_stats_forget(data, capsys):
    two_days(data)
    assert main(["stats", "--forget"]) == 0
    assert main(["stats", "--forget"]) == 0
    assert capsys.readouterr().out == f"deleted {data}\nnothing to delete: there is no {data}\n"
    assert not data.exists()


def test_nib_stats_on_a_corrupt_file_says_so(data, capsys):
    corrupt(data)
    assert main(["stats"]) == 2
    assert capsys.readouterr().err == f"nib: {data}: file is not a database\n"
