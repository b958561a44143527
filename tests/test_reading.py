"""Reading a workbook: tolerant of what clerks type and how they rearrange a sheet, strict where tolerance would
hide a fault, and a clear Chinese refusal for a file that is not a workbook.

Tests spoil the clean workbook of `valid_sheets()` (layout described in test_checks.py) and assert the findings'
code, sheet and cell, and the value the reader made of the cell.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_from_string

from ducha.checks.pipeline import CheckResult, run_check
from ducha.model.findings import Severity
from ducha.model.schema import N_HEALTH, N_SECURITY
from ducha.reading.raw import UnreadableWorkbook
from markdown_workbook import (
    check_sheets,
    column_of,
    form_row,
    found,
    make_id,
    parse_markdown,
    set_cell,
    set_value,
    valid_sheets,
    write_workbook,
)

POOR, EXITED, ORDINARY = 0, 5, 10
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def check(tmp_path: Path, sheets: dict[str, Any]) -> list[tuple[str, str, str]]:
    return found(check_sheets(tmp_path, sheets))


def household_value(result: CheckResult, key: str, record: int = POOR) -> Any:
    return result.parsed.tables["households"].values[key][record]


def below(cell: str, rows: int) -> str:
    """The cell `rows` rows further down."""
    letters, number = coordinate_from_string(cell)
    return f"{letters}{number + rows}"


def full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))


# --- sheets ---------------------------------------------------------------------------------------------------------

def test_a_missing_sheet_is_sheet_missing(tmp_path: Path) -> None:
    sheets = valid_sheets()
    del sheets["访谈记录"]

    result = check_sheets(tmp_path, sheets)

    assert ("sheet-missing", "访谈记录", "") in found(result)
    assert {f.code for f in result.findings} == {"sheet-missing", "sample-interview-count"}
    assert "访谈记录" in next(f.message for f in result.findings if f.code == "sheet-missing")


def test_the_parameters_sheet_may_be_left_out_and_the_defaults_apply(tmp_path: Path) -> None:
    sheets = valid_sheets()
    del sheets["参数"]

    assert check(tmp_path, sheets) == []


def test_an_extra_sheet_is_sheet_unknown_information_and_generated_sheets_are_not(tmp_path: Path) -> None:
    sheets: dict[str, Any] = {"检查结果": [["旧的检查结果"]], **valid_sheets(), "草稿": [["随手记"]]}

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("sheet-unknown", "草稿", "")]
    assert result.findings[0].severity is Severity.INFO


def test_an_empty_household_sheet_is_sheet_empty_below_its_header(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["农户调查"] = sheets["农户调查"][:1]

    result = check_sheets(tmp_path, sheets)

    assert ("sheet-empty", "农户调查", "A2") in found(result)
    assert {f.code for f in result.findings} == {"sheet-empty", "sample-household-count"}


# --- header rows and columns ----------------------------------------------------------------------------------------

def test_a_deleted_required_column_is_column_missing_naming_the_expected_header(tmp_path: Path) -> None:
    sheets = valid_sheets()
    column = column_of(sheets, "农户调查", "户主姓名")
    for row in sheets["农户调查"]:
        del row[column]

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("column-missing", "农户调查", "A1")]
    assert result.findings[0].severity is Severity.ERROR
    assert "「户主姓名*」" in result.findings[0].message


def test_a_deleted_optional_column_is_only_information(tmp_path: Path) -> None:
    sheets = valid_sheets()
    for row in sheets["农户调查"]:
        del row[-1]  # 备注

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("column-missing", "农户调查", "A1")]
    assert result.findings[0].severity is Severity.INFO


@pytest.mark.parametrize(("key_item", "severity"), [(N_HEALTH, Severity.ERROR), (N_SECURITY, Severity.INFO)])
def test_a_deleted_key_item_column_is_an_error_only_in_its_month(tmp_path: Path, key_item: str,
                                                                 severity: Severity) -> None:
    sheets = valid_sheets(key_item=key_item)
    column = column_of(sheets, "村级核查", "有标准化卫生室")
    for row in sheets["村级核查"]:
        del row[column]

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("column-missing", "村级核查", "A1")]
    assert result.findings[0].severity is severity


def test_a_column_typed_twice_is_column_duplicate_and_the_first_one_counts(tmp_path: Path) -> None:
    sheets = valid_sheets()
    households = sheets["农户调查"]
    households[0].append("家庭人口(人)*")
    for row in households[1:]:
        row.append(0)  # would be out of range if it were read

    result = check_sheets(tmp_path, sheets)

    duplicate = f"{get_column_letter(len(households[0]))}1"
    first = f"{get_column_letter(column_of(sheets, '农户调查', '家庭人口') + 1)}1"
    assert found(result) == [("column-duplicate", "农户调查", duplicate)]
    assert first in result.findings[0].message
    assert household_value(result, "household_size") == 4


def test_a_column_not_in_the_template_is_column_unknown_information(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["农户调查"][0].append("走访人")

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("column-unknown", "农户调查", f"{get_column_letter(len(sheets['农户调查'][0]))}1")]
    assert result.findings[0].severity is Severity.INFO


@pytest.mark.parametrize("sheet", ["抽样", "农户调查", "村级核查", "访谈记录"])
def test_a_sheet_without_any_template_header_is_header_not_found(tmp_path: Path, sheet: str) -> None:
    sheets = valid_sheets()
    sheets[sheet][0] = [f"第{n}列" for n in range(len(sheets[sheet][0]))]

    result = check_sheets(tmp_path, sheets)

    assert ("header-not-found", sheet, "A1") in found(result)
    assert result.findings[0].severity is Severity.ERROR


def test_a_header_below_two_title_rows_is_still_found_and_cells_keep_their_excel_rows(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "家庭人口", POOR, 0)  # G2 before the title rows are inserted
    sheets["农户调查"][0:0] = [["清水县精准扶贫入户调查表"], ["督查组：第一督查组"]]

    assert check(tmp_path, sheets) == [("out-of-range", "农户调查", below(cell, 2))]


def test_an_empty_row_between_households_keeps_the_rows_below_at_their_excel_rows(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "家庭人口", 5, 0)  # G7
    sheets["农户调查"].insert(3, [])

    assert check(tmp_path, sheets) == [("out-of-range", "农户调查", below(cell, 1))]


def test_reordered_columns_are_read_by_header_and_findings_point_at_the_moved_column(tmp_path: Path) -> None:
    sheets = valid_sheets()
    before = set_cell(sheets, "农户调查", "家庭人口", POOR, 0)
    for row in sheets["农户调查"]:
        row.reverse()
    moved = get_column_letter(column_of(sheets, "农户调查", "家庭人口") + 1)

    result = check_sheets(tmp_path, sheets)

    assert (before, moved) == ("G2", "AQ")  # with today's schema
    assert found(result) == [("out-of-range", "农户调查", f"{moved}2")]
    assert household_value(result, "id_number") == make_id(1)


@pytest.mark.parametrize("header", [
    "家庭人口",
    "家庭人口(人)",
    "家庭人口*",
    " 家庭 人口 (人) * ",
    "家庭人口\n(人)*",
    "家庭人口（人）＊",
    "家庭人口\u3000(人)",
])
def test_a_header_with_spaces_line_breaks_full_width_forms_or_without_unit_or_star_is_recognised(
        tmp_path: Path, header: str) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "家庭人口", POOR, 0)  # proves the column is read: its value is checked
    sheets["农户调查"][0][column_of(sheets, "农户调查", "家庭人口")] = header

    assert check(tmp_path, sheets) == [("out-of-range", "农户调查", cell)]


def test_a_header_alias_is_recognised(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["农户调查"][0][column_of(sheets, "农户调查", "身份证号")] = "公民身份号码"

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert household_value(result, "id_number") == make_id(1)


@pytest.mark.parametrize("label", ["督 查 组", "督查组 *", "督查组\n*", "督查组＊", "\u3000督查组"])
def test_a_form_label_with_spaces_or_full_width_star_is_recognised(tmp_path: Path, label: str) -> None:
    sheets = valid_sheets()
    row = form_row(sheets, "基本信息", "督查组")
    sheets["基本信息"][row] = [label, None]  # empty, so a recognised label gives required-missing at its B cell

    assert check(tmp_path, sheets) == [("required-missing", "基本信息", f"B{row + 1}")]


def test_a_form_typed_loosely_is_read_completely(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["基本信息"] = parse_markdown("""
        | 精准扶贫专题督查基本信息 |              |
        | 项目               | 填写内容          |
        | 督 查 月 份         | 2019年11月       |
        | 督查组             | 第一督查组         |
        | 组长 *             | 王强             |
        | 成员＊              | 赵敏、钱伟         |
        | 被督查县            | 清水县            |
        | 县代码              | 522631          |
        | 督查开始日期         | 2019/11/5       |
        | 督查结束日期         | 2019年11月7日     |
        | 督查方式            | 随机暗访          |
        | 本月重点督查内容     | 健康扶贫政策落实情况 |
        | 填表人             | 赵敏             |
        | 联系电话            | 0855-8221234    |
    """)

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    basic = result.parsed.basic
    assert (basic.get("month"), basic.get("start_date"), basic.get("end_date")) == (
        "2019-11", dt.date(2019, 11, 5), dt.date(2019, 11, 7))
    assert basic.get("county_code") == "522631"
    assert basic.cells["group"] == "B4"


def test_a_title_row_above_a_form_moves_its_cells_down(tmp_path: Path) -> None:
    sheets = valid_sheets()
    set_value(sheets, "基本信息", "督查组", None)  # B3 without the title
    sheets["基本信息"].insert(0, ["清水县精准扶贫专题督查"])

    assert check(tmp_path, sheets) == [("required-missing", "基本信息", "B4")]


# --- tolerant values ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["４", "4人", " 4 ", "4.0", "４人", 4.0])
def test_a_household_size_typed_as_text_is_read_as_a_number(tmp_path: Path, value: Any) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "家庭人口", POOR, value)

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert household_value(result, "household_size") == 4


@pytest.mark.parametrize("value", ["8,000", "8，000", "８０００元", " 8000 ", "8000.00"])
def test_an_amount_typed_as_text_is_read_as_a_number(tmp_path: Path, value: str) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "工资性收入", POOR, value)  # was 8000

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert household_value(result, "wage_income") == 8000


@pytest.mark.parametrize("value", [full_width(make_id(1)), " 52263119700101001X ", "522631 19700101 001X",
                                   full_width(make_id(1)).lower()])
def test_an_id_number_with_full_width_digits_or_spaces_is_accepted(tmp_path: Path, value: str) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "身份证号", POOR, value)

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert household_value(result, "id_number") == "52263119700101001X"


@pytest.mark.parametrize(("value", "expected"), [
    ("√", "是"), ("✓", "是"), ("Y", "是"), ("y", "是"), ("TRUE", "是"), (True, "是"), ("是 ", "是"), ("有", "是"),
    ("×", "否"), ("N", "否"), ("FALSE", "否"), (False, "否"), ("无", "否"),
])
def test_yes_and_no_written_as_ticks_letters_or_booleans_are_read(tmp_path: Path, value: Any, expected: str) -> None:
    sheets = valid_sheets()
    # keep 住房安全有保障 consistent with 住危房, or answer-conflict-housing is reported
    set_cell(sheets, "农户调查", "住危房", POOR, value)
    set_cell(sheets, "农户调查", "住房安全有保障", POOR, "否" if expected == "是" else "是")

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert household_value(result, "dilapidated_house") == expected


@pytest.mark.parametrize("value", ["/", "不适用", "-", "—", "N/A", "不涉及"])
def test_not_applicable_written_as_a_slash_or_dash_is_read_where_the_template_offers_it(tmp_path: Path,
                                                                                       value: str) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "义务教育有保障", POOR, value)

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert household_value(result, "education_secured") == "不涉及"


@pytest.mark.parametrize(("header", "value", "expected"), [
    ("户类型", "建档立卡户", "建档立卡贫困户"),
    ("户类型", "贫困户", "建档立卡贫困户"),
    ("户类型", "建档立卡 贫困户", "建档立卡贫困户"),
    ("群众认可", "满意", "认可"),
    ("主要致贫原因", " 因病 ", "因病"),
])
def test_choices_written_with_common_synonyms_or_spaces_are_read(tmp_path: Path, header: str, value: str,
                                                                 expected: str) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", header, POOR, value)

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    key = {"户类型": "household_type", "群众认可": "recognition", "主要致贫原因": "poverty_cause"}[header]
    assert household_value(result, key) == expected


@pytest.mark.parametrize("value", [
    dt.date(2019, 11, 5), dt.datetime(2019, 11, 5, 9, 30), 43774,
    "2019-11-05", "2019/11/5", "2019年11月5日", "20191105", "2019.11.5", "２０１９－１１－０５",
])
def test_a_date_as_a_date_cell_a_serial_number_or_text_in_several_formats_is_read(tmp_path: Path, value: Any) -> None:
    sheets = valid_sheets()
    set_value(sheets, "基本信息", "督查开始日期", value)

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert result.parsed.basic.get("start_date") == dt.date(2019, 11, 5)


@pytest.mark.parametrize("value", [dt.date(2019, 11, 1), dt.datetime(2019, 11, 30, 8), "2019年11月", "2019-11",
                                   "2019/11", "201911", "２０１９年１１月"])
def test_a_month_as_a_date_cell_or_text_is_read(tmp_path: Path, value: Any) -> None:
    sheets = valid_sheets()
    set_value(sheets, "基本信息", "督查月份", value)

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert result.parsed.basic.get("month") == "2019-11"


@pytest.mark.parametrize("value", [2018, 2018.0, "2018", "2018年", "２０１８", dt.date(2018, 12, 31)])
def test_an_exit_year_as_text_or_a_date_is_read(tmp_path: Path, value: Any) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "脱贫年度", EXITED, value)

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert household_value(result, "exit_year", EXITED) == 2018


@pytest.mark.parametrize(("value", "expected"), [
    (13900000001, "13900000001"), ("139-0000-0001", "13900000001"), ("+86 139 0000 0001", "13900000001"),
    ("１３９００００００01", "13900000001"), ("0855-8221234", "0855-8221234"),
])
def test_a_phone_number_as_a_number_or_with_separators_is_read(tmp_path: Path, value: Any, expected: str) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "帮扶责任人电话", POOR, value)

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert household_value(result, "helper_phone") == expected


# --- strict where tolerance would hide a fault ----------------------------------------------------------------------

def test_an_id_number_stored_as_a_number_is_never_repaired(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "身份证号", POOR, 522631197001010011)

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("id-stored-as-number", "农户调查", cell)]
    assert household_value(result, "id_number") is None


def test_a_control_character_is_removed_and_reported(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "户主姓名", POOR, "张_x0001_三")  # how Excel stores U+0001 in a cell

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("control-characters", "农户调查", cell)]
    assert household_value(result, "head_name") == "张三"


def test_a_very_long_text_is_text_too_long(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "备注", POOR, "长" * 600)

    assert check(tmp_path, sheets) == [("text-too-long", "农户调查", cell)]


def test_merged_cells_in_the_data_area_are_reported(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "督查工作簿.xlsx", valid_sheets())
    wb = openpyxl.load_workbook(path)
    wb["农户调查"].merge_cells("A2:A16")  # 青山镇 once for its 15 households: A3:A16 now read as empty
    wb.save(path)

    result = run_check(path)

    merged = [f for f in result.findings if f.code == "merged-cells"]
    assert [(f.sheet, f.cell.split(":")[0], f.severity) for f in merged] == [("农户调查", "A2", Severity.WARNING)]


def _error_cell(path: Path, sheet: str, cell: str, text: str, *, as_text: bool) -> None:
    """Put an Excel error value into a cell: a real error cell (as Excel saves #REF!) or the same text."""
    wb = openpyxl.load_workbook(path)
    wb[sheet][cell] = text  # openpyxl stores error codes as error cells, like Excel
    if as_text:
        wb[sheet][cell].data_type = "s"
    wb.save(path)


@pytest.mark.parametrize("as_text", [True, False], ids=["text", "error-cell"])
@pytest.mark.parametrize("header", ["户主姓名", "备注"], ids=["required", "optional"])
def test_a_formula_error_is_formula_error_not_an_empty_cell(tmp_path: Path, as_text: bool, header: str) -> None:
    sheets = valid_sheets()
    cell = f"{get_column_letter(column_of(sheets, '农户调查', header) + 1)}2"
    path = write_workbook(tmp_path / "督查工作簿.xlsx", sheets)
    _error_cell(path, "农户调查", cell, "#REF!", as_text=as_text)

    assert found(run_check(path)) == [("formula-error", "农户调查", cell)]


def _replace_in_sheet_xml(path: Path, sheet_number: int, old: bytes, new: bytes) -> None:
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    xml = f"xl/worksheets/sheet{sheet_number}.xml"
    assert old in parts[xml]
    parts[xml] = parts[xml].replace(old, new)
    path.write_bytes(_zip_of(parts))


def test_a_number_beyond_the_float_range_in_a_date_cell_is_date_invalid_not_a_crash(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_value(sheets, "基本信息", "督查开始日期", 123456.5)
    path = write_workbook(tmp_path / "督查工作簿.xlsx", sheets)
    _replace_in_sheet_xml(path, 1, b"<v>123456.5</v>", b"<v>1e999</v>")  # reads back as infinity

    assert found(run_check(path)) == [("date-invalid", "基本信息", cell)]


def test_a_formula_error_in_a_long_text_column_is_still_formula_error(tmp_path: Path) -> None:
    sheets = valid_sheets()
    households = sheets["农户调查"]
    name, number = column_of(sheets, "农户调查", "户主姓名"), column_of(sheets, "农户调查", "身份证号")
    for n in range(1000):  # 1000 more households with distinct names: a column this long is converted in bulk
        extra = list(households[1 + ORDINARY])
        extra[name], extra[number] = f"王{n}", make_id(n, birth="19800101")
        households.append(extra)
    path = write_workbook(tmp_path / "督查工作簿.xlsx", sheets)
    cell = f"{get_column_letter(name + 1)}2"
    _error_cell(path, "农户调查", cell, "#REF!", as_text=False)

    result = run_check(path)

    assert ("formula-error", "农户调查", cell) in found(result)
    assert household_value(result, "head_name") is None


@pytest.mark.parametrize(("number", "boolean"), [(0, False), (1, True)])
def test_a_boolean_in_a_count_column_is_integer_invalid_even_below_the_equal_number(tmp_path: Path, number: int,
                                                                                   boolean: bool) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "义务教育阶段子女数", POOR, number)
    cell = set_cell(sheets, "农户调查", "义务教育阶段子女数", POOR + 1, boolean)  # FALSE == 0 and TRUE == 1 in Python

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("integer-invalid", "农户调查", cell)]
    assert household_value(result, "school_children") == number


