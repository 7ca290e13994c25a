"""Bootstrap intervals on `nib eval`'s line figures, and paired differences between models measured
on the same cuts."""

import numpy as np
import pytest

from nib.model.eval import quality
from nib.model.eval.measures import bootstrap_ci

SOURCES = {
    "a.py": "import os\n\n\ndef join(a, b):\n    return os.path.join(a, b)\n\n\nprint(join('x', 'y'))\n",
    "b.py": "class Box:\n    def __init__(self, size):\n        self.size = size\n\n    def area(self):\n"
    "        return self.size * self.size\n",
}


def test_all_ones_and_all_zeros_have_no_spread():
    assert bootstrap_ci([1] * 20) == [1.0, 1.0]
    assert bootstrap_ci([0.0] * 7) == [0.0, 0.0]
    assert bootstrap_ci([87.5] * 3, digits=2) == [87.5, 87.5]


def test_no_cuts_have_no_interval():
    assert bootstrap_ci([]) is None


def test_the_difference_of_identical_models_is_exactly_zero():
    em = np.array([1, 0, 1, 1, 0, 0, 1], dtype=float)
    assert bootstrap_ci(em - em) == [0.0, 0.0]


def test_a_balanced_sample_gives_a_symmetric_interval():
    assert bootstrap_ci([0, 1] * 50) == [0.4, 0.6]


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_the_interval_holds_the_mean_and_is_the_same_for_a_seed(seed):
    values = np.random.default_rng(seed).random(50) * 100
    lo, hi = bootstrap_ci(values, 2, seed=seed)
    assert lo <= round(float(values.mean()), 2) <= hi and lo < hi
    assert bootstrap_ci(values, 2, seed=seed) == [lo, hi]


def test_a_paired_interval_is_narrower_than_either_models_own():
    """What the cuts share cancels: two models that agree on most cuts differ by a tight interval."""
    a = np.random.default_rng(0).integers(0, 2, 200).astype(float)
    b = a.copy()
    b[:6] = 1.0 - b[:6]
    lo, hi = bootstrap_ci(b - a)
    own = bootstrap_ci(a)
    assert lo <= float(np.mean(b - a)) <= hi and hi - lo < own[1] - own[0]


def test_paired_reads_the_per_cut_strings():
    first = {"name": "a", "line_exact_per_cut": "1100", "line_edit_similarity_per_cut": "100 100 50 0"}
    later = {"name": "b", "line_exact_per_cut": "1111", "line_edit_similarity_per_cut": "100 100 100 100"}
    [p] = quality.paired([first, later])
    assert (p["name"], p["against"], p["measure"], p["points"]) == ("b", "a", "line", 4)
    assert (p["exact_match_diff"], p["edit_similarity_diff"]) == (0.5, 37.5)
    assert p["exact_match_diff_ci95"] == bootstrap_ci([0, 0, 1, 1])
    assert p["edit_similarity_diff_ci95"] == bootstrap_ci([0, 0, 50, 100], 2)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The bundled model twice on one tiny folder: the same cuts for both."""
    folder = tmp_path_factory.mktemp("src")
    for name, text in SOURCES.items():
        (folder / name).write_text(text)
    return quality.run(folder, [None, None], None, points=8, seed=0, threads=1, healing=False)


def test_each_line_figure_carries_its_interval_and_per_cut_values(report):
    for r in report["results"]:
        for key in quality.LINE_KEYS:
            n = r[f"{key}_points"]
            lo, hi = r[f"{key}_exact_match_ci95"]
            assert lo <= r[f"{key}_exact_match"] <= hi
            lo, hi = r[f"{key}_edit_similarity_ci95"]
            assert lo <= r[f"{key}_edit_similarity"] <= hi
            assert len(r[f"{key}_exact_per_cut"]) == len(r[f"{key}_edit_similarity_per_cut"].split()) == n
            assert r[f"{key}_exact_per_cut"].count("1") / n == pytest.approx(r[f"{key}_exact_match"], abs=1e-4)


def test_the_same_model_twice_differs_by_exactly_nothing(report):
    assert [(p["measure"], p["against"], p["name"]) for p in report["paired"]] == [
        ("line", "bundled", "bundled"),
        ("name_line", "bundled", "bundled"),
    ]
    for p in report["paired"]:
        assert (p["exact_match_diff"], p["edit_similarity_diff"]) == (0.0, 0.0)
        assert p["exact_match_diff_ci95"] == p["edit_similarity_diff_ci95"] == [0.0, 0.0]


def test_the_table_prints_intervals_and_differences(report):
    text = quality.table(report)
    r = report["results"][0]
    lo, hi = r["name_line_exact_match_ci95"]
    assert f"exact {r['name_line_exact_match']} [{lo}, {hi}]" in text
    assert "bundled minus bundled, name line: exact +0.0 [0.0, 0.0], similarity +0.0 [0.0, 0.0]" in text


def test_one_model_has_no_paired_list(tmp_path):
    (tmp_path / "a.py").write_text(SOURCES["a.py"])
    report = quality.run(tmp_path, [None], None, points=3, seed=0, threads=1, healing=False, name_lines_only=True)
    assert "paired" not in report and report["results"][0]["name_line_exact_match_ci95"] is not None
