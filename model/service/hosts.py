"""Model hosts shared by the completion services of one process (a daemon's sessions among them).

A host is one loaded completer and its inference thread, for one model identity
(path, device, threads; an engine's URL, model and key variable). Services acquire
the host for their configuration and release it when they change model or end; the
last to release a host unloads it. So a shared `nib serve --tcp` keeps one model per
identity, and one client's `model.path` never changes another's.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nib.model.completion.request import Kind
from nib.model.errors import ModelError
from nib.model.runtime import priority

if TYPE_CHECKING:  # imported where they are loaded (_load)
    from nib.model.completion.engine import EngineCompleter
    from nib.model.completion.local import LocalCompleter

log = logging.getLogger("nib.host")


@dataclass(frozen=True)
class ModelKey:
    path: str  # a directory or a model's name (`artifacts.resolve`); an engine's URL
    device: str  # cpu | cuda | auto; "" for an engine over HTTP
    threads: int
    name: str = ""  # the model an engine is asked for
    key_env: str = ""  # the variable holding an engine's API key
    kind: Kind = Kind.LOCAL
    # its inference threads at a lower CPU priority (`runtime/priority.py`): the statement's
    # model on the CPU where the list has its own, whose short passes then go first. Not part of
    # the identity: a daemon's sessions share one host of a model, whose first load decides it
    yields: bool = field(default=False, compare=False)

    @property
    def remote(self) -> bool:
        return self.kind is Kind.HTTP

    def describe(self) -> str:
        if self.remote:
            return f"the engine at {self.path}" + (f" ({self.name})" if self.name else "")
        return f"{'the bundled model' if self.path == 'bundled' else self.path} ({self.device})"


# One model loads at a time in a process: a load cannot be stopped once it runs, so settings
# changed faster than models load (a client's loop, a daemon's many sessions) would otherwise
# load every model asked for at once, past the daemon's limit of models, each held until done.
_ONE_LOAD = threading.Lock()


class ModelHost:
    """One engine, loaded once on its own inference thread, and the sessions using it."""

    def __init__(self, key: ModelKey):
        self.key = key
        lower = priority.lower if key.yields else None  # the model loads on this thread: its pool inherits it
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nib-infer", initializer=lower)
        self.engine: LocalCompleter | EngineCompleter | None = None  # None until loaded
        self.users = 0
        self.closed = False  # released by its last session: a load not started yet never starts
        self._loading: Future | None = None
        self._lock = threading.Lock()

    def load(self) -> Future:
        """A future of the engine; a load that failed is tried again by the next call."""
        with self._lock:
            if self._loading is None or (self._loading.done() and self._loading.exception() is not None):
                self._loading = self.worker.submit(self._load)
            return self._loading

    def _load(self):
        if self.key.remote:  # nothing to load (requests go over HTTP): it waits for no other model
            return self._load_now()
        with _ONE_LOAD:
            if self.closed:  # superseded while it waited: no session wants it any more
                raise ModelError(f"{self.key.describe()} was not loaded: no session uses it any more")
            return self._load_now()

    def _load_now(self):
        from nib.model.completion.local import LocalCompleter

        if self.key.remote:  # nothing to load: requests go over HTTP
            from nib.model.completion.engine import EngineCompleter

            self.engine = EngineCompleter(self.key.path, self.key.name, self.key.key_env)
            return self.engine
        started = time.perf_counter()
        backend = "onnx" if self.key.device == "cpu" else "torch"
        try:
            engine = LocalCompleter.load(
                Path(self.key.path) if self.key.path else None, backend, self.key.threads, self.key.device
            )
        except ModelError:
            raise
        except Exception as e:  # torch/ORT raise their own types: the user still gets one clear message
            log.exception("loading %s failed", self.key.describe())
            raise ModelError(f"could not load {self.key.describe()}: {type(e).__name__}: {e}") from None
        where = engine.model_dir.path if engine.model_dir else self.key.path
        log.info("model loaded from %s in %.0f ms", where, (time.perf_counter() - started) * 1e3)
        self.engine = engine
        return engine

    def close(self) -> None:
        self.closed = True
        self.worker.shutdown(wait=False, cancel_futures=True)
        if self.key.remote and self.engine is not None:  # its connections are closed on the loop they belong to
            from nib.model.completion.engine import EngineCompleter

            assert isinstance(self.engine, EngineCompleter)  # a remote host's engine
            try:
                asyncio.get_running_loop().create_task(self.engine.aclose())
            except RuntimeError:  # no loop running (the process is ending): nothing to close on
                pass
        self.engine = None


class Hosts:
    """Model hosts by identity, reference-counted by the sessions that use them; at most
    `most` identities at once (0: no limit), so a daemon's clients cannot load model after model."""

    def __init__(self, most: int = 0):
        self.most = most
        self._hosts: dict[ModelKey, ModelHost] = {}
        self._lock = threading.Lock()

    def acquire(self, key: ModelKey) -> ModelHost:
        """The host for key, shared; ModelError when a new one would pass the limit."""
        with self._lock:
            host = self._hosts.get(key)
            if host is None:
                if self.most and len(self._hosts) >= self.most:
                    raise ModelError(
                        f"cannot load {key.describe()}: this server already holds its limit of models ({self.most})"
                    )
                host = self._hosts[key] = ModelHost(key)
            host.users += 1
            return host

    def release(self, host: ModelHost) -> None:
        with self._lock:
            host.users -= 1
            if host.users <= 0 and self._hosts.get(host.key) is host:
                del self._hosts[host.key]
                host.close()
                log.info("%s unloaded: no session uses it", host.key.describe())

    def loaded(self) -> list[ModelKey]:
        with self._lock:
            return list(self._hosts)


