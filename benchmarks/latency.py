"""Replay real Python files keystroke by keystroke through `nib serve` over stdio, and
through jedi-language-server on the same keystrokes in the same run; report request latencies.

Two replays, each as an editor sends it (a didChange per keystroke, ghost text asked on
every keystroke and the list where an editor asks for it, identifier characters and `.`,
both sent at once; back to back, or at a person's pace with `--cps`):

- points: each file is opened at random points with the next `--keys` characters
  removed, which are then typed again. Mid-line and mid-word edits, as a user makes them.
- lines: sampled lines are emptied and retyped from their indentation, with the whole
  file around them: every keystroke is at the end of a line.

`--every-key` asks for the list on every keystroke instead (spaces, operators, newlines too).
`--rest-ms N` rests N ms at each point before its first key, as a person who moved the cursor
there, nib told where it rests (`nib/cursor`, as its editor plugins send it after their 100 ms;
`--no-cursor`: not told, as an editor without them).
Latency is from sending a request to its response, converted by pygls into lsprotocol's objects as
the other benchmarks read it; `*_read` is the same until the response's JSON is read and decoded,
before that conversion, which in Python costs this client milliseconds per list (`warm_client`)
that an editor's client does not pay in it. `--plot FILE.png` draws the list's latency
distributions (CDF) of both servers side by side.

    python benchmarks/latency.py --seeds 0 1 2 --json benchmarks/results/latency.json \
        --plot benchmarks/results/latency.png

The default files are the first eight of the held-out test split (`nib heldout test`;
`--split fresh` for code no model has seen, `--split dev` to choose on). "Cold": a new server,
its models loaded on a small document, then a 2k-token file it has not seen, the list and the ghost text asked at
its end at once.
Needs `pip install jedi-language-server` for the peer (skipped with --no-jedi).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import re
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from functools import partial
from keyword import iskeyword, issoftkeyword
from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from nib.model.eval.heldout import fetch
from nib.model.eval.ranking import reciprocal_rank
from nib.model.service.scheduler import IDLE_S as SERVER_IDLE_S
from nib.model.text.prose import in_prose

TRIGGERS = set(".([,=@")
_NAME = re.compile(r"[^\W\d]\w*")
REQUEST_TIMEOUT_S = 30  # a request that takes longer is a failure, not a data point
# --warm-up's one untimed request, which waits for the models' load: the CUDA path loads the GGUF
# through transformers, about 70 s on an H200 (benchmarks/results/gpu/latency_cuda_2026-12-04_failed.log)
WARM_UP_TIMEOUT_S = 600
IDLE_S = 2 * SERVER_IDLE_S  # memory is read again after this pause, once the server returned what is free
REST_NOTICE_S = 0.1  # the editor plugins tell nib where the cursor rests after this long (their REST_MS)


@dataclass(frozen=True)
class Edit:
    """Open `text` with text[at:at + len(typed)] removed, then type `typed` one character at a time."""

    name: str
    text: str
    at: int
    typed: str
    path: Path | None = None  # the file it comes from: its URI, with --workspace


def point_edits(files: list[Path], points: int, keys: int, rng: random.Random) -> list[Edit]:
    """`points` random points per file, each on a line of code (not blank, not a comment)."""
    edits = []
    for n, path in enumerate(files):
        text = path.read_text()
        starts = [i for i, line in enumerate(text.split("\n")) if line.strip() and not line.strip().startswith("#")]
        offsets = [0]
        for line in text.split("\n"):
            offsets.append(offsets[-1] + len(line) + 1)
        for p in range(points):
            line_no = rng.choice(starts)
            line = text.split("\n")[line_no]
            indent = len(line) - len(line.lstrip())
            at = offsets[line_no] + rng.randrange(indent, len(line))
            edits.append(Edit(f"{n}_p{p}_{path.name}", text, at, text[at : at + keys], path))
    return edits


def line_edits(files: list[Path], lines_per_file: int, rng: random.Random) -> list[Edit]:
    """Sampled lines of 12-80 characters, retyped from their indentation."""
    edits = []
    for n, path in enumerate(files):
        text = path.read_text()
        lines = text.split("\n")
        good = [i for i, line in enumerate(lines) if 12 <= len(line.strip()) <= 80 and not line.strip().startswith("#")]
        for line_no in sorted(rng.sample(good, min(lines_per_file, len(good)))):
            at = sum(len(x) + 1 for x in lines[:line_no])
            indent = len(lines[line_no]) - len(lines[line_no].lstrip())
            edits.append(Edit(f"{n}_l{line_no}_{path.name}", text, at + indent, lines[line_no][indent:], path))
    return edits


def workspace_roots(files: list[Path]) -> list[Path]:
    """The folders above the files' outermost packages (a split's `<package>-<version>/`)."""
    roots = []
    for f in files:
        folder = f.resolve().parent
        while (folder / "__init__.py").is_file():
            folder = folder.parent
        if folder not in roots:
            roots.append(folder)
    return roots


def position(text: str, offset: int) -> types.Position:
    line = text.count("\n", 0, offset)
    return types.Position(line, offset - (text.rfind("\n", 0, offset) + 1))  # ASCII files: UTF-16 = characters


def offset(text: str, pos: types.Position) -> int:
    """The character offset of an LSP position (ASCII files, as `position`)."""
    start = 0
    for _ in range(pos.line):
        start = text.index("\n", start) + 1
    return start + pos.character


def ghost_text(answer, truth: str, text: str, cursor: int) -> tuple[bool, int]:
    """(shown, the characters after the cursor it gets right): the first inline item, right when the
    file goes on as it says (accepted whole, it would type what the file has; 0 otherwise). text is
    the document as the editor has it, truth the whole file (the same text up to the cursor)."""
    items = getattr(answer, "items", answer) or []
    if not items:
        return False, 0
    item = items[0]
    insert = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
    start = offset(text, item.range.start) if item.range else cursor
    return bool(insert), (len(insert) - (cursor - start)) * (truth[start : start + len(insert)] == insert)


def name_rank(answer, truth: str, cursor: int) -> float | None:
    """The list's reciprocal rank (MRR@5's term) of the name the file has at cursor, where the key
    just typed there (truth[cursor]) is a name's first character, not a keyword's; None elsewhere.
    The list in its sortText order, cut to what begins with that character, as an editor filters
    and shows it. The replay waits for a keystroke's answers before the next, so the ghost text of
    the key before is always answered: the list's best case where it follows the ghost text."""
    name = _NAME.match(truth, cursor)
    word = name.group() if name else ""
    if not word or (cursor and (truth[cursor - 1].isalnum() or truth[cursor - 1] == "_")) or _keyword(word):
        return None
    items = getattr(answer, "items", answer) or []
    items = sorted(
        (i for i in items if i.kind != types.CompletionItemKind.Snippet), key=lambda i: i.sort_text or i.label
    )
    return reciprocal_rank([i.label for i in items if i.label.lower().startswith(truth[cursor].lower())], word)


