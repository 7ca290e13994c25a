"""The prompt's tokens: the window's last tokens after the sequence's marker, the project context
in whole pieces within its budget, the text after the cursor for a model that fills in the middle,
and the tokens the cursor may split backed off."""

from nib.model.completion.prompt import (
    LINE_STEP,
    MIDDLE_GRID,
    SUFFIX_TOKENS,
    Healing,
    Tokens,
    heal,
    infill_line,
    lex,
    project_tokens,
    split_line,
    suffix_tokens,
)
from nib.model.completion.request import Project
from nib.model.text.context import Context
from nib.model.text.heal import VocabIndex

BOS, EOT, REPO, SEP = 256, 257, 258, 259


class Bytes:
    """A tokenizer of one token per byte, with the markers a test gives it."""

    def __init__(self, bos=None, eot=None, fim=None, repo=None):
        self.bos, self.eot, self.fim, self.repo = bos, eot, fim, repo
        self.token_bytes = [bytes([b]) for b in range(256)] + [b""] * 4

    def encode(self, text: str) -> list[int]:
        return list(text.encode())


def context(prefix: str, at_file_start: bool = False, suffix: str = "") -> Context:
    return Context(0, prefix, prefix.rsplit("\n", 1)[-1], "", at_file_start, suffix)


def test_the_windows_last_tokens_after_the_marker():
    assert lex(context("abcdef"), Bytes(bos=BOS), False, budget=4).ids == [BOS, *b"def"]  # bos always
    assert lex(context("abcdef", at_file_start=True), Bytes(eot=EOT), False, 4).ids == list(b"cdef")
    assert lex(context("ab", at_file_start=True), Bytes(eot=EOT), False, 4).ids == [EOT, *b"ab"]
    assert lex(context("ab"), Bytes(eot=EOT), False, 4).ids == list(b"ab")  # not the file's start: no eot
    assert lex(context("ab", at_file_start=True), Bytes(bos=BOS), False, 4, marker=False).ids == list(b"ab")


def test_project_context_keeps_the_most_relevant_pieces_that_fit_whole():
    project = Project("shop", (("a.py", "AAAA"), ("b.py", "B")), "main.py")
    comments = project_tokens(project, Bytes(), False, budget=200, layout="comments")
    assert bytes(comments.ids).decode() == "# file: a.py\nAAAA\n\n# file: b.py\nB\n\n# file: main.py\n"
    tight = project_tokens(project, Bytes(), False, budget=35, layout="comments")
    assert bytes(tight.ids).decode() == "# file: b.py\nB\n\n# file: main.py\n"  # the last piece only
    assert project_tokens(project, Bytes(), False, budget=10, layout="comments") == Tokens([], [])


def test_project_context_in_the_models_repository_format_where_it_has_one():
    project = Project("shop", (("a.py", "A"),), "main.py")
    repo = project_tokens(project, Bytes(repo=(REPO, SEP)), False, budget=200, layout="repo")
    assert repo.ids == [REPO, *b"shop\n", SEP, *b"a.py\nA\n", SEP, *b"main.py\n"] and set(repo.types) == {0}
    # without the model's tokens, comments: a file that spells the markers never makes them
    assert REPO not in project_tokens(project, Bytes(), False, budget=200, layout="repo").ids


def test_the_text_after_the_cursor_only_for_a_model_that_fills_in_the_middle():
    fim = Bytes(fim=(1, 2, 3))
    assert suffix_tokens(context("x = ", suffix=")\n"), fim, "psm") == list(b")\n")
    assert suffix_tokens(context("x = ", suffix="y" * 500), fim, "spm") == [ord("y")] * SUFFIX_TOKENS
    assert suffix_tokens(context("x = ", suffix="  \n\n"), fim, "psm") is None  # blanks only
    assert suffix_tokens(context("x = ", suffix=")"), fim, "off") is None
    assert suffix_tokens(context("x = ", suffix=")"), Bytes(), "psm") is None  # no FIM tokens


