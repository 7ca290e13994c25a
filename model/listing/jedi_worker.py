"""jedi's worker process: one JSON request per line on stdin, one JSON answer per line on stdout.

    {"id": 3, "text": "...", "cursor": 120, "path": "/p/x.py"}
 -> {"id": 3, "names": [["append", "function", "function"], ...], "position": "attribute"}
 or {"id": 3, "error": "ValueError: ..."}

It ends when stdin closes, which is also what happens when the server dies.
"""

from __future__ import annotations

import json
import sys

from nib.model.text.lexeme import position_kind


def complete(text: str, cursor: int, path: str | None) -> dict:
    import jedi

    line_start = text.rfind("\n", 0, cursor) + 1
    line_prefix = text[line_start:cursor]
    script = jedi.Script(text, path=path)
    found = script.complete(text.count("\n", 0, cursor) + 1, cursor - line_start)
    return {"names": [[c.name, c.type, detail(c)] for c in found], "position": position_kind(line_prefix)}


def detail(completion) -> str:
    """A short description jedi has without inferring types (cheap)."""
    if completion.type == "module":
        return f"module {completion.full_name or completion.name}"
    return completion.type


def main() -> None:
    out = sys.stdout
    sys.stdout = sys.stderr  # whatever jedi prints must not break the protocol
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = complete(request["text"], request["cursor"], request["path"])
        except Exception as e:  # noqa: BLE001 - any jedi failure is an answer, never the end of the worker
            answer = {"error": f"{type(e).__name__}: {e}"}
        answer["id"] = request["id"]
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
