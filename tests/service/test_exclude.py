"""The setting `exclude`: globs matched against a document's path in the server."""

import random
import re
import time

import pytest

from nib.model.service.exclude import SECRETS, Exclude, _states


@pytest.mark.parametrize(
    "path, excluded",
    [
        ("/home/me/app/.env", True),
        ("/home/me/app/.env.production", True),
        ("/home/me/app/.ENV", True),  # case ignored
        ("/home/me/app/certs/server.pem", True),
        ("/home/me/.ssh/id_rsa", True),
        ("/home/me/app/settings/secrets.py", True),
        ("/home/me/app/aws_credentials.py", True),
        ("/home/me/app/environment.py", False),
        ("/home/me/app/keys.py", False),
        ("/home/me/app/monkey.py", False),
        (None, False),  # an untitled buffer
        ("", False),
    ],
)
def test_the_default_excludes_files_that_hold_secrets(path, excluded):
    assert Exclude(SECRETS).matches(path) is excluded


@pytest.mark.parametrize(
    "pattern, path, excluded",
    [
        ("*.py", "/w/a/b.py", True),  # no `/`: the file's name, in any folder
        ("gen/*.py", "/w/gen/a.py", True),  # with `/`: the end of the path, from a folder on
        ("gen/*.py", "/w/gen/sub/a.py", False),  # `*` stays in one folder
        ("gen/**", "/w/gen/sub/a.py", True),  # `**` spans folders
        ("**/gen/*.py", "/w/x/gen/a.py", True),
        ("en/*.py", "/w/gen/a.py", False),  # from a folder on, not inside a name
        ("/w/gen/*.py", "/w/gen/a.py", True),  # from the root
        ("/w/gen/*.py", "/v/w/gen/a.py", False),
        ("test_?.py", "/w/test_1.py", True),
        ("test_[0-9].py", "/w/test_x.py", False),
        ("test_[!0-9].py", "/w/test_x.py", True),
        ("a.py", "C:\\w\\a.py", True),  # a Windows path
    ],
)
def test_patterns(pattern, path, excluded):
    assert Exclude((pattern,)).matches(path) is excluded


def test_no_patterns_exclude_nothing():
    assert not Exclude(()).matches("/w/.env")


def test_a_glob_of_many_stars_is_matched_in_linear_time():
    # as a regular expression, `*a*a*a*a*b` on 255 characters backtracked for 52 s on the event loop
    started = time.perf_counter()
    assert not Exclude(("*a" * 40 + "*b",)).matches("/w/" + "a" * 255)
    assert Exclude(("*a" * 40 + "*b",)).matches("/w/" + "a" * 255 + "b")
    assert not Exclude(("**/x" + "*a" * 40 + "/*.py",)).matches("/w/x" + "a" * 255 + "c/b.py")
    assert Exclude(("**/x" + "*a" * 40 + "/*.py",)).matches("/w/x" + "a" * 255 + "/b.py")
    assert time.perf_counter() - started < 1.0


def test_globs_match_as_regular_expressions_would():
    """The states (globs of more than two runs) answer as the regular expression (the rest) would,
    case folded character by character as `re.IGNORECASE` folds it (İ, ſ and the Kelvin sign
    included), a line break too."""
    rng = random.Random(0)
    parts = [
        "a",
        "b",
        "A",
        "s",
        "S",
        "ſ",
        "i",
        "İ",
        "k",
        "\u212a",
        "/",
        "*",
        "**",
        "**/",
        "?",
        "[ab]",
        "[!a]",
        ".",
        "x",
    ]
    for _ in range(5000):
        glob = "".join(rng.choice(parts) for _ in range(rng.randint(1, 6)))
        text = "".join(rng.choice("abAB/.xsSſiİkK\u212a\n") for _ in range(rng.randint(0, 8)))
        assert _states(glob).fullmatch(text) == bool(_reference(glob).fullmatch(text)), (glob, text)
    assert Exclude(SECRETS).matches("/w/CREDENTİALS.json") and Exclude(SECRETS).matches("/w/ſecret.py")


def _reference(glob: str) -> re.Pattern[str]:
    """The glob as a regular expression (what nib matched with before: right, but exponential)."""
    out = []
    for token in re.findall(r"\*\*/|\*\*|\*|\?|\[[^\]]*\]|.", glob, re.DOTALL):
        if token.startswith("[") and len(token) > 1:
            inner = token[1:-1].replace("\\", "\\\\")
            out.append("[" + ("^" + inner[1:] if inner.startswith("!") else inner) + "]")
        else:
            out.append({"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(token, re.escape(token)))
    return re.compile("".join(out), re.IGNORECASE)
