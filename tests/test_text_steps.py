"""Pure text steps: context window, lexemes, stop rules, suffix cut, healing, positions, settings."""

import numpy as np
import pytest

from nib.model.context import build_context
from nib.model.decode import Decoder
from nib.model.heal import Canonical, VocabIndex, advance, back_off, constrain
from nib.model.runtime import State
from nib.model.engine import _edit
from nib.model.lexeme import first_lexeme, lexeme_span, typed_name
from nib.model.stops import bracket_depth, cut_suffix_repeat, statement_end
from nib.server.positions import line_starts, offset_at, position_at
from nib.server.settings import Settings, parse


# -- context -------------------------------------------------------------------

def test_context_small_file_is_whole_prefix():
    ctx = build_context("import os\nos.pa", 15, 100)
    assert (ctx.window_start, ctx.prefix, ctx.line_prefix, ctx.suffix_line, ctx.at_file_start) == (
        0, "import os\nos.pa", "os.pa", "", True)


def test_context_suffix_line_excludes_line_break():
    ctx = build_context("f(x)\r\nnext", 2, 100)
    assert (ctx.line_prefix, ctx.suffix_line) == ("f(", "x)")


def test_context_window_is_stable_while_typing():
    text = "".join(f"line_{i} = call({i})\n" for i in range(400))
    cursor = text.index("line_300")
    starts = {build_context(text[:cursor + k], cursor + k, 200).window_start for k in range(0, 12)}
    assert len(starts) == 1
    ctx = build_context(text, cursor, 200)
    assert ctx.window_start > 0 and text[ctx.window_start - 1] == "\n"
    assert len(ctx.prefix) <= 600 and not ctx.at_file_start


def test_context_never_empty_at_line_start():
    text = "a = 1\n" * 500
    cursor = 1536  # a line start that is also a chunk boundary
    assert text[cursor - 1] == "\n"
    ctx = build_context(text, cursor, 10)
    assert ctx.prefix.endswith("\n") and len(ctx.prefix) > 0


# -- lexemes -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    (" foo(", (" foo", True)), ("fo", ("fo", False)), ("=", ("=", False)), ("= ", ("=", True)),
    ("==", ("==", True)), ('"abc', ('"abc', False)), ('"abc" ', ('"abc"', True)), ("x.y", ("x", True)),
    ("\nfoo", None), ("", None), (" 12)", (" 12", True)), ('b"x"', ('b"x"', True)), ("**", ("**", False)),
    ("**k", ("**", True)), ("):", (")", True)), ("éa+", ("éa", True)), ("# c", None),
])
def test_first_lexeme(text, expected):
    assert first_lexeme(text) == expected


@pytest.mark.parametrize("text, cursor, expected", [
    ("))\n", 2, None), ("pr", 1, (0, 2, False)), ("foo(x", 3, (3, 4, True)), (" ==", 2, (1, 3, True)),
    ("\n    return x", 5, (5, 11, True)), ("(x)", 1, (1, 2, True)), ("  x", 0, (2, 3, False)),
])
def test_lexeme_span(text, cursor, expected):
    assert lexeme_span(text, cursor) == expected


@pytest.mark.parametrize("gen, removed, cursor, whole, expected", [
    (" ==", " =", 10, False, ("==", 9, "==")),  # `x =|` completes to `==`: replaces the typed `=`
    ("(x", "(", 10, False, ("x", 10, "x")),  # after `(`: inserts the next token
    ("pri" + "nt", "pri", 10, False, ("print", 7, "print")),  # mid-word: replaces `pri`
    ("\n    return", "\n    ", 10, False, ("return", 10, "return")),  # healed indentation is context
    ("pri" + "nt(x)", "pri", 10, True, ("print(x)", 7, "print(x)")),  # a statement from mid-word
    ("))\n", "))", 10, False, None),
])
def test_edit(gen, removed, cursor, whole, expected):
    c = _edit(gen, removed, cursor, whole)
    assert (None if c is None else (c.text, c.start, c.label)) == expected


# -- stop rules ----------------------------------------------------------------

