"""Model hosts shared by sessions, the TCP daemon's sessions, and the watch on the editor's process.

A host is one loaded engine and its inference thread, for one model identity
(path, device, threads). Sessions acquire the host for their settings and release
it when they change model or end; the last session to release a host unloads it.
So a shared `nib serve --tcp` keeps one model per identity, and one client's
`model.path` never changes another's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from nib.model.errors import ModelError

log = logging.getLogger("nib.host")


@dataclass(frozen=True)
class ModelKey:
    path: str  # a directory or a model's name (`artifacts.resolve`); an engine's URL
    device: str  # cpu | cuda | auto; "openai" for an engine over HTTP
    threads: int
    name: str = ""  # the model an engine is asked for
    key_env: str = ""  # the variable holding an engine's API key

    @classmethod
    def of(cls, settings) -> "ModelKey":
        """The statement's model: the engine's, if one is set."""
        from .trust import engine_refused

        e = settings.engine
        if e.api == "openai" and e.url and engine_refused(e) is None:
            return cls(e.url, "openai", 0, e.model, e.api_key_env)
        return cls.local(settings)

    @classmethod
    def local(cls, settings) -> "ModelKey":
        from nib.model.runtime.artifacts import default_model

        m = settings.model
        return cls(m.path or default_model(), m.device, m.threads)

    @classmethod
    def for_list(cls, settings) -> "ModelKey":
        """The list's model: `list.model`, else the statement's local one (the list never goes to an engine).

        A model of its own runs on the CPU whatever `model.device` says: it is chosen for the list's
        latency on a CPU, and the bundled model has no torch checkpoint to run on a GPU.
        """
        local = cls.local(settings)
        return cls(settings.listing.model, "cpu", local.threads) if settings.listing.model else local

    @property
    def remote(self) -> bool:
        return self.device == "openai"

    def describe(self) -> str:
        if self.remote:
            return f"the engine at {self.path}" + (f" ({self.name})" if self.name else "")
        return f"{'the bundled model' if self.path == 'bundled' else self.path} ({self.device})"


class ModelHost:
    """One engine, loaded once on its own inference thread, and the sessions using it."""

    def __init__(self, key: ModelKey):
        self.key = key
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nib-infer")
        self.engine = None
        self.users = 0
        self._loading: Future | None = None
        self._lock = threading.Lock()

    def load(self) -> Future:
        """A future of the engine; a load that failed is tried again by the next call."""
        with self._lock:
            if self._loading is None or (self._loading.done() and self._loading.exception() is not None):
                self._loading = self.worker.submit(self._load)
            return self._loading

    def _load(self):
        from nib.model.completion.engine import Engine

        if self.key.remote:  # nothing to load: requests go over HTTP
            from nib.model.completion.remote import RemoteEngine

            self.engine = RemoteEngine(self.key.path, self.key.name, self.key.key_env)
            return self.engine
        started = time.perf_counter()
        backend = "onnx" if self.key.device == "cpu" else "torch"
        try:
            engine = Engine.load(Path(self.key.path) if self.key.path else None, backend, self.key.threads,
                                 self.key.device)
        except ModelError:
            raise
        except Exception as e:  # torch/ORT raise their own types: the user still gets one clear message
            log.exception("loading %s failed", self.key.describe())
            raise ModelError(f"could not load {self.key.describe()}: {type(e).__name__}: {e}") from None
        log.info("model loaded from %s in %.0f ms", engine.model_dir.path, (time.perf_counter() - started) * 1e3)
        self.engine = engine
        return engine

    def close(self) -> None:
        self.worker.shutdown(wait=False, cancel_futures=True)
        if self.key.remote and self.engine is not None:  # its connections are closed on the loop they belong to
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
                    raise ModelError(f"cannot load {key.describe()}: this server already holds {len(self._hosts)} "
                                     f"models, its limit")
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
        future = asyncio.wrap_future(load)
        if self.serving is not None and not future.done():
            future.add_done_callback(lambda _: self._loaded(host, load))
            return self.serving
        try:
            await future
        except Exception:  # noqa: BLE001 - reported by _loaded
            pass
        self._loaded(host, load)
        return self.serving

    async def settled(self) -> ModelHost | None:
        """The host serving once the load in progress (if any) has ended, loaded or failed."""
        host = self.loading
        if host is not None:
            load = host.load()
            await asyncio.wait([asyncio.wrap_future(load)])
            self._loaded(host, load)
        return self.serving

    def _loaded(self, host: ModelHost, load: Future) -> None:
        """host's load has ended: it serves, or its failure is reported (once per attempt)."""
        if self.loading is not host:
            return  # superseded by another settings change, or already handled
        self.loading = None
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


def watch_parent(pid: int, on_exit, every_s: float = 0.25) -> None:
    """End the server when the editor that started it is gone (LSP `processId`), even when
    its stdin is still open (held by a grandchild, a shell, a crashed editor's helper)."""

    def watch():
        while True:
            time.sleep(every_s)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                log.info("the client process %d is gone: exiting", pid)
                on_exit()
                os._exit(0)  # the inference thread cannot be interrupted; nothing is left to save
            except PermissionError:  # alive, owned by another user
                pass

    threading.Thread(target=watch, daemon=True, name="nib-parent-watch").start()
