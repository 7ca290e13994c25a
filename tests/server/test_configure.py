"""A session's settings as its service's models: an engine serves the statement, never the list;
the list's own model stays on the CPU."""

from nib.model.completion.request import Kind
from nib.model.service.hosts import ModelKey
from nib.server.configure import list_key, local_key, statement_key
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
