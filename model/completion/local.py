"""The local completer: a model in this process, `complete(request) -> Result`, a chain of named steps.

    prompt:     build_context -> lex -> heal -> prefill            (shared, `prompt.py`)
    statement:  prompt -> decode_statement -> postprocess
    list:       prompt -> decode_list -> decode_statement -> [score_names] -> postprocess
    names:      prompt -> score_names                              (names a caller knows are valid)

The list's owner (`listing.ranker`) asks jedi and waits for it; the completer only scores
the names it is given. Its twin over HTTP is `engine.EngineCompleter` (an inference engine).

Each step is timed into `Timings` by `timings.stage(name)`. No LSP types here:
offsets are character offsets into the document string, and the server converts
them to positions in the client's encoding. A backend plugs in at `Runtime`
(`runtime/`): the steps only prefill, step and read logits.
"""

from __future__ import annotations

import builtins  # LocalCompleter's annotations: its method `list` shadows the builtin there
import functools
import math
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from nib.model.net.tokenizer import BPE
from nib.model.runtime import Runtime, artifacts, heap, load_tokenizer, open_runtime
from nib.model.runtime.families import DEFAULTS
from nib.model.runtime.states import PromptStates
from nib.model.text.context import Context, build_context
from nib.model.text.heal import Canonical, VocabIndex
from nib.model.text.lexeme import typed_name
from nib.model.text.stops import depth_above

from .decode import Decoder
from .postprocess import lexeme_items, statement_item
from .prompt import (
    Prompt,
    Tokens,
    heal,
    infill,
    infill_line,
    lex,
    project_tokens,
    scrub,
    split_line,
    suffix_tokens,
    with_project,
)
from .request import Kind, Options, Project, Request
from .result import Candidate, Result, Timings
from .scoring import score_sequences
from .shown import Shown
from .steps import PREFILL_STEP, WARM_STEP, StepCost, Unfilled, prefill_in_steps

MEMO_ENTRIES = 16  # statements decoded and answered: kept for as many prompts
# The budget is the editor's wait; after the last pass the answer still has its way to the editor
# (postprocessing, the event loop, its JSON, the pipe): a few ms at p95 (README, *The protocol's
# own cost*), kept free of passes.
ANSWER_MS = 5

__all__ = ["Candidate", "LocalCompleter", "Options", "Request", "Result", "Timings"]


