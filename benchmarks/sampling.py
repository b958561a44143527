"""Benchmark: ducha's read_roster + draw of a 100,000-household roster against python-calamine's raw read.

Prints both times and their ratio (goal: ≤ 1.5×). Usage: python benchmarks/sampling.py [--households N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from read_check import GOAL, best_of, print_ratio, raw_read

from ducha.prefecture.roster import (
    CADRE,
    HELPER,
    ROSTER_CADRES,
    ROSTER_HOUSEHOLDS,
    ROSTER_TOWNSHIPS,
    ROSTER_VILLAGES,
    read_roster,
)
from ducha.prefecture.sampling import draw
from markdown_workbook import make_id

TOWNSHIPS, VILLAGES_PER_TOWNSHIP = 20, 25
KINDS = ("建档立卡贫困户", "脱贫户", "普通农户")


def build(path: Path, households: int, seed: int = 1) -> Path:
    """A roster of one county: 20 townships (15 with poverty tasks), 500 villages, `households` households."""
    rng = random.Random(seed)
    villages = [(f"第{t}乡", f"第{t}乡{v}村") for t in range(TOWNSHIPS) for v in range(VILLAGES_PER_TOWNSHIP)]
    wb = Workbook(write_only=True)
    sheets = {s.name: wb.create_sheet(s.name) for s in (ROSTER_TOWNSHIPS, ROSTER_VILLAGES, ROSTER_HOUSEHOLDS,
                                                        ROSTER_CADRES)}
    for s in (ROSTER_TOWNSHIPS, ROSTER_VILLAGES, ROSTER_HOUSEHOLDS, ROSTER_CADRES):
        sheets[s.name].append([f.label() for f in s.fields])
    for t in range(TOWNSHIPS):
        sheets[ROSTER_TOWNSHIPS.name].append(["清水县", "522631", f"第{t}乡", None, "是" if t % 4 else "否"])
    for township, village in villages:
        sheets[ROSTER_VILLAGES.name].append([None, township, village, None, rng.choice(("是", "否"))])
        for n, kind in enumerate((CADRE, CADRE, CADRE, HELPER, HELPER, HELPER)):
            sheets[ROSTER_CADRES.name].append([None, township, village, kind, f"{village}干部{n}", "村干部",
                                               f"139{rng.randrange(10**8):08d}"])
    for n in range(households):
        township, village = villages[n % len(villages)]
        kind = KINDS[n % 3]
        birth = (dt.date(1940, 1, 1) + dt.timedelta(days=n % 20_000)).strftime("%Y%m%d")
        sheets[ROSTER_HOUSEHOLDS.name].append([
            None, township, village, kind, f"户主{n}", make_id(n // 20_000, birth=birth), rng.randint(1, 7),
            f"138{rng.randrange(10**8):08d}", f"帮扶人{n % 97}" if kind != KINDS[2] else None,
            f"137{n % 97:08d}" if kind != KINDS[2] else None, 2017 if kind == KINDS[1] else None])
    wb.save(path)
    return path


def read_and_draw(path: Path) -> None:
    roster = read_roster(path)
    draw(roster, "2019-11", seed=1)


def measure(households: int, repeat: int = 3) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        path = build(Path(folder) / "roster.xlsx", households)
        raw = best_of(lambda: raw_read(path), repeat)
        ducha = best_of(lambda: read_and_draw(path), repeat)
    return {"households": households, "raw": raw, "ducha": ducha, "ratio": ducha / raw, "goal": GOAL}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    r = measure(args.households, args.repeat)
    print_ratio(f"households: {r['households']:,}", "ducha read_roster + draw", r)


if __name__ == "__main__":
    main()
