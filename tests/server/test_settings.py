"""Settings: one nested typed object; bad values warn and keep the default; nib 0.1's flat names still work."""

import subprocess
import sys

from fixtures import ROOT

from nib.model.completion.request import Options
from nib.model.service.project import ProjectOptions
from nib.server.parsing import parse
from nib.server.settings import Settings, leaves, machine_paths


def test_nested_camel_case_settings():
    settings, warnings = parse(
        {"statement": {"maxTokens": 12, "lines": "multi"}, "model": {"healing": "off"}, "list": {"statement": False}}
    )
    assert warnings == []
    expected = Settings()
    expected.statement.max_tokens, expected.statement.lines = 12, "multi"
    expected.model.healing, expected.listing.statement = "off", False
    assert settings == expected


def test_bad_settings_warn_and_keep_defaults():
    settings, warnings = parse(
        {
            "statement": {"maxTokens": "x"},
            "model": {"healing": "exact2"},
            "foo": 1,
            "list": {"size": 0, "colour": "red"},
            "enable": "yes",
            "jedi": 3,
        }
    )
    assert settings == Settings()
    assert warnings == [
        "nib: setting statement.maxTokens must be an integer, got 'x'; using the default 32",
        "nib: setting model.healing must be one of off, prefix, exact, got 'exact2'; using the default 'exact'",
        "nib: unknown setting 'foo' ignored",
        "nib: setting list.size must be between 1 and 50, got 0; using the default 5",
        "nib: unknown setting 'list.colour' ignored",
        "nib: setting enable must be true or false, got 'yes'; using the default True",
        "nib: setting jedi must be an object, got 3; ignored",
    ]


def test_flat_names_of_nib_0_1_are_accepted_with_a_deprecation_warning():
    settings, warnings = parse({"maxTokens": 12, "static": False, "statementInList": False, "list": False})
    expected = Settings()
    expected.statement.max_tokens, expected.jedi.enable = 12, False
    expected.listing.statement, expected.listing.enable = False, False
    assert settings == expected
    assert warnings == [
        "nib: setting maxTokens is deprecated (until nib 0.3): use statement.maxTokens",
        "nib: setting static is deprecated (until nib 0.3): use jedi.enable",
        "nib: setting statementInList is deprecated (until nib 0.3): use list.statement",
        "nib: setting list is deprecated (until nib 0.3): use list.enable",
    ]


def test_block_body_becomes_statement_lines_with_a_deprecation_warning():
    assert parse({"statement": {"blockBody": True}})[1] == [
        "nib: setting statement.blockBody is deprecated (until nib 0.3): use statement.lines = 'multi'"
    ]
    assert parse({"statement": {"blockBody": True}})[0].statement.lines == "multi"
    assert parse({"blockBody": False}) == (
        Settings(),  # lines "auto": the default
        ["nib: setting statement.blockBody is deprecated (until nib 0.3): use statement.lines = 'auto'"],
    )
    assert parse({"statement": {"blockBody": "yes"}}) == (
        Settings(),
        ["nib: setting statement.blockBody must be true or false, got 'yes'; ignored"],
    )


def test_parse_over_a_base_does_not_change_the_base():
    base, _ = parse({"list": {"size": 3}})
    changed, _ = parse({"list": {"budgetMs": 100}}, base)
    assert (base.listing.size, base.listing.budget_ms) == (3, 300)
    assert (changed.listing.size, changed.listing.budget_ms) == (3, 100)


def test_settings_not_an_object():
    assert parse([1, 2]) == (Settings(), ["nib: settings must be an object, got list; using defaults"])


def test_every_setting_has_a_description_and_numbers_a_range():
    for path, f in leaves():
        assert f.metadata["doc"], path
        assert isinstance(f.default, bool) or not isinstance(f.default, int) or f.metadata["range"], path


def test_options_are_the_settings_of_the_same_name():
    s, _ = parse(
        {
            "list": {"size": 7, "budgetMs": 90, "statement": False, "contextTokens": 64},
            "model": {"contextTokens": 100},
            "statement": {"maxTokens": 9, "budgetMs": 80, "lines": "single"},
            "context": {"projectTokens": 100},
        }
    )
    assert s.options() == Options(
        context_tokens=100,
        healing="exact",
        list_size=7,
        list_budget_ms=90,
        list_statement=False,
        list_context_tokens=64,
        statement_max_tokens=9,
        statement_budget_ms=80,
        statement_lines="single",
        project_tokens=100,
    )


def test_project_context_off_asks_for_no_project_tokens():
    s, _ = parse({"context": {"project": False, "projectTokens": 100}})
    assert (s.options().project_tokens, s.project()) == (0, ProjectOptions(False, 100, True, 16))


def test_the_editors_mirrors_and_the_readme_table_are_current():
    """VS Code's contributes.configuration, Neovim's defaults and the README table are generated
    from Settings by `nib settings --write`: a change to a setting must regenerate them."""
    done = subprocess.run(
        [sys.executable, "-I", "-m", "nib.server.cli", "settings", "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (0, "")


def test_exclude_takes_globs_and_is_the_users_alone():
    assert parse({"exclude": ["*.pem", "gen/**"]})[0].exclude == ("*.pem", "gen/**")
    settings, warnings = parse({"exclude": ["*.pem", "[z-a].py"]})
    assert settings.exclude == Settings().exclude
    assert warnings == [
        "nib: setting exclude has '[z-a].py', which is not a glob (bad character range z-a at position 1); "
        "using the default ['.env', '.env.*', '*.pem', '*.key', 'id_rsa*', '.netrc', '.pypirc', '*secret*', "
        "'*credential*']"
    ]
    assert "exclude" in machine_paths()  # VS Code ignores a workspace's value: a repository cannot un-exclude


def test_only_wire_names_are_read_and_no_flat_name_of_a_user_only_setting():
    # An editor passes on keys it does not know, a workspace's too, and keeps the user's own value
    # only under the wire names of user-only settings: any other name for them would let a
    # cloned repository choose the model that runs or the key sent to an engine.
    raw = {
        "listing": {"model": "/repo/evil"},
        "engine": {"api_key_env": "GITHUB_TOKEN", "timeout_ms": 5},
        "modelPath": "/repo/evil",
        "device": "cuda",
    }
    assert parse(raw) == (
        Settings(),
        [
            "nib: unknown setting 'listing' ignored",
            "nib: unknown setting 'engine.api_key_env' ignored",
            "nib: unknown setting 'engine.timeout_ms' ignored",
            "nib: setting modelPath is no longer read: set model.path in your user settings",
            "nib: setting device is no longer read: set model.device in your user settings",
        ],
    )
