"""The completion service: what one client (an LSP session, `nib complete`) asks of nib's models.

    complete(doc, text, cursor, mode) -> Result | None
        the model in use (loaded once per identity, `hosts.py`)
        list:       jedi waited for on the event loop (at a name, with the list's own model: while
                    it decodes) -> the ranker on the inference thread (a list the user asked for:
                    the statement's model's) -> as the ghost text on screen says (`_as_shown`)
        statement:  the local completer on the inference thread, or the engine over HTTP, and
                    the local model when the engine fails (one warning until it answers again)

It also speculates (the list where a name is about to start), warms the prompt state after a pause, and counts
the identifiers of opened documents. No LSP here: documents are keys and text, cursors offsets. The event loop
only waits; inference runs on each host's one thread (`Scheduler.run`), cancelled by a newer edit. In a comment
or a docstring, no list.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from concurrent.futures import Future
from dataclasses import replace

from nib.model.completion.engine import EngineError
from nib.model.completion.local import LocalCompleter
from nib.model.completion.request import Mode, Options, Project, Request
from nib.model.completion.result import Result, Timings
from nib.model.errors import Cancelled
from nib.model.listing.candidates import STUCK_MS
from nib.model.listing.ghost import ghost_first
from nib.model.listing.identifiers import IdentifierNgram
from nib.model.listing.jedi import JediCompleter
from nib.model.listing.ranker import Listing, ListRanker
from nib.model.text.lexeme import attribute_may_start, name_may_start

from .config import Config
from .hosts import Hosts, ModelUse
from .project import CHARS_PER_TOKEN, NO_BLOCK, Block, ProjectContext
from .scheduler import Scheduler, queued, return_memory, wait_until


class CompletionService:
    """notify(level, message[, shown]): what the client's user should see (a logging level, the
    line for the log, and the line for the editor when it differs)."""

    def __init__(self, hosts: Hosts, jedi: JediCompleter, config: Config, notify, log: logging.Logger):
        self.notify, self.log, self.scheduler = notify, log, Scheduler()
        self._return_memory = functools.partial(return_memory, log)  # once requests stop
        self.model = ModelUse(hosts, self._load_failed)  # the statement's
        self.list_model = ModelUse(hosts, self._load_failed)  # the list's: the same host, or its own
        self.ranker = ListRanker(jedi, IdentifierNgram())
        self.project = ProjectContext([], config.project.recent_chunks)
        self._blocks: dict[str, Block] = {}  # doc -> the project context its requests use (pre-filled)
        self.config = config
        self.configure(config)
        self.engine_failing = False  # warned that the engine fails; cleared when it answers again
        self._disclosed: set[str] = set()  # the engines this client has been told it sends code to

    def _load_failed(self, message: str) -> None:
        self.notify(logging.ERROR, message, f"nib: {message}")

    def configure(self, config: Config) -> None:
        """New settings: a model that changed loads while the one before keeps serving."""
        self.config = config
        self.scheduler.stop_all_speculating()  # a list waiting for jedi would be kept under the old settings
        self.ranker.use_environment(config.jedi_environment)
        self.project.recent.size = config.project.recent_chunks
        if config.exclude.patterns != self.project.workspace.exclude.patterns:
            self.project.workspace.exclude = config.exclude
            self.project.recent.keep(lambda path: not config.exclude.matches(path))
            self._blocks.clear()  # a prompt's stubs or chunks may come from a file now excluded
        if not config.project.project:
            self._blocks.clear()
        self.model.want(config.statement)
        self.list_model.want(config.listing)

    @property
    def separate_list(self) -> bool:
        """Whether the list's model is not the statement's (it would decode a worse statement)."""
        return self.config.listing != self.config.statement

    def set_roots(self, roots: list[str]) -> None:
        """The workspace folders: the only place project context is read from."""
        self.project.set_roots(roots)
        self._blocks.clear()

    async def ready(self) -> None:
        """Load the models now: one that cannot load is reported at once, not at the first request."""
        await self.model.ready()
        await self.list_model.ready()

    async def complete(
        self,
        doc: str,
        text: str,
        cursor: int,
        mode: Mode,
        path: str | None = None,
        options: Options | None = None,
        project: Project | None = None,
        invoked: bool = False,
    ) -> Result | Listing | None:
        """The list or the statement at cursor (a character offset into text); None when nothing
        applies, or when superseded. options, project: the statement's, for this request only, in
        place of the settings' and the project context wanted at doc's cursor (an evaluation's).
        invoked: the user asked (`Request.invoked`), not typing (a list then waits for jedi as after `.`)."""
        with self.scheduler.listing(doc, text, cursor) if mode == Mode.LIST else contextlib.nullcontext():
            # a list the user asked for: the statement's model's where that is loaded, local and not the list's (`_listed`)
            by_statement = mode == Mode.LIST and invoked and self.separate_list and self.model.serving is not None
            host = await (self.list_model if mode == Mode.LIST and not by_statement else self.model).ready()
            if by_statement and (host is None or not isinstance(host.engine, LocalCompleter)):  # remote, or changed
                by_statement, host = False, await self.list_model.ready()
            if host is None or host.engine is None:
                return None
            try:
                if mode == Mode.LIST:
                    if self.ranker.in_prose(doc, text, cursor):  # a comment or a docstring: no list
                        return Listing([], Timings(), None, ("prose", False))
                    result, waited = await self._listed(host, doc, text, cursor, path, invoked, by_statement)
                    result.timings.jedi_wait_ms += waited  # on the event loop, not in the ranker's steps
                    return self._as_shown(result, doc, text, cursor)
                listed_s = await self.scheduler.after_list(doc, text, cursor)  # the list asked beside it answers first
                request = Request(
                    text,
                    cursor,
                    Mode.STATEMENT,
                    options or self.config.options,
                    project=project or self._blocks.get(doc, NO_BLOCK).project,
                    doc=doc,
                    since=time.monotonic() - listed_s,  # the budget is the editor's wait: a list first, a busy thread
                    invoked=invoked,
                )
                if host.engine.remote:
                    return await self._from_engine(host.engine, doc, request)
                return await self._local_statement(host, doc, request)
            except Cancelled:
                self.log.debug("%s superseded", mode.value)
                return None
            finally:
                self.scheduler.when_idle(self._return_memory)

    # -- the list ---------------------------------------------------------------

    async def _listed(self, host, doc: str, text: str, cursor: int, path, asked=False, by_statement=False):
        """The list at cursor (a Listing) and the ms jedi was waited for on the event loop. A list's own model
        works while jedi does (decodes at a name, prefills after `.`), then scores jedi's names: two turns.
        by_statement: the statement's model ranks the list (it ranks names far better where nothing is typed;
        typing keeps the list's fast model), its whole prompt first prefilled in steps that an edit stops."""
        jedi, waited, until = await self._await_jedi(text, cursor, path, overlap=self.separate_list, asked=asked)
        options, project = prompt = self._list_prompt(doc, by_statement)
        started, engine = time.monotonic(), host.engine
        if by_statement:
            await self.scheduler.run(host.worker, lambda c: engine.warm(text, cursor, options, project, c, doc), doc)
        if until is not None and jedi is not None:
            with self.scheduler.holding(doc) as cancel:  # one flag for both turns and the wait between
                decode = queued(lambda c: self.ranker.decode(engine, text, cursor, options, c, doc, project, jedi))
                decoded = await self.scheduler.run(host.worker, decode, doc, cancel)
                if isinstance(decoded, Listing):  # narrowed: no jedi needed
                    return decoded, 0.0
                # jedi's deadline later by the decode's time, as when the model decoded after the wait, unless
                # the wait ran beside the decode (`ListRanker.waits_beside`)
                later = 0.0 if self.ranker.waits_beside(doc, text, cursor, asked) else time.monotonic() - started
                waited = await wait_until(jedi, until + later)
                if cancel.is_set():  # edited or closed meanwhile
                    raise Cancelled()
                work = queued(lambda c: self._list(engine, doc, text, cursor, c, jedi, path, prompt, decoded))
                return await self.scheduler.run(host.worker, work, doc, cancel), waited
        work = queued(lambda cancel: self._list(engine, doc, text, cursor, cancel, jedi, path, prompt))
        return await self.scheduler.run(host.worker, work, doc), waited

    async def _await_jedi(
        self, text: str, cursor: int, path: str | None, speculative=False, overlap=False, asked=False
    ) -> tuple[Future | None, float, float | None]:
        """jedi's answer for the list at cursor, waited for on the event loop within the budget (a
        speculative list's until jedi answers, up to STUCK_MS), so that no wait for jedi holds a
        model's thread: (a future, done or not (not: late), or None without jedi; the ms waited;
        with overlap, where the list's model is its own, the time.monotonic() until which the
        list waits for jedi after its model's first turn, else None). asked: by the user (`complete`'s
        invoked): at a name too, jedi has as long as after `.` (`jedi.budgetMs`)."""
        c = self.config
        if not c.jedi:
            return None, 0.0, None
        wait = max(c.jedi_ms, STUCK_MS) if speculative else c.jedi_ms  # a speculation: in a pause, dropped by an edit
        future, until = self.ranker.ask_jedi(text, cursor, path, wait, None if speculative or asked else c.name_jedi_ms)
        left = until - time.monotonic()
        if future.done() or left <= 0:
            return future, 0.0, None
        if overlap:
            return future, 0.0, until
        return future, await wait_until(future, until), None

    def block_in_use(self, doc: str) -> Block:
        """The project context doc's statements are asked with now (pre-filled)."""
        return self._blocks.get(doc, NO_BLOCK)

    def _list_prompt(self, doc: str, by_statement: bool = False) -> tuple[Options, Project | None]:
        """The options and project context of the list's requests: its own model's (no statement item, its
        own window and budget, no project context), else the statement's model's, whose prompt state it shares."""
        o, project = self.config.options, self._blocks.get(doc, NO_BLOCK).project
        if self.separate_list and not by_statement:
            return replace(o, list_statement=False, context_tokens=o.list_window()), None
        return (replace(o, list_statement=False) if by_statement else o), project

    def _list(self, engine, doc: str, text: str, cursor: int, cancel, jedi, path, prompt, decoded=None):
        """The ranker's list, with jedi's answer as it is now (asked by the caller: never None where jedi
        is used), the model's lexemes decoded already, and prompt (`_list_prompt`)."""
        options, project = prompt
        return self.ranker.complete(
            engine, text, cursor, options, cancel, key=doc, path=path, use_jedi=self.config.jedi, jedi=jedi,
            decoded=decoded, project=project,
        )  # fmt: skip

    def _as_shown(self, listing: Listing, doc: str, text: str, cursor: int) -> Listing:
        """The list as the ghost text on screen says, where another model than the list's decodes it:
        the name it goes on with first (`ghost.py`); an engine's statement here as the statement item."""
        host, o = self.model.serving, self.config.options
        if host is None or host.engine is None or not self.separate_list:
            return listing
        shown = host.engine.showing(text, cursor, o, doc)
        listing = ghost_first(listing, shown, text, cursor)  # the position the list was ranked for
        statement = host.engine.last_statement(text, cursor, o) if host.key.remote and o.list_statement else None
        return replace(listing, candidates=listing.candidates + [statement]) if statement else listing

    # -- the statement from an engine ---------------------------------------------

    async def _from_engine(self, engine, doc: str, request: Request):
        """The statement from the engine over HTTP; if it is down, slow or answers garbage, from the
        local model (the list's, with its window), with one warning until the engine answers again.
        Raises Cancelled when an edit supersedes it. An engine is sent no project context."""
        request = replace(request, project=None)
        if (url := engine.url) not in self._disclosed:  # said once per client and engine: where the code goes
            self._disclosed.add(url)
            what = "and after it " if self.config.engine.suffix else ""
            said = f"the code before the cursor {what}in the files you edit is sent there (engine.url)"
            self.notify(logging.INFO, f"nib: statements come from the engine at {url}: {said}")
        try:
            result = await self.scheduler.run_async(engine.complete(request, self.config.engine), doc)
            if self.engine_failing:
                self.engine_failing = False
                self.log.info("the engine at %s answers again", engine.url)
            return result
        except EngineError as e:
            if not self.engine_failing:
                self.engine_failing = True
                self.notify(logging.WARNING, f"nib: {e}; statements come from the local model until it answers again")
            else:
                self.log.debug("%s", e)
        local = await self.list_model.ready()
        if local is None or local.engine is None:
            return None
        # a budget of its own (the engine's wait may have spent it); the list's window, whose state it then shares
        options = replace(request.options, context_tokens=self._list_prompt(doc)[0].context_tokens)
        request = replace(request, since=time.monotonic(), options=options)
        return await self._local_statement(local, doc, request)

    async def _local_statement(self, host, doc: str, request: Request) -> Result:
        """The statement from a local model, on its thread; a prompt that would not fit the budget is
        prefilled next, off the keystroke (`_fill`), unless an edit or a close came meanwhile."""
        with self.scheduler.holding(doc) as cancel:
            work = queued(lambda c: host.engine.complete(replace(request, cancel=c)))
            result = await self.scheduler.run(host.worker, work, doc, cancel)
            if result.timings.unfilled and not cancel.is_set():
                self.scheduler.background(host.worker, functools.partial(self._fill, host.engine, request), doc)
        return result

    # -- ahead of requests ----------------------------------------------------------

    def edited(self, doc: str, at: int, inserted: str) -> None:
        """An edit: work in flight for doc is superseded (a speculative list running survives a name typed there)."""
        self.scheduler.supersede(doc)
        self.scheduler.edited(doc, at, inserted)

    def moved(self, doc: str) -> None:
        """The cursor rests at another place in doc: the warm-up and the list of the place before stop."""
        self.scheduler.moved(doc)

    def speculate(self, doc: str, text: str, cursor: int, path: str | None, rested: bool = False) -> None:
        """Where a name is about to start (rested, `nib/cursor`: after an attribute's `.` too), compute the
        list now, in the pause before its first character: its request then narrows it, no jedi, no model."""
        host = self.list_model.serving
        line = text[text.rfind("\n", 0, cursor) + 1 : cursor]
        starts = name_may_start(line) or (rested and attribute_may_start(line))
        if host is None or host.engine is None or not starts or self.ranker.in_prose(doc, text, cursor):
            return
        engine = host.engine
        jedi = asyncio.ensure_future(self._await_jedi(text, cursor, path, speculative=True))

        def work(cancel):
            try:
                self._list(engine, doc, text, cursor, cancel, jedi.result()[0], path, self._list_prompt(doc))
            except Cancelled:
                pass
            except Exception:  # speculation is an optimisation: never let it fail anything
                self.log.exception("the speculative list failed")

        self.scheduler.speculate(host.worker, work, doc, cursor, after=jedi)

    def warm_later(
        self, doc: str, text_now, path: str | None = None, delay_s: float | None = None, ahead: bool = True
    ) -> None:
        """After a pause in typing (delay_s: another than the scheduler's), prefill each local
        model's prompt state at the last edit, with the project context there when it changed (off
        the keystroke: requests keep the one before until it is done), and with ahead decode the
        statement there (`_warm`). text_now() -> (text, cursor), or None when there is nothing to warm."""

        def warm():
            found = text_now()
            if found is None:
                return
            text, cursor = found
            statement = self.model.serving
            for host in {h for h in (statement, self.list_model.serving) if h is not None}:  # each its own state
                if host.engine is not None and not host.engine.remote:
                    with_project = host is statement or not self.separate_list
                    work = functools.partial(
                        self._warm, host.engine, doc, text, cursor, path if with_project else False,
                        ahead and host is statement,
                    )  # fmt: skip
                    self.scheduler.background(host.worker, work, doc)

        self.scheduler.warm_later(doc, warm, delay_s)

    def _warm(self, engine, doc: str, text: str, cursor: int, path, ahead: bool, cancel) -> None:
        """Prefill the prompt at cursor with the project context wanted there, which requests use
        from then on, and with ahead (the statement's model) decode the statement there too. A
        keystroke (cancel) stops it between two steps: the steps done are kept, and the next
        pause goes on from there. path False: this model's requests have no project context."""
        try:
            roots = self.project.workspace  # replaced when the workspace folders change (`set_roots`)
            block = NO_BLOCK if path is False else self._wanted(doc, path, text, cursor)
            # the list's own model: its own options
            options = self._list_prompt(doc)[0] if path is False else self.config.options
            engine.warm(text, cursor, options, block.project, cancel, doc)
            # cancel set: edited since, or closed (`forget`); the folders changed: made from the old ones
            if path is not False and not cancel.is_set() and self.project.workspace is roots:
                self._blocks[doc] = block
            self.ranker.identifiers.around(doc, text, cursor)
            # after the context is in use (not when the folders changed meanwhile): a key during it loses only this
            if ahead and not cancel.is_set() and self._blocks.get(doc) is block:
                engine.ahead(Request(text, cursor, Mode.STATEMENT, self.config.options, cancel, block.project, doc))
        except Cancelled:
            pass  # a keystroke came: it goes first
        except Exception:  # warming is an optimisation: never let it fail anything
            self.log.exception("warming the KV state failed")

    def _fill(self, engine, request: Request, cancel) -> None:
        """Prefill a prompt answered with nothing (`Timings.unfilled`), for the next key to decode
        at once; a request on the thread, an edit, a move or a close stops it between two steps."""
        try:
            engine.warm(request.text, request.cursor, request.options, request.project, cancel, request.doc)
        except Cancelled:
            pass  # a keystroke came: it goes first
        except Exception:  # an optimisation: never let it fail anything
            self.log.exception("prefilling a prompt off the keystroke failed")

    def _wanted(self, doc: str, path: str | None, text: str, cursor: int) -> Block:
        """The project context for the cursor now (`service/project.py`); the ring keeps the cursor's chunk."""
        p = self.config.project
        if not p.project:
            return NO_BLOCK
        if p.recent:
            self.project.recent.add(path or doc, text, text.count("\n", 0, cursor))
        return self.project.block(path, text, cursor, p.project_tokens * CHARS_PER_TOKEN, p.recent)

    def opened(self, doc: str, text: str, path: str | None) -> None:
        """A newly opened document: count its identifiers (they count in the other files' lists), and ask jedi for
        its module's names now (it parses the file meanwhile): its first lists find jedi's parse cached and names."""
        host = self.list_model.loading or self.list_model.serving
        if host is not None:
            host.worker.submit(self.ranker.identifiers.around, doc, text, None)
        if self.config.project.project and self.config.project.recent:
            self.project.recent.add(path or doc, text, 0)
        if self.config.jedi:
            self.ranker.open_names(doc, text, path)

    def forget(self, doc: str, path: str | None = None) -> None:
        """A closed document: nothing of it is kept but its recent chunks (what the user saw);
        with path (an excluded file), not those either."""
        self.scheduler.forget(doc)
        self.ranker.forget(doc)
        # again after a list in flight on the list's thread, and after what `opened` queued on a loading one
        for host in {h for h in (self.list_model.loading, self.list_model.serving) if h is not None}:
            host.worker.submit(self.ranker.forget, doc)
        for host in {h for h in (self.model.serving, self.list_model.serving) if h is not None}:
            if isinstance(host.engine, LocalCompleter):  # its prompt states: now, and after work in flight
                host.engine.forget(doc)
                host.worker.submit(host.engine.forget, doc)
        self.scheduler.when_idle(self._return_memory)  # what it held goes back to the system, as after a request
        self._blocks.pop(doc, None)
        if path is not None:
            self.project.recent.drop(path)

    def close(self) -> None:
        self.scheduler.supersede_all()
        self.model.close()
        self.list_model.close()
