"""Every benchmark of the project, one table: ducha vs its baseline, the ratio and the goal.

Rows: read + check of a 100,000-household sheet vs python-calamine's raw read; intake of 200 workbooks vs raw
reads; read + check with whole-column formatting vs plain (demo and 20,000 households; benchmarks/formats.py);
sampling from a 100,000-household roster vs a raw read; xlwings actions at 45 vs 4,500 households (per
ribbon command); cold start of one ribbon command (`ducha check` on a small workbook, a fresh interpreter) vs
`python -c "import pandas, openpyxl"`; `ducha run` on the 45-household demo vs
`python -c "import pandas, openpyxl, pydantic"` (P7); peak memory (max RSS) of the 100,000-household check vs the
raw read.

Usage: python benchmarks/run_all.py [--quick]   (--quick: 10,000 households, 20 workbooks, 1 repeat)
Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import file_run  # noqa: E402
import formats as formats_bench  # noqa: E402
import intake as intake_bench  # noqa: E402
import read_check  # noqa: E402
import sampling as sampling_bench  # noqa: E402
import xlwings_actions  # noqa: E402

from ducha.app.commands import COMMANDS  # noqa: E402
from markdown_workbook import valid_sheets, write_workbook  # noqa: E402

COLD_START_GOAL = 2.0
MEMORY_GOAL = 2.0

_MAX_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _best_wall(argv: list[str], repeat: int = 3, cwd: Path | None = None) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def cold_start(folder: Path) -> dict[str, float]:
    """`ducha check` on a small workbook in a fresh interpreter vs importing pandas and openpyxl."""
    workbook = write_workbook(folder / "冷启动.xlsx", valid_sheets())
    out = folder / "冷启动.结果.xlsx"
    ducha = _best_wall([sys.executable, "-m", "ducha", "check", str(workbook), "--out", str(out)], cwd=folder)
    baseline = _best_wall([sys.executable, "-c", "import pandas, openpyxl"])
    return {"ducha": ducha, "raw": baseline, "ratio": ducha / baseline, "goal": COLD_START_GOAL}


def _max_rss_kb(code: str) -> int:
    """Peak RSS (KiB on Linux) of `python -c code`, read from RUSAGE_CHILDREN in a wrapper process."""
    out = subprocess.run([sys.executable, "-c", _MAX_RSS, sys.executable, "-c", code], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return int(out.stdout.strip().splitlines()[-1])


def peak_memory(households: int, folder: Path) -> dict[str, float]:
    path = read_check.build(folder / "memory.xlsx", households)
    ducha = _max_rss_kb(f"from ducha.checks.pipeline import run_check; run_check({str(path)!r})")
    raw = _max_rss_kb("import python_calamine\n"  # the same raw read as read_check.raw_read, without ducha
                      f"book = python_calamine.CalamineWorkbook.from_path({str(path)!r})\n"
                      "sheets = [book.get_sheet_by_name(n).to_python(skip_empty_area=False) for n in book.sheet_names]")
    return {"ducha": ducha / 1024, "raw": raw / 1024, "ratio": ducha / raw, "goal": MEMORY_GOAL}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and one repeat, for a smoke run")
    args = parser.parse_args()
    households, workbooks, repeat = (10_000, 20, 1) if args.quick else (100_000, 200, 3)

    print(f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}" + ("  [--quick]" if args.quick else ""))
    rows: list[tuple[str, str, str, float, float]] = []

    def add(name: str, r: dict, unit: str = "s", fmt: str = "{:.2f}") -> None:
        rows.append((name, fmt.format(r["ducha"]) + f" {unit}", fmt.format(r["raw"]) + f" {unit}", r["ratio"],
                     r["goal"]))

    add(f"read+check {households:,} households vs calamine", read_check.measure(households, repeat))
    add(f"intake {workbooks} workbooks vs raw read", intake_bench.measure(workbooks, repeat))
    for name, r in formats_bench.measure(households // 5, repeat).items():
        add(f"read+check {name}: whole-column formatting vs plain", r)
    add(f"sampling {households:,}-household roster vs raw read", sampling_bench.measure(households, repeat))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for command in (c for c in COMMANDS if c != "clear"):
            small = xlwings_actions.measure(command, 3, folder)
            large = xlwings_actions.measure(command, 300, folder)
            rows.append((f"xlwings actions '{command}' {large['households']:,} vs {small['households']} hh",
                         f"{large['actions']} actions", f"{small['actions']} actions",
                         large["actions"] / small["actions"], xlwings_actions.GOAL))
        add("cold start `ducha check` vs import pandas, openpyxl", cold_start(folder))
        add("P7 `ducha run` on the demo vs import pandas, openpyxl, pydantic (CPU)", file_run.measure(repeat + 2))
        if sys.platform.startswith("linux"):
            add(f"peak memory check {households:,} vs raw read", peak_memory(households, folder), "MiB", "{:.0f}")
        else:
            print("peak memory: skipped (ru_maxrss units differ outside Linux)")

    headers = ("benchmark", "ducha", "baseline", "ratio", "goal", "met?")
    table = [(name, d, b, f"{ratio:.2f}x", f"<= {goal:g}x", "yes" if ratio <= goal else "NO")
             for name, d, b, ratio, goal in rows]
    widths = [max(len(str(r[i])) for r in (headers, *table)) for i in range(len(headers))]
    line = " | ".join("{:<" + str(w) + "}" for w in widths)
    print(line.format(*headers))
    print("-+-".join("-" * w for w in widths))
    for r in table:
        print(line.format(*r))
    return 0 if all(ratio <= goal for *_, ratio, goal in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
