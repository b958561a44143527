"""Benchmark: how many Excel calls (xlwings actions) each ribbon command makes as the workbook grows.

Builds a 45-household workbook (3 villages × 15) and a 4,500-household one (300 villages × 15) with the same share of
planted problems (one household in 15), runs every command of ducha.app.commands.COMMANDS except 'clear' on each through
xlwings' remote engine, and prints the number of actions and their ratio (goal: larger ≤ 2× smaller).
Usage: python benchmarks/xlwings_actions.py [--small 3] [--large 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ducha.app.commands import COMMANDS
from ducha.app.excel import run_on_book
from live_payload import Client, inspection_sheets, payload_from_xlsx  # sets XLWINGS_LICENSE_KEY first
from markdown_workbook import write_workbook

GOAL = 2.0
HOUSEHOLDS_PER_VILLAGE = 15


def measure(command: str, villages: int, folder: Path) -> dict[str, object]:
    """Actions returned by one run of `command` on a fresh workbook with `villages` villages."""
    path = write_workbook(folder / f"{villages}村.xlsx", inspection_sheets(villages))
    book = Client(payload_from_xlsx(path)).book()
    start = time.perf_counter()
    run_on_book(book, command)
    seconds = time.perf_counter() - start
    actions = book.json()["actions"]
    return {"households": villages * HOUSEHOLDS_PER_VILLAGE, "actions": len(actions),
            "kinds": Counter(a["func"] for a in actions), "kb": len(json.dumps(actions, default=str)) / 1024,
            "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=3, help="villages in the small workbook")
    parser.add_argument("--large", type=int, default=300, help="villages in the large workbook")
    parser.add_argument("--verbose", action="store_true", help="print the actions by kind")
    args = parser.parse_args()
    worst = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for command in (c for c in COMMANDS if c != "clear"):
            small = measure(command, args.small, Path(folder))
            large = measure(command, args.large, Path(folder))
            ratio = large["actions"] / small["actions"]
            worst = max(worst, ratio)
            print(f"{command}:")
            for r in (small, large):
                print(f"  {r['households']:>6,} households: {r['actions']:>4} actions, {r['kb']:8.1f} KB of JSON, "
                      f"{r['seconds']:.2f} s")
                if args.verbose:
                    print("    " + ", ".join(f"{k} {n}" for k, n in sorted(r["kinds"].items())))
            print(f"  ratio: {ratio:.2f}x (goal <= {GOAL}x)")
    return 0 if worst <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
