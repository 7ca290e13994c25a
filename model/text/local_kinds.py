"""What jedi would call the names defined around the cursor, read from the text alone.

While jedi is late at a name, the list's correction (`listing/corrections.py`) lacks jedi's kinds:
the function's parameters ("param") and the variables it and the module assign ("statement")
weigh more than a name used elsewhere; and with no names of jedi's kept for the scope, these are
the names in scope (`listing/scope_names.read_names`). These are found here by lines, as Black writes them: an
assignment has a space before its `=` (a keyword argument on a call's own line has none). Read,
not parsed: a nested function's names count as the outer one's, and a `lambda`'s parameters in a
default or a `)` in a default's string are misread; jedi's answer, when it comes, replaces them.
"""

from __future__ import annotations

import keyword
import re

from .scopes import class_span, enclosing_defs

_NAME = r"(?<!\w)[^\W\d]\w*"  # from a word's start only: a long word is not rescanned from each character
_IDENTIFIER = re.compile(_NAME)
# `a, *b` (a trailing comma too), `(a, b)`, `[a, b]`
_TARGETS = rf"(?:[(\[][ \t]*)?((?:\*?{_NAME}[ \t]*,[ \t]*)*\*?{_NAME})[ \t]*(?:,[ \t]*)?(?:[)\]][ \t]*)?"
_AUGMENTED = r"(?:[-+*/%@&|^]|//|\*\*|>>|<<)?"  # `+=`; not `>=`, a comparison on a condition's own line
# `x = `, `a, b = `, `x: int = `, `n += `: the variables a function assigns
_ASSIGNED = re.compile(rf"^[ \t]*{_TARGETS}(?::[^=\n]*)?[ \t]{_AUGMENTED}=(?!=)", re.M)
_CHAINED = re.compile(rf"[ \t]=[ \t]*({_NAME})[ \t]+=(?!=)")  # `count` of `total = count = 0`
# and those it binds otherwise: a loop's (a comprehension's too), `:=`, and `with`'s and `except`'s `as`
_BOUND = re.compile(rf"\bfor[ \t]+([\w, \t()]{{1,200}}?)[ \t]+in\b|({_NAME})[ \t]*:=")
_WITH = re.compile(r"^[ \t]*(?:async[ \t]+)?(?:with|except)\b[^\n]*", re.M)
_AS = re.compile(rf"\bas[ \t]+({_NAME})")
_DEFINED = re.compile(rf"^[ \t]*(?:async[ \t]+)?(def|class)[ \t]+({_NAME})", re.M)  # a nested function's too
_ANNOTATED = re.compile(rf"^[ \t]*({_NAME})[ \t]*:[^=\n]*$", re.M)  # `width: int`, with no value
_DOCSTRING = re.compile(r"(\"\"\"|''')[\s\S]*?(?:\1|$)")  # its `Args:` is not an annotation
_AT_COLUMN_0 = re.compile(rf"^{_TARGETS}(?::[^=\n]*)?[ \t]=(?!=)", re.M)  # the module's variables
# and those in a block at the module's level: `if __name__ == "__main__":`, `try:`, `for`, `with`
_MODULE_BLOCK = re.compile(r"^(?:async[ \t]+)?(?:if|elif|else|try|except|finally|with|for|while)\b[^\n]*\n", re.M)
_AT_COLUMN_0_CODE = re.compile(r"\n(?=[^\s#])")  # the next line at column 0 (a block's end)
_COMMENT = re.compile(r"#[^\n]*")
HEADER_CHARS = 4000  # read of a def's header at most (its parameters)
MODULE_CHARS = 250_000  # scanned above the cursor for the module's variables at most
BLOCK_CHARS = 50_000  # of those, read for the blocks at the module's level (their lines cost more to read)


def local_kinds(text: str, cursor: int) -> dict[str, str]:
    """The parameters of the `def`s that hold the cursor ("param"; a closure sees its outer
    function's), and the names assigned or bound in their bodies above the cursor and at the
    module's level ("statement"); right in a class's body, the class's names above.

    Example: local_kinds("N = 3\\ndef f(a, *b, c=1):\\n    for i in a:\\n        x = i\\n    ", 59) == {"N": "statement", "i": "statement", "x": "statement", "a": "param", "b": "param", "c": "param"}
    """
    kinds = _module_names(text, cursor)
    defs, line = enclosing_defs(text, cursor), text.rfind("\n", 0, cursor) + 1
    if defs:
        read = [_parameters(text, start, cursor) for start in reversed(defs)]  # outermost first
        body = _DOCSTRING.sub("", text[read[0][1] : line])  # the outermost's holds the inner ones' (theirs count)
        kinds.update((name, "statement") for name in _assigned(body))
        kinds.update(_defined(body))
        kinds.update((name, "param") for params, _ in read for name in params)
    elif (span := class_span(text, cursor)) is not None:  # right in a class's body
        own = _own_lines(_DOCSTRING.sub("", text[text.find("\n", span[0], line) + 1 : line]))
        kinds.update((name, "statement") for name in _assigned(own))
        kinds.update(_defined(own))
    return {name: kind for name, kind in kinds.items() if not keyword.iskeyword(name)}  # `else: x = 1`


