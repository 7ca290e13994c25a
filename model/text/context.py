"""Build the prompt: the text before the cursor, within a token budget, cache-friendly.

The window starts at a line start that moves only when the cursor crosses a
chunk boundary, so while the user types the prompt's beginning stays put and
the runtime reuses its KV cache for all but the last few tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

# The window's start moves in steps of this many characters; a budget shorter than 1.5 steps
# moves in steps of 2/3 of it, so that its window holds a third of the budget at least, less the
# line the cut falls in (with 512, a 128-token budget's window was often the cursor's line alone).
CHUNK_CHARS = 512
# What a fill-in-the-middle prompt shows of the text after the cursor: the rest of the line and
# this many lines after it (bounded again in tokens by the prompt).
SUFFIX_LINES = 8
SUFFIX_CHARS = 1024  # and at most this many characters: one long line (data, a minified blob) is cut


@dataclass(frozen=True)
class Context:
    window_start: int  # character offset of the prompt's first character in the document
    prefix: str  # document[window_start:cursor]
    line_prefix: str  # the cursor's line up to the cursor
    suffix_line: str  # the cursor's line after the cursor
    at_file_start: bool
    suffix: str = ""  # the text after the cursor: the rest of its line and SUFFIX_LINES lines after

    @property
    def next_line(self) -> str:
        """The first line after the cursor's with anything on it, within suffix ("" if none).

        Example: Context(0, "f(a, ", "f(a, ", "", False, "\\n\\n    b)\\nx").next_line == "    b)"
        """
        return next((line for line in self.suffix.split("\n")[1:] if line.strip()), "")


def build_context(
    text: str, cursor: int, budget_tokens: int, chars_per_token: float = 3.0, suffix: bool = False
) -> Context:
    """The prompt window for a cursor (character offset) in text.

    `chars_per_token` is a low estimate of the tokenizer's rate, so the window
    rarely holds more than budget_tokens tokens (the caller trims the rest). suffix: also the
    text after the cursor, for a fill-in-the-middle prompt (else "": not looked for per keystroke).

    Example: build_context("import os\\nos.pa", 15, 100).line_prefix == "os.pa"
    """
    cursor = max(0, min(cursor, len(text)))
    max_chars = int(budget_tokens * chars_per_token)
    lo = cursor - max_chars
    line_start = text.rfind("\n", 0, cursor) + 1
    if lo <= 0:
        start = 0
    else:
        chunk = min(CHUNK_CHARS, max(1, max_chars * 2 // 3))
        lo = (lo // chunk + 1) * chunk  # snap forward so the window is stable
        nl = text.find("\n", lo - 1, line_start)
        start = nl + 1 if nl >= 0 else line_start
        if start == cursor:  # keep at least the line above, so the prompt is never empty
            start = text.rfind("\n", 0, max(cursor - 1, 0)) + 1
    line_end = text.find("\n", cursor)
    if line_end < 0:
        line_end = len(text)
    return Context(
        window_start=start,
        prefix=text[start:cursor],
        line_prefix=text[line_start:cursor],
        suffix_line=text[cursor:line_end].rstrip("\r"),
        at_file_start=start == 0,
        suffix=following(text, cursor, SUFFIX_LINES)[:SUFFIX_CHARS] if suffix else "",
    )


def following(text: str, cursor: int, lines: int) -> str:
    """The rest of the cursor's line and `lines` lines after it.

    Example: following("a|b\\nc\\nd\\ne", 2, 2) == "b\\nc\\nd"
    """
    end = cursor
    for _ in range(lines + 1):
        end = text.find("\n", end) + 1
        if end == 0:
            return text[cursor:]
    return text[cursor : end - 1]
