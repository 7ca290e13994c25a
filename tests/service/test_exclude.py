"""The setting `exclude`: globs matched against a document's path in the server."""

import pytest

from nib.model.service.exclude import SECRETS, Exclude


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