@pytest.mark.parametrize("line, gen, depth, block, expected", [
    ("x = f(", "a,\n b)\ny = 2", 0, False, "a,\n b)"),
    ("x = ", "1\ny = 2", 0, False, "1"),
    ("s = ", '"""a\nb"""\nx', 0, False, '"""a\nb"""'),
    ("    a,", " b)\n", 1, False, " b)"),  # the line is inside a bracket opened above
    ("    foo(a,", " b)\n", 1, False, None),
    ("if x", ":\n    y = 1\n    z = 2\nfoo", 0, True, ":\n    y = 1\n    z = 2"),
    ("if x", ":\n    y = 1\n", 0, False, ":"),
    ("x = [", "1, 2", 0, False, None),
    ("x = '", "a\nb", 0, False, "a"),  # a one-line string ends at the line end
    ("y = 1  ", "# note\nz", 0, False, "# note"),
])
def test_statement_end(line, gen, depth, block, expected):
    end = statement_end(line, gen, depth, block)
    assert (gen[:end] if end is not None else None) == expected


@pytest.mark.parametrize("gen, suffix, expected", [
    ("a, b)", ")", "a, b"),
    ("bar()", ")", "bar()"),  # its own closer: kept
    ("bar())", ")", "bar()"),
    ("x", "", "x"),
    ("items]", "]", "items"),
    ("name, value)", ")  # comment", "name, value)"),
    ("value", "value", ""),
])
def test_cut_suffix_repeat(gen, suffix, expected):
    assert cut_suffix_repeat(gen, suffix) == expected


def test_bracket_depth_ignores_strings():
    assert bracket_depth("f(a, [b, '(") == 2


@pytest.mark.parametrize("text, start, end, typed", [
    ("    os.pa", 0, None, "pa"), ("x = ", 0, None, ""), ("import os\nos.pat", 10, 16, "pat"),
    ("f(a, se", 0, None, "se"), ("été_x", 0, None, "été_x"), ("ab.cd", 0, 2, "ab"), ("", 0, None, ""),
])
def test_typed_name(text, start, end, typed):
    assert typed_name(text, start, end) == typed


# -- healing -------------------------------------------------------------------

VOCAB = [b"<|endoftext|>", b"p", b"r", b"i", b"n", b"t", b"v", b"a", b"e", b"pr", b"pri", b"print", b"private", b" ", b"=",
         b" =", b" ==", b"==", b"x", b"(", b"(\"", b"\"", b"\xc3", b"\xa9", b"\xc3\xa9", b"\xc3\xa9t\xc3\xa9",
         b"\n", b"int"]
INDEX = VocabIndex(VOCAB, {0})


def ids(*pieces):
    return [VOCAB.index(p) for p in pieces]


@pytest.mark.parametrize("tokens, keep, removed", [
    (ids(b"x", b" =", b"pri"), 2, b"pri"),  # `pri|` extends to print/private
    (ids(b"x", b" ="), 1, b" ="),  # ` =` may become ` ==`
    (ids(b"x", b" =", b"pr", b"i"), 2, b"pri"),  # two tokens that one token covers
    (ids(b"x", b"print"), 2, b""),  # nothing extends `print`: no back-off
    ([0] + ids(b"pri"), 1, b"pri"),  # never across <|endoftext|>
    (ids(b"pri"), 1, b""),  # never the whole prompt
    (ids(b"x", b"\xc3"), 1, b"\xc3"),  # a split UTF-8 character
])
def test_back_off(tokens, keep, removed):
    assert back_off(tokens, INDEX) == (keep, removed)


def test_allowed_tokens_extend_or_prefix_the_removed_bytes():
    allowed = sorted(VOCAB[i] for i in INDEX.allowed(b"pri"))
    assert allowed == [b"p", b"pr", b"pri", b"print", b"private"]


def test_constrain_renormalises_over_allowed():
    import numpy as np
    lp = np.log(np.full(len(VOCAB), 1 / len(VOCAB)))
    out = constrain(lp, b" =", INDEX)
    allowed = {VOCAB.index(b" "), VOCAB.index(b" ="), VOCAB.index(b" ==")}
    assert {i for i in range(len(VOCAB)) if out[i] > -np.inf} == allowed
    assert np.isclose(np.exp(out[list(allowed)]).sum(), 1.0)


def test_advance():
    assert advance(b"pri", b"pr") == b"i"
    assert advance(b"pri", b"print") == b""
    assert advance(b"i", b"i") == b""