def _keyword(word: str) -> bool:
    return iskeyword(word) or issoftkeyword(word)


async def start(cmd: list[str], options: dict | None = None, roots: list[Path] = ()) -> LanguageClient:
    """A client of a server started by cmd over stdio (`nib connect` for a shared daemon), with
    roots as its workspace folders."""
    logging.getLogger("pygls").setLevel(logging.ERROR)  # jedi-language-server's diagnostics are not handled here
    client = LanguageClient("nib-bench", "1")
    await client.start_io(*cmd)
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                general=types.GeneralClientCapabilities(position_encodings=["utf-16"])
            ),
            initialization_options=options,
            workspace_folders=[types.WorkspaceFolder(r.as_uri(), r.name) for r in roots] or None,
        )
    )
    client.initialized(types.InitializedParams())
    warm_client(client)
    time_reads(client)
    return client


READ_AT: WeakKeyDictionary = WeakKeyDictionary()  # client -> {a timed request's id: when its answer's JSON was read}
SENT: WeakKeyDictionary = WeakKeyDictionary()  # a request's future -> (its client, its id)


def time_reads(client: LanguageClient) -> None:
    """Keep when each response's JSON is read and decoded (`READ_AT`), before pygls converts it
    into lsprotocol's objects: json.loads calls its object hook on the whole message last."""
    read_at: dict = READ_AT.setdefault(client, {})
    structure = client.protocol.structure_message

    def structured(data: dict):
        if "jsonrpc" in data and "method" not in data and data.get("id") in read_at:  # one `_send` sent
            read_at[data["id"]] = time.perf_counter()
        return structure(data)

    client.protocol.structure_message = structured  # type: ignore[method-assign]


def _send(client: LanguageClient, method: str, params) -> asyncio.Future:
    """The request sent now; its future, whose response's read time `together` finds."""
    msg_id = str(uuid.uuid4())
    if client in READ_AT:
        READ_AT[client][msg_id] = None  # read when its answer comes (`time_reads`); `together` pops it
    future = client.protocol.send_request_async(method, params, msg_id=msg_id)
    SENT[future] = (client, msg_id)
    return future


