"""The engine settings the server refuses before any code is sent, and the warnings it gives; the
environment jedi may run."""

from fixtures import package_environment

from nib.model.completion.request import Kind
from nib.model.service.hosts import ModelKey
from nib.server.configure import config, local_key, statement_key
from nib.server.limits import STDIO
from nib.server.parsing import parse
from nib.server.settings import machine_paths
from nib.server.trust import engine_problems, engine_refused, jedi_environment

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


def test_jedi_reads_only_an_environment_the_user_names_by_an_absolute_path(tmp_path):
    """jedi reads the packages of `jedi.environment`: the user's setting alone (VS Code ignores a
    workspace's value), and never a path relative to wherever nib starts; one with no site-packages
    is refused with a message too."""
    assert "jedi.environment" in machine_paths()
    assert jedi_environment("") == ("", None)
    assert jedi_environment(".venv") == (
        "",
        "nib: jedi.environment must be an absolute path, got '.venv': jedi reads nib's own packages",
    )
    missing = str(tmp_path / "nowhere")
    assert jedi_environment(missing) == (
        "",
        f"nib: jedi.environment {missing!r} does not exist: jedi reads nib's own packages",
    )
    assert jedi_environment(str(tmp_path)) == (
        "",
        f"nib: jedi.environment {str(tmp_path)!r} has no site-packages folder (a virtual environment's folder or "
        "its bin/python is expected): jedi reads nib's own packages",
    )
    environment = str(package_environment(tmp_path / "venv"))
    assert jedi_environment(environment) == (environment, None)
    settings, _ = parse({"jedi": {"environment": environment}})
    assert config(settings, STDIO).jedi_environment == environment
    settings, _ = parse({"jedi": {"environment": "venv"}})
    assert config(settings, STDIO).jedi_environment == ""
