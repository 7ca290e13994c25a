"""The default model: the best imported one (by the fresh split) whose statement fits the budget
on this machine (its calibration), else the bundled one."""

import json

from nib.model.runtime import artifacts
from nib.model.runtime.choice import (
    CHOICE_FILE,
    Choice,
    calibrated_p50,
    calibrated_threads,
    calibration_file,
    choose,
    order,
)


def calibrate(home, name, p50):
    path = calibration_file(home, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"model": name, "statement_ms_p50": p50}))


def ranked(tmp_path, *names):
    path = tmp_path / "choice.json"
    path.write_text(json.dumps({"order": list(names)}))
    return path


def test_the_shipped_order_comes_from_the_dev_split():
    shipped = json.loads(CHOICE_FILE.read_text())
    assert (shipped["split"], order()) == ("dev", ["qwen2.5-coder-0.5b", "gemma3-270m"])
    assert shipped["command"].startswith("nib eval dev ")


def test_the_best_model_that_fits_serves_and_says_why(tmp_path):
    choice = ranked(tmp_path, "coder", "general")
    calibrate(tmp_path, "coder", 412.0)
    calibrate(tmp_path, "general", 96.4)
    assert choose(tmp_path, lambda name: True, choice_file=choice) == Choice(
        "general",
        "the best imported model on the dev split whose statement p50 here (96 ms) fits 250 ms; "
        "coder's statement p50 here is 412 ms, over the 250 ms budget",
    )
    calibrate(tmp_path, "coder", 180.0)  # a faster machine
    assert choose(tmp_path, lambda name: True, choice_file=choice).name == "coder"


def test_a_model_not_imported_or_not_calibrated_is_passed_over(tmp_path):
    choice = ranked(tmp_path, "coder", "general")
    calibrate(tmp_path, "coder", 100.0)
    assert choose(tmp_path, lambda name: name == "general", choice_file=choice) == Choice(
        "bundled", "general is not calibrated here (`nib model calibrate general`)"
    )


def test_nothing_imported_means_the_bundled_model(tmp_path):
    assert choose(tmp_path, lambda name: False, choice_file=ranked(tmp_path, "coder")) == Choice(
        "bundled", "no imported model: the bundled one"
    )


def test_nib_model_overrides_the_choice(monkeypatch, tmp_path):
    monkeypatch.setenv("NIB_HOME", str(tmp_path))
    monkeypatch.setenv("NIB_MODEL", "my-model")
    assert artifacts.default_model() == "my-model"
    monkeypatch.delenv("NIB_MODEL")
    assert (artifacts.default_model(), artifacts.default_choice().why) == (
        "bundled",
        "no imported model: the bundled one",
    )


def test_gemma_uncalibrated_still_serves_as_before(tmp_path):
    """Imported by an older nib and never calibrated: it stays the default where nothing calibrated fits."""
    choice = ranked(tmp_path, "qwen2.5-coder-0.5b", "gemma3-270m")
    calibrate(tmp_path, "qwen2.5-coder-0.5b", 900.0)
    assert choose(tmp_path, lambda name: True, choice_file=choice) == Choice(
        "gemma3-270m",
        "gemma3-270m serves uncalibrated, as before calibration existed; qwen2.5-coder-0.5b's statement p50 "
        "here is 900 ms, over the 250 ms budget; gemma3-270m is not calibrated here "
        "(`nib model calibrate gemma3-270m`)",
    )


def test_files_nib_did_not_write_are_not_believed(tmp_path):
    for bad in (float("nan"), -5, True, "fast", None):
        path = calibration_file(tmp_path, "m")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"statement_ms_p50": bad}))
        assert calibrated_p50(tmp_path, "m") is None
    (tmp_path / "calibration" / "m.json").write_text("not json")
    assert calibrated_p50(tmp_path, "m") is None
    weird = tmp_path / "weird.json"
    weird.write_text(json.dumps({"order": ["ok", 3, None, "../etc", ""]}))
    assert order(weird) == ["ok"]
    weird.write_text(json.dumps({"order": "ok"}))
    assert order(weird) == []


def test_a_calibration_on_other_threads_than_model_threads_does_not_count(tmp_path):
    choice = ranked(tmp_path, "coder")
    path = calibration_file(tmp_path, "coder")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"model": "coder", "statement_ms_p50": 100.0, "threads": 3}))
    assert calibrated_threads(tmp_path, "coder") == 3
    assert choose(tmp_path, lambda name: True, threads=1, choice_file=choice) == Choice(
        "bundled",
        "coder was calibrated on 3 threads, not the 1 of `model.threads` (`nib model calibrate coder --threads 1`)",
    )
    assert choose(tmp_path, lambda name: True, threads=3, choice_file=choice).name == "coder"
