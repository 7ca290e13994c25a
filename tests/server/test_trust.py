"""The engine settings the server refuses before any code is sent, and the warnings it gives."""

from nib.model.completion.request import Kind
from nib.model.service.hosts import ModelKey
from nib.server.configure import local_key, statement_key
from nib.server.parsing import parse
from nib.server.trust import engine_problems, engine_refused

PLAIN = (
    "nib: engine.apiKeyEnv is set but engine.url is plain http to gpu.example, which is not this machine: the "
    "key would cross the network in the clear. Use https; statements come from the local model"
)


def engine(**values):
    settings, warnings = parse({"engine": {"api": "openai", **values}})
    assert warnings == []
    return settings


def test_a_key_over_plain_http_to_another_host_is_refused_and_the_statement_stays_local():
    settings = engine(url="http://gpu.example:8080/v1", apiKeyEnv="PATH")
    assert engine_refused(settings.engine) == PLAIN
    assert engine_problems(settings.engine) == [PLAIN]
    assert statement_key(settings) == local_key(settings)


def test_a_key_goes_over_https_or_to_this_machine():
    for url in (
        "https://gpu.example/v1",
        "http://127.0.0.1:8080/v1",
        "http://localhost:8080/v1",
        "http://[::1]:8080/v1",
    ):
        settings = engine(url=url, apiKeyEnv="PATH")
        assert engine_refused(settings.engine) is None, url
        assert statement_key(settings) == ModelKey(url, "", 0, "", "PATH", Kind.HTTP)


def test_plain_http_without_a_key_is_the_users_choice():
    assert engine_refused(engine(url="http://gpu.example:8080/v1").engine) is None


def test_a_url_that_is_not_http_is_refused():
    settings = engine(url="file:///etc/passwd")
    assert engine_problems(settings.engine) == [
        "nib: engine.url must be an http:// or https:// URL, got 'file:///etc/passwd': statements come from the "
        "local model"
    ]
    assert statement_key(settings) == local_key(settings)
