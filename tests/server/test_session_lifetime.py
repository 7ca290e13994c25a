"""A daemon's sessions leave nothing behind when their client goes: no logger in logging's registry,
no scheduler entry for a document that has no work in flight, no session object kept alive."""

import asyncio
import gc
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor

from nib.model.service.scheduler import Scheduler
from nib.server.app import create_server
from nib.server.protocol import SessionProtocol
from nib.server.shared import Shared


def test_ended_sessions_leave_no_logger_and_are_freed():
    shared = Shared()
    refs = []
    for _ in range(3):
        server = create_server(shared, protocol_cls=SessionProtocol)
        server.log.info("a session's line")  # its logger works, under "nib"
        assert server.log.parent is logging.getLogger("nib")
        server.end_session()
        refs.append(weakref.ref(server))
        del server
    gc.collect()
    assert [name for name in logging.Logger.manager.loggerDict if name.startswith("nib.session")] == []
    assert [r() for r in refs] == [None, None, None]
    shared.close()


def test_the_scheduler_keeps_no_entry_once_work_is_done():
    scheduler = Scheduler()
    worker = ThreadPoolExecutor(1)

    async def run():
        await scheduler.run(worker, lambda cancel: 1, "file:///a.py")

        async def engine():
            return 2

        await scheduler.run_async(engine(), "file:///b.py")

    asyncio.run(run())
    assert (scheduler.running, scheduler.tasks) == ({}, {})
    worker.shutdown()


def test_a_daemon_session_holds_documents_within_the_limits():
    from nib.server.limits import Limits

    shared = Shared(Limits(documents=2, document_chars=100))
    server = create_server(shared, protocol_cls=SessionProtocol)
    shown = []
    server.show = lambda kind, message: shown.append(message)
    for n, text in enumerate(["a = 1\n", "b = 2\n", "c = 3\n"]):
        if server.admit(f"file:///{n}.py", text):
            server.documents.open(f"file:///{n}.py", text, 1)
    assert server.documents.uris() == ["file:///0.py", "file:///1.py"]
    assert not server.admit("file:///1.py", "x" * 95)  # grown past the characters of all documents together
    assert server.documents.uris() == ["file:///0.py"]
    assert shown == [
        "nib: file:///2.py gets no completions: this session has 2 documents open, this server's limit",
        "nib: file:///1.py gets no completions: this session has over 100 characters in open documents, this "
        "server's limit",
    ]
    server.end_session()
    assert server.documents.uris() == []
    shared.close()
