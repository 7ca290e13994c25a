"""Which of Python's keywords may come where a name starts: a list offers no `for` after `[`.

The list's model and n-gram guess tokens, keywords among them, with no grammar. jedi knows the
grammar, but at a new place it is often late. Three places are clear from the line alone:

- after `.`: no keyword (an attribute);
- where an expression starts (after an opening bracket, an operator, `,`, `=`, or a keyword
  that an expression follows): only the keywords that begin one (`not`, `lambda`, `None`, ...);
- after an operand and a space (`x `, `f(a) `): only the keywords that join or follow one
  (`and`, `in`, `for`, `if`, `as`, ...).

Anywhere else (a line's start, which may be a bracket's continuation, after `:`, a soft keyword
that begins a statement, a doctest's line, inside a string) every keyword may come, as before.
"""

from __future__ import annotations

import keyword
import re

from nib.model.text.lexeme import typed_name

ALL = frozenset(keyword.kwlist)
EXPRESSION = frozenset({"not", "lambda", "await", "yield", "None", "True", "False"})
AFTER_OPERAND = frozenset({"and", "or", "in", "is", "not", "if", "else", "for", "async", "as", "from", "import"})
# Keywords that an operand or nothing follows, not an expression: `x = None f` is an operand's place.
_OPERANDS = {"None", "True", "False"}
_ENDS_STATEMENT = {"pass", "break", "continue"}
_SOFT_STATEMENT = {"match", "case", "type"}  # `match x`: an expression follows, not an operator
_NAME_FOLLOWS = {"def", "class", "import", "as", "global", "nonlocal"}  # a name of the code's own
_DOCTEST = (">>>", "...")  # a doctest's line: code of its own after the prompt
_RELATIVE_FROM = re.compile(r"\s*from\s*\.+")
_FOR = re.compile(r"\bfor\b")
_CASE = re.compile(r"\s*case\b")


def keywords_allowed(line_prefix: str) -> frozenset[str]:
    """The keywords that may start at the end of line_prefix (the name typed so far taken off).

    Example: keywords_allowed("x = [") == EXPRESSION and keywords_allowed("    self.") == frozenset();
             keywords_allowed("    ") == ALL and keywords_allowed("if x ") == AFTER_OPERAND;
             keywords_allowed("if x not ") == EXPRESSION | {"in"}; "as" not in keywords_allowed("import a, ");
             keywords_allowed("from . ") == {"import"}
    """
    body = line_prefix.rstrip(" \t")
    spaced = body != line_prefix
    if not body.strip() or body.endswith((":", ";", "\\")) or body.lstrip().startswith(_DOCTEST):
        return ALL
    if _in_string(line_prefix):
        return ALL  # any word may come in a string
    if _RELATIVE_FROM.fullmatch(body):
        return frozenset({"import"})  # `from . import x`
    if body.endswith("."):
        if body.endswith("...") or typed_name(body[:-1])[:1].isdigit():  # an ellipsis, a float `1.`
            return AFTER_OPERAND if spaced else ALL
        return frozenset()
    last = body[-1]
    if last == ",":  # a target list's comma: `for k, in pairs`, `case a, if guard`
        return EXPRESSION | ({"in"} if _FOR.search(body) else set()) | ({"if"} if _CASE.match(body) else set())
    if last in "([{=+-*/%<>|&^~@!":
        return EXPRESSION
    word = typed_name(body)
    if word and not word[0].isdigit():
        return _after_word(word, body, spaced)
    if last.isalnum() or last in "_)]}'\"":  # a number, a call, a subscript, a string
        return AFTER_OPERAND if spaced else ALL
    return ALL


def _in_string(line: str) -> bool:
    """Whether line ends inside a string literal opened on it (an f-string's braces count as inside).

    Example: _in_string('print("Press Enter to ') and not _in_string('x = "a" + ') and not _in_string("# it's ")
    """
    quote, i = "", 0
    while i < len(line):
        if quote and line[i] == "\\":
            i += 2
            continue
        if quote and line.startswith(quote, i):
            i, quote = i + len(quote), ""
            continue
        if not quote and line[i] == "#":
            return False
        if not quote and line[i] in "'\"":
            quote = line[i] * 3 if line.startswith(line[i] * 3, i) else line[i]
            i += len(quote)
            continue
        i += 1
    return bool(quote)


def _after_word(word: str, body: str, spaced: bool) -> frozenset[str]:
    """The keywords allowed after a word (a name or a keyword) at the end of body."""
    if not spaced:
        return ALL  # the name goes on: not a place this function knows
    if word in _ENDS_STATEMENT:
        return ALL
    if word == "async":
        return frozenset({"def", "for", "with"})
    if word == "not":
        return EXPRESSION | {"in"}  # `x not in y`
    if word == "yield":
        return EXPRESSION | {"from"}  # `yield from xs`
    if word in _NAME_FOLLOWS:
        return frozenset()
    if keyword.iskeyword(word) and word not in _OPERANDS:
        return EXPRESSION
    if word in _SOFT_STATEMENT and body.strip() == word:
        return ALL
    return AFTER_OPERAND


def keywords_misplaced(line_prefix: str) -> frozenset[str]:
    """The keywords that cannot start where the name that ends line_prefix starts.

    Example: "for" in keywords_misplaced("x = [f") and not keywords_misplaced("    f")
    """
    return ALL - keywords_allowed(line_prefix[: len(line_prefix) - len(typed_name(line_prefix))])
