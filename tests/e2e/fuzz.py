"""Fuzz nib over stdio: valid and broken JSON-RPC, and check that every request is answered.

    python tests/fuzz.py --messages 100000      # the long session (prints a table and JSON)

The test suite runs a short session (test_robustness.py). Each message is one
of the kinds below, drawn with a seeded generator; requests expect a result or
a JSON-RPC error of a given code, and an answer with id null is expected for
each message that has no usable id.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from rpc import RawClient  # noqa: E402

URI = "file:///tmp/nib_fuzz.py"
TEXT = """import os


def walk(root):
    found = []
    for dirpath, _, names in os.walk(root):
        for name in names:
            found.append(os.path.join(dirpath, name))
    return sorted(found)
"""
ODD_TEXT = ["\ud800", "\udfff", "\x00", "\ufeff", "😀", "\r\n", "\r", "é", "\u2028", "\t", "'''", "(", "\\"]

# kind: weight (per 1000 messages)
KINDS = {
    "complete": 40,
    "inline": 20,
    "change": 250,
    "cancel": 40,
    "garbage": 90,
    "not_a_request": 50,
    "unknown_request": 90,
    "unknown_notification": 50,
    "unimplemented": 50,
    "bad_params": 120,
    "bad_id": 50,
    "odd_text": 70,
    "settings": 30,
    "close_open": 50,
    "cursor": 60,
    "resolve": 30,
}


def position(rng) -> dict:
    return {"line": rng.choice([0, 1, 4, 7, 9, 30, -1, 10**9]), "character": rng.choice([0, 1, 5, 12, 40, 10**6, -3])}


def fuzz_messages(rng: random.Random, n: int):
    """(kind, message, expected): message a dict to send as JSON or raw bytes; expected the error code a
    request must get, "result" for a result, "any" when a result or a cancellation will do, None for no answer."""
    kinds, weights = zip(*KINDS.items(), strict=True)
    ids = iter(range(1_000_000, 10**9))
    recent: list[int] = []
    version = 1
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        if kind in ("complete", "inline"):
            i = next(ids)
            recent = (recent + [i])[-20:]
            method = "textDocument/completion" if kind == "complete" else "textDocument/inlineCompletion"
            params = {"textDocument": {"uri": URI}, "position": position(rng)}
            if kind == "inline":
                params["context"] = {"triggerKind": 2}
            negative = min(params["position"].values()) < 0  # LSP positions are unsigned: invalid params
            yield kind, {"jsonrpc": "2.0", "id": i, "method": method, "params": params}, -32602 if negative else "any"
        elif kind == "change":
            version += 1
            start, end = position(rng), position(rng)
            text = rng.choice(["", "x", "os.", "\n", "    ", "pri", "(", ")", "found.ap", "\n    return "])
            yield (
                kind,
                {
                    "jsonrpc": "2.0",
                    "method": "textDocument/didChange",
                    "params": {
                        "textDocument": {"uri": URI, "version": version},
                        "contentChanges": [{"range": {"start": start, "end": end}, "text": text}],
                    },
                },
                None,
            )
        elif kind == "resolve":  # an item as an editor sends it back, from whichever list (or none)
            start, end = position(rng), position(rng)
            edit = {"range": {"start": start, "end": end}, "newText": rng.choice(["walk", "os", "x", ""])}
            label = rng.choice(["walk", "os", "found", "no_such_name", ""])
            item = {"label": label, "kind": rng.choice([1, 3, 6, 9, 10, 14]), "textEdit": edit}
            negative = min(*start.values(), *end.values()) < 0
            message = {"jsonrpc": "2.0", "id": next(ids), "method": "completionItem/resolve", "params": item}
            yield kind, message, -32602 if negative else "result"
        elif kind == "cursor":  # nib's editor plugins' notification, well formed or not
            params = rng.choice(
                [
                    {"textDocument": {"uri": URI}, "position": position(rng)},
                    {
                        "textDocument": {"uri": rng.choice([3, None, [], "file:///not/open.py"])},
                        "position": position(rng),
                    },
                    {"textDocument": URI, "position": [1, 2]},
                    {"position": {"line": "1", "character": 1.5}},
                    {},
                    [],
                    None,
                    3,
                ]
            )
            yield kind, {"jsonrpc": "2.0", "method": "nib/cursor", "params": params}, None
        elif kind == "cancel":
            target = rng.choice(recent) if recent else 1
            yield kind, {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": target}}, None
        elif kind == "garbage":
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
            body = rng.choice([body, b"{", b'{"jsonrpc": "2.0", "id": 1,', b"\xff\xfe{}", b"nul\x00l"])
            yield kind, body, -32700
        elif kind == "not_a_request":
            yield kind, rng.choice([b"[]", b"[1, 2]", b"42", b'"text"', b"null", b"true", b"{}"]), -32600
        elif kind == "unknown_request":
            yield (
                kind,
                {
                    "jsonrpc": "2.0",
                    "id": next(ids),
                    "method": rng.choice(["foo/bar", "nib/nothing", "", "$/x"]),
                    "params": rng.choice([{}, [], None, 3]),
                },
                -32601,
            )
        elif kind == "unknown_notification":
            yield (
                kind,
                {"jsonrpc": "2.0", "method": rng.choice(["foo/bar", "$/setTrace", "custom/note"]), "params": {"x": 1}},
                None,
            )
        elif kind == "unimplemented":
            yield (
                kind,
                {
                    "jsonrpc": "2.0",
                    "id": next(ids),
                    "method": rng.choice(
                        ["textDocument/hover", "textDocument/definition", "workspace/symbol", "textDocument/rename"]
                    ),
                    "params": {"textDocument": {"uri": URI}, "position": position(rng)},
                },
                -32601,
            )
        elif kind == "bad_params":
            method = rng.choice(["textDocument/completion", "textDocument/inlineCompletion", "completionItem/resolve"])
            params = rng.choice(
                [
                    5,
                    "x",
                    [],
                    {"x": 1},
                    {"textDocument": {"uri": 3}, "position": {"line": 0}},
                    {"textDocument": {"uri": URI}, "position": {"line": "a", "character": 0}},
                ]
            )
            yield kind, {"jsonrpc": "2.0", "id": next(ids), "method": method, "params": params}, -32602
        elif kind == "bad_id":
            yield (
                kind,
                {"jsonrpc": "2.0", "id": rng.choice([True, 1.5, {"a": 1}, [1]]), "method": "foo/bar", "params": {}},
                -32600,
            )
        elif kind == "odd_text":
            version += 1
            text = "".join(rng.choice(ODD_TEXT) for _ in range(rng.randrange(1, 8)))
            yield (
                kind,
                {
                    "jsonrpc": "2.0",
                    "method": "textDocument/didChange",
                    "params": {
                        "textDocument": {"uri": URI, "version": version},
                        "contentChanges": [{"range": {"start": position(rng), "end": position(rng)}, "text": text}],
                    },
                },
                None,
            )
        elif kind == "settings":
            settings = rng.choice(
                [
                    {"nib": {"statement": {"maxTokens": "x"}}},
                    {"nib": {"model": {"healing": 3}}},
                    {"nib": None},
                    [1],
                    "x",
                    {"nib": {"list": {"size": 2}, "statement": {"debounceMs": 0}}},
                    {"nib": {"foo": {"bar": 1}}},
                    {"nib": {"listSize": 2, "list": []}},
                ]
            )
            yield (
                kind,
                {"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {"settings": settings}},
                None,
            )
        else:  # close and reopen the document, sometimes with odd text
            yield (
                kind,
                {"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": URI}}},
                None,
            )
            version += 1
            text = rng.choice([TEXT, "\ufeff" + TEXT, TEXT.replace("\n", "\r\n"), "\x00\x01" * 50, ""])
            yield (
                kind,
                {
                    "jsonrpc": "2.0",
                    "method": "textDocument/didOpen",
                    "params": {"textDocument": {"uri": URI, "languageId": "python", "version": version, "text": text}},
                },
                None,
            )


def run(n: int, seed: int = 0, command=None, timeout: float = 600.0) -> dict:
    command = command or [sys.executable, "-I", "-m", "nib.server.cli", "serve", "--test-requests"]
    client = RawClient(command)
    started = time.perf_counter()
    client.initialize()
    client.notify(
        "textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}}
    )
    expected: dict[int, object] = {}
    null_expected: Counter = Counter()
    sent: Counter = Counter()
    for kind, message, expect in fuzz_messages(random.Random(seed), n):
        sent[kind] += 1
        if isinstance(message, bytes):
            client.send_bytes(message)
            null_expected[expect] += 1
        else:
            client.send(message)
            request_id = message.get("id")
            if isinstance(request_id, int) and not isinstance(request_id, bool):
                expected[request_id] = expect
            elif "id" in message:
                null_expected[expect] += 1
    sending_s = time.perf_counter() - started
    problems, codes = [], Counter()
    for request_id, expect in expected.items():
        try:
            answers = client.wait(request_id, timeout) and client.responses[("all", request_id)]
        except (TimeoutError, ConnectionError) as e:
            problems.append(f"{request_id}: {e}")
            continue
        if len(answers) != 1:
            problems.append(f"{request_id}: {len(answers)} answers")
        answer = answers[0]
        code = answer["error"]["code"] if "error" in answer else "result"
        codes[code] += 1
        if expect == "any":
            ok = code in ("result", -32800)  # a completion, or cancelled
        else:
            ok = code == expect
        if not ok:
            problems.append(f"{request_id}: expected {expect}, got {answer}")
    # the null-id answers come in order after everything sent: wait for them to be counted
    deadline = time.monotonic() + timeout
    while len(client.responses.get(("all", None), [])) < sum(null_expected.values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    null_codes = Counter(a["error"]["code"] for a in client.responses.get(("all", None), []))
    if null_codes != null_expected:
        problems.append(f"answers with id null: expected {dict(null_expected)}, got {dict(null_codes)}")
    alive = client.process.poll() is None
    after = (
        client.request(
            "textDocument/completion", {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}
        )
        if alive
        else None
    )
    memory = client.request("nib/_memory", {}) if alive else None
    elapsed = time.perf_counter() - started
    exit_code = client.close()
    for code, count in null_codes.items():
        codes[code] += count
    return {
        "messages": sum(sent.values()),
        "requests_answered": sum(codes.values()),
        "by_kind": dict(sent),
        "answers_by_code": {str(k): v for k, v in sorted(codes.items(), key=str)},
        "problems": problems[:20],
        "problem_count": len(problems),
        "alive_at_end": alive,
        "answers_after": after is not None,
        "exit_code": exit_code,
        "crashes": 0 if alive and exit_code == 0 else 1,
        "seconds": round(elapsed, 1),
        "sending_seconds": round(sending_s, 1),
        "memory": memory,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = run(args.messages, args.seed)
    print(
        f"messages sent {report['messages']}, requests answered {report['requests_answered']}, "
        f"crashes {report['crashes']}, problems {report['problem_count']}, {report['seconds']} s"
    )
    print("answers by code:", report["answers_by_code"])
    print("messages by kind:", report["by_kind"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if report["problem_count"] == 0 and report["crashes"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