def warm_client(client: LanguageClient) -> None:
    """This client's first write and read of each message a keystroke brings cost it about 12 ms
    (cattrs writes its code then), which an editor's client does not pay: paid here, untimed."""
    convert, at = client.protocol._converter, types.Position(0, 1)
    doc, whole = types.TextDocumentIdentifier("file:///warm.py"), types.Range(types.Position(0, 0), at)
    for sent in (
        types.DidChangeTextDocumentNotification(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=2, uri="file:///warm.py"),
                [types.TextDocumentContentChangePartial(whole, "x")],
            )
        ),
        types.CompletionRequest(
            0, types.CompletionParams(doc, at, types.CompletionContext(types.CompletionTriggerKind.Invoked))
        ),
        types.InlineCompletionRequest(
            0,
            types.InlineCompletionParams(
                types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic), doc, at
            ),
        ),
    ):
        convert.unstructure(sent)
    edit = {"range": convert.unstructure(whole), "newText": "x"}
    command = {"title": "accepted", "command": "nib.accepted", "arguments": [1]}
    item = {"label": "x", "kind": 6, "detail": "d", "sortText": "0", "filterText": "x", "insertTextFormat": 1}
    result = {"isIncomplete": True, "items": [{**item, "textEdit": edit, "command": command}]}
    convert.structure({"jsonrpc": "2.0", "id": 0, "result": result}, types.CompletionResponse)
    inline = {"items": [{"insertText": "x", "range": edit["range"], "command": command}]}
    convert.structure({"jsonrpc": "2.0", "id": 0, "result": inline}, types.InlineCompletionResponse)
    diagnostic = {"range": edit["range"], "message": "m", "severity": 1, "source": "jedi"}  # the peer's, each edit
    published = {"uri": "file:///warm.py", "diagnostics": [diagnostic]}
    message = {"jsonrpc": "2.0", "method": types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS, "params": published}
    convert.structure(message, types.PublishDiagnosticsNotification)


async def stop(client: LanguageClient) -> None:
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()


def inline_request(client: LanguageClient, doc, pos):
    return _send(
        client,
        types.TEXT_DOCUMENT_INLINE_COMPLETION,
        types.InlineCompletionParams(
            context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
            text_document=doc,
            position=pos,
        ),
    )


def list_request(client: LanguageClient, doc, pos, typed: str = ""):
    """The list, asked as an editor asks it once typed is typed: by a trigger character, or invoked."""
    if typed in TRIGGERS:
        context = types.CompletionContext(types.CompletionTriggerKind.TriggerCharacter, typed)
    else:
        context = types.CompletionContext(types.CompletionTriggerKind.Invoked)
    return _send(client, types.TEXT_DOCUMENT_COMPLETION, types.CompletionParams(doc, pos, context))


async def together(requests: dict, timeout_s: float = REQUEST_TIMEOUT_S) -> dict:
    """Send every request at once (each call sends), as an editor asks for the list and the ghost
    text on one keystroke; {name: (ms from its send to its own answer, the answer, ms until its
    JSON was read (`time_reads`; the answer's ms where it is not known))}."""
    t0 = time.perf_counter()
    futures = {name: asyncio.ensure_future(make()) for name, make in requests.items()}

    async def answer(future):
        result = await asyncio.wait_for(future, timeout_s)
        done = time.perf_counter()
        client, msg_id = SENT.pop(future, (None, None))
        read = (READ_AT.get(client, {}).pop(msg_id, None) if client is not None else None) or done
        return (done - t0) * 1e3, result, (read - t0) * 1e3

    done = await asyncio.gather(*(answer(f) for f in futures.values()))
    return dict(zip(futures, done, strict=True))


async def open_and_ask(
    client: LanguageClient, uri: str, text: str, inline: bool, timeout_s: float = REQUEST_TIMEOUT_S
) -> dict:
    """Open text as uri and ask at its end for the list (and the ghost text, at once, where
    inline), as an editor does; `together`'s answers."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    doc, pos = types.TextDocumentIdentifier(uri), position(text, len(text))
    requests = {"list": partial(list_request, client, doc, pos)}
    if inline:
        requests["statement"] = partial(inline_request, client, doc, pos)
    return await together(requests, timeout_s)


async def warm_up(client: LanguageClient, inline: bool) -> float:
    """The list and the ghost text on a small document of its own, untimed in the figures, so that
    the first timed keystroke does not wait for the models' load; the ms it took."""
    uri = "file:///bench/warm-up.py"
    started = time.perf_counter()
    await open_and_ask(client, uri, "import os\n\npath = os.path.join(", inline, WARM_UP_TIMEOUT_S)
    client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    return (time.perf_counter() - started) * 1e3


