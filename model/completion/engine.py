"""The statement from an inference engine over HTTP: any server of OpenAI's completions API
(llama.cpp's server, llama-cpp-python's, vLLM, TGI, Ollama). nib still builds the prompt, heals
the word the cursor is in and cuts the statement by its own stop rules; the engine only continues
text, on a GPU box that several editors share.

    text, cursor --build_context--> the window before the cursor (the local engine's too)
                 --word_backoff---> the prompt up to the back-off point, and the text backed off
                 --POST /completions, streamed--> a continuation made to start with that text
                                     (a GBNF grammar for llama.cpp, a regex for vLLM)
                 --statement_end---> cut as soon as the statement ends: the stream is closed,
                                     and the engine stops generating
                 --statement_item--> Candidate

Healing over an engine cannot use the engine's tokenizer (nib does not have it), so it backs
off a whole word and the blanks before it: a tokenizer's token that the cursor splits starts at
such a point in BPE and SentencePiece vocabularies of code (` self`, `▁append`, `.`, `(`).

An engine that is down, slow or answers garbage raises EngineError; the server then takes the
statement from the local model and warns once. After a failure the engine rests (REST_S): it is
not asked again for a while, and EngineError comes at once. Cancelling the coroutine closes the
HTTP request.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import re
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

from nib.model.runtime.families import DEFAULTS
from nib.model.text.context import build_context
from nib.model.text.stops import depth_above, statement_end, whole_lines

from .postprocess import statement_item
from .prompt import scrub
from .request import Kind, Request
from .result import Candidate, Result, Timings
from .shown import Shown

log = logging.getLogger("nib.engine")
CONTEXT_TOKENS = DEFAULTS["context_tokens"]  # what contextTokens 0 means for an engine: the local models' own
MAX_BACKOFF = 32  # characters; a longer word is sent as it is, unhealed
# After a failure the engine rests: it is not asked again for 1 s, doubling with each failure
# in a row up to 30 s, so that a hung or overloaded engine costs each keystroke nothing (the
# local model answers at once) instead of engine.timeoutMs, and is not sent more work.
REST_S = (1.0, 30.0)
# What httpx's first connection imports (anyio's asyncio backend, its TLS and memory streams)
LAZY_MODULES = ("anyio._backends._asyncio", "anyio.streams.tls", "anyio.streams.memory", "anyio.streams.stapled")
_WORD = re.compile(r"[ \t]*(?:\w+|[^\w\s]{1,3})?\Z")


class EngineError(Exception):
    """The engine is down, too slow, or answered something that is not a completion."""


@dataclass(frozen=True)
class EngineOptions:
    """How requests are made (settings `engine.*` other than the engine's identity)."""

    timeout_ms: int = 1500
    healing: str = "grammar"  # grammar (GBNF: llama.cpp) | regex (vLLM's structured outputs) | off
    suffix: bool = False  # send the text after the cursor as `suffix` (fill-in-the-middle)


def word_backoff(prefix: str) -> str:
    """The end of prefix to back off before asking an engine: the word (or up to three
    symbols) the cursor is in or after, and the blanks before it; "" if over MAX_BACKOFF.

    Example: word_backoff("x = os.pa") == "pa"; word_backoff("x = fo") == " fo"; word_backoff("f(") == "("
    """
    found = _WORD.search(prefix)
    removed = found.group(0) if found else ""
    return removed if len(removed) <= MAX_BACKOFF else ""


def gbnf_literal(text: str) -> str:
    r"""text as a GBNF string literal.

    Example: gbnf_literal('a"\n') == '"a\\"\\x0a"'
    """
    escaped = "".join(
        c
        if c.isprintable() and c not in '"\\'
        else "\\" + c
        if c in '"\\'
        else f"\\x{ord(c):02x}"
        if ord(c) < 0x100
        else f"\\u{ord(c):04x}"
        for c in text
    )
    return f'"{escaped}"'


def constraint(removed: str, healing: str) -> dict:
    """The request fields that make the engine's text start with `removed`."""
    if not removed or healing == "off":
        return {}
    if healing == "grammar":  # llama.cpp (server and llama-cpp-python): GBNF; `.` is any character
        return {"grammar": f"root ::= {gbnf_literal(removed)} .*"}
    return {"structured_outputs": {"regex": re.escape(removed) + r"[\s\S]*"}}  # vLLM


class EngineCompleter:
    """Statements from an OpenAI-compatible completions server at `url` (ending in /v1)."""

    kind = Kind.HTTP
    remote = kind is Kind.HTTP  # derived: the one fact is `kind`

    def __init__(self, url: str, model: str = "", api_key_env: str = ""):
        self.url = url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env
        self.shown = Shown(16)
        self.stats = {"requests": 0, "answered": 0, "cancelled": 0, "failed": 0, "open": 0, "skipped": 0}
        self._rest_s = 0.0  # how long the engine rests after its next failure, doubled by each
        self._resting_until = 0.0  # time.monotonic() before which it is not asked
        self._failure = ""  # why it rests
        self._client: httpx.AsyncClient | None = None  # httpx is imported when first used
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the client is for
        self._making: asyncio.Task | None = None  # the client for self._loop, made on a thread
        self._closed = False

    async def _http(self):
        """One client per event loop (its connections belong to the loop), kept for connection
        reuse. httpx's import and the client's SSL context are made on a thread, once: on the
        loop they stalled every request there, and a short engine.timeoutMs fired late."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._client, self._loop = None, loop
            self._making = loop.create_task(asyncio.to_thread(self._new_client))
        if self._client is None:
            assert self._making is not None  # set with self._loop
            client = await asyncio.shield(self._making)  # a request cancelled meanwhile leaves it made
            if self._closed:  # closed while it was made: nothing may keep connections open
                await client.aclose()
                raise EngineError(f"the engine at {self.url} is no longer used")
            self._client = client
        return self._client

    @staticmethod
    def _new_client():
        import httpx

        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=32, keepalive_expiry=60))
        for lazy in LAZY_MODULES:  # imported here, not by the first connection on the loop
            try:
                importlib.import_module(lazy)
            except ImportError:  # another anyio's layout: imported on first use, as before
                pass
        return client

    def _headers(self) -> dict:
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        return {"Authorization": f"Bearer {key}"} if key else {}

    def last_statement(self, text: str, cursor: int, options) -> Candidate | None:
        return self.shown.at(scrub(text), cursor, own(options))

    def showing(self, text: str, cursor: int, options, doc: str) -> Candidate | None:
        return self.shown.showing(scrub(text), cursor, own(options), doc)

    async def complete(self, request: Request, how: EngineOptions = EngineOptions()) -> Result:
        """The statement at the request's cursor. Raises EngineError; a cancelled task closes its request."""
        request = replace(request, text=scrub(request.text), options=own(request.options))
        timings = Timings()
        if (item := self.shown.typed_through(request)) is not None:
            return Result([item], timings)
        if time.monotonic() < self._resting_until:
            self.stats["skipped"] += 1
            raise EngineError(self._failure)
        o = request.options
        with timings.stage("context"):
            context = build_context(request.text, request.cursor, o.context_tokens, suffix=how.suffix)
            removed = word_backoff(context.line_prefix) if o.healing != "off" and how.healing != "off" else ""
            above = context.prefix[: len(context.prefix) - len(context.line_prefix)]
        body = {
            "prompt": context.prefix[: len(context.prefix) - len(removed)],
            "temperature": 0,
            "stream": True,
            "cache_prompt": True,
        }
        if self.model:
            body["model"] = self.model
        if how.suffix:  # the local FIM prompt's share of what follows: the rest of the line and some lines
            body["suffix"] = context.suffix
        timings.healed_bytes = len(removed.encode())
        cut = Cut(removed, context.line_prefix, depth_above(above), o.statement_lines)
        with timings.stage("decode_statement"):
            gen, finish = await self._generate(body, cut, o.statement_max_tokens, how)
        if finish == "length":  # cut by max_tokens, as the local decoder's budget cuts
            gen = whole_lines(gen, len(removed))
        item = statement_item(gen, 0.0, removed, context.suffix_line, request.cursor, how.suffix, context.next_line)
        self.shown.add(request, item)
        return Result([item] if item is not None else [], timings)

    async def _generate(self, body: dict, cut: Cut, max_tokens: int, how: EngineOptions) -> tuple[str, str]:
        """(text from the back-off point, finish reason), in at most two requests: while the
        backed-off text is reproduced, constrained (a grammar costs llama.cpp about 3 times a
        free token with Gemma 3's 262k-token vocabulary), then free from there."""
        self.stats["requests"] += 1
        self.stats["open"] += 1
        try:
            return await self._answer(body, cut, max_tokens, how)
        except EngineError as e:
            self.stats["failed"] += 1
            self._rest_s = min(max(2 * self._rest_s, REST_S[0]), REST_S[1])
            self._resting_until, self._failure = time.monotonic() + self._rest_s, str(e)
            raise
        finally:
            self.stats["open"] -= 1

    async def _answer(self, body: dict, cut: Cut, max_tokens: int, how: EngineOptions) -> tuple[str, str]:
        try:
            await self._http()  # made once, before the engine's time starts: not the engine's slowness
            async with asyncio.timeout(how.timeout_ms / 1e3):
                gen, used, finish = "", 0, "healed"  # nothing to reproduce: healed already
                if cut.removed and (fields := constraint(cut.removed, how.healing)):
                    gen, used, finish = await self._stream(
                        {**body, **fields, "max_tokens": max_tokens}, cut, "", until_healed=True
                    )
                    body = {**body, "prompt": body["prompt"] + gen}
                if finish == "healed":
                    gen, used, finish = (
                        await self._stream({**body, "max_tokens": max_tokens - used}, cut, gen)
                        if used < max_tokens
                        else (gen, used, "length")
                    )
            self.stats["answered"] += 1
            self._rest_s = 0.0
            return gen, finish
        except TimeoutError:
            raise EngineError(
                f"the engine at {self.url} did not answer within {how.timeout_ms} ms (engine.timeoutMs)"
            ) from None
        except asyncio.CancelledError:
            self.stats["cancelled"] += 1
            raise
        except EngineError:
            raise
        except Exception as e:  # httpx's transport errors: down, refused, reset
            raise EngineError(f"cannot reach the engine at {self.url}: {type(e).__name__}: {e}") from None

    async def _stream(self, body: dict, cut: Cut, gen: str, until_healed: bool = False) -> tuple[str, int, str]:
        """gen and what the engine adds to it, the tokens it took, and why it ended: stop (the
        statement or the engine ended it), length (max_tokens), healed (until_healed: the
        backed-off text is reproduced). Leaving the block closes the stream: the engine stops too."""
        used = 0
        async with (await self._http()).stream(
            "POST", f"{self.url}/completions", json=body, headers=self._headers(), timeout=None
        ) as response:
            if response.status_code != 200:
                detail = (await response.aread()).decode("utf-8", "replace")[:200]
                raise EngineError(f"the engine at {self.url} answered {response.status_code}: {detail}")
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                piece, finish = _choice(data, self.url)
                gen, used = gen + piece, used + 1
                if not cut.consistent(gen):
                    raise EngineError(
                        f"the engine at {self.url} did not start with the typed {cut.removed!r}: "
                        "set engine.healing to what it takes (grammar: llama.cpp, regex: vLLM) "
                        "or off"
                    )
                if (end := cut.end(gen)) is not None:
                    return gen[:end], used, "stop"
                if until_healed and len(gen) >= len(cut.removed):
                    return gen, used, "healed"
                if finish is not None:
                    return gen, used, "length" if finish == "length" else "stop"
        return gen, used, "stop"

    async def aclose(self) -> None:
        self._closed = True
        if self._client is not None:
            await self._client.aclose()
            self._client = None


@dataclass(frozen=True)
class Cut:
    """Where a statement generated from the back-off point ends, by nib's own stop rules."""

    removed: str  # the text backed off, which the engine must reproduce first
    line_prefix: str  # the cursor's line up to the cursor
    depth: int  # the bracket depth where that line starts
    lines: str  # statement.lines

    def consistent(self, gen: str) -> bool:
        return gen.startswith(self.removed) or self.removed.startswith(gen)

    def end(self, gen: str) -> int | None:
        """The length of gen that completes the statement, or None while it goes on."""
        if len(gen) < len(self.removed):
            return None
        end = statement_end(self.line_prefix, gen[len(self.removed) :], self.depth, self.lines)
        return None if end is None else len(self.removed) + end


def own(options):
    """Options with an engine's own values where the settings leave them to the model (no
    minConfidence: no probabilities come back over the API)."""
    return options.settled(CONTEXT_TOKENS, 0)


def _choice(data: str, url: str) -> tuple[str, str | None]:
    """The text and finish reason of one streamed chunk."""
    try:
        choice = json.loads(data)["choices"][0]
        text = choice["text"]
        if not isinstance(text, str):
            raise TypeError(f"text is {type(text).__name__}")
        return text, choice.get("finish_reason")
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise EngineError(
            f"the engine at {url} answered something that is not a completion ({type(e).__name__}: {e}): {data[:120]!r}"
        ) from None
