"""What `nib eval` measures, each behind one interface: `line(text, cursor, healing)` -> (the rest of
the line, its score); a local model also `rank` (the list's labels) and `token_accuracy`.

A statement is asked of a `CompletionService` of the predictor's own, as `nib serve` and `nib
complete` ask it: the same hosts load the model, the same request reaches it. The list's
labels and token accuracy measure the model itself, on the completer the service loaded.
`ListPredictor` asks the list's owner, the ranker, as the server mixes it (`nib eval --ranking`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Future
from dataclasses import replace

import numpy as np

from nib.model.completion.engine import EngineCompleter, EngineOptions
from nib.model.completion.local import LocalCompleter
from nib.model.completion.request import Kind, Mode, Options, Request
from nib.model.errors import ModelError
from nib.model.listing.jedi import JediCompleter
from nib.model.runtime.artifacts import BUNDLED, default_model
from nib.model.service.config import Config
from nib.model.service.hosts import Hosts, ModelKey
from nib.model.service.service import CompletionService

from .measures import score_tokens

WINDOW = 512  # token accuracy runs files in windows of this many tokens, for every model alike
DOC = "nib-eval"  # the one document an evaluation's requests are about


class ServicePredictor:
    """Statements from a completion service of its own, one request at a time; a warning from
    it (an engine that failed, whose statement the local model would have made) is an error."""

    def __init__(
        self, key: ModelKey, engine: EngineOptions, context_tokens: int | None, after: bool, listing: ModelKey | None
    ):
        """listing: the list's model, which makes the statement when an engine fails (None: key's)."""
        self.after, self.context_tokens = after, context_tokens or 0  # 0: the model's own
        self._warned: list[str] = []
        options = Options(statement_max_tokens=48, statement_budget_ms=10_000, statement_min_confidence=0)
        config = Config(key, listing or key, options, engine, jedi=False, jedi_ms=0, name_jedi_ms=0)
        self.service = CompletionService(Hosts(), JediCompleter(), config, self._notify, logging.getLogger("nib"))
        self._runner = asyncio.Runner()  # one loop for every request: an engine's connection is reused
        self._runner.run(self.service.ready())
        host = self.service.model.serving
        if host is None or host.engine is None or self._warned:
            raise ModelError(self._warned[-1] if self._warned else f"could not load {key.describe()}")
        self.engine = host.engine

    def _notify(self, level: int, message: str, shown: str | None = None) -> None:
        if level >= logging.WARNING:  # an error loading, or an engine that failed
            self._warned.append(message)

    healing = "exact"  # the statement's healing where a call names none (the server's default)

    def line(
        self, text: str, cursor: int, healing: str | None = None, project=None, project_tokens: int = 0
    ) -> tuple[str, float]:
        """The rest of the cursor's line the statement predicts, and the statement's score; with
        project context (`Request.project`) in at most project_tokens tokens."""
        request = _line_request(text, cursor, healing or self.healing, self.context_tokens, self.after)
        options = replace(request.options, project_tokens=project_tokens) if project else request.options
        asked = self.service.complete(DOC, request.text, cursor, Mode.STATEMENT, options=options, project=project)
        result = self._runner.run(asked)
        if self._warned or self.service.engine_failing:  # the local model's statement, not the engine's
            raise ModelError(f"the statement at {cursor} was not the model's: {' '.join(self._warned)}")
        return _rest_of_line(text, cursor, result)

    def close(self) -> None:
        """The service's models and connections, closed on its loop."""

        async def close():
            self.service.close()  # an engine's connections close in a task of their own
            await asyncio.gather(*(asyncio.all_tasks() - {asyncio.current_task()}))

        self._runner.run(close())
        self._runner.close()


