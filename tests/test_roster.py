"""The roster (农户名册): template up to date, read with the inspection reader's ID and duplicate checks."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from ducha.adapters.writer import workbook_bytes
from ducha.app.demo import write_demo_roster
from ducha.prefecture.roster import (
    REPOSITORY_ROSTER_TEMPLATE,
    ROSTER_SHEETS,
    build_roster_template,
    read_roster,
    write_roster_template,
)
from markdown_workbook import make_id, write_workbook

TOWNSHIPS = """
| 县 | 县级区划代码 | 乡镇 | 是否有脱贫任务 |
| 清水县 | '522631 | 高桥镇 | 是 |
| 清水县 | '522631 | 水口乡 | 否 |
"""
VILLAGES = """
| 乡镇 | 村 | 是否贫困村 |
| 高桥镇 | 新寨村 | 是 |
"""
CADRES = """
| 乡镇 | 村 | 类型 | 姓名 | 职务或单位 | 联系电话 |
| 高桥镇 | 新寨村 | 乡村干部 | 王国 | 村党支部书记 | '13800000001 |
"""


def _roster(folder: Path, households: str) -> Path:
    return write_workbook(folder / "名册.xlsx", {"乡镇": TOWNSHIPS, "村": VILLAGES, "农户": households,
                                                "干部": CADRES})


def test_committed_roster_template_is_up_to_date(tmp_path: Path) -> None:
    written = write_roster_template(tmp_path / "农户名册.xlsx")
    assert written.read_bytes() == REPOSITORY_ROSTER_TEMPLATE.read_bytes(), "run `python -m ducha.prefecture.roster`"
    assert workbook_bytes(build_roster_template()) == written.read_bytes()


def test_roster_template_has_every_declared_header(tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(write_roster_template(tmp_path / "农户名册.xlsx"))
    for sheet in ROSTER_SHEETS:
        assert [c.value for c in wb[sheet.name][1]] == [f.label() for f in sheet.fields]


def test_blank_template_reads_as_an_empty_roster(tmp_path: Path) -> None:
    roster = read_roster(write_roster_template(tmp_path / "农户名册.xlsx"))
    assert len(roster.households) == 0
    assert {f.code for f in roster.findings} == {"sheet-empty"}


def test_read_roster_reports_bad_and_duplicate_ids_at_their_cells(tmp_path: Path) -> None:
    good, other = make_id(1), make_id(2)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    path = _roster(tmp_path, f"""
| 乡镇 | 村 | 户类型 | 户主姓名 | 身份证号 | 家庭人口 |
| 高桥镇 | 新寨村 | 脱贫户 | 张三 | {good} | 4 |
| 高桥镇 | 新寨村 | 普通农户 | 李四 | {bad} | 3 |
| 高桥镇 | 新寨村 | 普通农户 | 王五 | {good} | 2 |
| 高桥镇 | 新寨村 | 建档立卡贫困户 | 赵六 | {other} | 5 |
""")
    roster = read_roster(path)
    found = {(f.code, f.sheet, f.cell) for f in roster.findings}
    assert ("id-check-digit", "农户", "E3") in found
    assert ("duplicate-household", "农户", "E4") in found
    assert len(roster.households) == 2  # the bad ID is out; of the duplicates one copy is kept
    assert roster.excluded_households == 2
    assert sorted(roster.households.columns["id_number"]) == sorted([good, other])


def test_unknown_township_is_reported_once_and_left_out(tmp_path: Path) -> None:
    path = _roster(tmp_path, f"""
| 乡镇 | 村 | 户类型 | 户主姓名 | 身份证号 |
| 高桥镇 | 新寨村 | 脱贫户 | 张三 | {make_id(1)} |
| 岩洞乡 | 石门村 | 脱贫户 | 李四 | {make_id(2)} |
| 岩洞乡 | 石门村 | 脱贫户 | 王五 | {make_id(3)} |
| 高桥镇 | 龙塘村 | 脱贫户 | 赵六 | {make_id(4)} |
""")
    roster = read_roster(path)
    unknown = [f for f in roster.findings if f.code == "roster-township-unknown"]
    assert [(f.cell, f.value) for f in unknown] == [("A3", "岩洞乡")]
    unlisted = [f for f in roster.findings if f.code == "roster-village-unlisted"]
    assert [(f.cell, f.value) for f in unlisted] == [("B5", "龙塘村")]
    assert len(roster.households) == 2
    assert any(v.name == "龙塘村" and v.is_poor is None for v in roster.villages)


def test_demo_roster_is_clean_and_sizeable(tmp_path: Path) -> None:
    roster = read_roster(write_demo_roster(tmp_path / "名册.xlsx"))
    assert [f for f in roster.findings] == []
    assert len(roster.households) == 3000
    assert sum(t.has_task for t in roster.townships) == 3 and len(roster.townships) == 4
    assert len(roster.villages) == 12
    assert roster.file_sha256 and len(roster.sha256) == 64
