"""jedi reads the packages of the environment the user names (`jedi.environment`), through the real
server over stdio: after `zzpkg.` the list has the names of a package installed only there, and
none of them without the setting; a relative path is refused with one message."""

import time

from fixtures import SERVER, package_environment
from rpc import RawClient

TEXT = "import zzpkg\nzzpkg."
AT = {"line": 1, "character": len("zzpkg.")}


def labels(client: RawClient, uri: str, tries: int) -> list[str]:
    """The list's labels after `zzpkg.`, asked until jedi has answered there (a late answer is kept
    for the next request at the same name): not a test of jedi's speed."""
    for _ in range(tries):
        found = client.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": AT})
        if found and found["items"]:
            break
        time.sleep(0.2)
    return [i["label"] for i in found["items"]] if found else []


def served(environment: str, uri: str, tries: int) -> tuple[list[str], list]:
    """(the list's labels, the notifications) of a server whose `jedi.environment` is environment."""
    client = RawClient(SERVER)
    try:
        options = {"model": {"path": "bundled"}, "list": {"statement": False}, "jedi": {"environment": environment}}
        client.initialize(options=options)
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": TEXT}},
        )
        found = labels(client, uri, tries)
        notes = []
        while not client.notifications.empty():
            notes.append(client.notifications.get())
        return found, notes
    finally:
        assert client.close() == 0


def test_the_list_knows_the_packages_of_the_users_environment(tmp_path):
    environment = str(package_environment(tmp_path / "venv"))
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text(TEXT + "\n")
    uri = (project / "app.py").as_uri()
    found, notes = served(environment, uri, 150)
    assert [label for label in found if not label.startswith("__")] == ["frobnicate", "Frobnicator"]
    assert notes == []
    found, _ = served("", uri, 10)  # nib's own packages: no zzpkg (the list is the model's guesses)
    assert {"frobnicate", "Frobnicator"} & set(found) == set()


def test_a_relative_environment_is_refused_with_one_message(tmp_path):
    """A relative path would be found in whatever folder nib starts in: a cloned repository's `.venv`."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".venv").mkdir()
    _, notes = served(".venv", (project / "app.py").as_uri(), 1)
    assert [n for n in notes if n["method"] == "window/showMessage"] == [
        {
            "jsonrpc": "2.0",
            "method": "window/showMessage",
            "params": {
                "type": 2,
                "message": "nib: jedi.environment must be an absolute path, got '.venv': jedi reads nib's own packages",
            },
        }
    ]
