"""Where a generated statement ends, and what of it repeats the text after the cursor.

Pure functions over text; the lexer decides what is a string and what is a
bracket, so a newline inside a string or inside brackets does not end a
statement (CodeXGLUE stops at any newline; PyCoder notes the difference).
"""

from __future__ import annotations

import re
from functools import lru_cache

from nib.model.text.lexeme import typed_name
from nib.model.text.lexer import lex

OPEN = {"LPAR", "LSQB", "LBRACE"}
CLOSE = {"RPAR", "RSQB", "RBRACE"}


def bracket_depth(text: str) -> int:
    """Open brackets minus closed ones in text (strings and comments excluded).

    Example: bracket_depth("f(a, [b") == 2
    """
    depth = 0
    for tok in lex(text, roles=False):
        depth += (tok.type in OPEN) - (tok.type in CLOSE)
    return depth


@lru_cache(maxsize=16)
def depth_above(text: str) -> int:
    """bracket_depth of the text above the cursor's line, at least 0: the same for every keystroke
    on a line, so remembered for the last few (several documents, or editors on one daemon).

    Example: depth_above("x = f(\\n") == 1
    """
    return max(0, bracket_depth(text))


def whole_lines(text: str, start: int) -> str:
    """A statement cut short (out of tokens or time) without its unfinished last line, so ghost
    text never ends mid-thought; text[:start] (what healing reproduces) is always kept.

    Example: whole_lines("ab(\\n  c,\\n  d", 0) == "ab(\\n  c,"
    """
    last_newline = text.rfind("\n", start)
    return (text[:last_newline] if last_newline > start else text).rstrip("\r\n")


def sure_part(text: str, next_piece: str, start: int) -> str:
    """What a statement says before its probability fell under statement.minConfidence at
    next_piece: without the word next_piece would have gone on with (a name half written is no
    suggestion), then as `whole_lines`.

    Example: sure_part("x = self.get_", "value", 0) == "x = self." and sure_part("f(a, ", "b", 0) == "f(a, "
    """
    if typed_name(next_piece[:1]):  # the piece goes on with a word: the word's start so far goes
        text = text[: len(text) - len(typed_name(text, start))]
    return whole_lines(text, start)


LINES = ("auto", "single", "multi")


def statement_end(line_prefix: str, generated: str, depth_before: int = 0, lines: str = "auto") -> int | None:
    """The length of generated that completes the statement, or None if it goes on.

    The statement ends at a newline at bracket depth 0 outside a string. lines
    (`statement.lines`): single: at the first newline, whatever is open; multi:
    a statement that opens a block (ends with `:`) takes its indented body, up to
    the first line that is not indented deeper; auto: the body only where the
    cursor's line was empty (a block written from scratch), else as single but
    with lines continued inside brackets. A statement that loops ends where the loop starts
    (`loop_end`; where the body of a block goes on, a loop ends it too).

    Example: statement_end("x = f(", "a,\\n b)\\ny = 2", 0) == 6 and statement_end("x = ", "a.b_c.b_c.b_c.b_c") == 1
    """
    if lines == "single":
        newline = generated.find("\n")
        if newline >= 0:
            return len(generated[:newline].rstrip("\r"))
    allow_block = lines == "multi" or (lines == "auto" and not line_prefix.strip())
    text = line_prefix + generated
    data = text.encode("utf-8", "surrogatepass")
    base = len(line_prefix.encode("utf-8", "surrogatepass"))
    first_line = text.split("\n", 1)[0]  # the header's: the model may indent on an empty line
    indent = len(first_line) - len(first_line.lstrip(" \t"))
    depth = depth_before
    last_significant = None
    tokens = lex(text, roles=False)
    for tok in tokens:
        depth += (tok.type in OPEN) - (tok.type in CLOSE)
        if tok.type == "EOL" and depth <= 0 and tok.start >= base:
            if not (allow_block and last_significant == "COLON"):
                return _chars(data, base, tok.start)
            end = _block_end(data, tok.end, indent, base)
            if end is not None:
                return end
            break  # the body goes on: only a loop ends it now
        if tok.type not in ("WHITESPACE", "COMMENT", "EOL", "INDENT"):
            last_significant = tok.type
    return loop_end(generated, tokens, base)


