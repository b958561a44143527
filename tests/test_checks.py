"""Every check of `ducha check`: each test takes the clean workbook of `valid_sheets()`, spoils it in one place,
and asserts the finding's code, sheet and cell (and that nothing else was reported).

The clean workbook: 青山镇石门村 and 白云乡高寨村; in 「农户调查」 records 0-4 are 建档立卡贫困户, 5-9 脱贫户,
10-14 普通农户 of 石门村 (Excel rows 2-16), records 15-29 the same for 高寨村. In 「访谈记录」 each village has
乡村干部访谈, 帮扶干部电话抽查, 乡村干部访谈, 帮扶干部电话抽查 in that order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl.utils import get_column_letter

from ducha.model.findings import Severity
from ducha.model.idnumber import check_character
from ducha.model.schema import N_EDUCATION, N_HEALTH, N_SECURITY, N_STATIONED
from markdown_workbook import (
    add_village,
    check_sheets,
    column_of,
    found,
    make_id,
    parse_markdown,
    records_of,
    replace_everywhere,
    set_cell,
    set_value,
    valid_sheets,
)

POOR, EXITED, ORDINARY = 0, 5, 10  # first record of each household type in 石门村
SAMPLING_HEADER = "| 乡镇* | 乡镇是否有脱贫任务* | 村* | 是否贫困村* | 村级区划代码 | 抽取方式 | 备注 |"


def with_check(first17: str) -> str:
    return first17 + check_character(first17)


def letter(sheets: dict[str, Any], sheet: str, header: str) -> str:
    return get_column_letter(column_of(sheets, sheet, header) + 1)


def check(tmp_path: Path, sheets: dict[str, Any]) -> list[tuple[str, str, str]]:
    return found(check_sheets(tmp_path, sheets))


def test_the_clean_workbook_has_no_findings_and_is_complete(tmp_path: Path) -> None:
    result = check_sheets(tmp_path, valid_sheets())

    assert result.findings == []
    assert [(c.scope, c.answered == c.required) for c in result.per_village] == [
        ("白云乡高寨村", True), ("青山镇石门村", True)]
    assert all(c.answered == c.required > 0 for c in result.per_sheet)


# --- one household cell -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "record", "value", "code"), [
    ("户主姓名", POOR, None, "required-missing"),
    ("身份证号", POOR, "  ", "required-missing"),
    ("脱贫年度", EXITED, None, "required-if-missing"),
    ("识别标准", POOR, None, "required-if-missing"),
    ("登记表填写完整", POOR, None, "required-if-missing"),
    ("帮扶责任人电话", EXITED, None, "required-if-missing"),
    ("脱贫年度", ORDINARY, 2018, "not-applicable"),
    ("登记表填写完整", EXITED, "是", "not-applicable"),
    ("享受两免一补", ORDINARY, "是", "not-applicable"),
    ("识别标准", POOR, "县定", "choice-invalid"),
    ("不愁吃", POOR, "可能", "choice-invalid"),
    ("不愁吃", POOR, "不涉及", "choice-invalid"),
    ("群众认可", POOR, "基本认可", "choice-invalid"),
    ("家庭人口", POOR, 0, "out-of-range"),
    ("家庭人口", POOR, 4.5, "integer-invalid"),
    ("家庭人口", POOR, "四口", "integer-invalid"),
    ("财产性收入", POOR, -1, "out-of-range"),
    ("财产性收入", POOR, "很多", "number-invalid"),
    ("脱贫年度", EXITED, "去年", "year-invalid"),
    ("脱贫年度", EXITED, 18, "year-invalid"),
    ("脱贫年度", EXITED, 2013, "out-of-range"),
    ("帮扶责任人电话", POOR, "1391234567", "phone-invalid"),
    ("帮扶责任人电话", POOR, "139abcd5678", "phone-invalid"),
    ("联系电话", ORDINARY, "23912345678", "phone-invalid"),
])
def test_a_bad_household_cell_is_reported_at_that_cell(tmp_path: Path, header: str, record: int, value: Any,
                                                        code: str) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", header, record, value)

    assert check(tmp_path, sheets) == [(code, "农户调查", cell)]


def test_an_unknown_household_type_is_choice_invalid_and_leaves_the_village_a_household_short(
        tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "户类型", POOR, "贫困")

    assert check(tmp_path, sheets) == [("sample-household-count", "抽样", "C2"), ("choice-invalid", "农户调查", cell)]


def test_a_filled_field_marked_not_applicable_is_no_finding(tmp_path: Path) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "享受两免一补", ORDINARY, "不涉及")

    assert check(tmp_path, sheets) == []


def test_not_applicable_is_a_warning_and_required_if_an_error(tmp_path: Path) -> None:
    sheets = valid_sheets()
    filled = set_cell(sheets, "农户调查", "脱贫年度", ORDINARY, 2018)
    empty = set_cell(sheets, "农户调查", "脱贫年度", EXITED, None)

    result = check_sheets(tmp_path, sheets)

    assert [(f.code, f.severity, f.cell) for f in result.findings] == [
        ("required-if-missing", Severity.ERROR, empty), ("not-applicable", Severity.WARNING, filled)]
    assert "脱贫户" in result.findings[0].message


def test_dissent_without_a_reason_is_required_if_missing_at_the_reason_cell(tmp_path: Path) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "群众认可", POOR, "不认可")
    reason = set_cell(sheets, "农户调查", "不认可原因", POOR, None)

    assert check(tmp_path, sheets) == [("required-if-missing", "农户调查", reason)]


def test_a_household_of_25_people_is_out_of_range_and_its_income_per_head_no_longer_adds_up(tmp_path: Path) -> None:
    sheets = valid_sheets()
    size = set_cell(sheets, "农户调查", "家庭人口", POOR, 25)
    income = f"{letter(sheets, '农户调查', '年人均纯收入')}2"

    assert check(tmp_path, sheets) == [("out-of-range", "农户调查", size), ("income-inconsistent", "农户调查", income)]


# --- 身份证号 (GB 11643) ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "code"), [
    ("52263119700101001", "id-length"),
    ("5226311970010100123", "id-length"),
    (with_check("52263119990230001"), "id-birth-date"),  # 30 February
    (with_check("52263120300101001"), "id-birth-date"),  # born in the future
    (with_check("52263119700101001")[:-1] + "0", "id-check-digit"),  # its check character is X
    ("52263119700101001Y", "id-characters"),
    ("5226311970O10100IX", "id-characters"),
    (522631197001010011, "id-stored-as-number"),
    (5.22631197001010011e17, "id-stored-as-number"),
    ("522631700101001", "id-old-15"),
])
def test_an_invalid_id_number_is_reported_at_its_cell(tmp_path: Path, value: Any, code: str) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "身份证号", POOR, value)

    assert check(tmp_path, sheets) == [(code, "农户调查", cell)]


def test_an_old_15_digit_id_number_is_only_a_warning(tmp_path: Path) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "身份证号", POOR, "522631700101001")

    assert [f.severity for f in check_sheets(tmp_path, sheets).findings] == [Severity.WARNING]


def test_a_lower_case_x_check_character_is_accepted_as_upper_case(tmp_path: Path) -> None:
    sheets = valid_sheets()
    assert make_id(1) == "52263119700101001X"
    set_cell(sheets, "农户调查", "身份证号", POOR, "52263119700101001x")

    result = check_sheets(tmp_path, sheets)

    assert result.findings == []
    assert result.parsed.tables["households"].values["id_number"][POOR] == "52263119700101001X"


def test_the_same_id_twice_is_a_duplicate_household_at_the_second_naming_the_first(tmp_path: Path) -> None:
    sheets = valid_sheets()
    second = set_cell(sheets, "农户调查", "身份证号", 3, make_id(1))

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("duplicate-household", "农户调查", second)]
    assert "第 2 行" in result.findings[0].message


# --- 基本信息 and 县级核查 (form sheets: the value is in column B) -------------------------------------------------

@pytest.mark.parametrize(("sheet", "header", "value", "code"), [
    ("基本信息", "督查组", None, "required-missing"),
    ("基本信息", "填表人", " ", "required-missing"),
    ("基本信息", "督查方式", "明察", "choice-invalid"),
    ("基本信息", "督查月份", "2019-13", "month-invalid"),
    ("基本信息", "督查月份", "十一月", "month-invalid"),
    ("基本信息", "督查开始日期", "2019-11-31", "date-invalid"),
    ("基本信息", "督查开始日期", "2019-10-30", "date-outside-month"),
    ("基本信息", "督查结束日期", "2019-12-01", "date-outside-month"),
    ("基本信息", "督查结束日期", "2019-11-03", "date-order"),
    ("基本信息", "县级区划代码", "52263", "region-code-invalid"),
    ("基本信息", "县级区划代码", "992631", "region-code-invalid"),
    ("基本信息", "县级区划代码", "522600", "region-code-invalid"),
    ("基本信息", "县级区划代码", "520000", "region-code-invalid"),
    ("基本信息", "联系电话", "1380000000", "phone-invalid"),
    ("基本信息", "联系电话", "138OOOOOOOO", "phone-invalid"),
    ("县级核查", "贫困户总户数", None, "required-missing"),
    ("县级核查", "贫困户总户数", 3.5, "integer-invalid"),
    ("县级核查", "县级风险补偿金应建立", -5, "out-of-range"),
    ("县级核查", "金融扶贫贷款余额(本期)", "不详", "number-invalid"),
    ("县级核查", "特色产业带动贫困户数", 20, "part-exceeds-whole"),
    ("县级核查", "县级已整合资金", 10.5, "part-exceeds-whole"),
])
def test_a_bad_form_value_is_reported_at_its_b_cell(tmp_path: Path, sheet: str, header: str, value: Any,
                                                    code: str) -> None:
    sheets = valid_sheets()
    cell = set_value(sheets, sheet, header, value)

    assert cell.startswith("B")
    assert check(tmp_path, sheets) == [(code, sheet, cell)]


def test_an_end_date_before_the_start_names_both_dates(tmp_path: Path) -> None:
    sheets = valid_sheets()
    set_value(sheets, "基本信息", "督查结束日期", "2019-11-03")

    [finding] = check_sheets(tmp_path, sheets).findings

    assert "2019-11-03" in finding.message and "2019-11-05" in finding.message


def test_a_missing_督查组_row_is_label_missing(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["基本信息"] = [r for r in sheets["基本信息"] if r[0] != "督查组*"]

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("label-missing", "基本信息", "A1")]
    assert "督查组" in result.findings[0].message


def test_a_county_figure_without_its_source_is_source_missing_at_the_c_cell(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_value(sheets, "县级核查", "贫困户总户数", None, column=2)

    assert check(tmp_path, sheets) == [("source-missing", "县级核查", cell)]
    assert cell == "C2"


# --- fields required only in the month of their 重点督查内容 (N item) -----------------------------------------------

def test_a_county_figure_of_the_months_key_item_is_key_item_field_missing(tmp_path: Path) -> None:
    sheets = valid_sheets(key_item=N_HEALTH)
    cell = set_value(sheets, "县级核查", "建档立卡贫困人口数", None)

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("key-item-field-missing", "县级核查", cell)]
    assert N_HEALTH in result.findings[0].message


def test_a_county_figure_of_another_key_item_may_stay_empty(tmp_path: Path) -> None:
    sheets = valid_sheets(key_item=N_SECURITY)
    set_value(sheets, "县级核查", "建档立卡贫困人口数", None)

    assert check(tmp_path, sheets) == []


def test_in_the_stationed_team_month_every_village_needs_its_team_fields(tmp_path: Path) -> None:
    sheets = valid_sheets(key_item=N_STATIONED)  # valid_sheets fills the health fields of 「村级核查」 only
    wanted = ["有贫困村精准扶贫规划", "驻村工作队全脱产常驻", "驻村时间", "规划和帮扶计划项目已落实",
              "扶贫政策宣传到位"]
    letters = [letter(sheets, "村级核查", header) for header in wanted]

    assert check(tmp_path, sheets) == [("key-item-field-missing", "村级核查", f"{column}{row}")
                                       for row in (2, 3) for column in letters]


def test_in_the_education_month_household_education_fields_are_needed_where_they_apply(tmp_path: Path) -> None:
    sheets = valid_sheets(key_item=N_EDUCATION)
    children, aid, high_school = (letter(sheets, "农户调查", header)
                                  for header in ("义务教育阶段子女数", "享受两免一补", "高中阶段免学费及助学金"))
    registered = [row for row in range(2, 32) if (row - 2) % 15 < 10]  # 建档立卡贫困户 and 脱贫户

    result = check_sheets(tmp_path, sheets)

    assert {code for code, _, _ in found(result)} == {"key-item-field-missing"}
    assert sorted(cell for _, _, cell in found(result)) == sorted(
        [f"{children}{row}" for row in range(2, 32)] + [f"{column}{row}" for column in (aid, high_school)
                                                          for row in registered])


# --- consistency ---------------------------------------------------------------------------------------------------

def test_income_per_head_that_does_not_add_up_is_income_inconsistent(tmp_path: Path) -> None:
    sheets = valid_sheets()  # (8000 + 4000 + 2000 + 0 − 4000) ÷ 4 = 2500
    cell = set_cell(sheets, "农户调查", "年人均纯收入", POOR, 3000)

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("income-inconsistent", "农户调查", cell)]
    assert result.findings[0].severity is Severity.WARNING
    assert "2500.00" in result.findings[0].message


def test_income_per_head_within_one_percent_is_accepted(tmp_path: Path) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "年人均纯收入", POOR, 2520)

    assert check(tmp_path, sheets) == []


def test_an_exit_year_after_the_inspection_year_is_exit_year_future(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "脱贫年度", EXITED, 2020)

    assert check(tmp_path, sheets) == [("exit-year-future", "农户调查", cell)]


def test_a_reason_given_by_a_household_that_recognises_is_reported_once_as_not_applicable(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "不认可原因", POOR, "帮扶干部很少来")

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("not-applicable", "农户调查", cell)]
    assert "不认可" in result.findings[0].message


def test_a_year_without_a_poverty_line_is_a_parameter_missing_warning(tmp_path: Path) -> None:
    result = check_sheets(tmp_path, valid_sheets(month="2018-11"))  # the default lines skip 2017 and 2018

    assert found(result) == [("parameter-missing", "参数", "A1")]
    assert result.findings[0].severity is Severity.WARNING
    assert "2016" in result.findings[0].message


def test_a_poverty_line_added_to_the_parameters_sheet_is_used(tmp_path: Path) -> None:
    sheets = valid_sheets(month="2018-11")
    sheets["参数"].append(["扶贫标准", "扶贫标准(元/人·年)", 2018, 3100, "地方", "省定标准"])

    assert check(tmp_path, sheets) == []


# --- the sample the plan prescribes --------------------------------------------------------------------------------

def test_a_sample_from_one_township_is_sample_township_count(tmp_path: Path) -> None:
    sheets = valid_sheets()
    replace_everywhere(sheets, "白云乡", "青山镇")

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("sample-township-count", "抽样", "A2")]
    assert result.findings[0].value == "1"


def test_a_sample_from_three_townships_is_sample_township_count(tmp_path: Path) -> None:
    sheets = valid_sheets()
    add_village(sheets, "红岩乡", "坪上村")

    assert check(tmp_path, sheets) == [("sample-township-count", "抽样", "A2")]


def test_two_villages_of_one_township_are_a_valid_sample(tmp_path: Path) -> None:
    sheets = valid_sheets()
    add_village(sheets, "青山镇", "坪上村")

    assert check(tmp_path, sheets) == []


def test_a_township_without_poverty_task_is_flagged_at_its_task_cell(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["抽样"] = parse_markdown(f"""
        {SAMPLING_HEADER}
        | 青山镇 | 否 | 石门村 | 是 | | 随机抽取 | |
        | 白云乡 | 是 | 高寨村 | 是 | | 随机抽取 | |
    """)

    assert check(tmp_path, sheets) == [("sample-township-no-task", "抽样", "B2")]


def test_a_village_sampled_twice_is_sample_village_duplicate_at_the_second_row(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["抽样"] = parse_markdown(f"""
        {SAMPLING_HEADER}
        | 青山镇 | 是 | 石门村 | 是 | | | |
        | 白云乡 | 是 | 高寨村 | 是 | | | |
        | 青山镇 | 是 | 石门村 | 是 | | | 重复登记 |
    """)

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("sample-village-duplicate", "抽样", "C4")]
    assert "第 2 行" in result.findings[0].message


def test_four_poor_and_six_exited_households_are_two_count_findings_at_the_villages_sample_cell(
        tmp_path: Path) -> None:
    sheets = valid_sheets()
    households = sheets["农户调查"]
    extra = list(households[1 + EXITED])
    extra[column_of(sheets, "农户调查", "身份证号")] = make_id(900)
    del households[1 + POOR]  # 石门村: 4 建档立卡贫困户 ...
    households.append(extra)  # ... 6 脱贫户, 5 普通农户

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("sample-household-count", "抽样", "C2")] * 2
    assert ["建档立卡贫困户有 4 户" in f.message or "脱贫户有 6 户" in f.message for f in result.findings] == [True] * 2


def test_one_cadre_interview_is_sample_interview_count(tmp_path: Path) -> None:
    sheets = valid_sheets()
    interviews = sheets["访谈记录"]
    del interviews[1]  # 石门村's first 乡村干部访谈

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("sample-interview-count", "抽样", "C2")]
    assert "乡村干部访谈有 1 人" in result.findings[0].message


def test_a_sampled_village_without_a_village_check_is_village_check_missing(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["村级核查"] = [sheets["村级核查"][0], *records_of(sheets, "村级核查", "石门村")]

    assert check(tmp_path, sheets) == [("village-check-missing", "抽样", "C3")]


def test_a_village_checked_twice_is_village_check_duplicate_at_the_second_row(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["村级核查"].append(list(sheets["村级核查"][1]))

    assert check(tmp_path, sheets) == [("village-check-duplicate", "村级核查", "B4")]


def test_a_household_in_a_village_not_sampled_is_village_not_sampled(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "村", POOR, "石门新村")

    assert check(tmp_path, sheets) == [("sample-household-count", "抽样", "C2"),
                                       ("village-not-sampled", "农户调查", cell)]


def test_an_interview_in_a_village_not_sampled_is_village_not_sampled(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["访谈记录"].append(["白云乡", "坪上村", "乡村干部访谈", "村干9", "村主任", None, None, "是", "属实", None])

    assert check(tmp_path, sheets) == [("village-not-sampled", "访谈记录", "B10")]


# --- interviews and village checks: required-if ---------------------------------------------------------------------

@pytest.mark.parametrize(("sheet", "header", "record", "value", "code"), [
    ("访谈记录", "联系电话", 1, None, "required-if-missing"),
    ("访谈记录", "是否接通", 1, None, "required-if-missing"),
    ("访谈记录", "联系电话", 0, "13712345678", "not-applicable"),
    ("访谈记录", "访谈结果", 0, None, "required-missing"),
    ("村级核查", "主导产业名称", 0, None, "required-if-missing"),
    ("村级核查", "成立农民专业合作社", 0, "未知", "choice-invalid"),
    ("抽样", "是否贫困村", 0, None, "required-missing"),
])
def test_a_bad_cell_of_another_table_is_reported_at_that_cell(tmp_path: Path, sheet: str, header: str, record: int,
                                                               value: Any, code: str) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, sheet, header, record, value)

    assert check(tmp_path, sheets) == [(code, sheet, cell)]


# --- completeness: answered ÷ required-and-relevant ------------------------------------------------------------------

# Per village: households 5 × 32 (建档立卡) + 5 × 28 (脱贫户) + 5 × 18 (普通农户) = 390, its 「村级核查」 row 7
# (5 + 2 health fields in a health month), interviews 2 × 7 (乡村干部) + 2 × 9 (帮扶干部, with phone and 是否接通) = 32.
VILLAGE_REQUIRED = 390 + 7 + 32


def _completeness(result) -> dict[str, tuple[int, int]]:
    return {c.scope: (c.answered, c.required) for c in result.per_sheet + result.per_village}


def test_one_missing_answer_in_one_village_lowers_that_village_and_sheet_by_one(tmp_path: Path) -> None:
    sheets = valid_sheets(key_item=N_HEALTH)
    set_cell(sheets, "访谈记录", "访谈结果", 0, None)

    result = check_sheets(tmp_path, sheets)

    assert _completeness(result) == {
        "基本信息": (11, 11), "抽样": (8, 8), "农户调查": (780, 780), "村级核查": (14, 14), "访谈记录": (63, 64),
        "县级核查": (21, 21),
        "青山镇石门村": (VILLAGE_REQUIRED - 1, VILLAGE_REQUIRED), "白云乡高寨村": (VILLAGE_REQUIRED, VILLAGE_REQUIRED),
    }


def test_a_condition_that_makes_a_field_relevant_adds_to_the_required_count(tmp_path: Path) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "群众认可", 15, "不认可")  # 高寨村: now 不认可原因 is needed, and empty

    completeness = _completeness(check_sheets(tmp_path, sheets))

    assert completeness["农户调查"] == (780, 781)
    assert completeness["白云乡高寨村"] == (VILLAGE_REQUIRED, VILLAGE_REQUIRED + 1)


def test_an_unreadable_value_counts_as_unanswered_and_is_reported_once(tmp_path: Path) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "家庭人口", POOR, "四口")

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("integer-invalid", "农户调查", cell)]
    assert _completeness(result)["农户调查"] == (779, 780)


def test_form_completeness_counts_the_months_key_item_figures(tmp_path: Path) -> None:
    sheets = valid_sheets(key_item=N_HEALTH)
    set_value(sheets, "基本信息", "督查组", None)
    set_value(sheets, "县级核查", "行政村数", None)

    completeness = _completeness(check_sheets(tmp_path, sheets))

    assert completeness["基本信息"] == (10, 11)  # 督查结束日期 is optional
    assert completeness["县级核查"] == (20, 14 + 7)  # 14 figures always, 7 for 健康扶贫


def test_key_item_fields_raise_the_household_count_in_their_month(tmp_path: Path) -> None:
    completeness = _completeness(check_sheets(tmp_path, valid_sheets(key_item=N_EDUCATION)))

    # 义务教育阶段子女数 for 30 households, 享受两免一补 and 高中阶段免学费及助学金 for 20 registered ones
    assert completeness["农户调查"] == (780, 780 + 30 + 20 + 20)