def send_resolve(client: LanguageClient, items: list, times: dict) -> tuple[str, asyncio.Future]:
    """completionItem/resolve of the first of items in sortText order, as VS Code focuses it;
    its ms go to times["resolve"] once answered with a result. (its id, its future)"""
    item = min(items, key=lambda i: i.sort_text or i.label)
    msg_id, sent = str(uuid.uuid4()), time.perf_counter()
    future = client.protocol.send_request(types.COMPLETION_ITEM_RESOLVE, item, msg_id=msg_id)
    future.add_done_callback(
        lambda f: f.cancelled() or f.exception() or times["resolve"].append((time.perf_counter() - sent) * 1e3)
    )
    return msg_id, future


async def list_then_resolve(ask, client: LanguageClient, times: dict, resolving: list):
    """The list (ask()), and 1 ms after it answers, its first item resolved (`send_resolve`), as VS
    Code does once it shows the list; the request is added to resolving. (Later than the list's
    answer is timed: writing the request is the client's work, not the list's.)"""
    asked = ask()
    if asked in SENT:  # `together` finds when the list's JSON was read under this task, not the request
        SENT[asyncio.current_task()] = SENT.pop(asked)
    answer = await asked
    if getattr(answer, "items", None):

        def send():
            resolving.append(send_resolve(client, answer.items, times))

        asyncio.get_running_loop().call_later(0.001, send)
    return answer


def cancel_resolves(client: LanguageClient, resolving: list) -> None:
    """A new key: VS Code cancels the resolve of the item it focused (its list is asked again).
    The server answers it with an error then, which is not timed."""
    for msg_id, future in resolving:
        if not future.done():
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    resolving.clear()


async def type_edit(
    client: LanguageClient,
    uri: str,
    edit: Edit,
    times: dict,
    inline: bool,
    every_key: bool,
    pace_s: float = 0.0,
    think_s: float = 0.0,
    rest: tuple[float, bool] = (0.0, False),
    resolve: bool = False,
) -> str:
    """Open edit's document, type its characters one by one with the requests an editor sends
    (the ghost text on every keystroke and the list where it suggests, both at once), adding each
    latency to times; with pace_s, a keystroke every pace_s seconds (or as soon as the last one's
    answers are in, if later: nothing overlaps). rest: (seconds, told) a pause before the first
    key, the server told where the cursor rests if told. resolve: as VS Code, the list's first item
    resolved once it is shown, that request cancelled by the next key. The text as the editor has
    it at the end (still open)."""
    resolving: list = []  # with resolve: the last list's resolve request
    text = edit.text[: edit.at] + edit.text[edit.at + len(edit.typed) :]
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    rest_s, told = rest
    if rest_s:
        await asyncio.sleep(min(rest_s, REST_NOTICE_S))
        if told and rest_s >= REST_NOTICE_S:  # the plugins tell nothing of a shorter rest
            where = position(text, edit.at)
            where = {"line": where.line, "character": where.character}
            client.protocol.notify("nib/cursor", {"textDocument": {"uri": uri}, "position": where})
        await asyncio.sleep(max(0.0, rest_s - REST_NOTICE_S))
    first = True
    for i, ch in enumerate(edit.typed):
        key_time = time.perf_counter()
        cancel_resolves(client, resolving)
        cursor = edit.at + i
        start_pos = position(text, cursor)
        text = text[:cursor] + ch + text[cursor:]
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=i + 2),
                [types.TextDocumentContentChangePartial(range=types.Range(start_pos, start_pos), text=ch)],
            )
        )
        pos, doc = position(text, cursor + 1), types.TextDocumentIdentifier(uri)
        requests = {}
        if inline:
            requests["statement"] = partial(inline_request, client, doc, pos)
        if every_key or ch.isalnum() or ch == "_" or ch in TRIGGERS:
            requests["list"] = partial(list_request, client, doc, pos, ch)
            if resolve:
                requests["list"] = partial(list_then_resolve, requests["list"], client, times, resolving)
        answers = await together(requests)
        if "statement" in answers:
            times["statement"].append(answers["statement"][0])
            times["statement_read"].append(answers["statement"][2])
            if i == 0:  # the first ghost text at a place: a whole prompt, unless warmed where the cursor rested
                times["statement_first"].append(answers["statement"][0])
            times["ghost"].append(ghost_text(answers["statement"][1], edit.text, text, cursor + 1))
        if "list" in answers:
            ms, answer, read_ms = answers["list"]
            times["list_first" if first else "list"].append(ms)
            times["list_first_read" if first else "list_read"].append(read_ms)
            times["by_file"].setdefault(edit.name.split("_", 2)[2], []).append(ms)
            times["incomplete"].append(float(bool(getattr(answer, "is_incomplete", False))))
            times["in_prose"].append(float(in_prose(text, cursor + 1)[0]))  # nib lists nothing there
            if (rank := name_rank(answer, edit.text, cursor)) is not None and not times["in_prose"][-1]:
                times["ranks"].append(rank)
            first = False
        if pace_s:
            await asyncio.sleep(max(0.0, key_time + pace_s - time.perf_counter()))
        if i == 0 and think_s:  # a pause after the first key, as a person stops to think
            await asyncio.sleep(think_s)
    cancel_resolves(client, resolving)
    return text


