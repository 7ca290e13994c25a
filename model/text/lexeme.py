"""Where does the first lexical token of a generated text end? (for the list)

The completion list offers whole lexical tokens (CodeFill's single-token
completion): BPE pieces are joined until the text holds one complete lexeme.
A lexeme is complete once a character that cannot continue it follows, so
`=` stays open (it may become `==`) while `= ` is complete.
"""

from __future__ import annotations

import re

from nib.model.text.lexer import OPERATORS

_IDENT = re.compile(r"[^\W\d]\w*")
_NUMBER = re.compile(r"(?:\d[\w]*(?:\.\w*)?|\.\d\w*)")
_STRING_START = re.compile(r"(?i:[rbuf]{0,2})('''|\"\"\"|'|\")")
_OPERATORS = sorted(OPERATORS, key=len, reverse=True)


def typed_name(text: str, start: int = 0, end: int | None = None) -> str:
    """The identifier characters (regex `\\w`) that end text[start:end]: the part of a name already typed.

    Example: typed_name("    os.pa") == "pa"; typed_name("x = ") == ""
    """
    end = len(text) if end is None else min(end, len(text))  # (as a regex's search clamps them)
    start, begin = max(start, 0), end
    # read back from the end, not `\w*$` searched forward: that rescans a long word (a data string's)
    # from each of its characters, seconds per keystroke for one of 30,000
    while begin > start and (text[begin - 1].isalnum() or text[begin - 1] == "_"):
        begin -= 1
    return text[begin:end]


# Keywords after which a name (or another keyword) comes, not an operator.
_BEFORE_NAME = {
    "and",
    "as",
    "assert",
    "await",
    "case",
    "del",
    "elif",
    "else",
    "except",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "match",
    "nonlocal",
    "not",
    "or",
    "raise",
    "return",
    "while",
    "with",
    "yield",
}


def name_may_start(line_prefix: str) -> bool:
    """Whether the next character typed is likely the first of a name: at the start of a
    statement, after an opening bracket, after an operator, `:`, `,` or keyword and a space, or
    right after what a name follows with no space: a keyword argument's or a default's `=`, a
    decorator's `@`, the stars that unpack an argument.

    After "x " an operator comes, after "x =" a space.

    Example: name_may_start("    x = ") and name_may_start("f(") and name_may_start("    ");
             name_may_start("f(a, key=") and name_may_start("    @") and name_may_start("f(*");
             not name_may_start("x ") and not name_may_start("x =") and not name_may_start("x *")
    """
    if line_prefix.endswith(("(", "[", "{")):
        return True
    body = line_prefix.rstrip(" \t")
    if not body:
        return True
    if body == line_prefix:
        return _operand_follows(line_prefix)
    return body[-1] in "([{,=:+-*/%<>|&^~@" or typed_name(body) in _BEFORE_NAME


def _operand_follows(line_prefix: str) -> bool:
    """Whether a name comes right after the line's last character, no space between: a keyword
    argument's or a default's `=` (`f(a=`), a decorator's `@`, unpacking stars (`f(*`, `{**`, a
    call's line that starts with them)."""
    if line_prefix.endswith("="):
        return not space_comes_next(line_prefix)
    if line_prefix.strip() == "@":
        return True
    before = line_prefix.rstrip("*")
    stars, before = len(line_prefix) - len(before), before.rstrip()
    return stars in (1, 2) and (not before or before.endswith(("(", "[", "{", ",")))


def attribute_may_start(line_prefix: str) -> bool:
    """Whether the cursor stands right after the `.` of an attribute: after a name, a call, a
    subscript or a string (`self.`, `f(a).`, `x[0].`, `", ".`), not after a number (`1.`) or in
    `...`. Inside a one-line string too (`"see os.`): the list takes such a string as code.

    Example: attribute_may_start("    self.") and attribute_may_start("f(a).");
             not attribute_may_start("x = 1.") and not attribute_may_start("...")
    """
    if not line_prefix.endswith(".") or line_prefix.endswith(".."):
        return False
    before = line_prefix[:-1]
    name = typed_name(before)
    return (bool(name) and not name[0].isdigit()) or before.endswith((")", "]", '"', "'"))


def space_comes_next(line_prefix: str) -> bool:
    """Whether the next character typed is likely a space, as PEP 8 and black write code: after a
    comma, or after an operator ending in `=` with a space before it (`x =`, `a ==`, `n +=`, `x: int =`).
    A list there would be closed by that space, and an item taken from it would be written
    against the operator (`x =None`). A keyword argument's `=` (`f(a=`) has no space before it.

    Example: space_comes_next("f(a,") and space_comes_next("    x =") and space_comes_next("if a ==");
             not space_comes_next("f(a=") and not space_comes_next("x = ") and not space_comes_next("f(")
    """
    if line_prefix.endswith(","):
        return True
    if not line_prefix.endswith("="):
        return False
    before = line_prefix.rstrip("=<>!+-*/%&|^@:~")
    return before.endswith((" ", "\t"))


def listable(lexeme: str) -> bool:
    """Whether a lexeme is worth a list item: a name or keyword, a number, a string literal.
    A lone operator or bracket is not (it is typed faster than chosen; ghost text offers it).

    Example: listable("name1") and listable("0x1f") and listable('f"{x}"'); not listable("**")
    """
    return bool(_IDENT.fullmatch(lexeme) or _NUMBER.fullmatch(lexeme) or _STRING_START.match(lexeme))


