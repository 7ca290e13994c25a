"""The setting `exclude`: files nib neither completes in nor reads (secrets, generated code).

Patterns are globs, as in .gitignore: one without `/` matches a file's name (`.env`,
`*.pem`), one with `/` the end of its path, from a folder on (`migrations/*.py`,
`/home/me/work/gen/**`); `*` and `?` stay inside one folder, `**` spans folders. Case is
ignored: `.ENV` is as secret as `.env`. Matched in the server, so every editor and the
shared daemon obey the same list, and the project context (`project.py`) never reads an
excluded file from disk.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Files that hold secrets more often than code: never in a prompt, a log or an engine's request.
SECRETS = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "id_rsa*",
    ".netrc",
    ".pypirc",
    "*secret*",
    "*credential*",
)


class Exclude:
    """Whether a path matches one of the patterns.

    Example: Exclude(("*.pem", "**/gen/*.py")).matches("/w/gen/a.py") and not Exclude(("*.pem",)).matches("/w/a.py")
    """

    def __init__(self, patterns: tuple[str, ...] = SECRETS):
        self.patterns = tuple(patterns)
        self._names = [_regex(p) for p in self.patterns if "/" not in p]
        self._paths = [_regex(p if p.startswith(("/", "**/")) else "**/" + p) for p in self.patterns if "/" in p]

    def matches(self, path: str | None) -> bool:
        """path: a file's path (an untitled buffer has none: it matches nothing)."""
        if not path:
            return False
        path = path.replace("\\", "/")
        name = path.rsplit("/", 1)[-1]
        return any(r.fullmatch(name) for r in self._names) or any(r.fullmatch(path) for r in self._paths)


def invalid(pattern: str) -> str | None:
    """Why pattern is not a glob nib can match (a bracket expression Python's re refuses), or None.

    Example: invalid("*.pem") is None and invalid("[z-a].py") is not None
    """
    try:
        _regex(pattern)
    except re.error as e:
        return str(e)
    return None


@lru_cache(maxsize=256)
def _regex(glob: str) -> re.Pattern[str]:
    """A glob as a regular expression.

    Example: _regex("**/a/*.py").fullmatch("x/y/a/b.py") and not _regex("a/*.py").fullmatch("a/b/c.py")
    """
    out, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and "]" in glob[i + 1 :]:
            end = glob.index("]", i + 1)
            inner = glob[i + 1 : end].replace("\\", "\\\\")
            out.append("[" + ("^" + inner[1:] if inner.startswith("!") else inner) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.IGNORECASE)
