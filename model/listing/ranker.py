"""The completion list: jedi's names ranked by the model, mixed with the identifier n-gram and jedi's order.

The ranker owns the list: it asks jedi (its own process), runs the model's steps
through the engine's public methods, waits for jedi between them, and mixes.

    after `.`, in an import:  jedi.ask -> wait -> engine.list(names, names_only=confident) -> mix
    at a name elsewhere:      jedi.ask -> engine.list (the model's lexemes, the statement while
                              jedi works) -> wait -> engine.score_names -> mix

After `.` or in an import a non-empty jedi list is the whole candidate set (no invented attributes);
elsewhere the model's own lexemes join it (new names, literals). After `.` or in an import, a jedi
still working past its budget gives an incomplete list of what the file itself shows the object has
(the names that follow the same `os.path.` in it: `IdentifierNgram.attributes`), often none; at
`import t`, modules that exist (`text/imported_modules.py`): the model invents nothing, and the
next keystroke finds jedi's answer. When jedi fails or knows nothing
there, the model's lexemes, and those names with them.

At a name, jedi's first answer at a new place often comes after the list's short wait
(`jedi.nameBudgetMs`, counted from when it was asked, and where jedi has not answered in the
scope before, from the end of the model's decode); the list then takes the names jedi gave last
in the same scope (`text/scopes.py`), or at the module's level when the document was opened, and
is stale: while jedi's call for the name works, the next keystroke narrows it (a new list would be
as stale), and once jedi has answered its names are scored into it where it was made, the model's
lexemes kept (no decode: `_refreshed`). Those differ from the names here by
a few locals at most, which the file's own names that extend what is typed
(`IdentifierNgram.names`) and the model's lexemes find.
None kept (a file just opened), or no names (jedi's parser lost): those read from the text
(`scope_names.read_names`), and the file's only where a new name may be bound (`may_be_new`).

While the same name grows, the candidates only shrink: the last list (whichever model's window
scored it) is narrowed to what begins with the typed characters (`offered`) and mixed again
(`narrow`), with no model and no jedi: P(name | context, typed) is P(name | context) renormalised
over those names (a name typed whole is scored without the chance that it ends there: too high).
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import replace

from nib.model.completion.local import LocalCompleter
from nib.model.completion.request import Mode, Options, Project, Request
from nib.model.completion.result import Result, Timings, offered, typed_since
from nib.model.errors import Cancelled
from nib.model.text.keywords import keywords_misplaced
from nib.model.text.lexeme import may_be_new, position_kind, typed_name
from nib.model.text.prose import Checkpoint, in_prose

from .candidates import gather, working
from .corrections import mixed
from .identifiers import IdentifierNgram, tokens
from .jedi import JediCompleter
from .jedi_answers import WHOLE, JediAnswer
from .jedi_futures import deadline, wait
from .listed import AskedList, Listing
from .mixing import WEIGHTS, Weights
from .scope_names import ScopeNames

# jedi late at a name, a character typed: the file's names that extend it are scored too, most counted first:
# the locals jedi would give, beyond the list model's short window (nothing typed: most counted; unmeasured)
NEARBY = 20


class ListRanker:
    def __init__(
        self,
        jedi: JediCompleter | None = None,
        identifiers: IdentifierNgram | None = None,
        weights: dict[tuple[str, bool], Weights] = WEIGHTS,
    ):
        self.jedi = jedi or JediCompleter()
        self.environment = ""  # the folders of this environment jedi reads too (`jedi.environment`)
        self.identifiers = identifiers or IdentifierNgram()
        self.weights = weights
        self._asked: dict[str, AskedList] = {}  # by document: the last list computed there
        self._prose: dict[str, Checkpoint] = {}  # by document: where its next scan for prose may start
        self.scopes = ScopeNames()  # jedi's last answer at a name in each scope (`in_scope`)

    def ask_jedi(
        self,
        text: str,
        cursor: int,
        path: str | None = None,
        jedi_ms: int | None = None,
        name_jedi_ms: int | None = None,
    ) -> tuple[Future, float]:
        """jedi asked for the list at cursor: (its future, the time.monotonic() by which the list
        stops waiting for it). jedi_ms: the wait after `.` and in imports, where its names are the
        whole list (None: jedi's own budget); name_jedi_ms: elsewhere (None: the same)."""
        wait = self.jedi.budget_ms if jedi_ms is None else jedi_ms
        if not self.jedi_first(text, cursor) and name_jedi_ms is not None:
            wait = name_jedi_ms
        future = self.jedi.ask(text, cursor, path, environment=self.environment)
        return future, deadline(wait, future)

    @staticmethod
    def jedi_first(text: str, cursor: int) -> bool:
        """Whether jedi's names are likely the whole list at cursor (after `.`, in an import): there
        the list waits for jedi before its model decodes; elsewhere the model decodes meanwhile."""
        return _position(text, cursor)[0] in WHOLE

    def waits_beside(self, key: str, text: str, cursor: int, asked: bool = False) -> bool:
        """Whether the list's wait for jedi runs beside its model's first turn (`decode`), not after it:
        after `.` and in imports, and at a name where jedi answered in the scope before, whose names
        there stand in for a late answer; not in a call's arguments (jedi's has the call's keywords),
        nor in a list the user asked for (asked: it waits for jedi as after `.`)."""
        kind = _position(text, cursor)[0]
        return kind in WHOLE or not asked and kind == "name" and self.scopes.answered_in(key, text, cursor)

    def complete(
        self,
        engine: LocalCompleter,
        text: str,
        cursor: int,
        options: Options = Options(),
        cancel=None,
        key: str = "",
        path: str | None = None,
        use_jedi: bool = True,
        jedi_ms: int | None = None,
        name_jedi_ms: int | None = None,
        jedi: Future | None = None,
        project: Project | None = None,
        decoded: Result | None = None,
    ) -> Listing:
        """The list's candidates, best first, and what they were ranked from.

        jedi_ms, name_jedi_ms: how long to wait for jedi (`ask_jedi`), on the calling thread;
        jedi: jedi's future, when the caller asked and waited already: not waited for here;
        decoded: at a name, the model's own lexemes, decoded while the caller waited (`decode`).
        """
        typed = typed_name(text[text.rfind("\n", 0, cursor) + 1 : cursor])
        position = _position(text, cursor)
        narrowed = self.narrow(engine, key, text, cursor, options, use_jedi, position, jedi, cancel, project)
        if narrowed is not None:
            return narrowed
        if not use_jedi:
            jedi, until = None, 0.0
        elif jedi is None:
            jedi, until = self.ask_jedi(text, cursor, path, jedi_ms, name_jedi_ms)
        else:
            until = time.monotonic()
        try:
            result, answer, stale = gather(
                engine,
                Request(text, cursor, Mode.LIST, options, cancel, project, doc=key),
                jedi,
                until,
                position[0] in WHOLE,
                lambda: self.in_scope(key, text, cursor),
                lambda: self._nearby(key, text, cursor, typed, position[0]),
                decoded,
            )
        except Cancelled:
            if jedi is not None and decoded is None:  # (else the caller's: its next keystroke may share it)
                jedi.cancel()  # superseded: a call still waiting for jedi's worker is not needed (one running is)
            raise
        listing = self._mix(key, text, cursor, result, answer, position, stale)
        if answer is not None and not stale:
            self.scopes.remember(key, text, cursor, answer)
        self._asked[key] = AskedList(text, cursor, cursor - len(typed), options, use_jedi, listing)
        return listing

    def _mix(
        self,
        key: str,
        text: str,
        cursor: int,
        result: Result,
        answer: JediAnswer | None,
        position: tuple[str, bool],
        stale: bool,
    ) -> Listing:
        """The candidates ranked by the mixture of the model, the n-gram and jedi (`corrections.mixed`)."""
        # the model's and the n-gram's keywords that cannot start here (`for` after `[`); jedi's own here stay
        line = text[text.rfind("\n", 0, cursor) + 1 : cursor]
        misplaced = keywords_misplaced(line)
        misplaced -= {n.name for n in answer.names} if answer and not stale and misplaced else set()
        shown = [c for c in result.candidates if c.kind != "statement" and c.label not in misplaced]
        items = offered(shown, text, cursor)
        start = min((c.start for c in items if c.kind == "name"), default=cursor)
        context = tokens(text[max(start - 200, 0) : start])[-2:]
        probs = self.identifiers.probabilities(key, text, cursor, context, [c.label for c in items])
        names = answer.names if answer else []
        name_start = cursor - len(typed_name(line))
        ranked = mixed(items, probs, names, self.weights[position], position, text, name_start)
        statement = [c for c in result.candidates if c.kind == "statement"]
        return Listing(ranked + statement, result.timings, answer, position, items, probs, stale=stale)

    def _nearby(self, key: str, text: str, cursor: int, typed: str, kind: str) -> list[str]:
        """The file's names for a list whose jedi is late: after `.`, those it uses after the same receiver;
        at a name, those that extend what is typed (nothing typed: none)."""
        if kind == "attribute":
            return self.identifiers.attributes(key, text, cursor, typed)
        return self.identifiers.names(key, text, cursor, typed, NEARBY) if typed and kind not in WHOLE else []

    def decode(
        self,
        engine: LocalCompleter,
        text: str,
        cursor: int,
        options: Options,
        cancel,
        key: str,
        project=None,
        jedi=None,
    ) -> Listing | Result:
        """The first of `complete`'s steps alone, for a caller that waits for jedi meanwhile
        elsewhere: the last list narrowed (the whole answer), or at a name the model's own lexemes
        (`complete`'s decoded), or after `.` and in imports, where jedi's names are the list, no
        candidates: the prompt prefilled, which `complete` then reuses. jedi: its future for this list (`ask_jedi`)."""
        narrowed = self.narrow(engine, key, text, cursor, options, True, _position(text, cursor), jedi, cancel, project)
        if narrowed is not None:
            return narrowed
        if not self.jedi_first(text, cursor):
            return engine.list(Request(text, cursor, Mode.LIST, options, cancel, project, doc=key))
        timings = Timings()
        with timings.stage("prefill"):
            engine.warm(text, cursor, options, project, cancel, key)
        return Result([], timings)

    def narrow(
        self,
        engine: LocalCompleter,
        key: str,
        text: str,
        cursor: int,
        options: Options,
        use_jedi: bool,
        position: tuple[str, bool],
        jedi: Future | None = None,
        cancel=None,
        project: Project | None = None,
    ) -> Listing | None:
        """The last list of this document, narrowed to the name typed since (`offered`) and
        mixed again; None when the edit since was not a name growing, or where a new request
        may find more (the model's own new names, once nothing known is left; jedi's, once its
        call for this name, jedi, is no longer working where the last list was made without it,
        unless its answer can be mixed into that list: `_refreshed`)."""
        asked = self._asked.get(key)
        if asked is None or asked.use_jedi != use_jedi or cursor < asked.cursor:
            return None
        window = asked.options.context_tokens if cursor > asked.cursor else options.context_tokens  # grown: any
        if asked.options != replace(options, context_tokens=window):
            return None
        if not _same_name(asked, text, cursor):
            return None
        timings, scored = Timings(), False  # scored: names scored into the last list here (not narrowed alone)
        scorable = asked.computed.options == options  # by the model that scored it (the same model and window)
        if (asked.listing.jedi is None or asked.listing.stale) and use_jedi and not working(jedi):
            # jedi had no answer in time then: it may have one now (while it works, a new list would not)
            refreshed = self._refreshed(engine, key, asked, jedi, cancel, project) if scorable else None
            if refreshed is None:
                return None
            self._asked[key] = asked = refreshed
            timings, scored = refreshed.listing.timings, True
        if cursor == asked.cursor and not scored:  # asked again where nothing changed (after a speculative list)
            return replace(asked.listing, timings=Timings(), narrowed=True)
        last = asked.listing
        line = text[text.rfind("\n", 0, cursor) + 1 : cursor]
        if last.stale and may_be_new(line):  # the file's names a new list adds (`_nearby`), scored into the last
            nearby = self._nearby(key, text, cursor, typed_name(line), position[0])
            if not set(nearby) <= {c.label for c in last.unmixed}:
                if not scorable:
                    return None
                asked = self._scored_into(engine, key, asked, last.jedi, True, nearby, cancel, project)
                last, timings, scored = asked.listing, asked.listing.timings, True
        items = offered(last.unmixed, text, cursor)
        if not items and not last.complete:
            return None  # nothing known extends it (at most the name typed whole): the model may guess a new one
        total = sum(last.identifiers.get(c.label, 0.0) for c in items)
        probs = {c.label: last.identifiers.get(c.label, 0.0) / total if total else 0.0 for c in items}
        names = last.jedi.names if last.jedi else []
        ranked = mixed(items, probs, names, self.weights[position], position, text, asked.name_start)
        statement = engine.last_statement(text, cursor, options) if options.list_statement else None
        if statement is None:  # no ghost text asked here yet: the last one, if it is being typed through
            statement = next((c for c in last.candidates if c.kind == "statement" and c.extends(text, cursor)), None)
        shown = ranked + ([statement] if statement else [])
        listing = Listing(shown, timings, last.jedi, position, items, probs, narrowed=not scored, stale=last.stale)
        self._asked[key] = AskedList(text, cursor, asked.name_start, options, use_jedi, listing, asked.computed)
        return listing

    def _refreshed(
        self, engine: LocalCompleter, key: str, asked: AskedList, jedi: Future | None, cancel, project
    ) -> AskedList | None:
        """The list asked, made at a name while jedi was late (stale), with jedi's answer, now in,
        scored into it (`_scored_into`): no decode of the model. None where jedi has no names (it
        failed, or its parser lost its way), after `.` and in imports (no model's decode to spare
        there), or where the last list was made without jedi."""
        last = asked.listing
        if not last.stale or last.position[0] in WHOLE or jedi is None or not jedi.done():
            return None
        answer = wait(jedi, 0.0)
        if answer is None or not answer.names:
            return None
        self.scopes.remember(key, asked.computed.text, asked.computed.cursor, answer)
        names = [n.name for n in answer.names]
        return self._scored_into(engine, key, asked, answer, False, names, cancel, project)

    def _scored_into(
        self,
        engine: LocalCompleter,
        key: str,
        asked: AskedList,
        answer: JediAnswer | None,
        stale: bool,
        names,
        cancel,
        project,
    ) -> AskedList:
        """The list asked, made again where it was computed (`AskedList.computed`: where its items
        were scored) with names scored into it there and mixed with answer (stale: not jedi's own,
        but those kept for the scope), without the model's decode: everything it had keeps its score (its own lexemes,
        which narrowing reads there too; the names it had, the file's among them), and the names it
        lacks are scored there, as a list made there would score them."""
        last, at = asked.listing, asked.computed
        had = {c.label for c in last.unmixed if c.kind == "name"}  # (a lexeme of the model's is no name)
        new = [n for n in dict.fromkeys(names) if n not in had]
        request = Request(at.text, at.cursor, Mode.LIST, at.options, cancel, project, doc=key)
        named = engine.score_names(request, new) if new else Result([])
        statement = [c for c in last.candidates if c.kind == "statement"]
        result = Result(last.unmixed + named.candidates + statement, named.timings)
        return replace(asked, listing=self._mix(key, at.text, at.cursor, result, answer, last.position, stale))

    def open_names(self, key: str, text: str, path: str | None = None) -> None:
        """A newly opened document: jedi asked for the names at its module's level (parsing it
        meanwhile), which its first lists take while jedi is late at their own places. A call of
        the background: it waits behind a list's call waiting for jedi's worker."""
        self.scopes.opened(key)
        module = text + "\n"  # a line of its own at column 0
        jedi = self.jedi.ask(
            module, len(module), path, at_name_start=False, background=True, environment=self.environment
        )
        jedi.add_done_callback(lambda f: self._answered(key, module, f))

    def _answered(self, key: str, module: str, future: Future) -> None:
        if not future.cancelled() and future.exception() is None:
            self.scopes.remember(key, module, len(module), future.result(), opened=False)

    def in_scope(self, key: str, text: str, cursor: int) -> JediAnswer | None:
        """jedi's last answer at a name in the cursor's scope in this document (`ScopeNames.at`)."""
        return self.scopes.at(key, text, cursor)

    def scopes_kept(self) -> int:
        """How many of jedi's answers are kept for `in_scope`, over every document."""
        return self.scopes.kept()

    def describe(self, text: str, cursor: int, name: str, path: str | None = None) -> Future:
        """A future of jedi's Description of name, an item of a list that starts at cursor."""
        return self.jedi.describe(text, cursor, name, path, self.environment)

    def use_environment(self, environment: str) -> None:
        """jedi reads this environment's packages from now on (`jedi.environment`): the answers
        kept from another one are dropped, so the next list asks jedi again."""
        if environment == self.environment:
            return
        self.environment = environment
        self._asked = {}
        self.scopes.forget()

    def in_prose(self, key: str, text: str, cursor: int) -> bool:
        """Whether cursor is in a comment or a docstring, where the list offers nothing (`text/prose.py`)."""
        answer, self._prose[key] = in_prose(text, cursor, self._prose.get(key, Checkpoint()))
        return answer

    def forget(self, key: str) -> None:
        self._asked.pop(key, None)
        self._prose.pop(key, None)
        self.identifiers.forget(key)
        self.scopes.forget(key)


def _same_name(asked: AskedList, text: str, cursor: int) -> bool:
    """Whether text and cursor are those the list was asked at, or its name grown since by typing on."""
    if cursor == asked.cursor:
        return text == asked.text
    added = typed_since(asked.text, asked.cursor, text, cursor)
    grown = typed_name(text, asked.name_start, cursor)
    return added is not None and typed_name(added) == added and cursor - len(grown) == asked.name_start


def _position(text: str, cursor: int) -> tuple[str, bool]:
    """(what the identifier at cursor is, whether part of it is typed): the mixing weights' key.

    Example: _position("x = os.pa", 9) == ("attribute", True)
    """
    line_prefix = text[text.rfind("\n", 0, cursor) + 1 : cursor]
    return position_kind(line_prefix), bool(typed_name(line_prefix))