def loop_end(generated: str, tokens, base: int) -> int | None:
    """The length of generated kept when it ends in a loop (`loop_start`) outside a string, a
    number or a comment (tokens: the lexed line prefix and generated, which starts at byte
    base): up to where the repetition starts, less the unfinished line it starts in unless that
    is the cursor's, and less a block's header left without a body; None without a loop.

    Example: loop_end("a.b_c.b_c.b_c.b_c", lex("x = a.b_c.b_c.b_c.b_c", roles=False), 4) == 1
    """
    loop = loop_start(generated)
    if loop is None or _inside(tokens, base + len(generated[:loop].encode("utf-8", "surrogatepass"))):
        return None  # a string's, a number's or a comment's characters repeat (`'xxxx'`, `0xFFFF`)
    kept = generated[:loop]
    newline = kept.rfind("\n")
    if newline >= 0:
        kept = kept[:newline].rstrip("\r")
    if kept.rstrip().endswith(":"):
        kept = kept[: max(kept.rfind("\n"), 0)]
    return len(kept)


def _inside(tokens, offset: int) -> bool:
    """Whether the byte offset is inside a string, a number or a comment of tokens (not at its start)."""
    return any(t.type in ("STRING", "NUMBER", "COMMENT") and t.start < offset < t.end for t in tokens)


REPEAT_BYTES = 8  # a body line this long that repeats a line above ends the body: a small model's loop


def _block_end(data: bytes, body_start: int, indent: int, base: int) -> int | None:
    """The end of a block body: before the first non-blank line indented <= indent, or before a
    line that repeats one of the statement's own (`for x in y:` nested in itself, the same `if`
    and `raise` again: small models loop; a short body rarely says one line twice).

    Example: _block_end(b"for x in y:\\n    for x in y:\\n", 12, 0, 0) == 11
    """
    seen = {line.strip() for line in data[data.rfind(b"\n", 0, base) + 1 : body_start].split(b"\n")}
    starts: list[int] = []  # of the body's lines so far
    pos = body_start
    while True:
        nl = data.find(b"\n", pos)
        line = data[pos:] if nl < 0 else data[pos:nl]
        stripped = line.lstrip(b" \t")
        if stripped and len(line) - len(stripped) <= indent:
            return _chars(data, base, pos - 1)
        if nl < 0:
            return None  # the body's last line is still being generated
        if len(stripped.strip()) >= REPEAT_BYTES and stripped.strip() in seen:
            while starts and data[starts[-1] : pos].rstrip().endswith(b":"):
                pos = starts.pop()  # nor a block opened just before it, left without a body
            return _chars(data, base, pos - 1)
        seen.add(stripped.strip())
        starts.append(pos)
        pos = nl + 1


# A piece said this many times in a row ends a statement: a small model's loop. Three is real
# code too often (`.parent.parent.parent`, `os.path.dirname(` nested, `(n, n, n, n)`).
LOOP_REPEATS = 4
LOOP_PIECE = (3, 32)  # the piece's shortest and longest, in characters
# A run of these alone is a real tuple or list (`None, None, None, None`, `_, _, _ = f()`), not a loop
_CONSTANTS_RUN = re.compile(r"(?:[\s,()\[\]]*\b(?:None|True|False|_)\b)+[\s,()\[\]]*\w*")