class ModelUse:
    """A session's model: the host serving it, and the one loading after a settings change.

    The previous model keeps serving until the next one has loaded (requests meanwhile get
    the previous one at once); only a session with no model yet waits for the load. A model
    that fails to load is reported once per attempt (`on_error`) and released.
    """

    def __init__(self, hosts: Hosts, on_error):
        self.hosts = hosts
        self.on_error = on_error
        self.serving: ModelHost | None = None
        self.loading: ModelHost | None = None

    def want(self, key: ModelKey) -> None:
        current = self.loading or self.serving
        if current is not None and current.key == key:
            return
        if self.loading is not None:
            self.hosts.release(self.loading)
            self.loading = None
        try:
            self.loading = self.hosts.acquire(key)
        except ModelError as e:  # over the daemon's limit: the model serving (if any) goes on
            self.on_error(str(e))

    async def ready(self) -> ModelHost | None:
        """The host to complete with: the one serving, else the one loading once it has loaded."""
        host = self.loading
        if host is None:
            return self.serving
        load = host.load()
        if self.serving is not None and not load.done():
            asyncio.get_running_loop().create_task(self._when_loaded(host, load))
            return self.serving
        await self._when_loaded(host, load)
        return self.serving

    async def settled(self) -> ModelHost | None:
        """The host serving once the load in progress (if any) has ended, loaded or failed."""
        host = self.loading
        if host is not None:
            await self._when_loaded(host, host.load())
        return self.serving

    async def _when_loaded(self, host: ModelHost, load: Future) -> None:
        try:
            await asyncio.wrap_future(load)
        except asyncio.CancelledError:
            if not load.cancelled():
                raise  # this task itself was cancelled
            # else the host was closed under the load (its last user released it after a failed
            # load this one retried): no model, as after the failure itself
        except Exception:  # noqa: BLE001 - reported by _loaded, not raised
            pass
        self._loaded(host, load)

    def _loaded(self, host: ModelHost, load: Future) -> None:
        """host's load has ended: it serves, or its failure is reported (once per attempt)."""
        if self.loading is not host:
            return  # superseded by another settings change, or already handled
        self.loading = None
        if load.cancelled():  # closed under the load: its failure was reported when it failed
            self.hosts.release(host)
            return
        error = load.exception()
        if error is not None:
            self.hosts.release(host)
            self.on_error(str(error))
            return
        if self.serving is not None:
            self.hosts.release(self.serving)
        self.serving = host

    def close(self) -> None:
        for host in (self.loading, self.serving):
            if host is not None:
                self.hosts.release(host)
        self.loading = self.serving = None
