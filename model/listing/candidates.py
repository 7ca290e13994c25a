"""The list's two sources at its cursor, the model and jedi, asked in the order the position wants
(`ListRanker.complete`): after `.` and in imports jedi first, its names the whole list where it
has them; elsewhere the model's own lexemes decoded while jedi works, then jedi's names scored.
Where jedi is late, what stands in for its answer, marked stale."""

from __future__ import annotations

import time
from concurrent.futures import Future

from nib.model.completion.local import LocalCompleter
from nib.model.completion.request import Request
from nib.model.completion.result import Result, Timings
from nib.model.text.lexeme import may_be_new, unnamed

from .jedi_answers import JediAnswer
from .jedi_futures import deadline, wait
from .scope_names import read_modules, read_names

# After `.` a jedi still working this long after it was asked is taken as stuck (a huge module, say):
# the list then offers the model's guesses, as for a jedi that failed, rather than nothing ever. A
# list speculated in a pause waits this long for jedi too (`CompletionService._await_jedi`).
STUCK_MS = 2000


def working(jedi: Future | None) -> bool:
    """Whether jedi is still on this call, and not for so long that it looks stuck (STUCK_MS)."""
    return jedi is not None and not jedi.done() and time.monotonic() < deadline(STUCK_MS, jedi)


def gather(
    engine: LocalCompleter,
    request: Request,
    jedi: Future | None,
    until: float,
    jedi_first: bool,
    in_scope,
    nearby,
    decoded: Result | None = None,
) -> tuple[Result, JediAnswer | None, bool]:
    """The engine's candidates, jedi's answer, and whether that answer is stale: at a name, where
    jedi had none by `until` (late, failed, or no names where it has some), those it gave last in
    the scope (in_scope()) completed from the text, or the text's alone (`read_names`). After `.`
    with jedi late (answer None; at `import t` the modules read, stale), the list is the file's own
    (nearby(), which joins the model's guesses where jedi failed or knows nothing of the object).
    jedi first where its names are likely the whole truth; elsewhere the model decodes while
    jedi works."""
    timings = Timings()
    if jedi_first:
        if decoded is not None:  # the prompt prefilled while the caller waited for jedi
            timings = timings.add(decoded.timings)
        with timings.stage("jedi_wait"):
            answer = wait(jedi, until, request.cancel)
        if answer is None and jedi is not None and jedi.done():
            answer = wait(jedi, 0.0)  # it answered just now
        # where jedi has no names (late, failed, off) at `import t`: the modules that exist, stale
        read = read_modules(request.text, request.cursor) if answer is None or not answer.names else None
        if answer is None and working(jedi):  # where jedi knows better: only what the file shows, asked again
            o = request.options
            statement = engine.last_statement(request.text, request.cursor, o) if o.list_statement else None
            used = [n.name for n in read.names] if read else nearby()
            shown = engine.score_names(request, used) if used else Result([])
            items = shown.candidates + ([statement] if statement else [])
            return Result(items, timings.add(shown.timings)), read, read is not None
        stale = read is not None
        answer = read if stale else answer
        names = [n.name for n in answer.names] if answer is not None else []
        if answer is None or not answer.confident:  # jedi failed or knows nothing here: what the file shows too
            names += [n for n in nearby() if n not in names]
        confident = answer is not None and answer.confident and not stale  # (the model's guesses join modules)
        result = engine.list(request, names or None, names_only=confident)
        return Result(result.candidates, timings.add(result.timings)), answer, stale
    result = decoded if decoded is not None else engine.list(request)
    with timings.stage("jedi_wait"):
        answer = wait(jedi, until, request.cancel)
    line = request.text[request.text.rfind("\n", 0, request.cursor) + 1 : request.cursor]
    # none in time, or no names where jedi has some (its parser lost its way: `return HTML(f` in one file)
    stale = jedi is not None and (answer is None or not (answer.names or unnamed(line)))
    if stale:  # jedi's names kept for the scope, or none (a file just opened), completed from the text
        answer = read_names(request.text, request.cursor, in_scope())
    names = [n.name for n in answer.names] if answer is not None else []
    if stale and may_be_new(line):  # a new name: often one the file binds elsewhere
        listed = set(names)
        names += [n for n in nearby() if n not in listed]
    if names:
        named = engine.score_names(request, names)
        result = Result(result.candidates + named.candidates, result.timings.add(named.timings))
    return Result(result.candidates, timings.add(result.timings)), answer, stale
