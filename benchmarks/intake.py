"""Benchmark: `ducha intake` of 200 county workbooks against python-calamine's raw read of the same files.

Intake stores each original, checks, scores and flags it, writes it to the archive in one transaction and writes
a receipt. Prints both times and their ratio (goal: ≤ 3×). Usage: python benchmarks/intake.py [--workbooks N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from read_check import best_of, print_ratio, raw_read

from ducha.adapters.writer import save_workbook
from ducha.app.demo import build_demo_workbook
from ducha.model import schema
from ducha.prefecture.archive import Archive
from ducha.prefecture.intake import Intake
from ducha.sheets.template import FORM_VALUE_COLUMN, form_row

GOAL = 3.0


def build_inbox(folder: Path, workbooks: int) -> list[Path]:
    """`workbooks` county workbooks as counties fill them: the template with 45 households (the demo's synthetic
    data, a different seed, county and month each)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(workbooks):
        wb = build_demo_workbook(seed=n, month=f"2019-{1 + n % 12:02d}")
        basic = wb[schema.BASIC.name]
        basic.cell(form_row(schema.BASIC, "county"), FORM_VALUE_COLUMN, f"第{n}县")
        basic.cell(form_row(schema.BASIC, "county_code"), FORM_VALUE_COLUMN, f"52{2601 + n:04d}")
        paths.append(save_workbook(wb, folder / f"{n:03d}.xlsx"))
    return paths


def measure(workbooks: int, repeat: int = 1) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "收件"
        paths = build_inbox(inbox, workbooks)
        raw = best_of(lambda: [raw_read(p) for p in paths], repeat)
        runs = iter(range(repeat))

        def intake() -> None:
            with Archive(Path(tmp) / f"档案{next(runs)}") as archive:
                outcomes = Intake(archive).run([inbox])
            assert sum(o.kind == "accepted" for o in outcomes) == workbooks

        ducha = best_of(intake, repeat)
    return {"workbooks": workbooks, "raw": raw, "ducha": ducha, "ratio": ducha / raw, "goal": GOAL}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workbooks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    r = measure(args.workbooks, args.repeat)
    print_ratio(f"workbooks: {r['workbooks']}", "ducha intake", r)


if __name__ == "__main__":
    main()