def new_times() -> dict:
    return {
        "list_first": [],
        "list": [],
        "list_first_read": [],  # the same lists, until the client read their JSON (`time_reads`)
        "list_read": [],
        "statement": [],
        "statement_read": [],
        "statement_first": [],
        "resolve": [],  # with --resolve: each answered resolve's ms (one the next key cancelled is not)
        "ghost": [],
        "incomplete": [],
        "in_prose": [],
        "by_file": {},
        "ranks": [],  # the list's reciprocal rank of the name where its first character was typed
    }


async def replay(
    cmd: list[str],
    edits: list[Edit],
    inline: bool,
    every_key: bool,
    options: dict | None = None,
    pace_s: float = 0.0,
    roots: list[Path] = (),
    think_s: float = 0.0,
    rest: tuple[float, bool] = (0.0, False),
    warm: bool = False,
    resolve: bool = False,
) -> dict:
    """Latencies in ms: list (first after open apart), statement, the lists by file; and the lists'
    isIncomplete flags. With roots (workspace folders), each file is opened at its own path; with
    warm, after a first request that waited for the models' load (its ms apart, as "warm_up_ms")."""
    client = await start(cmd, options, roots)
    times = new_times()
    if warm:
        times["warm_up_ms"] = await warm_up(client, inline)
        if "--test-requests" in cmd:  # `nib/_timings` hands over what was answered since its last call
            await client.protocol.send_request_async("nib/_timings", {})  # the warm-up's: not the replay's
    statuses = times.setdefault("statuses", {"ghost texts": 0, "with project context": 0})

    @client.feature("nib/status")  # nib's status after each ghost text: did its prompt have project context
    def status(params):
        statuses["ghost texts"] += 1
        statuses["with project context"] += bool(params.definitions or params.chunks)

    for edit in edits:
        uri = edit.path.resolve().as_uri() if roots and edit.path else f"file:///bench/{edit.name}"
        await type_edit(client, uri, edit, times, inline, every_key, pace_s, think_s, rest, resolve)
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    if "--test-requests" in cmd:  # what the server holds at the end: its memory and bounded stores
        times["memory"] = (await client.protocol.send_request_async("nib/_memory", {}))._asdict()
        await asyncio.sleep(IDLE_S)  # the server returns freed memory once requests stop (`scheduler.when_idle`)
        times["memory_after_pause"] = (await client.protocol.send_request_async("nib/_memory", {}))._asdict()
        times["server"] = plain(await client.protocol.send_request_async("nib/_timings", {}))
    await stop(client)
    return times


