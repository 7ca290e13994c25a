"""The completion engine: text + cursor + options in, candidates with ranges out.

    build_context -> lex (types) -> heal (back off) -> infer (prefill, reuse cache) -> decode -> edit

No LSP types here: offsets are character offsets into the document string, and
the server converts them to positions in the client's encoding.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


from . import artifacts
from .context import build_context
from .decode import Decoder
from .heal import Canonical, VocabIndex, back_off
from .lexeme import lexeme_span, typed_name
from .ranking import score_sequences
from .runtime import Runtime, State, open_runtime
from .stops import bracket_depth, cut_suffix_repeat
from .streams import INPUT_TYPE, token_types
from .tokenizer import BPE

log = logging.getLogger("nib.engine")


@dataclass
class Options:
    """What a request may tune. Defaults are the documented settings defaults."""

    context_tokens: int = 448  # the prompt's token budget (the model was trained on 512)
    list_size: int = 5
    statement_tokens: int = 32
    statement_ms: int = 250  # time budget for a statement
    list_ms: int = 300  # time budget for the list's own items (then what is found so far)
    healing: str = "exact"  # off | prefix | exact
    block_body: bool = False  # may a statement that opens a block continue into its body
    statement_in_list: bool = True


@dataclass
class Candidate:
    """Replace document[start:cursor] with text. score: log-probability."""

    text: str
    start: int
    score: float
    kind: str  # "token" | "statement"
    label: str = ""


@dataclass
class Result:
    candidates: list[Candidate]
    timings: dict[str, float] = field(default_factory=dict)


class Engine:
    def __init__(self, runtime: Runtime, bpe: BPE, model_dir: artifacts.ModelDir | None = None):
        self.runtime = runtime
        self.bpe = bpe
        self.model_dir = model_dir
        self.index = VocabIndex(bpe.token_bytes, bpe.special_ids)
        self.decoder = Decoder(runtime, self.index, Canonical(bpe.encode, bpe.token_bytes))
        self._state: State | None = None  # the prefix KV cache of the last prompt
        self._last_statement = None  # (key, (text, score)) of the last statement decoded
        self._depth_memo: tuple[str, int] = ("", 0)  # bracket depth of the text above the cursor's line
        self._lock = threading.Lock()

    @classmethod
    def load(cls, model_path: Path | None = None, backend: str = "onnx", threads: int = 0,
             device: str = "auto") -> "Engine":
        runtime, model_dir = open_runtime(model_path, backend, threads, device)
        return cls(runtime, BPE.load(model_dir.tokenizer), model_dir)

    def complete(self, text: str, cursor: int, mode: str = "list", options: Options | None = None,
                 cancel: threading.Event | None = None, names=None, static_first: bool = False) -> Result:
        """Candidates for the cursor (a character offset into text); mode: list | statement.

        names: None, or a callable giving (static candidates, confident): the
        identifiers valid at the cursor and whether they are all there can be.
        It is called after everything else is decoded, so static analysis in
        another process overlaps it, or first (static_first: where it is
        likely to be confident, after `.`, sparing the model's own items);
        each name becomes a "name" candidate scored by the model. The model's
        own next lexemes are dropped when the static list is confident.
        Raises Cancelled when `cancel` is set while decoding.
        """
        options = options or Options()
        text = _scrub(text)
        with self._lock:
            return self._complete(text, cursor, mode, options, cancel, names, static_first)

    def warm(self, text: str, cursor: int, options: Options | None = None) -> None:
        """Prefill the cache for a document while the user is idle."""
        options = options or Options()
        with self._lock:
            self._prompt(_scrub(text), cursor, options, {})

    def _prompt(self, text: str, cursor: int, options: Options, timings: dict):
        t0 = time.perf_counter()
        ctx = build_context(text, cursor, options.context_tokens)
        ids = self.bpe.encode(ctx.prefix)
        types = INPUT_TYPE[token_types(ctx.prefix, ids, self.bpe.token_bytes)].tolist() if self.runtime.uses_types \
            else [0] * len(ids)
        if ctx.at_file_start:
            ids, types = [self.bpe.eot] + ids, [0] + types
        budget = min(options.context_tokens, self.runtime.block_size - options.statement_tokens - 1)
        ids, types = ids[-budget:], types[-budget:]
        t1 = time.perf_counter()
        keep, removed = back_off(ids, self.index) if options.healing != "off" else (len(ids), b"")
        try:
            removed_text = removed.decode("utf-8")
        except UnicodeDecodeError:  # back-off point inside a character: do not heal
            keep, removed, removed_text = len(ids), b"", ""
        logits, state = self.runtime.prefill(ids[:keep], types[:keep], self._state)
        self._state = state
        t2 = time.perf_counter()
        timings.update(context_ms=(t1 - t0) * 1e3, prefill_ms=(t2 - t1) * 1e3, prompt_tokens=keep,
                       healed_bytes=len(removed))
        return ctx, logits[-1], state, removed, removed_text

    def _complete(self, text, cursor, mode, options, cancel, names=None, static_first=False) -> Result:
        timings: dict[str, float] = {}
        ctx, logits, state, removed, removed_text = self._prompt(text, cursor, options, timings)
        line_before = ctx.line_prefix[: len(ctx.line_prefix) - len(removed_text)] \
            if len(removed_text) <= len(ctx.line_prefix) else ""
        t0 = time.perf_counter()
        out: list[Candidate] = []
        static, confident = [], False
        if mode == "list" and names is not None and static_first:
            static, confident = names()
            timings["static_wait_ms"] = (time.perf_counter() - t0) * 1e3
        if mode == "list" and not (static and confident):
            for gen, score in self.decoder.next_tokens(logits, state, removed, line_before.encode(),
                                                       k=options.list_size, cancel=cancel,
                                                       exact=options.healing == "exact",
                                                       deadline=time.monotonic() + options.list_ms / 1e3):
                edit = _edit(gen, removed_text, cursor)
                # an item that only repeats what is typed inserts nothing
                if edit is not None and "\n" not in edit.text and edit.text != text[edit.start:cursor]:
                    edit.score, edit.kind = score, "token"
                    out.append(edit)
        if mode == "statement" or (mode == "list" and options.statement_in_list):
            t_stmt = time.perf_counter()
            # An editor asks for the list and the ghost text at the same spot: decode once.
            key = (state.tokens, state.types, removed, ctx.line_prefix, options.statement_tokens, options.block_body,
                   options.healing)
            if self._last_statement is not None and self._last_statement[0] == key:
                gen, score = self._last_statement[1]
            else:
                above = ctx.prefix[: len(ctx.prefix) - len(ctx.line_prefix)]
                if self._depth_memo[0] != above:
                    self._depth_memo = (above, max(0, bracket_depth(above)))
                gen, score = self.decoder.statement(
                    logits, state, removed, ctx.line_prefix, self._depth_memo[1], options.statement_tokens,
                    time.monotonic() + options.statement_ms / 1e3, options.block_body, cancel,
                    exact=options.healing == "exact",
                )
                self._last_statement = (key, (gen, score))
            c0 = len(removed_text)
            gen = gen[:c0] + cut_suffix_repeat(gen[c0:], ctx.suffix_line)
            edit = _edit(gen, removed_text, cursor, whole=True)
            if edit is not None and edit.text.strip() and len(gen) > c0 and not (
                    mode == "list" and any(c.text == edit.text and c.start == edit.start for c in out)):
                edit.score, edit.kind = score, "statement"
                out.append(edit)
            timings["statement_ms"] = (time.perf_counter() - t_stmt) * 1e3
        if mode == "list" and names is not None and not static_first:
            # Last: the model's own items and the statement were decoded while jedi worked.
            t_static = time.perf_counter()
            static, confident = names()
            timings["static_wait_ms"] = (time.perf_counter() - t_static) * 1e3
        if static:
            if confident:  # after `.` or in an import: jedi's names are all there is
                out = [c for c in out if c.kind == "statement"]
            out.extend(self._score_names(static, text, cursor, removed_text, ctx.line_prefix, logits, state))
        timings["decode_ms"] = (time.perf_counter() - t0) * 1e3
        return Result(out, timings)

    def _score_names(self, names: list[str], text: str, cursor: int, removed_text: str, line_prefix: str,
                     logits, state) -> list[Candidate]:
        """Each name that extends the typed identifier fragment, scored by the model from the back-off point."""
        typed = typed_name(line_prefix)
        backoff, name_start = cursor - len(removed_text), cursor - len(typed)
        kept, texts = [], []
        for name in dict.fromkeys(names):
            if name.startswith(typed) and name != typed:
                kept.append(name)
                texts.append(text[backoff:name_start] + name if backoff <= name_start else name[backoff - name_start:])
        if not kept:
            return []
        seqs = [tuple(ids) for ids in self.bpe.encode_batch(texts)]
        line = line_prefix[: max(0, len(line_prefix) - len(removed_text))].encode("utf-8", "surrogatepass")
        tb = self.bpe.token_bytes

        def piece_type(prefix):  # the input type of prefix's last piece, for a model with a type stream
            return self.decoder.piece_type(line + b"".join(tb[t] for t in prefix[:-1]), tb[prefix[-1]])

        scores = score_sequences(self.runtime, logits, state, seqs, piece_type=piece_type)
        return [Candidate(name, name_start, float(sc), "name", name) for name, sc in zip(kept, scores)]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _scrub(text: str) -> str:
    """Lone surrogates (a client can send them as JSON escapes) as U+FFFD: the tokenizer
    rejects them, and one character for one keeps every offset where it was."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def _edit(gen: str, removed_text: str, cursor: int, whole: bool = False) -> Candidate | None:
    """The edit for generated text gen, which starts at the back-off point (len(removed_text)
    before the cursor) and reproduces removed_text first.

    The edit replaces only the typed part of the lexeme the cursor is in (nothing, if the
    cursor is between lexemes); the label is the lexeme offered (list) or the text (statement).

    Example: _edit(" ==", " =", 3) -> Candidate("==", start=2, label="==")
    """
    c0 = len(removed_text)
    span = lexeme_span(gen, c0)
    start = span[0] if span is not None and span[0] < c0 else c0
    if whole:
        new = gen[start:]
        label = new.strip()
    else:
        if span is None:
            return None
        new = gen[start: span[1]]
        label = gen[span[0]: span[1]].strip()
    if not new.strip():
        return None
    return Candidate(new, cursor - (c0 - start), 0.0, "", label)
