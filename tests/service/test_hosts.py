"""Model hosts: one per model identity, reference-counted; a failed load is reported and retried,
and the model already loaded keeps serving."""

import asyncio
import threading
from types import SimpleNamespace

from nib.model.completion import local as engine_module
from nib.model.completion.request import Kind
from nib.model.service.hosts import Hosts, ModelKey, ModelUse

BUNDLED = ModelKey("", "cpu", 1)
BROKEN = ModelKey("/models/broken", "cpu", 1)


def fake_load(calls):
    def load(path, backend, threads, device):
        calls.append(str(path))
        if path is not None and "broken" in str(path):
            raise RuntimeError("boom")  # not a ModelError: a backend's own exception type
        return SimpleNamespace(name=f"engine for {path}", model_dir=SimpleNamespace(path=path))

    return load


def test_hosts_are_shared_per_identity_and_unloaded_with_their_last_user():
    hosts = Hosts()
    a, b = hosts.acquire(BUNDLED), hosts.acquire(BUNDLED)
    assert a is b and a.users == 2 and hosts.loaded() == [BUNDLED]
    hosts.release(a)
    assert hosts.loaded() == [BUNDLED]
    hosts.release(b)
    assert hosts.loaded() == []
    assert hosts.acquire(BUNDLED) is not a  # a new host, loaded again when used


def test_a_failed_load_is_reported_and_the_previous_model_keeps_serving(monkeypatch):
    calls, errors = [], []
    monkeypatch.setattr(engine_module.LocalCompleter, "load", classmethod(lambda cls, *a: fake_load(calls)(*a)))
    hosts = Hosts()
    use = ModelUse(hosts, errors.append)

    async def run():
        use.want(BUNDLED)
        first = await use.ready()
        use.want(BROKEN)
        after_failure = await use.settled()
        use.want(BROKEN)  # asked again (a settings change): tried again, not remembered as failed
        await use.settled()
        return first, after_failure

    first, after_failure = asyncio.run(run())
    assert after_failure is first and first.engine.name == "engine for None"
    assert errors == ["could not load /models/broken (cpu): RuntimeError: boom"] * 2
    assert calls == ["None", "/models/broken", "/models/broken"]
    assert hosts.loaded() == [BUNDLED]  # the broken host was released
    use.close()
    assert hosts.loaded() == []


def test_an_engines_host_loads_nothing_and_two_sessions_share_it():
    hosts = Hosts()
    key = ModelKey("http://gpu:8080/v1", "", 0, kind=Kind.HTTP)
    a, b = hosts.acquire(key), hosts.acquire(key)
    assert a is b
    engine = a.load().result(timeout=5)
    assert (engine.remote, engine.url, engine.stats["requests"]) == (True, "http://gpu:8080/v1", 0)


def test_a_model_switch_never_makes_a_request_wait_for_the_new_load(monkeypatch):
    """Requests during a slow load get the model already serving at once; the new one serves once loaded."""
    release = threading.Event()

    def load(cls, path, backend, threads, device):
        if path is not None:
            release.wait(10)  # the new model's load takes as long as the test says
        return SimpleNamespace(name=f"engine for {path}", model_dir=SimpleNamespace(path=path))

    monkeypatch.setattr(engine_module.LocalCompleter, "load", classmethod(load))
    use = ModelUse(Hosts(), [].append)

    async def run():
        use.want(BUNDLED)
        first = (await use.ready()).engine.name
        use.want(ModelKey("/models/slow", "cpu", 1))
        during = (await asyncio.wait_for(use.ready(), timeout=1)).engine.name  # before the fix: waited the load
        release.set()
        after = await use.settled()
        return first, during, after.engine.name, await use.ready() is after

    assert asyncio.run(run()) == ("engine for None", "engine for None", "engine for /models/slow", True)
    use.close()


def test_a_process_holds_at_most_its_limit_of_models_and_the_one_serving_goes_on(monkeypatch):
    """A daemon's clients cannot load model after model: over the limit, a clear error, and the
    client's model already serving keeps serving."""
    calls, errors = [], []
    monkeypatch.setattr(engine_module.LocalCompleter, "load", classmethod(lambda cls, *a: fake_load(calls)(*a)))
    hosts = Hosts(most=1)
    use = ModelUse(hosts, errors.append)

    async def run():
        use.want(BUNDLED)
        first = await use.ready()
        use.want(ModelKey("/models/other", "cpu", 1))
        return first, await use.settled()

    first, after = asyncio.run(run())
    assert after is first and hosts.loaded() == [BUNDLED]
    assert errors == ["cannot load /models/other (cpu): this server already holds its limit of models (1)"]
    use.close()


def test_one_model_loads_at_a_time_and_one_superseded_before_its_load_never_loads(monkeypatch):
    """Settings changed faster than models load: the first load runs to its end (it cannot be
    stopped), the models asked for meanwhile and superseded never load, the last one does; an
    engine over HTTP waits for no load."""
    running, most, calls = [0], [0], []
    first_started, release = threading.Event(), threading.Event()

    def load(cls, path, backend, threads, device):
        calls.append(threads)
        running[0] += 1
        most[0] = max(most[0], running[0])
        first_started.set()
        release.wait(10)
        running[0] -= 1
        return SimpleNamespace(name=f"engine with {threads} threads", model_dir=SimpleNamespace(path=path))

    monkeypatch.setattr(engine_module.LocalCompleter, "load", classmethod(load))
    hosts = Hosts()
    use = ModelUse(hosts, [].append)
    remote = Hosts().acquire(ModelKey("http://gpu:8080/v1", "", 0, kind=Kind.HTTP))

    async def run():
        use.want(ModelKey("", "cpu", 1))
        loading = use.loading.load()
        assert first_started.wait(5)  # the first load runs, holding the one load slot
        superseded = []
        for threads in range(2, 41):  # each asked for, then replaced by the next
            use.want(ModelKey("", "cpu", threads))
            superseded.append(use.loading.load())
        assert remote.load().result(timeout=5).remote  # not behind the load that runs
        release.set()
        await asyncio.wrap_future(loading)
        return await use.settled(), superseded

    serving, superseded = asyncio.run(run())
    assert serving.engine.name == "engine with 40 threads"
    assert calls == [1, 40] and most[0] == 1
    assert hosts.loaded() == [ModelKey("", "cpu", 40)]
    use.close()