def _module_names(text: str, cursor: int) -> dict[str, str]:
    """The names the module assigns above the cursor ("statement"): at column 0, and in a block at
    its level (its header's targets, its lines' but a function's or class's body in it), with the
    functions and classes defined there."""
    low = 0
    if cursor > MODULE_CHARS:  # from a line's start (none in reach: nothing above is read)
        low = text.find("\n", cursor - MODULE_CHARS - 1, cursor) + 1 or cursor
    above = text[low : text.rfind("\n", 0, cursor) + 1]
    kinds = {n: "statement" for m in _AT_COLUMN_0.finditer(above) for n in _IDENTIFIER.findall(m.group(1))}
    quotes, counted = [0, 0], 0  # the triple quotes of each kind before `counted`: counted once, forward
    for header in _MODULE_BLOCK.finditer(above, max(0, len(above) - BLOCK_CHARS)):
        quotes = [n + above.count(q, counted, header.start()) for n, q in zip(quotes, ('"""', "'''"), strict=True)]
        counted = header.start()
        if quotes[0] % 2 or quotes[1] % 2:
            continue  # in a docstring (an odd number opened before it, roughly): prose, `for each item in the list:`
        end = _AT_COLUMN_0_CODE.search(above, header.end() - 1)
        block = _COMMENT.sub("", header.group() + above[header.end() : end.start() + 1 if end else len(above)])
        own = _outside_definitions(_DOCSTRING.sub("", block))
        kinds.update((name, "statement") for name in _assigned(own))
        kinds.update(_defined(own))
    return kinds


def _assigned(body: str) -> list[str]:
    names = [n for m in _ASSIGNED.finditer(body) for n in _IDENTIFIER.findall(m.group(1))]
    names += _CHAINED.findall(body) + _ANNOTATED.findall(body)  # (a keyword, `else:`, is dropped)
    for m in _BOUND.finditer(body):
        names += _IDENTIFIER.findall(m.group(1) or m.group(2))
    return names + [n for m in _WITH.finditer(body) for n in _AS.findall(m.group())]


def _defined(body: str) -> dict[str, str]:
    """The functions ("function") and classes ("class") a body defines."""
    return {m.group(2): "function" if m.group(1) == "def" else "class" for m in _DEFINED.finditer(body)}


def _outside_definitions(block: str) -> str:
    """A block's lines but those of the bodies (and headers' continued lines) of the functions and
    classes defined in it."""
    kept, inside = [], -1  # the indentation of the definition whose body is skipped (-1: none)
    for line in block.split("\n"):
        indent = len(line) - len(line.lstrip(" \t"))
        # its body, a blank line, or its header's closing bracket (`):`, `) -> int:`, as Black writes them)
        if inside >= 0 and (indent > inside or not line.strip(" \t\r") or line.lstrip(" \t")[:1] in ")]}"):
            continue
        inside = indent if _DEFINED.match(line) else -1
        kept.append(line)
    return "\n".join(kept) + "\n"


def _own_lines(body: str) -> str:
    """The lines of a block's body at its first line's indentation (not those of its methods)."""
    lines = [line for line in body.split("\n") if line.strip(" \t\r")]
    if not lines:
        return ""
    indent = len(lines[0]) - len(lines[0].lstrip(" \t"))
    return "\n".join(line for line in lines if len(line) - len(line.lstrip(" \t")) == indent) + "\n"


def _parameters(text: str, start: int, cursor: int) -> tuple[list[str], int]:
    """The parameters of the def whose header starts at start, and where its body starts (none, and
    cursor, where the header is not closed before it)."""
    header = text[start : min(cursor, start + HEADER_CHARS)]
    header = _COMMENT.sub(lambda m: " " * len(m.group()), header)  # blanked, not cut: offsets hold
    opened = header.find("(")
    if opened < 0:
        return [], cursor
    depth, params, part = 0, [], ""
    for i, char in enumerate(header[opened:], opened):
        depth += (char in "([{") - (char in ")]}")
        if depth == 0 or (depth == 1 and char == ","):
            params += _IDENTIFIER.findall(part.lstrip(" \t\r\n*"))[:1]
            part = ""
            if depth == 0:
                return params, start + i + 1
        elif depth >= 1 and (depth > 1 or char != "("):
            part += char
    return [], cursor