def greedy_encode(data: bytes) -> list[int]:
    """Longest match first: the test vocabulary's stand-in for BPE (canonical encodings)."""
    toks = []
    while data:
        piece = max((v for v in VOCAB[1:] if data.startswith(v)), key=len)
        toks.append(VOCAB.index(piece))
        data = data[len(piece):]
    return toks


class TableModel:
    """A runtime whose next-token probabilities are a function of the bytes so far.

    Its cache "keys" are the token ids themselves, so batched steps work as in the real runtime.
    """

    uses_types = False

    def __init__(self, next_probs):
        self.next_probs = next_probs  # bytes so far -> {piece: probability}

    def logits(self, tokens) -> np.ndarray:
        out = np.full(len(VOCAB), -40.0)
        for piece, p in self.next_probs(b"".join(VOCAB[t] for t in tokens)).items():
            out[VOCAB.index(piece)] = np.log(p)
        return out

    def state(self, tokens) -> State:
        cache = np.array(tokens, dtype=np.int64)[None, None, None, :, None]
        return State(tuple(tokens), (0,) * len(tokens), cache, cache)

    def step(self, state, token, type_):
        tokens = state.tokens + (token,)
        return self.logits(tokens), self.state(tokens)

    def step_batch(self, keys, values, tokens, types):
        keys = np.concatenate([keys, np.array(tokens)[None, :, None, None, None]], axis=3)
        return np.stack([self.logits(keys[0, b, 0, :, 0].tolist()) for b in range(len(tokens))]), keys, keys


def copying_model(original: bytes):
    """Prefers the canonical next token of `original`; after a wrong turn, anything."""
    def next_probs(so_far):
        if not original.startswith(so_far) or so_far == original:
            return {v: 1 / 30 for v in VOCAB[1:]}
        rest = original[len(so_far):]
        return {v: (0.9 if VOCAB.index(v) == greedy_encode(rest)[0] else 0.1 / 30) for v in VOCAB[1:]
                if v != b"\n" or rest.startswith(v)}
    return next_probs


@pytest.mark.parametrize("mode", ["prefix", "exact"])
def test_healed_copy_model_reproduces_text(mode):
    """For random prompts and cut points, healed decoding with a copying model gives back the original bytes."""
    import random
    rng = random.Random(1)
    words = [b"print", b"private", b"x", b" ==", b" =", b" ", b"pr", b"int"]
    for _ in range(200):
        original = b"".join(rng.choice(words) for _ in range(4)) + b"\n"
        cut = rng.randrange(1, len(original))
        model = TableModel(copying_model(original))
        decoder = Decoder(model, INDEX, Canonical(lambda t: greedy_encode(t.encode()), VOCAB))
        toks = greedy_encode(original[:cut])
        keep, removed = back_off(toks, INDEX)
        kept = b"".join(VOCAB[t] for t in toks[:keep])
        text, _ = decoder.statement(model.logits(toks[:keep]), model.state(toks[:keep]), removed,
                                    original[:cut].decode(), 0, exact=mode == "exact")
        assert kept + text.encode() == original[:-1], (original, cut)


def test_exact_cover_weighs_whole_paths():
    """`pr` is the likeliest first piece, but `pr`+`int` (p 0.5 x 0.1) is less likely than `print` (0.3):
    exact picks the most probable cover, prefix the greedy first step; (`pr`, `i`) is not canonical."""
    probs = {b"": {b"pr": 0.5, b"print": 0.3, b"p": 0.2}, b"pr": {b"int": 0.1, b"i": 0.9}}
    model = TableModel(lambda so_far: probs.get(so_far[1:], {b"\n": 1.0}))
    decoder = Decoder(model, INDEX, Canonical(lambda t: greedy_encode(t.encode()), VOCAB))
    start = ids(b"x")
    cover = decoder.best_cover(model.logits(start), model.state(start), b"pri", b"x")
    assert [VOCAB[t] for t in cover] == [b"print"]
    prefix = decoder.statement(model.logits(start), model.state(start), b"pri", "xpri", 0)
    assert prefix[0].startswith("pri") and not prefix[0].startswith("print")


@pytest.mark.parametrize("a, b, canonical", [
    (b"pr", b"int", False), (b"pr", b"i", False), (b"x", b" ==", True), (b"x", b" =", True),
    (b" =", b"=", False), (b"\xc3", b"\xa9", False), (b"print", b"x", True),
])
def test_canonical_pairs(a, b, canonical):
    check = Canonical(lambda t: greedy_encode(t.encode()), VOCAB)
    assert check(VOCAB.index(a), VOCAB.index(b)) is canonical