def loop_start(text: str) -> int | None:
    """Where the loop that text ends in starts: its end is a piece of 3 to 32 characters with a
    letter or `_` in it, said LOOP_REPEATS or more times in a row (`.books.books.books.books`; a small
    model that loops says it to the end of its budget), the loop starting where the repetition
    does, whichever token it began in. None if text does not end so: numbers, punctuation and
    the constants repeat in real code (`[0, 0, 0, 0]`, `"----"`, `(None, None, None, None)`), a
    name rarely does.

    Example: loop_start("x = a.books.books.books.books") == 5 and loop_start("f(0, 0, 0, 0, 0)") is None
    """
    shortest, longest = LOOP_PIECE
    for size in range(shortest, min(longest, len(text) // LOOP_REPEATS) + 1):
        piece = text[-size:]
        if not any(c.isalpha() or c == "_" for c in piece):
            continue
        start = len(text) - size
        while start >= size and text[start - size : start] == piece:
            start -= size
        if (len(text) - start) // size < LOOP_REPEATS:
            continue
        while start > 0 and text[start - 1] == text[start - 1 + size]:
            start -= 1  # it began inside a piece: `ledger.ledger.ledger.led` loops from its start
        if not _CONSTANTS_RUN.fullmatch(text, start):
            return start
    return None


def _chars(data: bytes, base: int, end: int) -> int:
    return len(data[base:end].decode("utf-8", "replace"))


# What an editor auto-pairs, or what stands after a cursor inside a call or a string.
CLOSERS = frozenset(")]}\"':")


def cut_suffix_repeat(generated: str, suffix_line: str) -> str:
    """Drop the end of generated where it repeats the text right after the cursor.

    Only when the repeat closes brackets opened before the cursor, or holds no
    brackets: `foo(|)` + `a, b)` -> `a, b`, but `foo(|)` + `bar()` stays. Where
    the rest of the line is only closers (`)`, `")`, `]:`: what an editor
    auto-pairs), the statement ends where the model writes them, whatever
    follows: `f("|")` + `.py"):` -> `.py`, never a second `")`.

    Example: cut_suffix_repeat("a, b)", ")") == "a, b" and cut_suffix_repeat('.py"):', '")') == ".py"
    """
    tail = suffix_line.strip()
    if tail and set(tail) <= CLOSERS:
        # a quote alone: its last place on the first line (`'` + `don't'` is `don't`); else the first
        at = _follows_at(generated.split("\n", 1)[0], tail, last=set(tail) <= {'"', "'"})
        if at is not None:
            return generated[:at]
    body = generated.rstrip()
    if not tail or not body.endswith(tail):
        return generated
    kept = body[: len(body) - len(tail)]
    if bracket_depth(tail) < 0 and bracket_depth(kept) + bracket_depth(tail) >= 0:
        return generated  # the generation's own brackets need that closer
    return kept


def cut_at_suffix(generated: str, suffix_line: str) -> str:
    """A filled-in middle, cut where the text after the cursor would follow it: the model saw
    that text (a FIM prompt), so what it writes from there on repeats or replaces it. The cut
    is at the first place where the rest of the line follows, not inside a name, and with no
    bracket of the middle's own open; else the end that repeats it is dropped, as without FIM.

    Example: cut_at_suffix("4))  # twelve", ")") == "4"; cut_at_suffix("f(x))", ")") == "f(x)";
             cut_at_suffix("_max = 1", " = 1") == "_max"; cut_at_suffix("a + bc + c", "c") == "a + bc + "
    """
    tail = suffix_line.strip()
    if not tail:
        return generated
    at = _follows_at(generated, tail)
    if at is not None:
        kept = generated[:at]
        return kept.rstrip() if suffix_line[:1].isspace() else kept
    return cut_suffix_repeat(generated, suffix_line)


def _follows_at(generated: str, tail: str, last: bool = False) -> int | None:
    """The first (last) place in generated where tail follows, not inside a name (at either end),
    with no bracket of generated's own open before it."""
    at = generated.rfind(tail) if last else generated.find(tail)
    while at >= 0:
        end = at + len(tail)
        inside_name = (_word(tail[0]) and at > 0 and _word(generated[at - 1])) or (
            _word(tail[-1]) and end < len(generated) and _word(generated[end])  # `pass` in `password`
        )
        if not inside_name and bracket_depth(generated[:at]) == 0:
            return at
        at = generated.rfind(tail, 0, at) if last else generated.find(tail, at + 1)
    return None


def _word(c: str) -> bool:
    return c.isalnum() or c == "_"