@pytest.mark.parametrize(("header", "value"), [("年度", 1999), ("年度", 1900), ("数值", -3218), ("数值", "很多"),
                                               ("口径", "省级")])
def test_odd_values_in_the_parameters_sheet_are_findings_not_a_crash(tmp_path: Path, header: str, value: Any) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "参数", header, 0, value)  # the 2011 poverty line

    result = check_sheets(tmp_path, sheets)

    assert [(sheet, c) for _, sheet, c in found(result)] == [("参数", cell)]


# --- files that are not workbooks -----------------------------------------------------------------------------------

def _zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _damaged_sheet(workbook: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(workbook)) as source:
        return _zip_of({n: b"<worksheet><sheetData><row><c" if n.endswith("sheet3.xml") else source.read(n)
                        for n in source.namelist()})


@pytest.mark.parametrize("damage", [
    pytest.param(lambda good: "这是一封邮件，不是表格".encode(), id="text"),
    pytest.param(lambda good: b"", id="empty"),
    pytest.param(lambda good: good[: len(good) // 2], id="truncated-zip"),
    pytest.param(lambda good: good[:-20], id="zip-without-its-end"),
    pytest.param(lambda good: bytes.fromhex("d0cf11e0a1b11ae1") + bytes(1024), id="cfb-encrypted-or-xls"),
    pytest.param(lambda good: _zip_of({"readme.txt": b"hello"}), id="zip-but-not-a-workbook"),
    pytest.param(_damaged_sheet, id="damaged-sheet-xml"),
])
def test_a_file_that_is_not_a_readable_workbook_raises_unreadable_workbook_in_chinese(tmp_path: Path,
                                                                                    damage) -> None:
    good = write_workbook(tmp_path / "good.xlsx", valid_sheets()).read_bytes()
    path = tmp_path / "督查工作簿.xlsx"
    path.write_bytes(damage(good))

    with pytest.raises(UnreadableWorkbook) as caught:
        run_check(path)

    assert CHINESE.search(str(caught.value))


def test_a_damaged_office_container_is_refused_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "加密.xlsx"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(1024))

    with pytest.raises(UnreadableWorkbook) as refused:
        run_check(path)
    assert refused.value.code == "damaged"  # not an Office container olefile can open


def test_a_missing_file_raises_unreadable_workbook(tmp_path: Path) -> None:
    with pytest.raises(UnreadableWorkbook, match="不存在"):
        run_check(tmp_path / "不存在.xlsx")


def test_a_sheet_with_values_far_apart_is_read_as_short_rows_with_every_value_in_place(tmp_path: Path) -> None:
    from ducha.reading import raw as raw_module

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "远处"
    sheet["C3"], sheet["B60000"], sheet["Z60001"] = "左上", "中间", 7
    path = tmp_path / "far.xlsx"
    book.save(path)

    grid = raw_module.read_raw_workbook(path).sheets["远处"]

    assert raw_module.DENSE_CELLS < 60001 * 26  # a large range: its empty rows are dropped
    assert len(grid) == 60001 and grid[0] == [] and max(len(row) for row in grid) == 26
    assert (grid[2][2], grid[59999][1], grid[60000][25]) == ("左上", "中间", 7)
    assert grid[1] == [] and grid[59998] == []  # an empty row costs nothing
