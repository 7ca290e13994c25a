"""What the list's answer costs the server's event loop to build and write (`protocol.Wire`).

In-process, no model: a list of --names names (jedi's kinds, an accept command each, ITEMS_SENT
of them sent as an incomplete list does) and a statement, built by `convert.completion_list` and
written by nib's protocol to a writer that drops the bytes; against the same items built as
lsprotocol objects and written through pygls's cattrs path, as nib did before.

    python benchmarks/wire.py --json benchmarks/results/wire/wire.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

from latency import write_report
from lsprotocol import types
from pygls.lsp.server import LanguageServer

from nib.model.completion.result import Candidate, Timings
from nib.model.listing.jedi_answers import JediAnswer, JediName
from nib.model.listing.ranker import Listing
from nib.server.convert import completion_list
from nib.server.documents import Document
from nib.server.protocol import NibProtocol

DEMO = Path(__file__).parent / "samples" / "demo.py"


class Dropped:
    def write(self, data: bytes) -> None:
        self.bytes = len(data)


def listing(text: str, cursor: int, names: int) -> Listing:
    start = cursor - 2
    found = [Candidate(f"name_{i}", start, -i / 10, "name", f"name_{i}") for i in range(names)]
    statement = Candidate("name_0.append(value)", start, -3.0, "statement", "name_0.append(value)")
    jedi = JediAnswer([JediName(c.label, "instance", f"instance {c.label}: int") for c in found[::2]], "name")
    return Listing(found + [statement], Timings(), jedi)


def as_objects(wire: dict) -> types.CompletionList:
    """The same items as lsprotocol objects, field by field, as nib's converter built them before."""

    def position(p):
        return types.Position(p["line"], p["character"])

    items = [
        types.CompletionItem(
            label=i["label"],
            kind=types.CompletionItemKind(i["kind"]),
            detail=i["detail"],
            sort_text=i["sortText"],
            filter_text=i["filterText"],
            text_edit=types.TextEdit(
                range=types.Range(position(i["textEdit"]["range"]["start"]), position(i["textEdit"]["range"]["end"])),
                new_text=i["textEdit"]["newText"],
            ),
            insert_text_format=types.InsertTextFormat.PlainText,
            command=types.Command(**i["command"]),
        )
        for i in wire["items"]
    ]
    return types.CompletionList(is_incomplete=wire["isIncomplete"], items=items)


def timed(fn, rounds: int) -> dict:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1e3)
    times.sort()
    return {"p50": round(statistics.median(times), 3), "p95": round(times[int(0.95 * len(times))], 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--json", type=Path, dest="json_out")
    args = parser.parse_args()
    text = DEMO.read_text()
    cursor = text.index("found.append") + 2
    doc, found = Document("file:///demo.py", text, 1), listing(text, cursor, args.names)
    protocol = LanguageServer("bench", "1", protocol_cls=NibProtocol).protocol
    protocol.set_writer(writer := Dropped())

    def accept(i):
        return types.Command(title="nib: accepted", command="nib.accepted", arguments=[1, i])

    def wire():
        protocol._send_response(1, completion_list(found, doc, cursor, "utf-16", accept))

    def objects():
        protocol._send_response(1, as_objects(completion_list(found, doc, cursor, "utf-16", accept)))

    built = completion_list(found, doc, cursor, "utf-16", accept)
    rounds = {
        "build_wire": timed(lambda: completion_list(found, doc, cursor, "utf-16", accept), args.rounds),
        "build_objects_from_wire": timed(lambda: as_objects(built), args.rounds),
        "build_and_write_wire": timed(wire, args.rounds),
        "build_and_write_objects": timed(objects, args.rounds),
    }
    wire()
    wire_bytes = writer.bytes
    objects()
    print(f"{len(built['items'])} items, {wire_bytes} bytes written as Wire, {writer.bytes} as objects")
    for name, figures in rounds.items():
        print(f"{name}: p50 {figures['p50']} ms, p95 {figures['p95']} ms")
    command = "python benchmarks/wire.py " + " ".join(sys.argv[1:])
    report = {"command": command, "cpus": os.cpu_count(), "items": len(built["items"])}
    report |= {"bytes": {"wire": wire_bytes, "objects": writer.bytes}}
    write_report(args.json_out, report | {"ms": rounds})
    return 0


if __name__ == "__main__":
    sys.exit(main())
