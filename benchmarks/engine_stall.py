"""How long the event loop stalls during a process's first statement from an engine.

Each round is a fresh interpreter (the first statement is the one that makes httpx's client and
imports what its first connection needs): an engine URL where nothing listens, the statement
asked while a ticker on the same loop wakes every millisecond; the longest gap between two
ticks, less the millisecond, is the stall every other request on the loop (the list, the next
keystroke) would have waited.

    python benchmarks/engine_stall.py --rounds 5 --json benchmarks/results/engine/stall.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from latency import write_report

ROUND = """
import asyncio, json, socket, time
from nib.model.completion.engine import EngineCompleter, EngineError
from nib.model.completion.request import Request

async def main():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    engine, gaps, done = EngineCompleter(url), [], asyncio.Event()

    async def ticker():
        while not done.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            gaps.append((time.perf_counter() - t) * 1e3 - 1.0)

    ticking = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.05)
    gaps.clear()
    started = time.perf_counter()
    try:
        await engine.complete(Request("x = 1\\ny", 7, "statement"))
    except EngineError:
        pass
    took = (time.perf_counter() - started) * 1e3
    done.set()
    await ticking
    print(json.dumps({"statement_ms": round(took, 1), "longest_stall_ms": round(max(gaps), 1)}))

asyncio.run(main())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="write the raw figures here")
    args = parser.parse_args()
    rounds = []
    for _ in range(args.rounds):
        ran = subprocess.run([sys.executable, "-c", ROUND], capture_output=True, text=True, timeout=120, check=True)
        rounds.append(json.loads(ran.stdout))
        print(rounds[-1])
    write_report(args.json, {"rounds": rounds, "python": sys.version.split()[0]})


if __name__ == "__main__":
    main()
