"""Benchmark P7: `ducha run` on the 45-household demo workbook (a fresh interpreter, the result written next to it)
against `python -c "import pandas, openpyxl, pydantic"`, the imports any such tool pays.

Prints both times (best of N, runs interleaved) and the ratio (goal: <= 1.5x), in CPU time (user + system of the
child process: what the run costs, steady on a shared machine) and in wall time. The goal is judged on CPU time.
Usage: python benchmarks/file_run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.5
BASELINE = [sys.executable, "-c", "import pandas, openpyxl, pydantic"]


def _timed(argv: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def measure(repeat: int = 5) -> dict[str, float]:
    from ducha.app.demo import write_demo_workbook

    with tempfile.TemporaryDirectory() as tmp:
        workbook = write_demo_workbook(Path(tmp) / "清水县-2019-11-督查工作簿.xlsx")
        run = [sys.executable, "-m", "ducha", "run", str(workbook)]
        subprocess.run(run, stdout=subprocess.DEVNULL, check=False)  # warm the file cache
        raws, duchas = [], []
        for _ in range(repeat):  # interleaved, so that a busy moment of the machine hits both
            raws.append(_timed(BASELINE))
            duchas.append(_timed(run))
    raw, ducha = min(t[0] for t in raws), min(t[0] for t in duchas)
    raw_wall, ducha_wall = min(t[1] for t in raws), min(t[1] for t in duchas)
    return {"ducha": ducha, "raw": raw, "ratio": ducha / raw, "goal": GOAL,
            "ducha_wall": ducha_wall, "raw_wall": raw_wall, "wall_ratio": ducha_wall / raw_wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    r = measure(parser.parse_args().repeat)
    print(f"import pandas, openpyxl, pydantic : {r['raw']:.2f} s CPU, {r['raw_wall']:.2f} s wall")
    print(f"ducha run (45-household demo)    : {r['ducha']:.2f} s CPU, {r['ducha_wall']:.2f} s wall")
    print(f"ratio                            : {r['ratio']:.2f}x CPU (goal <= {GOAL}x), {r['wall_ratio']:.2f}x wall")
    return 0 if r["ratio"] <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
