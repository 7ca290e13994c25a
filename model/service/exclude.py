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


_ANY, _DIRS, _STAR = "**", "**/", "*"  # tokens that match a run of characters; the rest match one
_RUNS = {_ANY: ".*", _DIRS: "(?:.*/)?", _STAR: "[^/]*"}
MOST_RUNS = 2  # a glob with more runs than this is matched by states: as a regular expression it backtracks


@lru_cache(maxsize=256)
def _regex(glob: str) -> re.Pattern[str] | _Glob:
    """A glob as a regular expression, or, with more than MOST_RUNS runs (`*`, `**`), as a set of
    states matched in time linear in the path's length (as a regular expression `*a*a*a*b` took
    52 s on a 255-character name, on the event loop).

    Example: _regex("**/a/*.py").fullmatch("x/y/a/b.py") and not _regex("a/*.py").fullmatch("a/b/c.py")
    """
    tokens = _tokens(glob)
    if sum(t in _RUNS for t in tokens) > MOST_RUNS:
        return _states(glob)
    return re.compile("".join(_RUNS.get(t, t) for t in tokens), re.IGNORECASE)


def _tokens(glob: str) -> list[str]:
    """The glob's runs (_ANY, _DIRS, _STAR) and, for each other character, a regular expression of it.

    Example: _tokens("**/a*?[!p]y") == ["**/", "a", "*", "[^/]", "[^p]", "y"]
    """
    tokens, i = [], 0
    while i < len(glob):
        c = glob[i]
        if glob.startswith("**/", i):
            tokens.append(_DIRS)
            i += 3
            continue
        if glob.startswith("**", i):
            tokens.append(_ANY)
            i += 2
            continue
        if c == "*":
            tokens.append(_STAR)
        elif c == "?":
            tokens.append("[^/]")
        elif c == "[" and "]" in glob[i + 1 :]:
            end = glob.index("]", i + 1)
            inner = glob[i + 1 : end].replace("\\", "\\\\")
            tokens.append("[" + ("^" + inner[1:] if inner.startswith("!") else inner) + "]")
            i = end
        else:
            tokens.append(re.escape(c))
        i += 1
    return tokens


def _states(glob: str) -> _Glob:
    """The glob as a set of states (`_Glob`): each character a regular expression of its own, case ignored."""
    return _Glob(tuple(t if t in _RUNS else re.compile(t, re.IGNORECASE) for t in _tokens(glob)))


class _Glob:
    """A glob's tokens run as a set of states over the text, one character at a time: state 2k
    is before token k, state 2k+1 inside `**/` (k) after at least one character of it. As the
    regular expression would: `**` does not match a line break, `*` any character but "/"."""

    def __init__(self, tokens: tuple[str | re.Pattern[str], ...]):
        self.tokens = tokens

    def fullmatch(self, text: str) -> bool:
        return _fullmatch(self.tokens, text)


@lru_cache(maxsize=4096)
def _fullmatch(tokens: tuple[str | re.Pattern[str], ...], text: str) -> bool:
    states = _closure(tokens, {0})
    for c in text:
        after = set()
        for state in states:
            k, inside = divmod(state, 2)
            if k == len(tokens):
                continue
            token = tokens[k]
            if inside or token == _DIRS:  # `.*/`: any character but a line break, and a "/" may end it
                if c != "\n":
                    after.add(2 * k + 1)
                if c == "/":
                    after.add(2 * k + 2)
            elif token == _ANY:
                if c != "\n":
                    after.add(2 * k)
            elif token == _STAR:
                if c != "/":
                    after.add(2 * k)
            elif not isinstance(token, str) and token.fullmatch(c):
                after.add(2 * k + 2)
        states = _closure(tokens, after)
        if not states:
            return False
    return 2 * len(tokens) in states


def _closure(tokens, states: set[int]) -> set[int]:
    """states and those reached from them on no character: past a `*`, `**` or `**/` matching nothing."""
    out, todo = set(states), list(states)
    while todo:
        state = todo.pop()
        k, inside = divmod(state, 2)
        if not inside and k < len(tokens) and tokens[k] in (_ANY, _DIRS, _STAR) and 2 * k + 2 not in out:
            out.add(2 * k + 2)
            todo.append(2 * k + 2)
    return out
