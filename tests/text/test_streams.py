"""The type stream beside the BPE ids: each token takes the lexical type of its first
non-blank byte, and the input stream never shows what only a later character reveals."""

from nib.model.text.lexer import TYPE_ID
from nib.model.text.streams import INPUT_TYPE, token_types

T = TYPE_ID


def types_of(text: str, pieces: list[bytes]) -> list[str]:
    assert b"".join(pieces) == text.encode()
    names = {v: k for k, v in T.items()}
    return [names[t] for t in token_types(text, list(range(len(pieces))), pieces).tolist()]


def test_a_token_with_a_leading_space_takes_the_type_of_what_follows_the_space():
    assert types_of("x = f(a)", [b"x", b" =", b" f", b"(", b"a", b")"]) == [
        "NAME",
        "EQUAL",
        "CALL",
        "LPAR",
        "NAME",
        "RPAR",
    ]


def test_an_all_blank_token_takes_the_type_of_its_first_byte():
    assert types_of("if a:\n    b", [b"if", b" a", b":", b"\n", b"    ", b"b"]) == [
        "KEYWORD",
        "NAME",
        "COLON",
        "EOL",
        "INDENT",
        "NAME",
    ]


def test_the_input_stream_shows_a_call_or_keyword_argument_as_a_name():
    """`f` is a CALL only once `(` follows: a prompt ending in `f` must not already say so."""
    assert INPUT_TYPE[T["CALL"]] == INPUT_TYPE[T["KWARG"]] == T["NAME"]
    assert INPUT_TYPE[T["ATTRIBUTE"]] == T["ATTRIBUTE"] and INPUT_TYPE[T["DOT"]] == T["DOT"]


def test_no_tokens_no_types():
    assert token_types("", [], []).tolist() == []
