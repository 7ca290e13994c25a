"""Requests that let the test suite read the server's state (`nib serve --test-requests` only).

    nib/_document {"uri": ...} -> {"text": ..., "version": ...} or null
    nib/_memory   {}           -> what each bounded store holds, and the process's resident memory
    nib/_last     {}           -> how the last completion was made: its timings, and whether the
                                  list was narrowed from the one before (no model, no jedi)
    nib/_project  {"uri": ...} -> the project context the document's requests use now:
                                  {"definitions": files, "chunks": recent chunks, "chars": ...}
    nib/_engine   {}           -> the requests made to the statement's engine over HTTP: made,
                                  answered, cancelled, failed, still open; null for a local model
    nib/_timings  {}           -> {mode: [timings, ...]}: each request answered since the last call
                                  (`benchmarks/latency.py --breakdown`)

The robustness tests compare the document text with a reference model after
random edits, and check that the caches stay bounded under load.
"""

from __future__ import annotations

import os
from collections import deque

from nib.model.service.scheduler import Scheduler

from .protocol import field

TIMINGS_KEPT = 4096  # requests' timings kept for `nib/_timings` (a benchmark's whole replay)


def register(server) -> None:
    server.timings = deque(maxlen=TIMINGS_KEPT)

    @server.feature("nib/_document")
    def document(ls, params):
        doc = ls.documents.get(field(params, "uri"))
        return None if doc is None else {"text": doc.text, "version": doc.version}

    @server.feature("nib/_last")
    def last(ls, params):
        result = ls.last_result
        return (
            None
            if result is None
            else {"timings": result.timings.as_dict(), "narrowed": bool(getattr(result, "narrowed", False))}
        )

    server.feature("nib/_timings")(_timings)

    @server.feature("nib/_project")
    def project(ls, params):
        block = ls.service.block_in_use(field(params, "uri"))
        return {"definitions": block.definitions, "chunks": block.chunks, "chars": block.chars}

    @server.feature("nib/_engine")
    def engine(ls, params):
        host = ls.service.model.serving
        return dict(host.engine.stats) if host is not None and host.key.remote else None

    @server.feature("nib/_memory")
    def memory(ls, params):
        host = (
            ls.service.list_model.serving
            if ls.service.model.serving and ls.service.model.serving.key.remote
            else ls.service.model.serving
        )
        engine = host.engine if host is not None else None
        states = engine.states.stats() if engine is not None else {"states": 0, "bytes": 0}
        ngram = ls.service.ranker.identifiers
        return {
            "documents": len(ls.documents._docs),
            "document_chars": sum(len(d.text) for d in ls.documents._docs.values()),
            "identifiers_documents": len(ngram._docs),
            "identifiers_entries": sum(len(c.uni) + len(c.bi) + len(c.tri) for _, c in ngram._docs.values()),
            "kv_states": states["states"],
            "kv_state_bytes": states["bytes"],
            "type_memo": 0 if engine is None else len(engine.decoder._types),
            "canonical_memo": 0 if engine is None else len(engine.decoder.canonical._memo),
            "statements_kept": 0 if engine is None else len(engine.shown._items),  # answered or decoded ahead
            "models_loaded": len(ls.shared.hosts.loaded()),
            "project_files": len(ls.service.project.workspace._files),
            "recent_chunks": len(ls.service.project.recent),
            "jedi_scopes": ls.service.ranker.scopes_kept(),
            "lists_kept": len(ls.service.ranker._asked),
            "warm_ups": sum(len(flags) for flags in Scheduler.warming.values()),  # in flight, every session's
            "rss_bytes": _rss(),
            "peak_rss_bytes": _peak_rss(),
        }


def _timings(ls, params):
    """Each request's timings since the last call, by mode (the latency benchmarks' breakdown)."""
    out: dict[str, list] = {}
    while ls.timings:  # the session's deque (`register`)
        mode, t = ls.timings.popleft()
        out.setdefault(mode, []).append(t)
    return out


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak_rss() -> int:
    """The most this process has held resident (VmHWM)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
