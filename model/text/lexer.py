"""Lex partial Python into typed tokens: the type stream of CodeFill and PyCoder.

The stdlib `tokenize` module gives the base types (PyCoder: exact operator types,
keywords as one KEYWORD type, NEWLINE and NL as one EOL type). Code being typed
rarely parses, and `tokenize` gives up at the first error in ways that differ by
Python version, so the tail it could not lex is scanned by a small regex scanner
that never fails. Tree-sitter, which is error tolerant, then refines identifier
roles (attribute, call, definition name, parameter, import, keyword argument).

The tokens cover the text exactly: spans are byte offsets into the UTF-8 text,
contiguous, with whitespace that tokenize skips as WHITESPACE tokens.

References: PyCoder (Takerngsaksiri et al. 2023), CodeFill (Izadi et al. 2022).
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from functools import lru_cache
from typing import NamedTuple

# Operators by name, fixed here rather than read from `token.EXACT_TOKEN_TYPES`,
# whose contents change between Python versions; the type inventory is part of
# the model's format and must not.
OPERATORS = {
    "!=": "NOTEQUAL",
    "%": "PERCENT",
    "%=": "PERCENTEQUAL",
    "&": "AMPER",
    "&=": "AMPEREQUAL",
    "(": "LPAR",
    ")": "RPAR",
    "*": "STAR",
    "**": "DOUBLESTAR",
    "**=": "DOUBLESTAREQUAL",
    "*=": "STAREQUAL",
    "+": "PLUS",
    "+=": "PLUSEQUAL",
    ",": "COMMA",
    "-": "MINUS",
    "-=": "MINEQUAL",
    "->": "RARROW",
    ".": "DOT",
    "...": "ELLIPSIS",
    "/": "SLASH",
    "//": "DOUBLESLASH",
    "//=": "DOUBLESLASHEQUAL",
    "/=": "SLASHEQUAL",
    ":": "COLON",
    ":=": "COLONEQUAL",
    ";": "SEMI",
    "<": "LESS",
    "<<": "LEFTSHIFT",
    "<<=": "LEFTSHIFTEQUAL",
    "<=": "LESSEQUAL",
    "=": "EQUAL",
    "==": "EQEQUAL",
    ">": "GREATER",
    ">=": "GREATEREQUAL",
    ">>": "RIGHTSHIFT",
    ">>=": "RIGHTSHIFTEQUAL",
    "@": "AT",
    "@=": "ATEQUAL",
    "[": "LSQB",
    "]": "RSQB",
    "^": "CIRCUMFLEX",
    "^=": "CIRCUMFLEXEQUAL",
    "{": "LBRACE",
    "|": "VBAR",
    "|=": "VBAREQUAL",
    "}": "RBRACE",
    "~": "TILDE",
    "!": "EXCLAMATION",
}

# Identifier roles from tree-sitter. CALL and KWARG are decided by what follows
# the name (`(` or `=`), so they are not known while the name is being typed.
ROLES = ("DEF_NAME", "PARAM", "IMPORT", "KWARG", "CALL", "ATTRIBUTE")
LOOKAHEAD_ROLES = frozenset({"CALL", "KWARG"})

TYPES: tuple[str, ...] = (
    ("PAD", "WHITESPACE", "EOL", "INDENT", "COMMENT", "NAME", "KEYWORD", "NUMBER", "STRING", "ERRORTOKEN")
    + ROLES
    + tuple(sorted(set(OPERATORS.values())))
)
TYPE_ID = {name: i for i, name in enumerate(TYPES)}


class Token(NamedTuple):
    type: str
    start: int  # byte offset, inclusive
    end: int  # byte offset, exclusive


def lex(text: str, roles: bool = True) -> list[Token]:
    """Lex (possibly broken, possibly partial) Python into tokens that cover it.

    Never raises. Spans are UTF-8 byte offsets.

    Example: [t.type for t in lex("f(a=x.y")] ==
             ['NAME', 'LPAR', 'KWARG', 'EQUAL', 'NAME', 'DOT', 'ATTRIBUTE']
    """
    tokens = _lex_chars(text)
    data = text.encode("utf-8", "surrogatepass")
    if len(data) != len(text):
        tokens = _chars_to_bytes(tokens, text)
    if roles:
        tokens = _refine_roles(tokens, data)
    return tokens


def _lex_chars(text: str) -> list[Token]:
    """Tokens with character offsets, gaps filled with WHITESPACE."""
    line_starts = _line_starts(text)
    out: list[Token] = []
    pos = 0  # end of what is covered so far
    string_until_eol = False  # 3.11 reports an open string as ERRORTOKEN + more tokens
    fstring_depth = 0
    fstring_start = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            start = line_starts[tok.start[0] - 1] + tok.start[1] if tok.start[0] <= len(line_starts) else len(text)
            end = line_starts[tok.end[0] - 1] + tok.end[1] if tok.end[0] <= len(line_starts) else len(text)
            start, end = min(start, len(text)), min(end, len(text))
            name = tokenize.tok_name[tok.type]
            # Python 3.12+ splits f-strings; PyCoder treats an f-string as one STRING.
            if name == "FSTRING_START":
                if fstring_depth == 0:
                    fstring_start = start
                fstring_depth += 1
                continue
            if fstring_depth:
                if name == "FSTRING_END":
                    fstring_depth -= 1
                    if fstring_depth == 0:
                        pos = _emit(out, text, pos, fstring_start, end, "STRING")
                continue
            if string_until_eol:
                if end <= pos:
                    continue
                string_until_eol = False
            if end <= start or start < pos:
                continue  # zero-width DEDENT/NEWLINE/ENDMARKER, or inside a recovered string
            if name == "ERRORTOKEN" and tok.string[:1] in ("'", '"'):
                eol = _line_end(text, start)
                pos = _emit(out, text, pos, start, eol, "STRING")
                string_until_eol = True
                continue
            pos = _emit(out, text, pos, start, end, _base_type(tok))
    except (tokenize.TokenError, SyntaxError, ValueError, IndexError, RecursionError):
        pass  # keep what was lexed; the tail is scanned below
    if fstring_depth:  # an f-string still open at the error: a partial STRING
        pos = _emit(out, text, pos, fstring_start, fstring_start, "STRING")
        pos = _scan_string_tail(out, text, fstring_start)
    if pos < len(text):
        _scan(out, text, pos)
    return out


def _base_type(tok: tokenize.TokenInfo) -> str:
    if tok.type == tokenize.NAME:
        return "KEYWORD" if keyword.iskeyword(tok.string) else "NAME"
    if tok.type == tokenize.OP:
        return OPERATORS.get(tok.string, "ERRORTOKEN")
    if tok.type in (tokenize.NEWLINE, tokenize.NL):
        return "EOL"
    if tok.type == tokenize.ERRORTOKEN and tok.string.isspace():
        return "WHITESPACE"  # 3.11 reports some spaces next to an error this way
    name = tokenize.tok_name[tok.type]
    return name if name in TYPE_ID else "ERRORTOKEN"


def _emit(out: list[Token], text: str, pos: int, start: int, end: int, type_: str) -> int:
    """Append a token, covering any gap before it with WHITESPACE; return the new end."""
    if start > pos:
        _scan(out, text[:start], pos)
    if end > start:
        out.append(Token(type_, start, end))
    return max(pos, end)


_SCAN = re.compile(
    r"""(?P<EOL>\r\n|\r|\n)
      |(?P<WHITESPACE>[ \t\f]+|\\\r?\n)
      |(?P<COMMENT>\#[^\r\n]*)
      |(?P<STRING>(?:[rRbBuUfF]{1,2})?(?:'''|\"\"\"|'|\"))
      |(?P<NUMBER>\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?[jJ]?|\.\d[\d_]*(?:[eE][+-]?\d+)?[jJ]?)
      |(?P<NAME>[^\W\d]\w*)
      |(?P<OP>\*\*=|//=|>>=|<<=|\.\.\.|!=|%=|&=|\*\*|\*=|\+=|-=|->|//|/=|:=|<<|<=|==|>=|>>|@=|\^=|\|=|[-%&()*+,./:;<=>@\[\]^{|}~!])
    """,
    re.VERBOSE,
)


def _scan(out: list[Token], text: str, pos: int) -> None:
    """Scan text[pos:] with a regex lexer that always makes progress."""
    while pos < len(text):
        m = _SCAN.match(text, pos)
        if m is None:
            out.append(Token("ERRORTOKEN", pos, pos + 1))
            pos += 1
            continue
        kind = m.lastgroup
        assert kind is not None  # every alternative of _SCAN is a named group
        if kind == "STRING":
            pos = _scan_string_tail(out, text, pos, m)
            continue
        if kind == "NAME":
            kind = "KEYWORD" if keyword.iskeyword(m.group()) else "NAME"
        elif kind == "OP":
            kind = OPERATORS[m.group()]
        out.append(Token(kind, pos, m.end()))
        pos = m.end()


def _scan_string_tail(out: list[Token], text: str, pos: int, m: re.Match | None = None) -> int:
    """A string literal from pos: to its closing quote, else to the end of its line
    (of the text, if triple-quoted)."""
    m = m or _SCAN.match(text, pos)
    if m is None or m.lastgroup != "STRING":
        end = _line_end(text, pos)
    else:
        quote = m.group().lstrip("rRbBuUfF")
        close = re.compile(r"(?:\\.|[^\\])*?" + re.escape(quote), re.DOTALL if len(quote) == 3 else 0)
        found = close.match(text, m.end())
        if found and (len(quote) == 3 or "\n" not in found.group()):
            end = found.end()
        else:
            end = len(text) if len(quote) == 3 else _line_end(text, pos)
    out.append(Token("STRING", pos, end))
    return end


def _line_starts(text: str) -> list[int]:
    # Same line splitting as tokenize's readline (io.StringIO splits on \n only).
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def _line_end(text: str, pos: int) -> int:
    m = re.compile(r"[\r\n]").search(text, pos)
    return m.start() if m else len(text)


def _chars_to_bytes(tokens: list[Token], text: str) -> list[Token]:
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + len(ch.encode("utf-8", "surrogatepass")))
    return [Token(t.type, offsets[t.start], offsets[t.end]) for t in tokens]


# -- tree-sitter roles ---------------------------------------------------------

_ROLE_QUERY = """
(function_definition name: (identifier) @DEF_NAME)
(class_definition name: (identifier) @DEF_NAME)
(parameters (identifier) @PARAM)
(lambda_parameters (identifier) @PARAM)
(default_parameter name: (identifier) @PARAM)
(typed_parameter (identifier) @PARAM)
(typed_default_parameter name: (identifier) @PARAM)
(list_splat_pattern (identifier) @PARAM)
(dictionary_splat_pattern (identifier) @PARAM)
(import_statement (dotted_name (identifier) @IMPORT))
(import_from_statement (dotted_name (identifier) @IMPORT))
(aliased_import (identifier) @IMPORT)
(aliased_import (dotted_name (identifier) @IMPORT))
(relative_import (dotted_name (identifier) @IMPORT))
(keyword_argument name: (identifier) @KWARG)
(call function: (identifier) @CALL)
(call function: (attribute attribute: (identifier) @CALL))
(attribute attribute: (identifier) @ATTRIBUTE)
"""


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter_python
    from tree_sitter import Language, Parser, Query

    language = Language(tree_sitter_python.language())
    return Parser(language), Query(language, _ROLE_QUERY)


def _refine_roles(tokens: list[Token], data: bytes) -> list[Token]:
    """Give NAME tokens the role tree-sitter finds for the same bytes."""
    from tree_sitter import QueryCursor

    parser, query = _parser()
    tree = parser.parse(data)
    role_at: dict[int, str] = {}
    rank = {role: i for i, role in enumerate(ROLES)}  # earlier in ROLES wins
    for role, nodes in QueryCursor(query).captures(tree.root_node).items():
        for node in nodes:
            old = role_at.get(node.start_byte)
            if old is None or rank[role] < rank[old]:
                role_at[node.start_byte] = role
    return [Token(role_at.get(t.start, "NAME"), t.start, t.end) if t.type == "NAME" else t for t in tokens]
