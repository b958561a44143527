"""The consolidated workbook (`ducha report`): built from a small hand-made archive, checked sheet by sheet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from ducha.prefecture.archive import DUPLICATE, IGNORED, REJECTED, Archive, Submission, sha256_of
from ducha.prefecture.report import (
    COVERAGE_SHEET,
    FOLLOW_UP_SHEET,
    INDICATOR_SHEET,
    LOG_SHEET,
    REPORT_SHEETS,
    SUMMARY_SHEET,
    TREND_SHEET,
    CountyInfo,
    CountyListError,
    build_report,
    load_counties,
    write_report,
)
from ducha.sheets.outputplan import GeneratedSheet, LineChart
from libreoffice import convert
from markdown_workbook import write_workbook

MONTH = "2024-05"
FIRST = 4  # first data row of every sheet (title, note, header above)
WHOLE_ID = "522635197001010012"


def indicators(red: bool) -> list[dict[str, Any]]:
    return [
        {"key": "identification_accuracy", "item": "1", "name": "贫困人口识别准确率", "formula": "准确户 ÷ 贫困户",
         "numerator": 9, "denominator": 10, "value": 0.9, "value_text": "90.00%", "red_flag": 0},
        {"key": "funds_integration", "item": "5", "name": "整合资金投入到位率", "formula": "已整合 ÷ 可整合",
         "numerator": None, "denominator": 500.0, "value": None, "value_text": "缺数据", "red_flag": 0},
        {"key": "wrong_exit_rate", "item": "6", "name": "脱贫人口错退率", "formula": "错退人口 ÷ 脱贫人口",
         "numerator": 3 if red else 0, "denominator": 40, "value": 0.075 if red else 0.0,
         "value_text": "7.50%" if red else "0.00%", "red_flag": int(red)},
        {"key": "missed_rate", "item": "6", "name": "贫困人口漏评率", "formula": "漏评人口 ÷ 未建档人口",
         "numerator": 0, "denominator": 0, "value": None, "value_text": "无样本", "red_flag": 0},
    ]


def flag(problem: str, masked_id: str = "", level: str = "农户", severity: str = "错误") -> dict[str, Any]:
    return {"level": level, "severity": severity, "sheet": "households", "row": 7, "cell": "", "township": "龙场镇",
            "village": "新寨村", "household": "张三", "masked_id": masked_id, "problem": problem,
            "reasons": f"{problem}的原因", "action": "整改"}


def add(archive: Archive, county: str, code: str, month: str, group: str, six: list[float], total: float, *,
        at: str, name: str = "", red: bool = False, flags: list[dict[str, Any]] | None = None, errors: int = 0,
        ) -> int:
    """Store a submission whose six items are `six` and whose N2 item makes up `total`; returns its id."""
    content = f"{county}|{month}|{group}|{total}|{at}".encode()
    path = archive.store_original(content, ".xlsx")
    scores = [{"item": str(i), "name": f"第{i}项", "max_points": 10.0, "points": p, "deductions": ""}
              for i, p in enumerate(six, start=1)]
    scores.append({"item": "N2", "name": "健康扶贫政策落实情况", "max_points": 40.0,
                   "points": round(total - sum(six), 6), "deductions": ""})
    sub = Submission(sha256=sha256_of(content), file_name=name or f"{county}{month}.xlsx", source="邮件 督查组",
                     received_at=at, county=county, county_code=code, month=month, inspection_group=group,
                     errors=errors, total=total, max_total=100.0, key_item="N2", rubric="默认细则 1.0",
                     scores=scores, indicators=indicators(red), flags=flags or [])
    return archive.add_submission(sub, path).submission_id


def fill(archive: Archive) -> dict[str, int]:
    """Two months, five counties: one superseded version, one conflict, a tie, a duplicate and a rejection."""
    ids = {
        "清水4": add(archive, "清水县", "522631", "2024-04", "第一督查组", [10] * 6, 85,
                    at="2024-04-20T09:00:00+08:00"),
        "麻江4": add(archive, "麻江县", "522635", "2024-04", "第二督查组", [9] * 6, 70,
                    at="2024-04-21T09:00:00+08:00"),
        "清水5v1": add(archive, "清水县", "522631", MONTH, "第一督查组", [10] * 6, 80, name="清水县-初稿.xlsx",
                      at="2024-05-20T09:00:00+08:00"),
        "清水5v2": add(archive, "清水县", "522631", MONTH, "第一督查组", [10, 9.5, 10, 8, 10, 7], 88.5,
                      name="清水县-终稿.xlsx", at="2024-05-22T10:30:00+08:00", flags=[flag("不认可", severity="警告")]),
        "雷山5": add(archive, "雷山县", "522634", MONTH, "第五督查组", [10] * 6, 88.5,
                    at="2024-05-21T09:00:00+08:00"),
        "麻江5": add(archive, "麻江县", "522635", MONTH, "第二督查组", [6, 5, 4, 3, 2, 1], 55, red=True, errors=2,
                    at="2024-05-21T11:00:00+08:00",
                    flags=[flag("错退；不认可", "522635********1234"), flag("错退", WHOLE_ID),
                           {**flag("红旗：脱贫人口错退率", level="县"), "sheet": "score", "row": None}]),
        "丹寨5a": add(archive, "丹寨县", "522636", MONTH, "第三督查组", [10] * 6, 90, at="2024-05-23T09:00:00+08:00"),
        "丹寨5b": add(archive, "丹寨县", "522636", MONTH, "第四督查组", [8] * 6, 75, at="2024-05-24T09:00:00+08:00"),
    }
    final = archive.find_by_hash(archive.query("SELECT sha256 FROM submissions WHERE id = ?", (ids["清水5v2"],))[0][0])
    archive.add_event(DUPLICATE, "清水县-终稿(1).xlsx", "邮件 督查组", sha256=final["sha256"],
                      reason="与已接收的「清水县-终稿.xlsx」内容完全相同，未重复保存", submission_id=final["id"],
                      at="2024-05-22T11:00:00+08:00")
    archive.add_event(REJECTED, "三都县.xlsx", "邮件 三都县", sha256="ab" * 32,
                      reason="无法读取：文件已加密，或是旧版 .xls 格式", at="2024-05-25T09:00:00+08:00")
    archive.add_event(IGNORED, "签名.png", "邮件 三都县", reason="不是工作簿", at="2024-05-25T09:00:01+08:00")
    return ids


IDS = {name: n for n, name in enumerate(("清水4", "麻江4", "清水5v1", "清水5v2", "雷山5", "麻江5", "丹寨5a", "丹寨5b"),
                                         start=1)}


@pytest.fixture
def archive(tmp_path: Path):
    with Archive(tmp_path / "档案") as a:
        assert fill(a) == IDS
        yield a


COUNTY_LIST = """
| 序号 | 县名称* | 区划代码 | 是否有脱贫任务（是/否） |
|---|---|---|---|
| 1 | 清水县 | 522631 | 是 |
| 2 | 麻江县 | 522635 | √ |
| 3 | 丹寨县 | 522636 | 是 |
| 4 | 三都县 | 522732 | 是 |
| 5 | 凯里市 | 522601 | 否 |
"""


@pytest.fixture
def county_list(tmp_path: Path) -> list[CountyInfo]:
    return load_counties(write_workbook(tmp_path / "县名单.xlsx", {"县名单": COUNTY_LIST}))


def rows_of(sheets: list[GeneratedSheet], name: str) -> list[list[Any]]:
    return next(s for s in sheets if s.name == name).rows


def column(rows: list[list[Any]], header: str, header_row: int = 3) -> int:
    return rows[header_row - 1].index(header)


def block(rows: list[list[Any]], first: int = FIRST) -> list[list[Any]]:
    """The data rows from `first` up to the first empty row."""
    found = []
    for row in rows[first - 1:]:
        if not any(v not in (None, "") for v in row):
            break
        found.append(row)
    return found


# --- 「评分汇总」 -------------------------------------------------------------------------------------------------

def test_counties_are_ranked_by_total_and_equal_totals_share_a_rank_ordered_by_code(archive: Archive) -> None:
    rows = rows_of(build_report(archive, MONTH), SUMMARY_SHEET)

    ranked = block(rows)

    assert [(r[0], r[1], r[2], r[4]) for r in ranked] == [(1, "清水县", "522631", 88.5), (1, "雷山县", "522634", 88.5),
                                                         (3, "麻江县", "522635", 55)]
    headers = rows[2]
    assert headers[:5] == ["排名", "县", "代码", "督查组", "总分"]
    assert headers[11] == "N2 健康扶贫政策落实情况"
    assert ranked[0][5:12] == [10, 9.5, 10, 8, 10, 7, 34]
    assert ranked[2][column(rows, "红旗")] == "脱贫人口错退率"
    assert ranked[2][column(rows, "错误数")] == 2
    assert ranked[0][column(rows, "红旗")] == ""


def test_the_superseded_version_is_not_used_and_the_used_version_is_shown(archive: Archive) -> None:
    rows = rows_of(build_report(archive, MONTH), SUMMARY_SHEET)

    qingshui = next(r for r in block(rows) if r[1] == "清水县")

    assert qingshui[4] == 88.5
    assert qingshui[column(rows, "使用的版本")] == "第 2 版｜2024-05-22 10:30:00｜清水县-终稿.xlsx"
    assert not any("初稿" in str(v) for r in rows for v in r)


def test_conflicting_counties_are_left_out_of_the_ranking_and_listed_below_with_their_ids(archive: Archive) -> None:
    rows = rows_of(build_report(archive, MONTH), SUMMARY_SHEET)

    assert "丹寨县" not in [r[1] for r in block(rows)]
    heading = next(i for i, r in enumerate(rows) if r and str(r[0]).startswith("冲突待处理"))
    listed = block(rows, heading + 3)
    assert rows[heading + 1][0] == "提交编号"
    assert [(r[0], r[1], r[3], r[4]) for r in listed] == [(IDS["丹寨5a"], "丹寨县", "第三督查组", 90),
                                                         (IDS["丹寨5b"], "丹寨县", "第四督查组", 75)]


def test_the_summary_has_a_bar_chart_of_totals_and_red_colours_for_low_totals_and_red_flags(archive: Archive) -> None:
    sheet = next(s for s in build_report(archive, MONTH) if s.name == SUMMARY_SHEET)

    (chart,) = sheet.charts
    assert chart.categories == "B4:B6" and chart.series == (("E3", "E4:E6"),)
    formulas = [c.formula for c in sheet.conditional]
    assert "AND(ISNUMBER(E4),E4<60)" in formulas and "LEN(M4)>0" in formulas


# --- 「指标明细」 「跟进汇总」 ------------------------------------------------------------------------------------

def test_indicator_details_show_numerator_denominator_and_value_or_the_stored_text(archive: Archive) -> None:
    rows = rows_of(build_report(archive, MONTH), INDICATOR_SHEET)

    assert rows[2] == ["县", "代码", "项目", "指标", "分子", "分母", "数值", "计算公式", "红旗"]
    majiang = {r[3]: [*r[4:7], r[8]] for r in block(rows) if r[0] == "麻江县"}
    assert majiang["脱贫人口错退率"] == [3, 40, 0.075, "红旗"]
    assert majiang["贫困人口识别准确率"] == [9, 10, 0.9, ""]
    assert majiang["整合资金投入到位率"] == ["缺数据", 500.0, "缺数据", ""]
    assert majiang["贫困人口漏评率"] == [0, 0, "无样本", ""]
    assert {r[0] for r in block(rows)} == {"清水县", "雷山县", "麻江县"}


def test_follow_up_counts_each_problem_per_county_and_lists_flags_with_masked_ids_only(archive: Archive) -> None:
    rows = rows_of(build_report(archive, MONTH), FOLLOW_UP_SHEET)

    headers = rows[2]
    counts = {r[0]: dict(zip(headers[2:], r[2:], strict=False)) for r in block(rows)}
    assert headers[:5] == ["县", "代码", "跟进事项（条）", "不认可", "错退"]  # by count, then name
    assert counts["麻江县"]["跟进事项（条）"] == 3 and counts["麻江县"]["错退"] == 2 and counts["麻江县"]["不认可"] == 1
    assert counts["清水县"]["不认可"] == 1 and counts["雷山县"]["跟进事项（条）"] == 0
    assert counts["合计"]["跟进事项（条）"] == 4
    start = next(i for i, r in enumerate(rows) if r[:1] == ["跟进清单"]) + 1
    listed = block(rows, start + 2)
    assert [r[8] for r in listed] == ["不认可", "错退；不认可", "错退", "红旗：脱贫人口错退率"]
    assert [r[7] for r in listed][1:3] == ["522635********1234", "522635********0012"]
    text = " ".join(str(v) for r in rows for v in r)
    assert WHOLE_ID not in text and not re.search(r"\d{17}[\dX]", text)


# --- 「覆盖情况」 「趋势」 「提交记录」 ------------------------------------------------------------------------

def test_coverage_with_a_county_list_shows_which_task_counties_are_not_yet_inspected(
        archive: Archive, county_list: list[CountyInfo]) -> None:
    assert county_list[1] == CountyInfo("麻江县", "522635", True)
    assert county_list[4] == CountyInfo("凯里市", "522601", False)
    rows = rows_of(build_report(archive, MONTH, county_list), COVERAGE_SHEET)

    table = {r[1]: r[3:7] for r in block(rows)}

    assert table["三都县"] == ["是", "尚未督查", "", 0]
    assert table["清水县"] == ["是", "已督查", "2024-04、2024-05", 2]
    assert table["丹寨县"] == ["是", "已督查", "2024-05", 1]
    assert table["凯里市"] == ["否", "尚未督查", "", 0]
    assert table["雷山县"] == ["不在县名单中", "已督查", "2024-05", 1]
    assert block(rows)[0][1] == "三都县"  # the gap first
    assert "有脱贫任务的县 4 个，已督查 3 个，尚未督查 1 个：三都县" in rows[1][0]


def test_coverage_without_a_county_list_shows_the_archives_counties_and_says_the_list_is_missing(
        archive: Archive) -> None:
    rows = rows_of(build_report(archive, MONTH), COVERAGE_SHEET)

    assert "未提供县名单" in rows[1][0] and "--counties" in rows[1][0]
    assert sorted(r[1] for r in block(rows)) == ["丹寨县", "清水县", "雷山县", "麻江县"]
    assert {r[3] for r in block(rows)} == {"未知"}


def test_coverage_counts_only_months_up_to_the_report_month(archive: Archive, county_list: list[CountyInfo]) -> None:
    rows = rows_of(build_report(archive, "2024-04", county_list), COVERAGE_SHEET)

    table = {r[1]: r[4] for r in block(rows)}

    assert table["丹寨县"] == "尚未督查" and table["清水县"] == "已督查"


def test_trend_holds_each_countys_current_total_per_month_with_a_line_chart(archive: Archive) -> None:
    sheet = next(s for s in build_report(archive, MONTH) if s.name == TREND_SHEET)

    assert sheet.rows[2] == ["代码", "县", "2024-04", "2024-05"]
    assert block(sheet.rows) == [["522631", "清水县", 85, 88.5], ["522634", "雷山县", None, 88.5],
                                 ["522635", "麻江县", 70, 55]]
    (chart,) = sheet.charts
    assert isinstance(chart, LineChart)
    assert chart.categories == "C3:D3" and chart.series[0] == ("B4", "C4:D4") and len(chart.series) == 3
    earlier = rows_of(build_report(archive, "2024-04"), TREND_SHEET)
    assert earlier[2] == ["代码", "县", "2024-04"]


def test_the_submission_log_lists_every_submission_and_every_event_with_its_reason(archive: Archive) -> None:
    rows = rows_of(build_report(archive, MONTH), LOG_SHEET)

    submissions = block(rows)
    assert [r[0] for r in submissions] == sorted(IDS.values())
    status = {r[0]: r[6] for r in submissions}
    assert status[IDS["清水5v1"]] == "已被新版本取代" and status[IDS["清水5v2"]] == "现行"
    assert status[IDS["丹寨5a"]] == status[IDS["丹寨5b"]] == "冲突待处理"
    by_id = {r[0]: r for r in submissions}
    assert by_id[IDS["清水5v2"]][5] == 2 and by_id[IDS["清水5v2"]][7] == "2024-05-22 10:30:00"
    assert len(by_id[IDS["清水5v2"]][13]) == 12
    start = next(i for i, r in enumerate(rows) if r[:1] == ["接收记录"]) + 1
    events = {r[6]: r for r in block(rows, start + 2)}
    assert events["重复提交"][14].startswith("与已接收的「清水县-终稿.xlsx」") and events["重复提交"][2] == "清水县"
    assert events["拒收"][9] == "三都县.xlsx" and "已加密" in events["拒收"][14]
    assert events["冲突待处理"][14].startswith("与 1 份其他督查组")
    assert events["已忽略"][14] == "不是工作簿"


# --- the written workbook -----------------------------------------------------------------------------------------

def test_an_identical_archive_gives_an_identical_workbook(archive: Archive, tmp_path: Path) -> None:
    with Archive(tmp_path / "另一份档案") as twin:
        fill(twin)
        first = write_report(archive, MONTH, tmp_path / "一.xlsx")
        again = write_report(archive, MONTH, tmp_path / "二.xlsx")
        other = write_report(twin, MONTH, tmp_path / "三.xlsx")

    def cells(path: Path) -> list[list[tuple]]:
        wb = load_workbook(path)
        return [[tuple(c.value for c in row) for row in ws.iter_rows()] for ws in wb.worksheets]

    assert cells(first) == cells(again) == cells(other)
    assert first.read_bytes() == again.read_bytes() == other.read_bytes()


def test_the_written_workbook_has_frozen_headers_filters_print_layout_and_fixed_properties(
        archive: Archive, tmp_path: Path) -> None:
    wb = load_workbook(write_report(archive, MONTH, tmp_path / "汇总.xlsx"))

    assert wb.sheetnames == list(REPORT_SHEETS)
    assert wb.properties.creator == "ducha" and wb.properties.created.isoformat() == "2024-05-01T00:00:00"
    for ws in wb.worksheets:
        assert ws.freeze_panes and ws.auto_filter.ref and ws.print_title_rows, ws.title
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
    assert wb[SUMMARY_SHEET].freeze_panes == "C4" and wb[SUMMARY_SHEET].auto_filter.ref == "A3:O6"
    assert len(wb[SUMMARY_SHEET]._charts) == 1 and len(wb[TREND_SHEET]._charts) == 1
    assert wb[INDICATOR_SHEET]["G4"].number_format == "0.0%"


def test_libreoffice_opens_the_report_and_its_numbers_equal_the_archives(archive: Archive, tmp_path: Path) -> None:
    out = write_report(archive, MONTH, tmp_path / "汇总.xlsx")

    opened = load_workbook(convert(out, "xlsx", tmp_path / "lo"), data_only=True)
    ws = opened[SUMMARY_SHEET]

    seen = 0
    for row in ws.iter_rows(min_row=FIRST, max_row=6, values_only=True):
        sub = archive.query("SELECT * FROM submissions WHERE county_code = ? AND month = ? AND status = 'current'",
                            (row[2], MONTH))[0]
        points = {r["item"]: r["points"] for r in archive.results("scores", sub["id"])}
        expected = [sub["total"], *(points[k] for k in ("1", "2", "3", "4", "5", "6", "N2")), sub["errors"]]
        actual = [row[4], *row[5:12], row[13]]
        assert actual == pytest.approx(expected, abs=1e-9), row[1]
        seen += 1
    assert seen == 3
    assert [c.value for c in opened[TREND_SHEET][4]] == ["522631", "清水县", 85, 88.5]


# --- the county list and the month ---------------------------------------------------------------------------------

def test_a_county_list_with_a_bad_answer_is_refused_with_the_row(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "县名单.xlsx", {"Sheet1": """
| 县名称 | 县级区划代码 | 是否有脱贫任务 |
|---|---|---|
| 清水县 | 522631 | 也许 |
"""})
    with pytest.raises(CountyListError, match="第 2 行「是否有脱贫任务」无效"):
        load_counties(path)


def test_a_county_list_without_the_task_column_is_refused(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "县名单.xlsx", {"Sheet1": [["县名称"], ["清水县"]]})
    with pytest.raises(CountyListError, match="是否有脱贫任务"):
        load_counties(path)


def test_a_month_that_is_not_yyyy_mm_is_refused(archive: Archive) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        build_report(archive, "2024-5")


def test_an_empty_archive_gives_a_report_that_says_so(tmp_path: Path) -> None:
    with Archive(tmp_path / "空档案") as empty:
        out = write_report(empty, MONTH, tmp_path / "空.xlsx")
    wb = load_workbook(out)
    assert wb[SUMMARY_SHEET]["B4"].value == "本月档案中没有现行的督查工作簿"
    assert not wb[SUMMARY_SHEET]._charts and not wb[TREND_SHEET]._charts