def test_the_line_layout_puts_the_cursor_s_line_in_the_middle_and_heals_it_there():
    window = context("def function_name():\n    return g(\n    x = pri", suffix=")\n")
    above, line = split_line(window, Bytes(), budget=100)
    assert (bytes(above.ids), bytes(line.ids)) == (b"def function_name():\n    return g(\n", b"    x = pri")
    above, line = split_line(window, Bytes(), budget=11 + LINE_STEP + 3)  # the line first, then the window's last
    assert (bytes(above.ids), bytes(line.ids)) == (
        b"def function_name():\n    return g(\n"[-LINE_STEP:],
        b"    x = pri",
    )
    typed = context(
        "def function_name():\n    return g(\n    x = print", suffix=")\n"
    )  # two keys later: the same window
    assert split_line(typed, Bytes(), budget=11 + LINE_STEP + 3)[0] == above
    assert split_line(window, Bytes(), budget=5) == (Tokens([], []), Tokens(list(b"= pri"), [0] * 5))
    long_line = context("x = 1\n" + "y" * (LINE_STEP + 10), suffix=")")  # longer than the budget
    assert split_line(long_line, Bytes(), budget=LINE_STEP) == (Tokens([], []), Tokens(list(b"y" * 10), [0] * 10))
    longer = context("x = 1\n" + "y" * (LINE_STEP + 11), suffix=")")  # a key later: the same start
    assert split_line(longer, Bytes(), budget=LINE_STEP)[1].ids == list(b"y" * 11)
    prompt = infill_line(above, line, list(b")\n"), (1, 2, 3))
    assert prompt.ids == [1, *above.ids, 2, *b")\n", 3, *b"    x = pri"] and set(prompt.types) == {0}
    pieces = [bytes([b]) for b in range(256)] + [b"print"]
    pieces[1:4] = [b"", b"", b""]  # the FIM markers: control tokens, no bytes
    index = VocabIndex(pieces, (1, 2, 3))
    assert heal(prompt, index, "exact").removed == b"pri"  # backed off inside the middle
    typed = infill_line(Tokens([], []), Tokens(list(b"pri"), [0] * 3), [], (1, 2, 3))
    assert heal(typed, index, "exact") == Healing(3, b"pri", "pri")  # never past the middle's marker


def test_healing_backs_off_a_split_token_but_never_inside_a_character():
    index = VocabIndex([b"x", b".", b"pri", b"print", b"\xc3", b"\xc3\xa9"], ())
    assert heal(Tokens([0, 1, 2], [0] * 3), index, "off").keep == 3
    half = heal(Tokens([0, 4], [0, 0]), index, "exact")  # the last token is half of `é`
    assert (half.keep, half.removed) == (2, b"")


def test_the_line_layout_s_middle_starts_on_a_grid_so_a_line_break_keeps_the_prompt_before_it():
    head = "x = 1\n" * 50  # 300 characters, line starts every 6: the first at or after 256 is 258
    assert MIDDLE_GRID == 256
    above, middle = split_line(context(head + "    y = f("), Bytes(), budget=1000)
    assert (bytes(above.ids).decode(), bytes(middle.ids).decode()) == (head[:258], head[258:] + "    y = f(")
    next_line = context(head + "    y = f(a)\n    z")  # a line break later: the text above is the same
    assert split_line(next_line, Bytes(), budget=1000)[0] == above
    later = Context(1000, head + "    y = f(", "    y = f(", "", False)  # the grid is the document's:
    assert bytes(split_line(later, Bytes(), budget=1000)[0].ids).decode() == head[:282]  # 1282: after 5 * 256
    short = context("x = 1\n" * 3 + "    y")  # no grid mark with text above it: the cursor's line
    assert bytes(split_line(short, Bytes(), budget=1000)[1].ids) == b"    y"