def literal(lexeme: str) -> bool:
    """A number or string literal (listable, not a name)."""
    return listable(lexeme) and not _IDENT.fullmatch(lexeme)


def first_lexeme(text: str) -> tuple[str, bool] | None:
    """Split off the leading spaces and first lexeme of text.

    Returns (spaces + lexeme, complete), or None when text starts a new line or
    holds no lexeme (a list item never spans lines).

    Example: first_lexeme(" foo(") == (" foo", True); first_lexeme("fo") == ("fo", False)
    """
    body = text.lstrip(" \t")
    lead = len(text) - len(body)
    if not body or body[0] in "\r\n#\\":
        return None
    m = _STRING_START.match(body)
    if m and (body[0] in "'\"" or body[m.start(1) - 1 : m.start(1)].isalpha()):
        end = _string_end(body, m.end(), m.group(1))
        if end is None:
            return text, False
        return text[: lead + end], True
    for pattern in (_IDENT, _NUMBER):
        m = pattern.match(body)
        if m:
            end = m.end()
            return text[: lead + end], end < len(body)
    for op in _OPERATORS:
        if body.startswith(op):
            rest = body[len(op) :]
            if not rest and any(o != op and o.startswith(op) for o in OPERATORS):
                return text, False  # `=` may still become `==`
            return text[: lead + len(op)], True
    return text[: lead + 1], True  # a character Python has no token for


def _string_end(body: str, start: int, quote: str) -> int | None:
    i = start
    while i < len(body):
        if body[i] == "\\":
            i += 2
            continue
        if body.startswith(quote, i):
            return i + len(quote)
        if len(quote) == 1 and body[i] in "\r\n":
            return i  # an unterminated one-line string ends at the line end
        i += 1
    return None


def lexeme_span(text: str, cursor: int) -> tuple[int, int, bool] | None:
    """(start, end, complete) of the first lexeme of text that ends after position cursor.

    text starts at the healing back-off point and cursor is where the user's
    cursor falls in it: lexemes that end at or before the cursor are context,
    so this is the lexeme the cursor is in, or else the next one. start skips
    the lexeme's leading spaces. A line break before the cursor is context too;
    one after it means there is no lexeme.

    Example: lexeme_span("))\\n", 2) is None; lexeme_span("pr", 1) == (0, 2, False);
             lexeme_span("foo(x", 3) == (3, 4, True); lexeme_span(" ==", 2) == (1, 3, True)
    """
    pos = text.rfind("\n", 0, cursor) + 1
    while True:
        found = first_lexeme(text[pos:])
        if found is None:
            return None
        word, complete = found
        end = pos + len(word)
        if end > cursor or not complete:
            return end - len(word.lstrip(" \t")), end, complete
        pos = end


_IMPORT = re.compile(r"^\s*(from\s+[\w.]*(\s+import\s+.*)?|import\s+.*)$")


def position_kind(line_prefix: str) -> str:
    """What the identifier at the cursor is, from the line before it: attribute | import | kwarg | name.

    Example: position_kind("    os.pa") == "attribute"; position_kind("from os import pa") == "import"
    """
    head = _before_name(line_prefix)
    if head.rstrip().endswith(".") and not head.rstrip().endswith(".."):
        return "import" if _IMPORT.match(line_prefix) and " import " not in line_prefix else "attribute"
    if _IMPORT.match(line_prefix):
        return "import"
    if head.rstrip().endswith(("(", ",")):
        return "kwarg"  # or a positional argument: jedi offers both, `name=` marks the keyword ones
    return "name"


_BINDER = re.compile(r"(?<![\w.])(?:as|for|def|class|lambda)[ \t]+$")
# where jedi offers no names on purpose: a def's or class's name, a def's or lambda's parameter, after `as`
_UNNAMED = re.compile(
    r"(?<![\w.])(?:def|class|as)[ \t]+$|^[ \t]*(?:async[ \t]+)?def[ \t]+\w+[ \t]*\((?:[^)]*,)?[ \t*]*$|(?<![\w.])lambda\b[^:]*$"
)


def may_be_new(line_prefix: str) -> bool:
    """Whether the name being typed may be one not yet in scope: one bound here (at a statement's
    start, `total = ` to come, or after `;`; after `as`, `for`, `def`, `class` or `lambda`; in a list
    of targets, `red, green, b`, `first, *r`), or a call's keyword argument (after `(` or `,`); not
    one read inside an expression.

    Example: may_be_new("    red, green, b") and may_be_new("f(x, k") and not may_be_new("    return x + y")
    """
    head = _before_name(line_prefix).rstrip(" \t*")
    return not head.strip() or head.endswith(("(", ",", ";")) or bool(_BINDER.search(head + " "))


def unnamed(line_prefix: str) -> bool:
    """Whether jedi offers no names at the name being typed, on purpose: a def's or class's own name,
    a def's or lambda's parameter (on the def's line), or after `as`.

    Example: unnamed("def fo") and unnamed("def f(a, b") and unnamed("with open(p) as f") and not unnamed("f(a, b")
    """
    return bool(_UNNAMED.search(_before_name(line_prefix)))


def _before_name(line_prefix: str) -> str:
    """The line before the name being typed."""
    return line_prefix[: len(line_prefix) - len(typed_name(line_prefix))]
