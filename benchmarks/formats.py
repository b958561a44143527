"""Benchmark: read + check of a workbook vs the same workbook with whole-column formatting on every input sheet
(a style on columns A:XFD, a <dimension ref="A1:XFD1048576"/> and styled empty cells at row 1,048,576 — what clerks,
Gnumeric and WPS leave). The input gate judges extents from the cells that hold values, so the formatted copy must
cost the same (goal: ratio ≤ 1.2×). Prints time and peak memory (max RSS of a fresh process) of both, for the demo
workbook and for a large household sheet.

Usage: python benchmarks/formats.py [--households N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import read_check  # noqa: E402

from ducha.app.demo import write_demo_workbook  # noqa: E402
from ducha.checks.pipeline import run_check  # noqa: E402
from hostile import whole_column_formatting  # noqa: E402

GOAL = 1.2

_MAX_RSS = """
import resource, sys
from ducha.checks.pipeline import run_check
run_check(sys.argv[1])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mib(path: Path) -> float:
    """Max RSS (MiB, Linux) of a fresh interpreter that reads and checks `path`."""
    out = subprocess.run([sys.executable, "-c", _MAX_RSS, str(path)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def measure_pair(plain: Path, repeat: int) -> dict[str, float]:
    formatted = whole_column_formatting(plain, plain.with_name(plain.stem + ".整列格式.xlsx"))
    base = read_check.best_of(lambda: run_check(plain), repeat)
    wide = read_check.best_of(lambda: run_check(formatted), repeat)
    return {"raw": base, "ducha": wide, "ratio": wide / base, "goal": GOAL,
            "memory_plain": peak_mib(plain), "memory_formatted": peak_mib(formatted)}


def measure(households: int, repeat: int = 3) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        return {"demo workbook": measure_pair(write_demo_workbook(folder / "demo.xlsx"), max(repeat, 5)),
                f"{households:,} households": measure_pair(read_check.build(folder / "large.xlsx", households),
                                                           repeat)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, r in measure(args.households, args.repeat).items():
        print(f"{name}: read + check {r['raw']:.3f} s plain, {r['ducha']:.3f} s with whole-column formatting, "
              f"ratio {r['ratio']:.2f}x (goal <= {GOAL}x); peak memory {r['memory_plain']:.0f} MiB plain, "
              f"{r['memory_formatted']:.0f} MiB formatted")


if __name__ == "__main__":
    main()
