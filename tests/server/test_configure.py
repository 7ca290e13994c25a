"""A session's settings as its service's models: an engine serves the statement, never the list;
the list's own model stays on the CPU."""

from nib.model.completion.request import Kind
from nib.model.service.hosts import ModelKey
from nib.server.configure import config, list_key, local_key, statement_key
from nib.server.limits import STDIO
from nib.server.parsing import parse


def test_an_engine_serves_the_statement_and_never_the_list():
    settings, warnings = parse(
        {
            "engine": {"api": "openai", "url": "https://gpu:8080/v1", "model": "m", "apiKeyEnv": "NIB_KEY"},
            "list": {"model": ""},
        }
    )
    assert warnings == []
    statement, listing = statement_key(settings), list_key(settings)
    assert statement == ModelKey("https://gpu:8080/v1", "", 0, "m", "NIB_KEY", Kind.HTTP) and statement.remote
    assert listing == local_key(settings) and not listing.remote
    assert statement.describe() == "the engine at https://gpu:8080/v1 (m)"
    settings.engine.url = ""  # openai without a URL: the local model, as if local
    assert statement_key(settings) == local_key(settings)


def test_the_lists_own_model_stays_on_the_cpu_when_the_statements_runs_on_cuda():
    """The bundled model has no torch checkpoint: on cuda the whole list (jedi's names too) vanished."""
    settings, _ = parse({"model": {"path": "gemma3-270m", "device": "cuda"}, "list": {"model": "bundled"}})
    assert list_key(settings) == ModelKey("bundled", "cpu", 0)
    assert statement_key(settings) == ModelKey("gemma3-270m", "cuda", 0)
    settings.listing.model = ""  # the list on the statement's own model goes where that one goes
    assert list_key(settings) == ModelKey("gemma3-270m", "cuda", 0)


def test_the_statements_own_model_on_the_cpu_yields_the_cores_to_the_lists():
    """Its inference threads run at a lower priority (`runtime/priority.py`); one model for both,
    a model on cuda and an engine over HTTP run as they are. `yields` is not part of a model's
    identity (a daemon's sessions share one host of it): each key's is read on its own."""
    own = config(parse({"model": {"path": "gemma3-270m"}, "list": {"model": "bundled"}})[0], STDIO)
    assert (own.statement, own.listing) == (ModelKey("gemma3-270m", "cpu", 0), ModelKey("bundled", "cpu", 0))
    assert (own.statement.yields, own.listing.yields) == (True, False)
    both = config(parse({"model": {"path": "gemma3-270m"}, "list": {"model": ""}})[0], STDIO)
    assert both.statement == both.listing == ModelKey("gemma3-270m", "cpu", 0)
    assert (both.statement.yields, both.listing.yields) == (False, False)
    assert both.statement == own.statement  # one host for both sessions of a daemon
    cuda = config(parse({"model": {"path": "gemma3-270m", "device": "cuda"}, "list": {"model": "bundled"}})[0], STDIO)
    assert cuda.statement == ModelKey("gemma3-270m", "cuda", 0) and not cuda.statement.yields
    engine = {"api": "openai", "url": "https://gpu:8080/v1", "model": "m", "apiKeyEnv": "NIB_KEY"}
    remote = config(parse({"engine": engine, "list": {"model": "bundled"}})[0], STDIO)
    assert remote.statement == ModelKey("https://gpu:8080/v1", "", 0, "m", "NIB_KEY", Kind.HTTP)
    assert not remote.statement.yields


def test_the_default_model_is_the_best_whose_calibrated_statement_fits_the_users_budget(monkeypatch, tmp_path):
    """Qwen imported and calibrated here at 300 ms: over the default 250 ms budget, within 500."""
    monkeypatch.delenv("NIB_MODEL", raising=False)
    monkeypatch.setenv("NIB_HOME", str(tmp_path))
    (tmp_path / "models" / "qwen2.5-coder-0.5b").mkdir(parents=True)
    (tmp_path / "models" / "qwen2.5-coder-0.5b" / "manifest.json").write_text("{}")
    (tmp_path / "calibration").mkdir()
    (tmp_path / "calibration" / "qwen2.5-coder-0.5b.json").write_text('{"statement_ms_p50": 300.0}')
    assert local_key(parse({})[0]).path == "bundled"
    assert local_key(parse({"statement": {"budgetMs": 500}})[0]).path == "qwen2.5-coder-0.5b"
