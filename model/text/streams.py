"""The two input streams: BPE token ids and, for each, a lexical type (CodeFill).

Each BPE token takes the type of the lexical token holding its first
non-whitespace byte: with identifiers pre-tokenized as ` name`, the leading
space is trivia of the name that follows, and a token that is all whitespace
takes the type of its first byte (EOL, INDENT or WHITESPACE).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nib.model.text.lexer import LOOKAHEAD_ROLES, TYPE_ID, TYPES, lex

# The input stream may only use what the text so far shows. CALL and KWARG are
# known only once `(` or `=` follows, so inputs see them as NAME; the type
# *targets* keep them, since predicting them is the auxiliary task.
INPUT_TYPE = np.array(
    [TYPE_ID["NAME"] if name in LOOKAHEAD_ROLES else i for i, name in enumerate(TYPES)], dtype=np.uint8
)
_WS = np.zeros(256, dtype=bool)
_WS[list(b" \t\n\r\f\v")] = True


def byte_types(text: str) -> tuple[bytes, np.ndarray]:
    """The UTF-8 bytes of text and the type id of the lexical token over each byte."""
    data = text.encode("utf-8", "surrogatepass")
    types = np.zeros(len(data), dtype=np.uint8)
    for tok in lex(text):
        types[tok.start : tok.end] = TYPE_ID[tok.type]
    return data, types


def token_types(text: str, ids: list[int], token_bytes: Sequence[bytes]) -> np.ndarray:
    """The type id of each BPE token of text (ids must encode text exactly).

    Example: token_types("x.y", [0, 1, 2], [b"x", b".", b"y"]).tolist() ==
             [TYPE_ID["NAME"], TYPE_ID["DOT"], TYPE_ID["ATTRIBUTE"]]
    """
    data, types = byte_types(text)
    return align(data, types, ids, token_bytes)


def align(data: bytes, types: np.ndarray, ids, token_bytes: Sequence[bytes]) -> np.ndarray:
    if not len(ids):
        return np.zeros(0, dtype=np.uint8)
    lengths = np.fromiter((len(token_bytes[i]) for i in ids), dtype=np.int64, count=len(ids))
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    ends = starts + lengths
    n = len(data)
    # next_content[i]: the first non-whitespace byte at or after i (n if none).
    ws = _WS[np.frombuffer(data, dtype=np.uint8)] if n else np.zeros(0, dtype=bool)
    idx = np.where(ws, n, np.arange(n))
    next_content = np.minimum.accumulate(idx[::-1])[::-1] if n else idx
    next_content = np.append(next_content, n)
    first = next_content[np.minimum(starts, n)]
    pick = np.where(first < ends, first, starts)
    return types[np.minimum(pick, max(n - 1, 0))] if n else np.zeros(len(ids), dtype=np.uint8)