def write_report(path: Path | None, report: dict) -> None:
    """The raw JSON behind a table, when --json names a file."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1) + "\n")


def stats(xs: list[float]) -> dict:
    if not xs:
        return {"n": 0}
    a = np.array(xs)
    return {
        "n": len(xs),
        "p50": round(float(np.percentile(a, 50)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
        "mean": round(float(a.mean()), 2),
    }


def plain(value):
    """pygls's answer objects as JSON values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def breakdown(server: dict[str, list[dict]]) -> dict:
    """Where the server's time went, by mode: each step's mean, p50 and p95 over the requests it
    answered (`Timings`; queue: waiting for the model's thread), and the mean decoding passes."""
    out = {}
    for mode, rows in server.items():
        steps = {k: stats([r[k] for r in rows]) for k in rows[0] if k.endswith("_ms")}
        out[mode] = {
            "answered": len(rows),
            "total_ms": stats([sum(v for k, v in r.items() if k.endswith("_ms")) for r in rows]),
            "steps_ms": {k[:-3]: v for k, v in steps.items() if v["mean"] > 0},
            "mean_passes": round(float(np.mean([r["passes"] for r in rows])), 2),
            "mean_prompt_tokens": round(float(np.mean([r["prompt_tokens"] for r in rows])), 1),
            "out_of_time": sum(r.get("out_of_time", 0) for r in rows),  # statements the budget cut
            "unlikely": sum(r.get("unlikely", 0) for r in rows),  # ... stopped under minConfidence
            "unfilled": sum(r.get("unfilled", 0) > 0 for r in rows),  # ... before their prompt was prefilled
        }
    return out


def summary(times: dict[str, list[float]]) -> dict:
    skip = ("incomplete", "in_prose", "by_file", "memory", "memory_after_pause", "statuses", "server", "ghost", "ranks")
    out = {k: stats(v) for k, v in times.items() if k not in (*skip, "warm_up_ms") and v}
    if "warm_up_ms" in times:  # not a keystroke's: the models' load, waited for before the replay
        out["warm_up_ms"] = round(times["warm_up_ms"], 1)
    if times.get("server"):
        out["server_breakdown"] = breakdown(times["server"])
    if times.get("statuses", {}).get("ghost texts"):
        out["statuses"] = times["statuses"]
    out["list_all"] = stats(times["list_first"] + times["list"])  # every list asked, the first after open too
    if times["resolve"]:
        out["resolve"] = stats(times["resolve"])
    out["list_p50_by_file"] = {f: round(float(np.percentile(v, 50)), 2) for f, v in sorted(times["by_file"].items())}
    if times["ghost"]:  # what the ghost texts would give a user who accepts them whole
        shown, right = zip(*times["ghost"], strict=True)
        out["ghost_text"] = {"asked": len(shown), "shown": sum(shown), "right": sum(r > 0 for r in right)}
        out["ghost_text"]["characters_right"] = sum(right)
    if times["ranks"]:  # the name's first character typed at typing pace: MRR@5 and top-1
        ranks = np.array(times["ranks"])
        out["names_one_typed"] = {
            "names": len(ranks),
            "mrr5": round(float(ranks.mean()), 4),
            "top1": round(float((ranks == 1).mean()), 4),
        }
    if times["incomplete"]:
        out["share_incomplete"] = round(float(np.mean(times["incomplete"])), 3)
        out["share_in_prose"] = round(float(np.mean(times["in_prose"])), 3)  # a comment or a docstring
    return out


async def first_completion_after_open(
    cmd: list[str], files: list[Path], inline: bool, options: dict | None = None, tokens: int = 2000
) -> dict[str, list[float]]:
    """Open a file of ~2k tokens the server has not seen and ask at its end for the list (and the
    ghost text, at once, where inline): the cold path, five times, each in a new server whose
    models a small unrelated document loaded first."""
    source = "\n".join(p.read_text() for p in files)
    out: dict[str, list[float]] = {"list": [], "statement": []}
    for i in range(5):
        client = await start(cmd, options)
        text = source[: tokens * 4 - 7 * i]  # ~4 characters per token on this code; a new text each time
        for j, doc_text in enumerate(("import os\n", text)):  # the first loads the models
            answers = await open_and_ask(client, f"file:///bench/cold{i}_{j}.py", doc_text, inline)
        for name, (ms, _, _) in answers.items():
            out[name].append(ms)
        await stop(client)
    return out


