"""The monthly draw: the plan's strata, reproducibility, uniformity, short strata, the pre-filled workbook."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from ducha.app.demo import write_demo_roster
from ducha.checks.pipeline import run_check
from ducha.model import schema
from ducha.model.schema import HOUSEHOLD_EXITED, HOUSEHOLD_ORDINARY, HOUSEHOLD_POOR, HOUSEHOLD_TYPES
from ducha.prefecture.archive import Archive
from ducha.prefecture.roster import Roster, read_roster
from ducha.prefecture.sampling import (
    RECORD_LABEL_COLUMN,
    SamplingError,
    draw,
    record_draw,
    sample_command,
    write_sample_workbook,
)
from ducha.sheets.template import TABLE_FIRST_DATA_ROW, table_column
from markdown_workbook import make_id, write_workbook

STRUCTURE_CODES = {"sheet-missing", "sheet-unknown", "header-not-found", "column-missing", "column-duplicate",
                   "column-unknown", "label-missing", "merged-cells", "sample-township-count",
                   "sample-township-no-task", "sample-village-duplicate", "sample-household-count",
                   "sample-interview-count", "village-check-missing", "village-not-sampled"}
_births = iter(range(10**6))


def _id() -> str:
    n = next(_births)
    birth = (dt.date(1950, 1, 1) + dt.timedelta(days=n % 15_000)).strftime("%Y%m%d")
    return make_id(n // 15_000, birth=birth)


def roster_sheets(townships: int = 3, villages: int = 2, per_type: int = 8, *, short: int | None = None,
                  idle_county: bool = False) -> dict[str, list[list[Any]]]:
    """A symmetric roster of 清水县: `townships` with tasks plus one without, equal villages and strata.

    `short`: the first village then has only that many 脱贫户. `idle_county`: a second county without tasks."""
    town_rows = [["县", "县级区划代码", "乡镇", "是否有脱贫任务"]]
    village_rows = [["县级区划代码", "乡镇", "村", "是否贫困村"]]
    household_rows = [["县级区划代码", "乡镇", "村", "户类型", "户主姓名", "身份证号", "家庭人口", "帮扶责任人",
                       "帮扶责任人电话", "脱贫年度"]]
    cadre_rows = [["县级区划代码", "乡镇", "村", "类型", "姓名", "职务或单位", "联系电话"]]
    counties = [("清水县", "522631", townships + 1)] + ([("丹寨县", "522636", 1)] if idle_county else [])
    for county, code, count in counties:
        for t in range(count):
            town = f"{county}第{t}乡"
            has_task = county == "清水县" and t < townships
            town_rows.append([county, code, town, "是" if has_task else "否"])
            for v in range(villages):
                village = f"第{v}村"
                village_rows.append([code, town, village, "是"])
                for kind in HOUSEHOLD_TYPES:
                    n = short if short is not None and kind == HOUSEHOLD_EXITED and (t, v) == (0, 0) else per_type
                    for k in range(n):
                        helper = kind != HOUSEHOLD_ORDINARY
                        household_rows.append([code, town, village, kind, f"户主{k}", _id(), 3,
                                               f"帮扶人{k % 3}" if helper else None,
                                               f"1370000000{k % 3}" if helper else None,
                                               2018 if kind == HOUSEHOLD_EXITED else None])
                for k in range(3):
                    cadre_rows.append([code, town, village, "乡村干部", f"干部{k}", "村委会主任", f"1380000000{k}"])
    return {"乡镇": town_rows, "村": village_rows, "农户": household_rows, "干部": cadre_rows}


@pytest.fixture(scope="module")
def demo_roster(tmp_path_factory: pytest.TempPathFactory) -> Roster:
    return read_roster(write_demo_roster(tmp_path_factory.mktemp("roster") / "名册.xlsx"))


@pytest.fixture(scope="module")
def small_roster(tmp_path_factory: pytest.TempPathFactory) -> Roster:
    return read_roster(write_workbook(tmp_path_factory.mktemp("small") / "名册.xlsx", roster_sheets()))


def _ids(d) -> list[str]:
    return [h.id_number for v in d.villages for h in v.households]


def test_draw_follows_the_plan(demo_roster: Roster) -> None:
    d = draw(demo_roster, "2019-11", seed=1)
    with_task = {t.name for t in demo_roster.townships if t.has_task}
    assert len(d.townships) == 2 and set(d.townships) <= with_task
    assert [v.township for v in d.villages] == sorted(d.townships)
    for v in d.villages:
        assert Counter(h.household_type for h in v.households) == dict.fromkeys(HOUSEHOLD_TYPES, 5)
        assert {(h.township, h.village) for h in v.households} == {(v.township, v.village)}
        assert len(v.cadres) == 2 and len(v.helpers) == 2
        assert {p.kind for p in v.cadres} == {"乡村干部"} and {p.kind for p in v.helpers} == {"帮扶干部"}
    assert len(set(_ids(d))) == 30
    assert d.county_code == "522631" and d.county_drawn


def test_villages_per_township_is_configurable(demo_roster: Roster) -> None:
    d = draw(demo_roster, "2019-11", seed=1, villages_per_township=2)
    assert Counter(v.township for v in d.villages) == dict.fromkeys(d.townships, 2)
    assert len(_ids(d)) == 60


def test_same_seed_and_roster_give_the_same_draw_whatever_the_row_order(tmp_path: Path) -> None:
    sheets = roster_sheets()
    first = read_roster(write_workbook(tmp_path / "a.xlsx", sheets))
    shuffled = {name: [rows[0], *random.Random(5).sample(rows[1:], len(rows) - 1)] for name, rows in sheets.items()}
    second = read_roster(write_workbook(tmp_path / "b.xlsx", shuffled))
    assert first.file_sha256 != second.file_sha256
    assert first.sha256 == second.sha256
    assert draw(first, "2019-11", seed=42) == draw(second, "2019-11", seed=42)
    assert draw(first, "2019-11", seed=42) == draw(first, "2019-11", seed=42)


def test_different_seed_month_or_roster_give_a_different_draw(small_roster: Roster, tmp_path: Path) -> None:
    base = _ids(draw(small_roster, "2019-11", seed=42))
    assert _ids(draw(small_roster, "2019-11", seed=43)) != base
    assert _ids(draw(small_roster, "2019-12", seed=42)) != base
    sheets = roster_sheets()
    sheets["农户"][1][4] = "改过的名字"
    changed = read_roster(write_workbook(tmp_path / "c.xlsx", sheets))
    assert changed.sha256 != small_roster.sha256


def test_county_is_drawn_among_counties_with_tasks_and_can_be_given(tmp_path: Path) -> None:
    roster = read_roster(write_workbook(tmp_path / "r.xlsx", roster_sheets(idle_county=True)))
    assert {draw(roster, "2019-11", seed=s).county_code for s in range(30)} == {"522631"}
    drawn = draw(roster, "2019-11", seed=9)
    given = draw(roster, "2019-11", seed=9, county_code="522631")
    assert _ids(given) == _ids(drawn) and not given.county_drawn
    with pytest.raises(SamplingError):
        draw(roster, "2019-11", seed=9, county_code="522636")  # no township with a poverty task
    with pytest.raises(SamplingError):
        draw(roster, "2019-11", seed=9, county_code="999999")
    with pytest.raises(SamplingError):
        draw(roster, "2019-13", seed=9)


def chi_square_limit(df: int, z: float = 4.0) -> float:
    """Wilson–Hilferty upper quantile of chi-square(df) at a normal deviate z (z = 4: p ≈ 3e-5, generous)."""
    c = 2 / (9 * df)
    return df * (1 - c + z * math.sqrt(c)) ** 3


def _statistic(counts: Counter, population: list[str], expected: float) -> float:
    return sum((counts[i] - expected) ** 2 / expected for i in population)


def test_every_eligible_household_is_equally_likely(small_roster: Roster) -> None:
    """3 townships with tasks x 2 villages x 8 households per type: P(chosen) = 2/3 * 1/2 * 5/8 = 5/24 each.

    Over 2,000 seeds the counts are tested per household type with Pearson's statistic against chi-square with
    n - 1 degrees of freedom at z = 4 (the draws within a seed are dependent, which makes the statistic smaller
    than chi-square, so the test is conservative); the same test rejects a sampler that favours the first rows."""
    seeds = 2000
    counts: Counter = Counter()
    for seed in range(seeds):
        counts.update(_ids(draw(small_roster, "2019-11", seed=seed)))
    columns = small_roster.households.columns
    with_task = {t.name for t in small_roster.townships if t.has_task}
    expected = seeds * 5 / 24
    for kind in HOUSEHOLD_TYPES:
        population = [i for i, k, t in zip(columns["id_number"], columns["household_type"], columns["township"],
                                           strict=True) if k == kind and t in with_task]
        assert len(population) == 48
        assert _statistic(counts, population, expected) < chi_square_limit(len(population) - 1)
    biased = Counter({i: expected * (1.2 if n % 2 else 0.8) for n, i in enumerate(population)})
    assert _statistic(biased, population, expected) > chi_square_limit(len(population) - 1)


def test_short_stratum_takes_all_and_says_so(tmp_path: Path) -> None:
    roster = read_roster(write_workbook(tmp_path / "r.xlsx", roster_sheets(townships=1, villages=1, short=3)))
    d = draw(roster, "2019-11", seed=3)
    village = d.villages[0]
    exited = [h for h in village.households if h.household_type == HOUSEHOLD_EXITED]
    assert len(exited) == 3
    assert Counter(h.household_type for h in village.households)[HOUSEHOLD_POOR] == 5
    notes = {(s.stratum, s.wanted, s.available) for s in d.short_strata}
    assert (HOUSEHOLD_EXITED, 5, 3) in notes and ("有脱贫任务的乡镇", 2, 1) in notes
    assert "脱贫户仅 3 户" in "".join(d.notes(village.township, village.village))
    out = write_sample_workbook(d, tmp_path / "w.xlsx", drawn_by="张三", drawn_at="2019-10-28T09:00:00+08:00")
    ws = openpyxl.load_workbook(out)[schema.SAMPLING.name]
    assert "脱贫户仅 3 户" in ws.cell(TABLE_FIRST_DATA_ROW, table_column(schema.SAMPLING, "note")).value


def test_sample_workbook_is_prefilled_and_documents_the_draw(demo_roster: Roster, tmp_path: Path) -> None:
    d = draw(demo_roster, "2019-11", seed=77)
    revisit = [{"entry_id": "2019-10-001", "township": "高桥镇", "village": "新寨村", "household": "张三",
                "problem": "住房安全未保障", "requirement": "年底前完成危房改造", "deadline": "2019-12-31"}]
    out = write_sample_workbook(d, tmp_path / "w.xlsx", drawn_by="州督查办 李明", drawn_at="2019-10-28T09:00:00+08:00",
                                revisit_entries=revisit, full_ids=True)
    wb = openpyxl.load_workbook(out)
    basic = {row[0].value: row[1].value for row in wb[schema.BASIC.name].iter_rows(min_row=2)}
    assert basic["督查月份*"] == "2019-11" and basic["被督查县*"] == "清水县" and basic["督查方式*"] == "随机暗访"
    sampling = wb[schema.SAMPLING.name]
    record = {sampling.cell(r, RECORD_LABEL_COLUMN).value: sampling.cell(r, RECORD_LABEL_COLUMN + 1).value
              for r in range(2, 14)}
    assert record["随机种子"] == "77" and record["名册哈希(SHA-256)"] == demo_roster.sha256
    assert record["抽取人"] == "州督查办 李明" and record["抽取时间"] == "2019年10月28日 09:00"
    households = wb[schema.HOUSEHOLDS.name]
    id_col = table_column(schema.HOUSEHOLDS, "id_number")
    written = [households.cell(r, id_col).value for r in range(TABLE_FIRST_DATA_ROW, TABLE_FIRST_DATA_ROW + 30)]
    assert written == _ids(d)
    assert wb[schema.REVISIT.name].cell(TABLE_FIRST_DATA_ROW, 1).value == "2019-10-001"

    result = run_check(out)
    assert not {f.code for f in result.findings} & STRUCTURE_CODES
    assert result.parsed.basic.get("county_code") == "522631"
    assert len(result.parsed.tables["households"].rows) == 30
    assert len(result.parsed.tables["revisit"].rows) == 1


def test_sample_command_records_the_draw_and_an_auditor_can_repeat_it(tmp_path: Path) -> None:
    roster_path = write_demo_roster(tmp_path / "名册.xlsx")
    with Archive(tmp_path / "档案") as archive:
        d, out = sample_command(roster_path, "2019-11", archive=archive, drawn_by="李明")
        rows = archive.query("SELECT * FROM draws")
    assert out.exists() and out.name == "清水县-2019-11-督查工作簿.xlsx"
    assert len(rows) == 1 and rows[0]["seed"] == d.seed and rows[0]["roster_sha256"] == d.roster_sha256
    assert rows[0]["drawn_by"] == "李明" and '"per_type": 5' in rows[0]["parameters"]
    repeated, _ = sample_command(roster_path, "2019-11", out=tmp_path / "again.xlsx", seed=rows[0]["seed"])
    assert repeated == d


def test_record_draw_writes_one_row(demo_roster: Roster, tmp_path: Path) -> None:
    d = draw(demo_roster, "2019-11", seed=5)
    with Archive(tmp_path / "档案") as archive:
        draw_id = record_draw(archive, d, "李明", "2019-10-28T09:00:00+08:00")
        row = archive.query("SELECT * FROM draws WHERE id = ?", (draw_id,))[0]
    assert (row["month"], row["county"], row["county_code"], row["seed"]) == ("2019-11", "清水县", "522631", 5)
    assert "short_strata" in row["sample"]