class ModelPredictor(ServicePredictor):
    engine: LocalCompleter
    lists = True  # ranks the list too
    scored = True  # statements come with their probability
    healing_modes = ("off", "prefix", "exact")

    def __init__(
        self,
        model_path,
        threads: int = 0,
        context_tokens: int | None = None,
        fim: str | None = None,
        after=False,
        healing: str = "exact",
        device: str = "cpu",
    ):
        """fim: the FIM layout instead of the model's own; after: the statement's document keeps the
        lines after the cut's line (code the cut is inside of), not only the text before the cut;
        healing: the statements' (exact, the server's default, unless a call names one); device:
        `model.device` (cpu: the int8 ONNX model; auto, cuda: torch on the weights it was imported from)."""
        key = ModelKey(str(model_path) if model_path else default_model(threads=threads), device, threads)
        super().__init__(key, EngineOptions(), context_tokens, after, listing=None)
        assert isinstance(self.engine, LocalCompleter)  # a local model's host loads one
        self.healing = healing
        self.name = (
            str(model_path or "bundled")
            + (f" fim={fim}" if fim else "")
            + (f" healing={healing}" if healing != "exact" else "")
            + (f" device={device}" if device != "cpu" else "")
        )
        if fim is not None:
            self.engine.defaults = {**self.engine.defaults, "fim": fim}
        model_dir = self.engine.model_dir
        assert model_dir is not None  # a local model is read from its directory
        self.type_stream = model_dir.type_stream

    def rank(self, text: str, cursor: int, healing: str = "exact") -> list[str]:
        options = Options(list_size=5, list_statement=False, healing=healing, context_tokens=self.context_tokens)
        result = self.engine.complete(Request(text[:cursor], cursor, Mode.LIST, options))
        return [c.label for c in result.candidates]

    def token_accuracy(self, text: str) -> tuple[int, int]:
        from nib.model.text.streams import INPUT_TYPE, token_types

        bpe, rt = self.engine.bpe, self.engine.runtime
        ids = bpe.encode(text)
        types = INPUT_TYPE[token_types(text, ids, bpe.token_bytes)].tolist()
        first = bpe.bos if bpe.bos is not None else bpe.eot
        assert first is not None  # a tokenizer marks a file's start with one or the other
        ids, types = [first] + ids, [0] + types
        preds = np.empty(len(ids), dtype=np.int64)  # preds[j]: the model's guess for ids[j]
        preds[0] = -1
        block = min(rt.block_size, WINDOW)
        for lo in range(0, len(ids) - 1, block):
            chunk = slice(lo, min(lo + block, len(ids) - 1))
            keys, values = rt.empty()
            logits, _, _ = rt.forward(np.asarray([ids[chunk]]), np.asarray([types[chunk]]), keys, values)
            preds[chunk.start + 1 : chunk.stop + 1] = logits[0].argmax(-1)
        return score_tokens(text, ids[1:], preds[1:], bpe.token_bytes)


class EnginePredictor(ServicePredictor):
    """The statement from an engine over HTTP (`EngineCompleter`): lines only, no list, no logits."""

    engine: EngineCompleter

    lists = False
    scored = False
    healing_modes = ("off", "exact")  # exact: the engine's own constraint (engine.healing)

    def __init__(self, url: str, model: str = "", healing: str = "grammar", context_tokens: int | None = None):
        key = ModelKey(url, "", 0, model, kind=Kind.HTTP)
        engine = EngineOptions(timeout_ms=60_000, healing=healing)
        super().__init__(key, engine, context_tokens, after=False, listing=ModelKey(BUNDLED, "cpu", 0))
        self.name = f"engine {url}" + (f" ({model})" if model else "")
        self.type_stream = False

    def line(self, text: str, cursor: int, healing: str | None = None, project=None, project_tokens: int = 0):
        if project:
            raise ValueError("an engine is sent no project context")
        self.engine.shown.clear()  # each cut asks the engine (nothing typed through from the cut before)
        return super().line(text, cursor, healing)


def _line_request(text: str, cursor: int, healing: str, context_tokens: int, after: bool = False) -> Request:
    """The statement at cursor with the text after it cut off (after: the rest of its line only):
    every statement, however unlikely (the curve of minConfidence is computed from the scores),
    up to 48 tokens, no time budget."""
    options = Options(
        statement_max_tokens=48,
        statement_budget_ms=10_000,
        healing=healing,
        statement_min_confidence=0,
        context_tokens=context_tokens,
    )
    end = text.find("\n", cursor)
    return Request(text[:cursor] + (text[end:] if after and end >= 0 else ""), cursor, Mode.STATEMENT, options)


def _rest_of_line(text: str, cursor: int, result) -> tuple[str, float]:
    """What the statement adds after the cursor, on the cursor's line, and its score."""
    if result is None or not result.candidates:
        return "", -np.inf
    c = result.candidates[0]
    # The candidate replaces text[c.start:cursor]; what it adds after the cursor is the prediction.
    typed = text[c.start : cursor]
    rest = c.text[len(typed) :] if c.text.startswith(typed) else c.text
    return rest.split("\n")[0], c.score


