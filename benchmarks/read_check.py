"""Benchmark: ducha's read + check of a 100,000-household workbook against python-calamine's raw read.

Prints both times and their ratio (goal: ≤ 1.5×). Usage: python benchmarks/read_check.py [--households N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

import python_calamine
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from ducha.checks.pipeline import run_check
from ducha.model.schema import HOUSEHOLDS
from markdown_workbook import household, make_id, valid_sheets

GOAL = 1.5


def build(path: Path, households: int, seed: int = 1) -> Path:
    """A valid workbook whose 农户调查 sheet has `households` rows (1 % with a planted problem)."""
    rng = random.Random(seed)
    sheets = valid_sheets()
    header = sheets[HOUSEHOLDS.name][0]
    kinds = ("建档立卡贫困户", "脱贫户", "普通农户")
    wb = Workbook(write_only=True)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        if name != HOUSEHOLDS.name:
            for row in rows:
                ws.append(row)
            continue
        ws.append(header)
        for n in range(households):
            birth = (dt.date(1940, 1, 1) + dt.timedelta(days=n % 20_000)).strftime("%Y%m%d")
            record = household(kinds[n % 3], n, "青山镇", "石门村", 身份证号=make_id(n // 20_000, birth=birth))
            if rng.random() < 0.01:
                record["家庭人口"] = "四口"
            ws.append([record.get(f.header) for f in HOUSEHOLDS.fields])
    wb.save(path)
    return path


def raw_read(path: Path) -> None:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    book.close()


def print_ratio(heading: str, label: str, r: dict[str, float]) -> None:
    """The benchmarks' common output: ducha's time next to python-calamine's raw read, and the ratio."""
    print(heading)
    print(f"python-calamine raw read : {r['raw']:.2f} s")
    print(f"{label:<25}: {r['ducha']:.2f} s")
    print(f"ratio                    : {r['ratio']:.2f}x (goal <= {r['goal']}x)")


def best_of(func, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(households: int, repeat: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = build(Path(folder) / "bench.xlsx", households)
        raw = best_of(lambda: raw_read(path), repeat)
        ducha = best_of(lambda: run_check(path), repeat)
    return {"households": households, "raw": raw, "ducha": ducha, "ratio": ducha / raw, "goal": GOAL}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    r = measure(args.households, args.repeat)
    print_ratio(f"households: {r['households']:,}", "ducha read + check", r)


if __name__ == "__main__":
    main()