class LocalCompleter:
    kind = Kind.LOCAL
    remote = kind is Kind.HTTP  # derived: the one fact is `kind`

    def __init__(self, runtime: Runtime, bpe: BPE, model_dir: artifacts.ModelDir | None = None):
        self.runtime = runtime
        self.bpe = bpe
        self.model_dir = model_dir
        # what the settings leave to the model (contextTokens 0, minConfidence -1), and its drafting
        self.defaults = model_dir.defaults if model_dir else dict(DEFAULTS)
        self.index = VocabIndex(bpe.token_bytes, bpe.special_ids, runtime.vocab_size)
        self.decoder = Decoder(runtime, self.index, Canonical(bpe.encode, bpe.token_bytes, special=bpe.special_ids))
        self.decoder.draft_tokens = self.defaults["draft_tokens"]
        self.states = PromptStates()  # the KV states of the last prompts, for the next to continue
        self.step_cost = StepCost()  # what prefill steps cost lately: whether a prompt fits a budget
        # Memos of a few entries, not one: several documents (or editors on one daemon) take turns.
        self._statement_memo: OrderedDict = OrderedDict()  # prompt key -> (text, score) decoded
        self._project_memo: OrderedDict = OrderedDict()  # (project context, budget, layout) -> its Tokens
        self.project_layout = "repo"  # the model's own repository format where it has one (`prompt.project_tokens`)
        self.shown = Shown(MEMO_ENTRIES)  # statements answered: typed through, reused by the list
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls, model_path: Path | str | None = None, backend: str = "onnx", threads: int = 0, device: str = "auto"
    ) -> LocalCompleter:
        runtime, model_dir = open_runtime(model_path, backend, threads, device)
        engine = cls(runtime, load_tokenizer(model_dir), model_dir)
        heap.return_freed()  # parsing a tokenizer's JSON and the graph leaves much of the heap free
        return engine

    def complete(self, request: Request) -> Result:
        """Candidates for the request's cursor: the statement, or the list without names of its
        owner's (`list`). Raises Cancelled when request.cancel is set while prefilling or decoding.
        A statement asked by typing whose prompt would not be prefilled within its budget is
        answered with nothing (`Timings.unfilled`, `steps.py`): the steps done are kept, and the
        caller goes on from them (`ahead`)."""
        if request.mode == "list":
            return self.list(request)
        request, timings = self._own(request), Timings()
        with self._lock:
            if (item := self.shown.typed_through(request)) is not None:
                return Result([self._continued(request, item, timings) if item.cut else item], timings)
            deadline = None if request.invoked else _deadline(request)
            try:
                prompt = self._prompt(
                    request.text, request.cursor, request.options, timings, request.project, request.cancel,
                    request.doc, deadline, PREFILL_STEP,
                )  # fmt: skip
            except Unfilled as e:
                timings.unfilled = e.args[0]
                return Result([], timings)
            item = self._statement(prompt, request, timings)
            return Result([item] if item is not None else [], timings)

    def list(self, request: Request, names: builtins.list[str] | None = None, names_only: bool = False) -> Result:
        """The list at the request's cursor: the model's own lexemes (none when names_only: the
        names are the whole truth there), the statement as one item (`list_statement`), and each
        of names that begins with the typed fragment, scored by the model."""
        request, timings = self._own(request), Timings()
        with self._lock:
            prompt = self._prompt(
                request.text, request.cursor, request.options, timings, request.project, owner=request.doc
            )
            items = [] if names_only else self._decode_list(prompt, request, timings)
            if request.options.list_statement:  # the ghost text's own result when it was just asked here
                statement = self.last_statement(request.text, request.cursor, request.options) or self._statement(
                    prompt,
                    replace(request, since=time.monotonic()),
                    timings,  # its own budget, after the list's
                )
                if statement is not None and not any(
                    c.text == statement.text and c.start == statement.start for c in items
                ):
                    items.append(statement)
            if names:
                items.extend(self._score_names(names, prompt, request, timings))
        return Result(items, timings)

    def score_names(self, request: Request, names: builtins.list[str]) -> Result:
        """Each of names that begins with the typed fragment, scored by the model (the prompt of the
        list just computed at this cursor is reused)."""
        request, timings = self._own(request), Timings()
        with self._lock:
            prompt = self._prompt(
                request.text, request.cursor, request.options, timings, request.project, owner=request.doc
            )
            return Result(self._score_names(names, prompt, request, timings), timings)

    def last_statement(self, text: str, cursor: int, options: Options) -> Candidate | None:
        """The statement last answered, if it was for this very text, cursor and options."""
        return self.shown.at(scrub(text), cursor, self.own(options))

    def showing(self, text: str, cursor: int, options: Options, doc: str) -> Candidate | None:
        """The statement the editor shows at cursor in doc now (`Shown.showing`)."""
        return self.shown.showing(scrub(text), cursor, self.own(options), doc)

    def warm(
        self,
        text: str,
        cursor: int,
        options: Options = Options(),
        project: Project | None = None,
        cancel=None,
        doc: str = "",
    ) -> None:
        """Prefill the KV state for a document (doc, its URI) while the user is idle: in steps of
        WARM_STEP tokens, stopping (Cancelled) between two when cancel is set, so a keystroke
        waits one step at most."""
        with self._lock:
            self._prompt(scrub(text), cursor, self.own(options), Timings(), project, cancel, doc)

    def ahead(self, request: Request) -> None:
        """Decode the statement at the request's cursor as if asked, while the user is idle (the
        cursor rests there: they may type there next), within its budget, from when its prompt is
        prefilled (in steps, as by `warm`). The ghost text of the next key is then typed through at once where it
        agrees with the key (`Shown.typed_through`), and the list has its name (`ghost.py`).
        Stops (Cancelled) at the next step when request.cancel is set."""
        request = self._own(request)
        with self._lock:
            if not self.shown.stands(request.text, request.cursor, request.options, request.doc):
                prompt = self._prompt(
                    request.text, request.cursor, request.options, Timings(), request.project, request.cancel,
                    request.doc,
                )  # fmt: skip
                self._statement(prompt, replace(request, since=time.monotonic()), Timings())  # its budget: decoding's

    def forget(self, doc: str) -> None:
        """A document closed: the prompt states and statements made for it go (their memory with them)."""
        self.states.drop(doc)
        self.shown.drop(doc)

    def own(self, options: Options) -> Options:
        """Options with the model's own values where the settings leave them to the model."""
        return options.settled(self.defaults["context_tokens"], self.defaults["min_confidence"])

    def _own(self, request: Request) -> Request:
        since = request.since or time.monotonic()  # where the statement's budget starts
        return replace(request, text=scrub(request.text), options=self.own(request.options), since=since)

    # -- the steps --------------------------------------------------------------

    def _prompt(
        self,
        text: str,
        cursor: int,
        options: Options,
        timings: Timings,
        project: Project | None = None,
        cancel=None,
        owner: str = "",
        deadline: float | None = None,
        step: int = WARM_STEP,
    ) -> Prompt:
        """The prompt at cursor, prefilled: in steps of step tokens when cancel or deadline is given (`steps.py`)."""
        with timings.stage("context"):
            fim = self.defaults["fim"] != "off" and self.bpe.fim is not None
            context = build_context(text, cursor, options.context_tokens, suffix=fim)
        with timings.stage("lex"):
            tokens, suffix, shown = self._lex(context, options, project)
        with timings.stage("heal"):
            healing = heal(tokens, self.index, options.healing)
        with timings.stage("prefill"):
            ids, types = tokens.ids[: healing.keep], tokens.types[: healing.keep]
            layout = self.defaults["fim"]
            if suffix is not None and self.bpe.fim is not None and layout != "line":  # "line": laid out already
                ids = infill(ids, suffix, self.bpe.fim, layout)
                types = [0] * len(ids)  # a FIM model is a pretrained one: no type stream
            timings.prompt_tokens, timings.healed_bytes = len(ids), len(healing.removed)
            timings.project_tokens = len(shown.ids)  # set before the prefill, which may stop
            reused, shared = self.states.best(ids, types)
            if cancel is not None or deadline is not None:
                reused, shared = prefill_in_steps(
                    self.runtime, self.states, ids, types, reused, shared, step, cancel, owner, deadline, self.step_cost
                )
            logits, state = self.runtime.prefill(ids, types, reused, every=False)
            self.states.add(state, reused, shared, owner)
        return Prompt(context, logits[-1], state, healing.removed, healing.removed_text, suffix is not None)

    def _lex(
        self, context: Context, options: Options, project: Project | None
    ) -> tuple[Tokens, builtins.list[int] | None, Tokens]:
        """The prompt's tokens before healing (for psm and spm: the window's, laid out after healing),
        the suffix's tokens (None: no FIM prompt) and the project context's tokens shown; in all
        at most the model's block size less a statement's tokens."""
        layout = self.defaults["fim"]
        room = self.runtime.block_size - options.statement_max_tokens - 1
        suffix = suffix_tokens(context, self.bpe, layout)  # None without FIM tokens
        markers = len(suffix) + 3 if suffix is not None else 0  # the suffix and the three FIM tokens
        budget = max(1, min(options.context_tokens, room) - markers)
        shown = self._project(project, min(options.project_tokens, room - budget - markers - 1))  # 1: bos or eot
        first = self.bpe.bos if self.bpe.bos is not None else self.bpe.eot
        if suffix is not None and self.bpe.fim is not None and layout == "line":
            above, line = split_line(context, self.bpe, budget)
            above = with_project(above, shown, first) if shown.ids else above
            return infill_line(above, line, suffix, self.bpe.fim), suffix, shown
        tokens = lex(context, self.bpe, self.runtime.uses_types, budget, marker=suffix is None and not shown.ids)
        return (with_project(tokens, shown, first) if shown.ids else tokens), suffix, shown

    def _project(self, project: Project | None, budget: int) -> Tokens:
        """The project context's tokens within budget (`prompt.project_tokens`), lexed once per context."""
        if project is None or budget <= 0:
            return Tokens([], [])
        key = (project, budget, self.project_layout)
        if key not in self._project_memo:
            lexed = project_tokens(project, self.bpe, self.runtime.uses_types, budget, self.project_layout)
            _remember(self._project_memo, key, lexed)
        return self._project_memo[key]

    def _decode_list(self, prompt: Prompt, request: Request, timings: Timings) -> builtins.list[Candidate]:
        o = request.options
        with timings.stage("decode_list"):
            decoded = self.decoder.next_tokens(
                prompt.logits,
                prompt.state,
                prompt.removed,
                prompt.line_before.encode(),
                k=o.list_size,
                cancel=request.cancel,
                exact=o.healing == "exact",
                deadline=time.monotonic() + o.list_budget_ms / 1e3,
            )
        return lexeme_items(decoded, prompt.removed_text, request.text, request.cursor)

    def _statement(self, prompt: Prompt, request: Request, timings: Timings, shown: bool = True) -> Candidate | None:
        with timings.stage("decode_statement"):
            deadline = _deadline(request)
            gen, score, cut = self._decode_statement(prompt, request.options, deadline, request.cancel, timings)
        context = prompt.context
        item = statement_item(
            gen, score, prompt.removed_text, context.suffix_line, request.cursor, prompt.filled, context.next_line
        )
        if item is not None:  # (one under minConfidence was stopped at its sure part: `Decoder.statement`)
            item.cut = cut
        if shown:
            self.shown.add(request, item)
        return item

    def _continued(self, request: Request, item: Candidate, timings: Timings) -> Candidate:
        """A statement its budget cut, typed through: decoded on from its end within this
        request's budget (the document as if the whole of it were typed, its prompt state reused
        up to the cursor). The statement so far, longer when the model goes on."""
        end = item.start + len(item.text)
        text = request.text[: item.start] + item.text + request.text[request.cursor :]
        ahead = replace(request, text=text, cursor=end)
        prompt = self._prompt(text, end, request.options, timings, request.project, owner=request.doc)
        more = self._statement(prompt, ahead, timings, shown=False)
        whole = replace(item, cut=False)  # nothing more: the statement is what it is
        if more is not None:  # more replaces text[more.start:end], what healing took back
            start = min(item.start, more.start)
            merged = text[start : more.start] + more.text
            score = item.score + more.score
            whole = replace(item, text=merged, start=start, label=merged.strip(), score=score, cut=more.cut)
        self.shown.add(request, whole)
        return whole

    def _decode_statement(
        self, prompt: Prompt, o: Options, deadline: float, cancel, counts: Timings
    ) -> tuple[str, float, bool]:
        """(the statement from the back-off point, its log-probability, whether the deadline cut it)."""
        # An editor asks for the list and the ghost text at the same spot: decode once.
        ctx, state = prompt.context, prompt.state
        key = (
            state.tokens,
            state.types,
            prompt.removed,
            ctx.line_prefix,
            o.statement_max_tokens,
            o.statement_lines,
            o.healing,
            o.statement_min_confidence,
        )
        if key in self._statement_memo:
            return self._statement_memo[key]
        above, cuts = ctx.prefix[: len(ctx.prefix) - len(ctx.line_prefix)], counts.out_of_time
        text, score = self.decoder.statement(
            prompt.logits,
            state,
            prompt.removed,
            ctx.line_prefix,
            depth_above(above),
            o.statement_max_tokens,
            deadline,
            o.statement_lines,
            cancel,
            exact=o.healing == "exact",
            counts=counts,
            floor=math.log(o.statement_min_confidence / 100) if o.statement_min_confidence > 0 else -math.inf,
        )
        cut = counts.out_of_time > cuts
        if not cut:  # a cut one is not kept: the next request here has a budget of its own
            _remember(self._statement_memo, key, (text, score, cut))
        return text, score, cut

    def _score_names(
        self, names: builtins.list[str], prompt: Prompt, request: Request, timings: Timings
    ) -> builtins.list[Candidate]:
        """Each name that begins with the typed identifier fragment, scored by the model from the back-off point."""
        with timings.stage("score_names"):
            text, cursor, removed_text = request.text, request.cursor, prompt.removed_text
            typed = typed_name(prompt.context.line_prefix)
            backoff, name_start = cursor - len(removed_text), cursor - len(typed)
            kept, texts = [], []
            for name in dict.fromkeys(names):
                if not name.startswith(typed):
                    continue
                scored = text[backoff:name_start] + name if backoff <= name_start else name[backoff - name_start :]
                # the name typed whole too (`t` where `t` is typed), where the prompt backed off into it:
                # with no back-off nothing of it is left to score (the chance that it ends here is not read)
                if scored:
                    kept.append(name)
                    texts.append(scored)
            if not kept:
                return []
            seqs = [tuple(ids) for ids in self.bpe.encode_batch(texts)]
            line = prompt.line_before.encode("utf-8", "surrogatepass")
            piece_type = functools.partial(self.decoder.last_piece_type, line)  # for a model with a type stream
            scores = score_sequences(self.runtime, prompt.logits, prompt.state, seqs, piece_type=piece_type)
        return [Candidate(name, name_start, float(sc), "name", name) for name, sc in zip(kept, scores, strict=True)]


def _deadline(request: Request) -> float:
    """When the statement's work must end (time.monotonic()): its budget less the answer's way."""
    return request.since + (request.options.statement_budget_ms - ANSWER_MS) / 1e3


def _remember(memo: OrderedDict, key, value) -> None:
    memo[key] = value
    while len(memo) > MEMO_ENTRIES:
        memo.popitem(last=False)
