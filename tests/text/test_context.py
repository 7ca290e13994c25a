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
