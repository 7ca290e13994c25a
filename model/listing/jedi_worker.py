"""jedi's worker process: one JSON request per line on stdin, one JSON answer per line on stdout.

    {"id": 3, "text": "...", "cursor": 120, "path": "/p/x.py", "environment": "/home/me/p/.venv"}
 -> {"id": 3, "names": [["append", "function", "function"], ...], "position": "attribute"}
 or {"id": 3, "error": "ValueError: ..."}

With "describe": NAME, what jedi says of the name it completes at cursor (an editor's completion
item resolved): {"id": 4, "signature": "area(w, h=2)", "doc": "The area of ..."}, both "" when
jedi has none, or does not complete that name there.

"environment" (optional): a Python interpreter or virtual environment whose packages jedi reads
(`jedi.environment`), as source folders (`site_paths`: nothing of it runs); without it, nib's own.

A request that is not JSON or lacks a key is answered with an error when it has an id, else
reported on stderr and skipped. It ends when stdin closes, which is also what happens when the
server dies.
"""

from __future__ import annotations

import json
import os
import sys

from nib.model.listing.site_paths import site_paths
from nib.model.text.lexeme import position_kind, typed_name
from nib.model.text.lines import LINE_BREAK

DOC_CHARS = 4000  # a docstring is cut there: an editor shows it in a small pane


def complete(text: str, cursor: int, path: str | None, environment: str | None = None) -> dict:
    found, line_prefix = _completions(text, cursor, path, environment)
    return {"names": [[c.name, c.type, detail(c)] for c in found], "position": position_kind(line_prefix)}


def describe(text: str, cursor: int, path: str | None, environment: str | None, name: str) -> dict:
    """The first signature and the docstring (without its signatures) of name, completed at cursor."""
    found, _ = _completions(text, cursor, path, environment)
    for c in found:
        if c.name == name:
            signatures = c.get_signatures()
            doc = c.docstring(raw=True)
            doc = doc if len(doc) <= DOC_CHARS else doc[:DOC_CHARS] + " …"
            return {"signature": signatures[0].to_string() if signatures else "", "doc": doc}
    return {"signature": "", "doc": ""}


def _completions(text: str, cursor: int, path: str | None, environment: str | None) -> tuple[list, str]:
    """jedi's completions at cursor, and the cursor's line up to it."""
    import jedi

    _no_project_files(jedi)
    breaks = list(LINE_BREAK.finditer(text, 0, cursor))  # as jedi (parso) counts lines: CR alone ends one too
    line_start = breaks[-1].end() if breaks else 0
    line_prefix = text[line_start:cursor]
    line_end = LINE_BREAK.search(text, cursor)
    rest = text[cursor : line_end.start() if line_end else len(text)]
    if not rest.strip() and not typed_name(line_prefix) and not line_prefix.endswith("\\"):
        # where a name starts with nothing after it on the line (a blank indented line, `x = `,
        # `if not ` at the document's end), parso's recovery ends the function there (a `for`
        # with no body, an expression with no operand) and jedi answers with the module's names,
        # without the function's locals; a name after the cursor completes the line (jedi
        # completes what is before the cursor). Not after a name (being typed) or a `\` (a
        # continued line, which a name after it would end).
        text = text[:cursor] + "_" + text[cursor:]
    project = None
    if environment:  # the project jedi finds for path, with the environment's folders to read as well
        default = jedi.get_default_project(path)
        project = jedi.Project(default.path, added_sys_path=list(site_paths(environment)))
    script = jedi.Script(text, path=path, project=project)
    return script.complete(len(breaks) + 1, cursor - line_start), line_prefix


def _no_project_files(jedi) -> None:
    """jedi finds the project of a file as it would, but never loads a `.jedi/project.json`: a
    cloned repository's would add any folder (`added_sys_path`, `sys_path`, `path`) to what jedi
    reads, outside the workspace."""

    def load(cls, path):
        # what opening `path/.jedi/project.json` raises where there is none, which jedi's search
        # expects: under a file (the one completed, its first step), or in a folder
        raise NotADirectoryError(path) if os.path.isfile(path) else FileNotFoundError(path)

    jedi.api.project.Project.load = classmethod(load)


def detail(completion) -> str:
    """A short description jedi has without inferring types (cheap)."""
    if completion.type == "module":
        return f"module {completion.full_name or completion.name}"
    return completion.type


def main() -> None:
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever jedi prints must not break the protocol
    sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]  # a TextIOWrapper  # a stray byte makes a bad line, not the end
    for line in sys.stdin:
        answer = answer_to(line)
        if answer is not None:
            out.write(json.dumps(answer) + "\n")
            out.flush()


def answer_to(line: str) -> dict | None:
    """The answer to one request line; None (and a line on stderr) when it has no id to answer to."""
    try:
        request = json.loads(line)
        request_id = request["id"]
    except (ValueError, TypeError, KeyError) as e:
        print(
            f"nib jedi worker: skipped a request that is not JSON with an id ({e!r}): {line[:200]!r}",
            file=sys.stderr,
            flush=True,
        )
        return None
    try:
        where = (request["text"], request["cursor"], request.get("path"), request.get("environment"))
        if "describe" in request:
            answer = describe(*where, str(request["describe"]))
        else:
            answer = complete(*where)
    except Exception as e:  # noqa: BLE001 - any jedi failure is an answer, never the end of the worker
        answer = {"error": f"{type(e).__name__}: {e}"}
    answer["id"] = request_id
    return answer


if __name__ == "__main__":
    main()