def test_constrain_without_renormalising_keeps_joint_scores():
    lp = np.log(np.full(len(VOCAB), 1 / len(VOCAB)))
    out = constrain(lp, b" =", INDEX, renormalise=False)
    assert np.allclose(out[[VOCAB.index(b" "), VOCAB.index(b" ="), VOCAB.index(b" ==")]], lp[0])


# -- positions -----------------------------------------------------------------

TEXT = "a😀b\r\nxé\rz"


@pytest.mark.parametrize("line, character, encoding, offset", [
    (0, 3, "utf-16", 2), (0, 2, "utf-16", 1), (0, 1, "utf-16", 1),
    (0, 3, "utf-8", 1), (0, 5, "utf-8", 2), (0, 99, "utf-16", 3),
    (1, 2, "utf-8", 6), (1, 3, "utf-8", 7), (2, 1, "utf-32", 9), (9, 0, "utf-16", 9), (-1, 0, "utf-16", 0),
])
def test_offset_at(line, character, encoding, offset):
    assert offset_at(TEXT, line_starts(TEXT), line, character, encoding) == offset


@pytest.mark.parametrize("offset, encoding, position", [
    (2, "utf-16", (0, 3)), (2, "utf-8", (0, 5)), (7, "utf-8", (1, 3)), (10, "utf-16", (2, 1)), (99, "utf-16", (2, 1)),
])
def test_position_at(offset, encoding, position):
    assert position_at(TEXT, line_starts(TEXT), offset, encoding) == position


# -- settings ------------------------------------------------------------------

def test_settings_defaults_and_camel_case():
    settings, warnings = parse({"maxTokens": 12, "healing": "off", "statementInList": False})
    assert warnings == []
    assert (settings.max_tokens, settings.healing, settings.statement_in_list) == (12, "off", False)


def test_bad_settings_warn_and_keep_defaults():
    settings, warnings = parse({"maxTokens": "x", "healing": "exact2", "foo": 1, "listSize": 0, "enable": "yes"})
    assert settings == Settings()
    assert warnings == [
        "nib: setting maxTokens must be an integer, got 'x'; using the default 32",
        "nib: setting healing must be one of off, prefix, exact, got 'exact2'; using the default 'exact'",
        "nib: unknown setting 'foo' ignored",
        "nib: setting listSize must be between 1 and 50, got 0; using the default 5",
        "nib: setting enable must be true or false, got 'yes'; using the default True",
    ]


def test_settings_not_an_object():
    assert parse([1, 2]) == (Settings(), ["nib: settings must be an object, got list; using defaults"])


# -- line starts kept in step with edits ---------------------------------------

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402

from nib.server.positions import edit_line_starts  # noqa: E402

TEXTS = st.text(alphabet="ab\r\n😀", max_size=30)


@hsettings(max_examples=2000, deadline=None)
@given(TEXTS, TEXTS, st.data())
def test_edited_line_starts_equal_a_rescan(old, inserted, data):
    a = data.draw(st.integers(0, len(old)))
    b = data.draw(st.integers(a, len(old)))
    new = old[:a] + inserted + old[b:]
    assert edit_line_starts(line_starts(old), new, a, b, len(inserted)) == line_starts(new)


# -- the editors mirror the server's settings one to one ---------------------------

def test_vscode_configuration_mirrors_the_server_settings():
    import json
    from dataclasses import fields
    from pathlib import Path

    from nib.server.settings import CHOICES, LIMITS, camel

    package = json.loads((Path(__file__).parent.parent / "editors" / "vscode" / "package.json").read_text())
    props = package["contributes"]["configuration"]["properties"]
    server = {k[len("nib."):]: v for k, v in props.items() if not k.startswith("nib.server.")}
    assert list(server) == [camel(f.name) for f in fields(Settings)]
    for f in fields(Settings):
        prop = server[camel(f.name)]
        assert prop["default"] == f.default and prop["description"], f.name
        assert prop.get("enum") == (list(CHOICES[f.name]) if f.name in CHOICES else None)
        assert (prop.get("minimum"), prop.get("maximum")) == LIMITS.get(f.name, (None, None))