def plot(report: dict, raw: dict, path: Path) -> None:
    """CDFs of the list's latency, nib and jedi-language-server side by side, one panel per replay."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [name for name in raw if raw[name]]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for ax, name in zip(axes[0], panels, strict=True):
        for server, xs in raw[name].items():
            xs = np.sort(np.array(xs))
            if len(xs):
                ax.plot(
                    xs,
                    np.arange(1, len(xs) + 1) / len(xs),
                    label=f"{server} (p50 {np.percentile(xs, 50):.1f}, p95 {np.percentile(xs, 95):.1f} ms)",
                )
        ax.set_xscale("log")
        ax.set_xlabel("list latency, ms (log scale)")
        ax.set_ylabel("share of requests answered")
        ax.set_title(name)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"{report['command']}  ({report['machine']['cpus']} CPUs)", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="default: the first eight files of the test split")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="one random-point replay per seed")
    parser.add_argument("--points", type=int, default=1, help="random points per file and seed")
    parser.add_argument("--keys", type=int, default=25, help="keystrokes typed at each random point")
    parser.add_argument("--lines", type=int, default=2, help="lines retyped per file in the line replay (0: none)")
    parser.add_argument("--every-key", action="store_true", help="also replay asking for the list on every key")
    parser.add_argument("--no-jedi", action="store_true", help="without the peer")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold open of a 2k-token file")
    parser.add_argument(
        "--resolve",
        action="store_true",
        help="resolve each list's first item as VS Code does (cancelled by the next key)",
    )
    parser.add_argument(
        "--model", help="the model nib serves for the statement, a name or a directory (default: nib's default here)"
    )
    parser.add_argument("--split", default="test", choices=("test", "fresh", "dev"), help="the held-out split replayed")
    parser.add_argument(
        "--settings", type=json.loads, help="""nib's settings, as JSON: '{"jedi": {"nameBudgetMs": 40}}'"""
    )
    parser.add_argument(
        "--workspace",
        action="store_true",
        help="open the files at their own paths, their packages the workspace folders (project context)",
    )
    parser.add_argument(
        "--think-ms", type=float, default=0, help="a pause after the first key at each point, in ms (a person thinking)"
    )
    parser.add_argument(
        "--memory", action="store_true", help="report nib's resident memory and bounded stores after each replay"
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="report where nib's time went, by step, for the requests it answered"
    )
    parser.add_argument("--cps", type=float, default=0, help="keystrokes per second, a person's pace (0: back to back)")
    parser.add_argument(
        "--rest-ms",
        type=float,
        default=0,
        help="a pause at each point before its first key, in ms (cursor moved there)",
    )
    parser.add_argument("--no-cursor", action="store_true", help="with --rest-ms: nib not told where the cursor rests")
    parser.add_argument(
        "--warm-up",
        action="store_true",
        help="one untimed request before each replay, which waits up to 600 s for the models' load (CUDA's takes a minute)",
    )
    parser.add_argument("--json", type=Path, dest="json_out")
    parser.add_argument("--plot", type=Path, help="draw the list's latency CDFs into this PNG")
    parser.add_argument(
        "--profile", type=Path, help="sample nib's processes with py-spy into this file (see benchmarks/pyspy.py)"
    )
    args = parser.parse_args()
    if args.no_cursor and not args.rest_ms:
        parser.error("--no-cursor compares rests: give --rest-ms too")
    args.files = args.files or sorted(fetch(args.split).rglob("*.py"))[:8]

    nib_cmd = [sys.executable, "-I", "-m", "nib.server.cli", "serve", "--log-level", "warning"]
    if args.model:
        nib_cmd += ["--model", str(args.model)]
    if args.memory or args.breakdown:
        nib_cmd += ["--test-requests"]
    servers = {"nib": nib_cmd}
    if args.profile:  # nib and its jedi worker sampled 250 times a second; idle threads not counted
        servers["nib"] = [
            "py-spy",
            "record",
            "--format",
            "raw",
            "--subprocesses",
            "--rate",
            "250",
            "--nonblocking",
            "--output",
            str(args.profile),
            "--",
            *nib_cmd,
        ]
    jedi = shutil.which("jedi-language-server")
    if not args.no_jedi:
        if not jedi:
            print("jedi-language-server not found: pip install jedi-language-server (or --no-jedi)", file=sys.stderr)
            return 2
        servers["jedi-language-server"] = [jedi]

    points = [e for s in args.seeds for e in point_edits(args.files, args.points, args.keys, random.Random(s))]
    replays = {"points": (points, False)}
    if args.every_key:
        replays["points, every key"] = (points, True)
    if args.lines:
        replays["lines"] = (line_edits(args.files, args.lines, random.Random(args.seeds[0])), False)

    report = {
        "command": "python benchmarks/latency.py " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "files": [str(f) for f in args.files],
        "seeds": args.seeds,
        "keys": args.keys,
        "cps": args.cps,
        "model": args.model or "nib's default here",
        "workspace": args.workspace,
        "think_ms": args.think_ms,
        "rest_ms": args.rest_ms,
        "cursor_told": bool(args.rest_ms) and not args.no_cursor,
        "settings": args.settings,
        "warm_up": args.warm_up,
        "resolve": args.resolve,
        "replays": {},
    }
    raw: dict[str, dict[str, list[float]]] = {}
    for name, (edits, every_key) in replays.items():
        report["replays"][name] = {}
        raw[name] = {}
        for server, cmd in servers.items():  # interleaved per replay: the same machine state for both
            times = asyncio.run(
                replay(
                    cmd,
                    edits,
                    inline=server == "nib",
                    every_key=every_key,
                    options=args.settings if server == "nib" else None,
                    pace_s=1 / args.cps if args.cps else 0.0,
                    roots=workspace_roots(args.files) if args.workspace else [],
                    think_s=args.think_ms / 1e3,
                    rest=(args.rest_ms / 1e3, server == "nib" and not args.no_cursor),
                    warm=args.warm_up,
                    resolve=args.resolve,
                )
            )
            report["replays"][name][server] = summary(times)
            if "memory" in times:
                report["replays"][name][server]["memory"] = times["memory"]
                report["replays"][name][server]["memory_after_pause"] = times["memory_after_pause"]
            raw[name][server] = times["list_first"] + times["list"]
            report["replays"][name][server]["raw_ranks"] = times["ranks"]
            if times["ghost"]:  # each keystroke's ghost text in order: ms, shown, characters right
                ghosts = zip(times["statement"], times["ghost"], strict=True)
                report["replays"][name][server]["raw_ghost"] = [[round(ms, 2), int(s), c] for ms, (s, c) in ghosts]
            if times.get("server"):  # each request's steps as the server timed them, in the order answered
                report["replays"][name][server]["raw_server"] = times["server"]
    if not args.no_cold:  # nib answers the list and the ghost text at once, as an editor asks
        cold = asyncio.run(first_completion_after_open(nib_cmd, args.files, True, args.settings))
        report["cold: nib after opening a 2k-token file it has not seen"] = {k: stats(v) for k, v in cold.items()}

    print(f"{'replay':20} {'server':22} {'request':12} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, by_server in report["replays"].items():
        for server, s in by_server.items():
            for kind, st in s.items():
                if isinstance(st, dict) and "n" in st:
                    print(f"{name:20} {server:22} {kind:12} {st['n']:>5} {st['p50']:>8} {st['p95']:>8} {st['p99']:>8}")
            if "warm_up_ms" in s:
                print(f"{name:20} {server:22} warm-up (the models' load, untimed): {s['warm_up_ms']:.0f} ms")
            if "memory" in s:
                m, paused = s["memory"], s["memory_after_pause"]
                print(
                    f"{name:20} {server:22} resident {m['rss_bytes'] / 1e6:.0f} MB at once, "
                    f"{paused['rss_bytes'] / 1e6:.0f} MB after a pause, peak {paused['peak_rss_bytes'] / 1e6:.0f} MB, "
                    f"{m['project_files']} project files, {m['recent_chunks']} recent chunks, {m['kv_states']} KV states"
                )
            if g := s.get("ghost_text"):
                print(
                    f"{name:20} {server:22} ghost text shown {g['shown']} of {g['asked']}, right {g['right']} "
                    f"({g['characters_right']} characters after the cursor)"
                )
            for mode, b in s.get("server_breakdown", {}).items():
                steps = ", ".join(f"{k} {v['mean']:.1f}" for k, v in b["steps_ms"].items())
                print(
                    f"{name:20} {server:22} {mode} on the server, mean of {b['answered']}: "
                    f"{b['total_ms']['mean']:.1f} ms ({steps}), {b['mean_passes']} passes"
                )
        if "jedi-language-server" in by_server:
            ratio = by_server["nib"]["list"]["p50"] / by_server["jedi-language-server"]["list"]["p50"]
            report["replays"][name]["ratio_list_p50_nib_over_jedi"] = round(ratio, 3)
            read = by_server["nib"]["list_read"]["p50"] / by_server["jedi-language-server"]["list_read"]["p50"]
            report["replays"][name]["ratio_list_read_p50_nib_over_jedi"] = round(read, 3)
            print(f"{name}: list p50, nib / jedi-language-server: {ratio:.2f} ({read:.2f} as read)")
    for key, value in report.items():
        if key.startswith("cold: "):
            print(f"{key}: {value}")
    report["raw_list_ms"] = {name: {s: [round(x, 2) for x in xs] for s, xs in r.items()} for name, r in raw.items()}
    write_report(args.json_out, report)
    if args.plot:
        plot(report, raw, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
