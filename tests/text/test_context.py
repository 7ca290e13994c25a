"""The prompt window: the text before the cursor, stable while typing."""

from nib.model.text.context import build_context


def test_context_small_file_is_whole_prefix():
    ctx = build_context("import os\nos.pa", 15, 100)
    assert (ctx.window_start, ctx.prefix, ctx.line_prefix, ctx.suffix_line, ctx.at_file_start) == (
        0,
        "import os\nos.pa",
        "os.pa",
        "",
        True,
    )


def test_context_suffix_line_excludes_line_break():
    ctx = build_context("f(x)\r\nnext", 2, 100)
    assert (ctx.line_prefix, ctx.suffix_line) == ("f(", "x)")


def test_context_window_is_stable_while_typing():
    text = "".join(f"line_{i} = call({i})\n" for i in range(400))
    cursor = text.index("line_300")
    starts = {build_context(text[: cursor + k], cursor + k, 200).window_start for k in range(0, 12)}
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


def test_a_short_budget_s_window_holds_a_third_of_it_or_more_wherever_the_cursor_is():
    text = "".join(f"line_{i} = call({i})\n" for i in range(400))  # 15-16 characters a line
    line_starts = [i + 1 for i, c in enumerate(text) if c == "\n"][200:260]
    for budget in (64, 128):  # 192, 384 characters at most: a third of them is `budget` characters
        lengths = [len(build_context(text, cursor, budget).prefix) for cursor in line_starts]
        assert budget - 16 <= min(lengths) and max(lengths) <= budget * 3, (budget, lengths)


def test_the_default_budgets_windows_start_after_a_512_character_boundary():
    text = "".join(f"line_{i} = call({i})\n" for i in range(400))
    cursor = text.index("line_300")
    for budget in (256, 448):  # the list's own model's, the statement's
        boundary = ((cursor - budget * 3) // 512 + 1) * 512
        assert build_context(text, cursor, budget).window_start == text.index("\n", boundary - 1) + 1
