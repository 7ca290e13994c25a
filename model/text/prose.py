"""Prose at the cursor: a comment, or a triple-quoted string that is not an f-string (a docstring,
mostly). There the list offers nothing, as Pylance answers and as VS Code asks by default
(`editor.quickSuggestions`: comments and strings off): a popup of code names while a sentence
is written is noise, and its model's work would compete with the ghost text, which goes on.

Single-quoted strings are code's: dict keys, attribute names, paths (jedi completes some); so
are a docstring's doctest lines (`>>> `, `... `).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

# Each comment and string whole, from its first quote, an unclosed one to the end of what is
# scanned (`closed`: the closing quotes, or "" there). Possessive, so that no text makes it
# backtrack; the search skips to the next `#`, `"` or `'` in C. Lines end in \n, \r\n or \r.
_TOKEN = re.compile(
    r"""\#[^\r\n]*"""
    r'''|"""(?:[^"\\]++|\\(?:\r\n|.)|\\\Z|"(?!""))*+(?P<closed>"""|\Z)'''
    r"""|'''(?:[^'\\]++|\\(?:\r\n|.)|\\\Z|'(?!''))*+(?P<closed1>'''|\Z)"""
    r"""|"(?:[^"\\\r\n]++|\\(?:\r\n|.)|\\\Z)*+(?:"|\r\n?|\n|\Z)"""
    r"""|'(?:[^'\\\r\n]++|\\(?:\r\n|.)|\\\Z)*+(?:'|\r\n?|\n|\Z)""",
    re.S,
)
_F_PREFIXES = frozenset({"f", "fr", "rf"})  # lower-cased; a longer word before a quote is no prefix
_DOCTEST = (">>>", "...")


@dataclass(frozen=True)
class Checkpoint:
    """Where a scan may start again: offset is in code, and text[:offset + 1] (prefix) is what the
    scan there depended on (the character after a token too: two quotes and a third open a string)."""

    prefix: str = ""
    offset: int = 0


def in_prose(text: str, cursor: int, start: Checkpoint = Checkpoint()) -> tuple[bool, Checkpoint]:
    """(whether cursor is in a comment or a triple-quoted non-f string, a later scan's checkpoint),
    scanning text[:cursor] from start when text still begins with its prefix, else from 0.

    Example: in_prose("def f():\\n    '''Return the", 26)[0] == True
    """
    cursor = min(cursor, len(text))
    offset = start.offset if start.offset <= cursor and text.startswith(start.prefix) else 0
    tokens = deque(_TOKEN.finditer(text, offset, cursor), maxlen=2)  # the last two
    last = tokens[-1] if tokens else None
    if last is None or last.end() < cursor:  # in code
        return False, _checkpoint(text, _after(last) if last else offset)
    checkpoint = _checkpoint(text, _after(tokens[0]) if len(tokens) == 2 else offset)
    if last.group().startswith("#"):
        return True, checkpoint
    closed = last.group("closed") if last.group("closed") is not None else last.group("closed1")
    if closed is None or closed:  # a one-line string, or one closed before the cursor
        return False, checkpoint
    line = text[max(text.rfind("\n", last.start(), cursor), text.rfind("\r", last.start(), cursor)) + 1 : cursor]
    return not _f_string(text, last.start()) and not line.lstrip().startswith(_DOCTEST), checkpoint


def without_prose(text: str) -> str:
    """text with its comments and triple-quoted non-f strings (docstrings, mostly) blanked to a
    space each: the code whose names a program uses, not the words of its sentences. A
    docstring's doctest lines go with it (unlike `in_prose`): their names are the code's too.

    Example: without_prose("x = 1  # the x\\ndef f():\\n    '''Return x.'''\\n") == "x = 1   \\ndef f():\\n     \\n"
    """
    kept, start = [], 0
    for token in _TOKEN.finditer(text):
        quotes = token.group()[:3]
        if quotes[:1] == "#" or (quotes in ('"""', "'''") and not _f_string(text, token.start())):
            kept.append(text[start : token.start()])
            start = token.end()
    kept.append(text[start:])
    return " ".join(kept)


def _after(token: re.Match) -> int:
    """Where a scan may start again past token: its end, but a comment's start (the comment goes
    on if text is added at its end, which a scan from its end would take for code)."""
    return token.start() if token.group().startswith("#") else token.end()


def _checkpoint(text: str, offset: int) -> Checkpoint:
    return Checkpoint(text[: offset + 1], offset)


def _f_string(text: str, quote: int) -> bool:
    """Whether the string whose first quote is at text[quote] is an f-string: the word before the
    quote is a prefix with an f (`if` then a quote is a keyword, then a string)."""
    start = quote
    while start > 0 and quote - start < 3 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    return text[start:quote].lower() in _F_PREFIXES
