"""How often a statement loops: `nib eval` with each statement the stop rules cut at a loop
(`stops.loop_end`) counted, to set beside the same eval's figures from before the rule (the same cuts).

    python benchmarks/loops.py --json benchmarks/results/loops/dev_gemma_count.json -- \
        eval dev --model gemma3-270m --name-lines-only --no-healing --points 300 --threads 2 \
        --json benchmarks/results/loops/dev_gemma.json

The report holds the eval's command and the number of statements cut at a loop, not their text
(it is the held-out packages' code).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from latency import write_report

from nib.model.text import stops


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, dest="json_out")
    parser.add_argument("nib", nargs=argparse.REMAINDER, help="-- then `nib` arguments (an eval)")
    args = parser.parse_args()
    argv = args.nib[1:] if args.nib[:1] == ["--"] else args.nib
    loops = 0
    found = stops.loop_end

    def counted(generated: str, tokens, base: int) -> int | None:
        nonlocal loops
        end = found(generated, tokens, base)
        loops += end is not None  # once a statement: it ends there
        return end

    stops.loop_end = counted  # statement_end looks it up in the module at each call
    from nib.server.cli import main as nib

    rc = nib(argv)
    report = {"command": "python benchmarks/loops.py " + " ".join(sys.argv[1:]), "loops": loops}
    print(f"statements cut at a loop: {loops}")
    write_report(args.json_out, report)
    return rc


if __name__ == "__main__":
    sys.exit(main())
