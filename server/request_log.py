"""The log line of an answered request: where the time went, for `nib serve --log-level info`."""

from __future__ import annotations

import logging

from lsprotocol import types

from nib.model.completion.request import Mode


def log_answer(log: logging.Logger, mode: Mode, uri: str, position: types.Position, result) -> None:
    """One line for each request answered: where, how long each step took, and how much it used."""
    t = result.timings
    ran = {k: v for k, v in t.as_dict().items() if k.endswith("_ms") and v and k != "queue_ms"}
    steps = ", ".join(f"{k[:-3].replace('_', ' ')} {v:.1f}" for k, v in ran.items()) or (
        "narrowed from the last list" if getattr(result, "narrowed", False) else "typed through"
    )
    if t.unfilled:  # the prompt would not fit the budget: it is prefilled off the keystroke
        steps += f", {t.unfilled} tokens left to prefill"
    where = _where(result.position) if mode == Mode.LIST else ""
    if mode == Mode.LIST and result.position[0] == "prose":
        where, steps = " in a comment or a docstring", "nothing listed"
    log.info(
        "%s %s:%d:%d%s %.1f ms (queue %.1f, %s; %d prompt tokens, %d of project context, %d decoding passes) %d items",
        mode.value,
        uri.rsplit("/", 1)[-1],
        position.line,
        position.character,
        where,
        t.total_ms(),
        t.queue_ms,
        steps,
        t.prompt_tokens,
        t.project_tokens,
        t.passes,
        len(result.candidates),
    )


def _where(position: tuple[str, bool]) -> str:
    """Where a list was asked, for its log line.

    Example: _where(("attribute", False)) == " at an attribute"; _where(("name", True)) == " at a typed name"
    """
    kind, typed = position
    return f" at {'a typed' if typed else 'an' if kind[0] in 'aeiou' else 'a'} {kind}"
