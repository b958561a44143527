"""Cross-answer checks the plan implies, the 「参数」 settings, and the composition rules each 督查方式 binds."""

from __future__ import annotations

from pathlib import Path

import pytest

from ducha.model.findings import Severity
from markdown_workbook import check_sheets, found, records_of, set_cell, set_form, valid_sheets

EXITED, ORDINARY = 5, 10  # first 脱贫户 and first 普通农户 of 石门村 (rows 7 and 12)


@pytest.mark.parametrize(("detail", "detail_value", "guarantee", "guarantee_value", "code"), [
    ("参加新农合", "否", "基本医疗有保障", "是", "answer-conflict-medical"),
    ("住危房", "是", "住房安全有保障", "是", "answer-conflict-housing"),
])
def test_a_contradicting_answer_is_a_warning_at_the_guarantee_cell(tmp_path: Path, detail, detail_value,
                                                                    guarantee, guarantee_value, code) -> None:
    sheets = valid_sheets()
    other = set_cell(sheets, "农户调查", detail, EXITED, detail_value)
    cell = set_cell(sheets, "农户调查", guarantee, EXITED, guarantee_value)

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [(code, "农户调查", cell)]
    assert result.findings[0].severity is Severity.WARNING
    assert f"（{other}）" in result.findings[0].message and f"采用「{guarantee}」的回答" in result.findings[0].message


def test_no_school_children_with_education_not_secured_is_a_warning(tmp_path: Path) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "义务教育阶段子女数", ORDINARY, 0)
    cell = set_cell(sheets, "农户调查", "义务教育有保障", ORDINARY, "否")

    assert found(check_sheets(tmp_path, sheets)) == [("answer-conflict-education", "农户调查", cell)]


def test_consistent_answers_raise_nothing(tmp_path: Path) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "参加新农合", ORDINARY, "否")
    set_cell(sheets, "农户调查", "基本医疗有保障", ORDINARY, "否")  # not enrolled, and said so
    set_cell(sheets, "农户调查", "义务教育阶段子女数", EXITED, 0)
    set_cell(sheets, "农户调查", "义务教育有保障", EXITED, "不涉及")

    assert found(check_sheets(tmp_path, sheets)) == []


def _setting_row(sheets, name: str) -> int:
    return next(i for i, r in enumerate(sheets["参数"]) if r[1] == name)


def test_an_invalid_setting_option_is_an_error_at_its_cell(tmp_path: Path) -> None:
    sheets = valid_sheets()
    row = _setting_row(sheets, "判定采用的扶贫标准口径")
    sheets["参数"][row][6] = "省定"

    result = check_sheets(tmp_path, sheets)

    assert found(result) == [("setting-invalid", "参数", f"G{row + 1}")]
    assert "应为 国家、地方" in result.findings[0].message and "默认值「国家」" in result.findings[0].message
    assert result.parsed.parameters.settings.line_scope == "国家"


def test_settings_are_read_from_the_parameters_sheet(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["参数"][_setting_row(sheets, "稳定收入不计一次性收入")][6] = "是"
    sheets["参数"][_setting_row(sheets, "参数版本")][6] = "2019.3-州督查办"

    settings = check_sheets(tmp_path, sheets).parsed.parameters.settings

    assert (settings.exclude_one_off_income, settings.version) == (True, "2019.3-州督查办")


def _short_village(sheets) -> None:
    """Drop the last 普通农户 of 石门村: 4 instead of 5."""
    last = records_of(sheets, "农户调查", "石门村")[-1]
    sheets["农户调查"].remove(last)


def test_random_inspection_requires_the_five_five_five_composition(tmp_path: Path) -> None:
    sheets = valid_sheets()
    _short_village(sheets)

    result = check_sheets(tmp_path, sheets)

    assert [(f.code, f.severity) for f in result.findings] == [("sample-household-count", Severity.ERROR)]


@pytest.mark.parametrize("mode", ["重点督查", "暗访回访"])
def test_other_modes_make_the_composition_advisory_and_say_so(tmp_path: Path, mode: str) -> None:
    sheets = valid_sheets()
    _short_village(sheets)
    cell = set_form(sheets, "基本信息", "督查方式", mode)

    result = check_sheets(tmp_path, sheets)

    assert sorted((f.code, f.severity, f.cell) for f in result.findings) == sorted([
        ("sample-household-count", Severity.INFO, "C2"), ("mode-composition-relaxed", Severity.INFO, cell)])
    count = next(f for f in result.findings if f.code == "sample-household-count")
    assert count.message.endswith(f"（督查方式为「{mode}」，此项只约束随机暗访，仅作提示）")
    assert result.errors == 0


def test_a_parameters_sheet_from_an_older_template_keeps_the_defaults(tmp_path: Path) -> None:
    sheets = valid_sheets()
    sheets["参数"] = [row[:6] for row in sheets["参数"] if row[0] != "设置"]  # no 选项 column, no 设置 rows

    result = check_sheets(tmp_path, sheets)

    assert [(f.code, f.severity) for f in result.findings] == [("column-missing", Severity.INFO)]
    settings = result.parsed.parameters.settings
    assert (settings.line_scope, settings.exclude_one_off_income, settings.version) == ("国家", False, "未注明")
