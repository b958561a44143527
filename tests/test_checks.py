"""Every check of `ducha check`, each case an inline markdown table: the clean workbook of
`valid_sheets()` changed in one place, and the codes that must be found at which cells (and nothing else).

The clean workbook: 青山镇石门村 and 白云乡高寨村. 「农户调查」 rows 2-6 are 建档立卡贫困户,
7-11 脱贫户, 12-16 普通农户 of 石门村, rows 17-31 the same for 高寨村. 「访谈记录」 rows 2-5 (石门村)
and 6-9 (高寨村) are 乡村干部访谈, 帮扶干部电话抽查, 乡村干部访谈, 帮扶干部电话抽查.
「抽样」 and 「村级核查」 row 2 is 石门村, row 3 高寨村. A table whose first column is 行 changes
those Excel rows; one whose first column is 项目 changes a form sheet's values by label.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl.utils import get_column_letter

from ducha.model.findings import Severity
from ducha.model.schema import N_EDUCATION, N_HEALTH, N_SECURITY, N_STATIONED
from markdown_workbook import (
    add_village,
    assert_findings,
    check_sheets,
    column_of,
    findings_at,
    found,
    replace_everywhere,
    valid_sheets,
)


def cases(table: str) -> list[tuple[str, ...]]:
    """The rows of a markdown table of cases, as the raw cell texts (header and separator dropped)."""
    lines = [line.strip() for line in table.strip().splitlines() if line.strip().startswith("|")]
    rows = [tuple(cell.strip() for cell in line.strip("|").split("|")) for line in lines[1:]]
    return [row for row in rows if not all(set(cell) <= set("-: ") for cell in row)]


def test_the_clean_workbook_has_no_findings_and_is_complete() -> None:
    result = assert_findings({}, {})

    assert [(c.scope, c.answered == c.required) for c in result.per_village] == [
        ("白云乡高寨村", True), ("青山镇石门村", True)]
    assert all(c.answered == c.required > 0 for c in result.per_sheet)


# --- one cell of a table sheet ---------------------------------------------------------------------------------------

TABLE_CELLS = """
| 工作表   | 行 | 字段                 | 填写           | 单元格 | 代码                 |
|----------|----|----------------------|----------------|--------|----------------------|
| 农户调查 | 2  | 户主姓名             |                | D2     | required-missing     |
| 农户调查 | 2  | 身份证号             | '              | E2     | required-missing     |
| 农户调查 | 7  | 脱贫年度             |                | R7     | required-if-missing  |
| 农户调查 | 2  | 识别标准             |                | O2     | required-if-missing  |
| 农户调查 | 2  | 登记表填写完整       |                | S2     | required-if-missing  |
| 农户调查 | 7  | 帮扶责任人电话       |                | AQ7    | required-if-missing  |
| 农户调查 | 12 | 脱贫年度             | 2018           | R12    | not-applicable       |
| 农户调查 | 7  | 登记表填写完整       | 是             | S7     | not-applicable       |
| 农户调查 | 12 | 享受两免一补         | 是             | AH12   | not-applicable       |
| 农户调查 | 2  | 识别标准             | 县定           | O2     | choice-invalid       |
| 农户调查 | 2  | 不愁吃               | 可能           | X2     | choice-invalid       |
| 农户调查 | 2  | 不愁吃               | 不涉及         | X2     | choice-invalid       |
| 农户调查 | 2  | 群众认可             | 基本认可       | AR2    | choice-invalid       |
| 农户调查 | 2  | 家庭人口             | 0              | G2     | out-of-range         |
| 农户调查 | 2  | 家庭人口             | 4.5            | G2     | integer-invalid      |
| 农户调查 | 2  | 家庭人口             | 四口           | G2     | integer-invalid      |
| 农户调查 | 2  | 财产性收入           | -1             | K2     | out-of-range         |
| 农户调查 | 2  | 财产性收入           | 很多           | K2     | number-invalid       |
| 农户调查 | 7  | 脱贫年度             | 去年           | R7     | year-invalid         |
| 农户调查 | 7  | 脱贫年度             | 18             | R7     | year-invalid         |
| 农户调查 | 7  | 脱贫年度             | 2013           | R7     | out-of-range         |
| 农户调查 | 2  | 帮扶责任人电话       | '1391234567    | AQ2    | phone-invalid        |
| 农户调查 | 2  | 帮扶责任人电话       | 139abcd5678    | AQ2    | phone-invalid        |
| 农户调查 | 12 | 联系电话             | '23912345678   | F12    | phone-invalid        |
| 访谈记录 | 3  | 联系电话             |                | F3     | required-if-missing  |
| 访谈记录 | 3  | 是否接通             |                | G3     | required-if-missing  |
| 访谈记录 | 2  | 联系电话             | '13712345678   | F2     | not-applicable       |
| 访谈记录 | 2  | 访谈结果             |                | I2     | required-missing     |
| 村级核查 | 2  | 主导产业名称         |                | D2     | required-if-missing  |
| 村级核查 | 2  | 成立农民专业合作社   | 未知           | E2     | choice-invalid       |
| 抽样     | 2  | 是否贫困村           |                | D2     | required-missing     |
"""


@pytest.mark.parametrize(("sheet", "row", "header", "value", "cell", "code"), cases(TABLE_CELLS))
def test_a_bad_table_cell_is_reported_at_that_cell(sheet: str, row: str, header: str, value: str, cell: str,
                                                   code: str) -> None:
    assert_findings({sheet: f"| 行 | {header} |\n| {row} | {value} |"}, {f"{sheet}!{cell}": code})


# --- 身份证号 (GB 11643) ------------------------------------------------------------------------------------------

ID_NUMBERS = """
| 身份证号 (农户调查!E2)   | 代码                | 为什么                       |
|--------------------------|---------------------|------------------------------|
| 52263119700101001        | id-length           | 17 位                        |
| 5226311970010100123      | id-length           | 19 位                        |
| 522631199902300013       | id-birth-date       | 2 月 30 日                   |
| 522631203001010018       | id-birth-date       | 出生在将来                   |
| 522631197001010010       | id-check-digit      | 校验码应为 X                 |
| 52263119700101001Y       | id-characters       |                              |
| 5226311970O10100IX       | id-characters       | 字母 O 和 I                  |
| n:522631197001010011     | id-stored-as-number | 以数字存储                   |
| n:5.22631197001010011e17 | id-stored-as-number | 以科学计数法存储             |
| '522631700101001         | id-old-15           | 15 位旧号码（只是警告）      |
"""


@pytest.mark.parametrize(("value", "code", "why"), cases(ID_NUMBERS))
def test_an_invalid_id_number_is_reported_at_its_cell(value: str, code: str, why: str) -> None:
    result = assert_findings({"农户调查": f"| 行 | 身份证号 |\n| 2 | {value} |"}, {"农户调查!E2": code})

    assert result.findings[0].severity is (Severity.WARNING if code == "id-old-15" else Severity.ERROR)


def test_a_lower_case_x_check_character_is_accepted_as_upper_case() -> None:
    result = assert_findings({"农户调查": """
        | 行 | 身份证号           |
        | 2  | 52263119700101001x |
    """}, {})

    assert result.parsed.tables["households"].values["id_number"][0] == "52263119700101001X"


def test_the_same_id_twice_is_a_duplicate_household_at_the_second_naming_the_first() -> None:
    result = assert_findings({"农户调查": """
        | 行 | 身份证号           |
        | 5  | 52263119700101001X |
    """}, {"农户调查!E5": "duplicate-household"})  # row 2 has this number

    assert "第 2 行" in result.findings[0].message


# --- households: several cells ---------------------------------------------------------------------------------------

def test_an_unknown_household_type_is_choice_invalid_and_leaves_the_village_a_household_short() -> None:
    assert_findings({"农户调查": """
        | 行 | 户类型 |
        | 2  | 贫困   |
    """}, {"抽样!C2": "sample-household-count", "农户调查!C2": "choice-invalid"})


def test_a_filled_field_marked_not_applicable_is_no_finding() -> None:
    assert_findings({"农户调查": """
        | 行 | 享受两免一补 |
        | 12 | 不涉及       |
    """}, {})


def test_not_applicable_is_a_warning_and_required_if_an_error() -> None:
    result = assert_findings({"农户调查": """
        | 行 | 户类型   | 脱贫年度 |
        | 7  | 脱贫户   |          |
        | 12 | 普通农户 | 2018     |
    """}, {"农户调查!R7": "required-if-missing", "农户调查!R12": "not-applicable"})

    assert [f.severity for f in result.findings] == [Severity.ERROR, Severity.WARNING]
    assert "脱贫户" in result.findings[0].message


def test_dissent_without_a_reason_is_required_if_missing_at_the_reason_cell() -> None:
    assert_findings({"农户调查": """
        | 行 | 群众认可 | 不认可原因 |
        | 2  | 不认可   |            |
    """}, {"农户调查!AS2": "required-if-missing"})


def test_a_reason_given_by_a_household_that_recognises_is_reported_once_as_not_applicable() -> None:
    result = assert_findings({"农户调查": """
        | 行 | 群众认可 | 不认可原因     |
        | 2  | 认可     | 帮扶干部很少来 |
    """}, {"农户调查!AS2": "not-applicable"})

    assert "不认可" in result.findings[0].message


def test_a_household_of_25_people_is_out_of_range_and_its_income_per_head_no_longer_adds_up() -> None:
    assert_findings({"农户调查": """
        | 行 | 家庭人口 | 年人均纯收入 |
        | 2  | 25       | 2500         |
    """}, {"农户调查!G2": "out-of-range", "农户调查!N2": "income-inconsistent"})


def test_income_per_head_that_does_not_add_up_is_an_income_inconsistent_warning() -> None:
    result = assert_findings({"农户调查": """
        | 行 | 家庭人口 | 工资性收入 | 家庭经营性收入 | 转移性收入 | 财产性收入 | 生产经营费用 | 年人均纯收入 |
        | 2  | 4        | 8000       | 4000           | 2000       | 0          | 4000         | 3000         |
    """}, {"农户调查!N2": "income-inconsistent"})

    assert result.findings[0].severity is Severity.WARNING
    assert "2500.00" in result.findings[0].message  # (8000 + 4000 + 2000 + 0 − 4000) ÷ 4


def test_income_per_head_within_one_percent_is_accepted() -> None:
    assert_findings({"农户调查": """
        | 行 | 年人均纯收入 |
        | 2  | 2520         |
    """}, {})


def test_an_exit_year_after_the_inspection_year_is_exit_year_future() -> None:
    assert_findings({"农户调查": """
        | 行 | 户类型 | 脱贫年度 |
        | 7  | 脱贫户 | 2020     |
    """}, {"农户调查!R7": "exit-year-future"})


# --- 基本信息 and 县级核查 (form sheets: the value is in column B) -------------------------------------------------

FORM_VALUES = """
| 工作表   | 项目                    | 填写        | 单元格 | 代码               |
|----------|-------------------------|-------------|--------|--------------------|
| 基本信息 | 督查组                  |             | B3     | required-missing   |
| 基本信息 | 填表人                  | '           | B12    | required-missing   |
| 基本信息 | 督查方式                | 明察        | B10    | choice-invalid     |
| 基本信息 | 督查月份                | 2019-13     | B2     | month-invalid      |
| 基本信息 | 督查月份                | 十一月      | B2     | month-invalid      |
| 基本信息 | 督查开始日期            | 2019-11-31  | B8     | date-invalid       |
| 基本信息 | 督查开始日期            | 2019-10-30  | B8     | date-outside-month |
| 基本信息 | 督查结束日期            | 2019-12-01  | B9     | date-outside-month |
| 基本信息 | 督查结束日期            | 2019-11-03  | B9     | date-order         |
| 基本信息 | 县级区划代码            | '52263      | B7     | region-code-invalid |
| 基本信息 | 县级区划代码            | '992631     | B7     | region-code-invalid |
| 基本信息 | 县级区划代码            | '522600     | B7     | region-code-invalid |
| 基本信息 | 县级区划代码            | '520000     | B7     | region-code-invalid |
| 基本信息 | 联系电话                | '1380000000 | B13    | phone-invalid      |
| 基本信息 | 联系电话                | 138OOOOOOOO | B13    | phone-invalid      |
| 县级核查 | 贫困户总户数            |             | B2     | required-missing   |
| 县级核查 | 贫困户总户数            | 3.5         | B2     | integer-invalid    |
| 县级核查 | 县级风险补偿金应建立    | -5          | B10    | out-of-range       |
| 县级核查 | 金融扶贫贷款余额(本期)  | 不详        | B9     | number-invalid     |
| 县级核查 | 特色产业带动贫困户数    | 20          | B3     | part-exceeds-whole |
| 县级核查 | 县级已整合资金          | 10.5        | B15    | part-exceeds-whole |
"""


@pytest.mark.parametrize(("sheet", "label", "value", "cell", "code"), cases(FORM_VALUES))
def test_a_bad_form_value_is_reported_at_its_b_cell(sheet: str, label: str, value: str, cell: str,
                                                    code: str) -> None:
    assert_findings({sheet: f"| 项目 | 填写内容 |\n| {label} | {value} |"}, {f"{sheet}!{cell}": code})


def test_an_end_date_before_the_start_names_both_dates() -> None:
    result = assert_findings({"基本信息": """
        | 项目         | 填写内容   |
        | 督查开始日期 | 2019-11-05 |
        | 督查结束日期 | 2019-11-03 |
    """}, {"基本信息!B9": "date-order"})

    assert "2019-11-03" in result.findings[0].message and "2019-11-05" in result.findings[0].message


def test_a_missing_督查组_row_is_label_missing() -> None:
    result = assert_findings({"基本信息": """
        | 项目   | 操作 |
        | 督查组 | 删除 |
    """}, {"基本信息!A1": "label-missing"})

    assert "督查组" in result.findings[0].message


def test_a_county_figure_without_its_source_is_source_missing_at_the_c_cell() -> None:
    assert_findings({"县级核查": """
        | 项目         | 数据来源 |
        | 贫困户总户数 |          |
    """}, {"县级核查!C2": "source-missing"})


# --- fields required only in the month of their 重点督查内容 (N item) -----------------------------------------------

def test_a_county_figure_of_the_months_key_item_is_key_item_field_missing() -> None:
    result = assert_findings({"县级核查": """
        | 项目               | 填写内容 |
        | 建档立卡贫困人口数 |          |
    """}, {"县级核查!B16": "key-item-field-missing"}, base=valid_sheets(key_item=N_HEALTH))

    assert N_HEALTH in result.findings[0].message


def test_a_county_figure_of_another_key_item_may_stay_empty() -> None:
    assert_findings({"县级核查": """
        | 项目               | 填写内容 |
        | 建档立卡贫困人口数 |          |
    """}, {}, base=valid_sheets(key_item=N_SECURITY))


def test_in_the_stationed_team_month_every_village_needs_its_team_fields(tmp_path: Path) -> None:
    sheets = valid_sheets(key_item=N_STATIONED)  # valid_sheets fills the health fields of 「村级核查」 only
    wanted = ["有贫困村精准扶贫规划", "驻村工作队全脱产常驻", "驻村时间", "驻村工作队工作台账齐全",
              "规划和帮扶计划项目已落实", "扶贫政策宣传到位"]
    letters = [get_column_letter(column_of(sheets, "村级核查", header) + 1) for header in wanted]

    assert found(check_sheets(tmp_path, sheets)) == [
        ("key-item-field-missing", "村级核查", f"{column}{row}") for row in (2, 3) for column in letters]


def test_in_the_education_month_household_education_fields_are_needed_where_they_apply(tmp_path: Path) -> None:
    result = check_sheets(tmp_path, valid_sheets(key_item=N_EDUCATION))
    registered = [row for row in range(2, 32) if (row - 2) % 15 < 10]  # 建档立卡贫困户 and 脱贫户

    # AG 义务教育阶段子女数 for every household; AH 享受两免一补, AI 高中阶段免学费及助学金 for registered ones
    assert findings_at(result) == {f"农户调查!{cell}": ["key-item-field-missing"] for cell in sorted(
        [f"AG{row}" for row in range(2, 32)] + [f"{column}{row}" for column in ("AH", "AI") for row in registered],
        key=lambda cell: (int(cell[2:]), cell[:2]))}


# --- the year's parameters -------------------------------------------------------------------------------------------

def test_a_year_without_a_poverty_line_is_a_parameter_missing_warning() -> None:
    result = assert_findings({}, {"参数!A1": "parameter-missing"}, base=valid_sheets(month="2018-11"))

    assert result.findings[0].severity is Severity.WARNING
    assert "2016" in result.findings[0].message  # the default lines skip 2017 and 2018: 2016's is used


def test_a_poverty_line_added_to_the_parameters_sheet_is_used(tmp_path: Path) -> None:
    sheets = valid_sheets(month="2018-11")
    sheets["参数"].append(["扶贫标准", "扶贫标准(元/人·年)", 2018, 2995, "国家", "国家统计局"])

    assert found(check_sheets(tmp_path, sheets)) == []


def test_a_local_line_stands_in_only_when_the_parameters_choose_the_local_standard(tmp_path: Path) -> None:
    sheets = valid_sheets(month="2018-11")
    sheets["参数"].append(["扶贫标准", "扶贫标准(元/人·年)", 2018, 3100, "地方", "省定标准"])
    national = found(check_sheets(tmp_path, sheets))
    setting = next(r for r in sheets["参数"] if r[1] == "判定采用的扶贫标准口径")
    setting[6] = "地方"

    assert national == [("parameter-missing", "参数", "A1")]  # the national line of 2018 is still missing
    assert found(check_sheets(tmp_path, sheets)) == []


def test_a_sample_from_one_township_is_sample_township_count() -> None:
    sheets = valid_sheets()
    replace_everywhere(sheets, "白云乡", "青山镇")

    result = assert_findings({}, {"抽样!A2": "sample-township-count"}, base=sheets)

    assert result.findings[0].value == "1"


def test_a_sample_from_three_townships_is_sample_township_count() -> None:
    sheets = valid_sheets()
    add_village(sheets, "红岩乡", "坪上村")

    assert_findings({}, {"抽样!A2": "sample-township-count"}, base=sheets)


def test_two_villages_of_one_township_are_a_valid_sample() -> None:
    sheets = valid_sheets()
    add_village(sheets, "青山镇", "坪上村")

    assert_findings({}, {}, base=sheets)


def test_a_township_without_poverty_task_is_flagged_at_its_task_cell() -> None:
    assert_findings({"抽样": """
        | 乡镇* | 乡镇是否有脱贫任务* | 村*    | 是否贫困村* | 村级区划代码 | 抽取方式 | 备注 |
        | 青山镇 | 否                 | 石门村 | 是          |              | 随机抽取 |      |
        | 白云乡 | 是                 | 高寨村 | 是          |              | 随机抽取 |      |
    """}, {"抽样!B2": "sample-township-no-task"})


def test_a_village_sampled_twice_is_sample_village_duplicate_at_the_second_row() -> None:
    result = assert_findings({"抽样": """
        | 乡镇* | 乡镇是否有脱贫任务* | 村*    | 是否贫困村* | 村级区划代码 | 抽取方式 | 备注     |
        | 青山镇 | 是                 | 石门村 | 是          |              |          |          |
        | 白云乡 | 是                 | 高寨村 | 是          |              |          |          |
        | 青山镇 | 是                 | 石门村 | 是          |              |          | 重复登记 |
    """}, {"抽样!C4": "sample-village-duplicate"})

    assert "第 2 行" in result.findings[0].message


def test_four_poor_and_six_exited_households_are_two_count_findings_at_the_villages_sample_cell() -> None:
    result = assert_findings({"农户调查": """
        | 行 | 复制自 | 身份证号           | 操作 |
        | 32 | 7      | 522631197001019006 |      |
        | 2  |        |                    | 删除 |
    """}, {"抽样!C2": ["sample-household-count"] * 2})  # 石门村: 4 建档立卡贫困户, 6 脱贫户, 5 普通农户

    assert sorted("建档立卡贫困户有 4 户" in f.message or "脱贫户有 6 户" in f.message
                  for f in result.findings) == [True, True]


def test_one_cadre_interview_is_sample_interview_count() -> None:
    result = assert_findings({"访谈记录": """
        | 行 | 操作 |
        | 2  | 删除 |
    """}, {"抽样!C2": "sample-interview-count"})  # 石门村's first 乡村干部访谈

    assert "乡村干部访谈有 1 人" in result.findings[0].message


def test_a_sampled_village_without_a_village_check_is_village_check_missing() -> None:
    assert_findings({"村级核查": """
        | 行 | 操作 |
        | 3  | 删除 |
    """}, {"抽样!C3": "village-check-missing"})  # 高寨村


def test_a_village_checked_twice_is_village_check_duplicate_at_the_second_row() -> None:
    assert_findings({"村级核查": """
        | 行 | 复制自 |
        | 4  | 2      |
    """}, {"村级核查!B4": "village-check-duplicate"})


def test_a_household_in_a_village_not_sampled_is_village_not_sampled() -> None:
    assert_findings({"农户调查": """
        | 行 | 村       |
        | 2  | 石门新村 |
    """}, {"抽样!C2": "sample-household-count", "农户调查!B2": "village-not-sampled"})


def test_an_interview_in_a_village_not_sampled_is_village_not_sampled() -> None:
    assert_findings({"访谈记录": """
        | 行 | 乡镇   | 村     | 访谈类型     | 姓名  | 职务或单位 | 熟悉帮扶户情况 | 访谈结果 |
        | 10 | 白云乡 | 坪上村 | 乡村干部访谈 | 村干9 | 村主任     | 是             | 属实     |
    """}, {"访谈记录!B10": "village-not-sampled"})


# --- completeness: answered ÷ required-and-relevant ------------------------------------------------------------------

# Per village: households 5 × 32 (建档立卡) + 5 × 28 (脱贫户) + 5 × 18 (普通农户) = 390, its 「村级核查」 row 7
# (5 + 2 health fields in a health month), interviews 2 × 7 (乡村干部) + 2 × 9 (帮扶干部, with phone and 是否接通) = 32.
VILLAGE_REQUIRED = 390 + 7 + 32


def completeness_of(changes: dict[str, str], base: dict[str, list[list[Any]]] | None = None,
                    expected: dict[str, str] | None = None) -> dict[str, tuple[int, int]]:
    result = assert_findings(changes, expected or {}, base=base)
    return {c.scope: (c.answered, c.required) for c in result.per_sheet + result.per_village}


def test_one_missing_answer_in_one_village_lowers_that_village_and_sheet_by_one() -> None:
    completeness = completeness_of({"访谈记录": """
        | 行 | 访谈结果 |
        | 2  |          |
    """}, base=valid_sheets(key_item=N_HEALTH), expected={"访谈记录!I2": "required-missing"})

    assert completeness == {
        "基本信息": (11, 11), "抽样": (8, 8), "农户调查": (780, 780), "村级核查": (14, 14), "访谈记录": (63, 64),
        "县级核查": (21, 21),
        "青山镇石门村": (VILLAGE_REQUIRED - 1, VILLAGE_REQUIRED), "白云乡高寨村": (VILLAGE_REQUIRED, VILLAGE_REQUIRED),
    }


def test_a_condition_that_makes_a_field_relevant_adds_to_the_required_count() -> None:
    completeness = completeness_of({"农户调查": """
        | 行 | 群众认可 | 不认可原因 |
        | 17 | 不认可   |            |
    """}, expected={"农户调查!AS17": "required-if-missing"})  # 高寨村: now 不认可原因 is needed, and empty

    assert completeness["农户调查"] == (780, 781)
    assert completeness["白云乡高寨村"] == (VILLAGE_REQUIRED, VILLAGE_REQUIRED + 1)


def test_an_unreadable_value_counts_as_unanswered_and_is_reported_once() -> None:
    completeness = completeness_of({"农户调查": """
        | 行 | 家庭人口 |
        | 2  | 四口     |
    """}, expected={"农户调查!G2": "integer-invalid"})

    assert completeness["农户调查"] == (779, 780)


def test_form_completeness_counts_the_months_key_item_figures() -> None:
    completeness = completeness_of({"基本信息": """
        | 项目   | 填写内容 |
        | 督查组 |          |
    """, "县级核查": """
        | 项目     | 填写内容 |
        | 行政村数 |          |
    """}, base=valid_sheets(key_item=N_HEALTH),
        expected={"基本信息!B3": "required-missing", "县级核查!B20": "key-item-field-missing"})

    assert completeness["基本信息"] == (10, 11)  # 督查结束日期 is optional
    assert completeness["县级核查"] == (20, 14 + 7)  # 14 figures always, 7 for 健康扶贫


def test_key_item_fields_raise_the_household_count_in_their_month(tmp_path: Path) -> None:
    result = check_sheets(tmp_path, valid_sheets(key_item=N_EDUCATION))
    completeness = {c.scope: (c.answered, c.required) for c in result.per_sheet}

    # 义务教育阶段子女数 for 30 households, 享受两免一补 and 高中阶段免学费及助学金 for 20 registered ones
    assert completeness["农户调查"] == (780, 780 + 30 + 20 + 20)
