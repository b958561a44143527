"""Benchmark P7: `ducha run` on the 45-household demo workbook (a fresh interpreter, the result written next to it)
against `python -c "import pandas, openpyxl, pydantic"`, the imports any such tool pays.

Prints both times (best of N) and the ratio (goal: <= 1.5x). Usage: python benchmarks/file_run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.5
BASELINE = [sys.executable, "-c", "import pandas, openpyxl, pydantic"]


def _best_wall(argv: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def measure(repeat: int = 5) -> dict[str, float]:
    from ducha.app.demo import write_demo_workbook

    with tempfile.TemporaryDirectory() as tmp:
        workbook = write_demo_workbook(Path(tmp) / "清水县-2019-11-督查工作簿.xlsx")
        run = [sys.executable, "-m", "ducha", "run", str(workbook)]
        subprocess.run(run, stdout=subprocess.DEVNULL, check=False)  # warm the file cache
        ducha = raw = float("inf")
        for _ in range(repeat):  # interleaved, so that a busy moment of the machine hits both
            raw = min(raw, _best_wall(BASELINE, 1))
            ducha = min(ducha, _best_wall(run, 1))
    return {"ducha": ducha, "raw": raw, "ratio": ducha / raw, "goal": GOAL}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    r = measure(parser.parse_args().repeat)
    print(f"import pandas, openpyxl, pydantic : {r['raw']:.2f} s")
    print(f"ducha run (45-household demo)    : {r['ducha']:.2f} s")
    print(f"ratio                            : {r['ratio']:.2f}x (goal <= {GOAL}x)")
    return 0 if r["ratio"] <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