class ListPredictor:
    """The completion list at a point (`nib eval --ranking`): combined as the server answers it
    (jedi within its budget, names scored by the model, mixed with the identifier n-gram and
    jedi's order), narrowed as a name is typed, and by each ranker alone."""

    def __init__(self, engine, jedi_ms: int, name_jedi_ms: int | None = None, late_at_names: bool = False):
        """late_at_names: at a name jedi never answers the combined list (as in a file just opened,
        jedi parsing it: the names read from the text, `scope_names.read_names`), deterministically;
        the narrowed list and jedi's own labels still wait for it."""
        from nib.model.completion.request import Options
        from nib.model.listing.identifiers import IdentifierNgram
        from nib.model.listing.ranker import ListRanker

        self.engine, self.name_jedi_ms, self.late_at_names = engine, name_jedi_ms, late_at_names
        self.ranker = ListRanker(JediCompleter(jedi_ms), IdentifierNgram())
        self.ranker.jedi.names("import os\nos.", 13, None, 30_000)  # jedi's first call loads its stubs
        self.options = Options(list_statement=False)

    def predict(self, document: str, start: int, cursor: int, path: str, key: str) -> dict:
        """Each ranker's labels and latency for the name that starts at start, asked at cursor;
        and what the mixture needs to re-rank it."""
        from nib.model.completion.request import Mode, Request
        from nib.model.listing.corrections import CHARS
        from nib.model.listing.identifiers import tokens
        from nib.model.text.lexeme import typed_name

        ranker, engine, options, text = self.ranker, self.engine, self.options, document[:cursor]
        t = time.perf_counter()
        listing = self._combined(text, cursor, path, key)
        combined_ms = (time.perf_counter() - t) * 1e3
        ranker.jedi.wait_idle()
        narrowed, narrowed_ms = listing, combined_ms
        if cursor > start:  # asked at the name's start, then narrowed to what is typed
            narrowed, narrowed_ms = self._narrowed(document, start, cursor, path, key)
        t = time.perf_counter()
        # jedi's own answer at the cursor, for what is typed, waited for
        jedi = ranker.jedi.names(text, cursor, path, 60_000, at_name_start=False)
        jedi_ms = (time.perf_counter() - t) * 1e3
        fragment = typed_name(text)
        t = time.perf_counter()
        model = engine.complete(Request(text, cursor, Mode.LIST, options))
        model_ms = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        context = tokens(text[max(cursor - 200, 0) : cursor])[-2:]
        ngram = ranker.identifiers.probabilities(key + "/alone", text, cursor, context)
        ngram_labels = sorted((n for n in ngram if n.startswith(fragment) and n != fragment), key=lambda n: -ngram[n])[
            :5
        ]
        ngram_ms = (time.perf_counter() - t) * 1e3
        ranker.identifiers.forget(key + "/alone")
        record = {
            "position": list(listing.position),
            "labels": {
                "jedi": [n.name for n in jedi.names] if jedi else [],
                "model": [c.label for c in model.candidates],
                "identifiers": ngram_labels,
                "combined": [c.label for c in listing.candidates],
                "narrowed": [c.label for c in narrowed.candidates],
            },
            "ms": {
                "jedi": jedi_ms,
                "model": model_ms,
                "identifiers": ngram_ms,
                "combined": combined_ms,
                "narrowed": narrowed_ms,
            },
            "narrowed": narrowed.narrowed,
            # what `combine` needs to re-rank this point under other weights
            "items": [(c.label, c.kind, c.score) for c in listing.unmixed],
            "identifiers_p": listing.identifiers,
            "jedi_order": [n.name for n in listing.jedi.names] if listing.jedi else [],
            "jedi_kinds": [n.kind for n in listing.jedi.names] if listing.jedi else [],
            "before": document[max(start - CHARS - 1, 0) : start],  # what `last_used` reads, and the character before
        }
        ranker.forget(key)
        return record

    def _combined(self, text: str, cursor: int, path: str, key: str):
        """The list as the server answers it at cursor (at a name, with late_at_names, jedi never answering)."""
        late: Future | None = Future() if self.late_at_names and not self.ranker.jedi_first(text, cursor) else None
        return self.ranker.complete(
            self.engine, text, cursor, self.options, key=key, path=path, name_jedi_ms=self.name_jedi_ms, jedi=late
        )

    def _narrowed(self, document: str, start: int, cursor: int, path: str, key: str):
        """The list asked at the name's start, then at cursor: narrowed to what is typed. -> (list, ms)"""
        ranker, engine, options = self.ranker, self.engine, self.options
        ranker.complete(
            engine, document[:start], start, options, key=key + "/narrowed", path=path, name_jedi_ms=self.name_jedi_ms
        )
        t = time.perf_counter()
        narrowed = ranker.complete(
            engine, document[:cursor], cursor, options, key=key + "/narrowed", path=path, name_jedi_ms=self.name_jedi_ms
        )
        narrowed_ms = (time.perf_counter() - t) * 1e3
        ranker.forget(key + "/narrowed")
        ranker.jedi.wait_idle()
        return narrowed, narrowed_ms

    def close(self) -> None:
        self.ranker.jedi.close()
