"""The rubric: the shipped default, JSON and 「评分细则」 sheet loading, and errors that name the item or row."""

import json

import pytest
from openpyxl import Workbook

from ducha.scoring.indicators import N_ITEMS, SIX_ITEMS, SPECS
from ducha.scoring.rubric import (
    DEFAULT_RUBRIC,
    HEADER,
    RUBRIC_SHEET,
    RubricError,
    load_rubric,
    rubric_from_dict,
    rubric_from_json,
    rubric_from_rows,
    rubric_rows,
)


def default_dict():
    return json.loads(DEFAULT_RUBRIC.model_dump_json())


def item_of(raw, key):
    return next(i for i in raw["items"] if i["key"] == key)


def test_default_rubric_is_six_times_ten_plus_forty_for_each_n_item():
    assert DEFAULT_RUBRIC.name and DEFAULT_RUBRIC.version
    assert [DEFAULT_RUBRIC.item(k).max_points for k in SIX_ITEMS] == [10] * 6
    assert [DEFAULT_RUBRIC.item(k).max_points for k in N_ITEMS] == [40] * 5


def test_default_rubric_uses_every_rule_kind_and_only_indicators_of_the_item():
    kinds = {r.kind for i in DEFAULT_RUBRIC.items for r in i.rules}
    assert kinds == {"target_deduct_per_point", "deduct_per_case", "deduct_per_missing_document", "veto", "not_scored"}
    for item in DEFAULT_RUBRIC.items:
        assert item.rules, item.key
        assert all(SPECS[r.indicator].item == item.key for r in item.rules if hasattr(r, "indicator"))


def test_default_rubric_vetoes_the_three_national_thresholds():
    vetoes = {r.indicator for r in DEFAULT_RUBRIC.item("6").rules if r.kind == "veto"}
    assert vetoes == {"wrong_exit_rate", "missed_rate", "recognition_rate"}


def test_json_file_round_trip(tmp_path):
    path = tmp_path / "rubric.json"
    path.write_text(DEFAULT_RUBRIC.model_dump_json(indent=2), encoding="utf-8")
    assert load_rubric(path) == DEFAULT_RUBRIC


def test_error_names_the_item_the_rule_and_the_field():
    raw = default_dict()
    item_of(raw, "6")["rules"][0]["per_case"] = 0
    with pytest.raises(RubricError) as error:
        rubric_from_dict(raw)
    assert error.value.problems == ["项目 6 第 1 条规则「每例扣分」：应大于 0"]


def test_unknown_rule_kind_is_reported():
    raw = default_dict()
    item_of(raw, "3")["rules"][0]["kind"] = "bonus"
    with pytest.raises(RubricError, match=r"项目 3 第 1 条规则.*规则类型「bonus」无效"):
        rubric_from_dict(raw)


def test_indicator_of_another_item_is_rejected():
    raw = default_dict()
    item_of(raw, "2")["rules"][0]["indicator"] = "wrong_exit_rate"
    with pytest.raises(RubricError, match="第 1 条规则：指标「脱贫人口错退率」属于项目 6，不属于项目 2"):
        rubric_from_dict(raw)


def test_per_case_rule_needs_a_sample_indicator():
    raw = default_dict()
    item_of(raw, "3")["rules"] = [{"kind": "deduct_per_case", "indicator": "relocation_completion", "per_case": 1}]
    with pytest.raises(RubricError, match="县级指标，不能按例扣分"):
        rubric_from_dict(raw)


def test_target_written_as_a_percentage_number_is_rejected():
    raw = default_dict()
    item_of(raw, "5")["rules"][0]["target"] = 90
    with pytest.raises(RubricError, match=r"90% 写作 0\.9"):
        rubric_from_dict(raw)


def test_veto_on_an_indicator_without_a_national_threshold_needs_one():
    raw = default_dict()
    item_of(raw, "5")["rules"].append({"kind": "veto", "indicator": "funds_integration"})
    with pytest.raises(RubricError, match="须填写阈值"):
        rubric_from_dict(raw)


def test_missing_item_and_wrong_total_are_reported():
    raw = default_dict()
    raw["items"] = [i for i in raw["items"] if i["key"] != "N5"]
    with pytest.raises(RubricError, match="缺少 N5"):
        rubric_from_dict(raw)
    raw = default_dict()
    item_of(raw, "N2")["max_points"] = 30
    with pytest.raises(RubricError, match="N2"):
        rubric_from_dict(raw)


def test_unknown_document_field_is_reported():
    raw = default_dict()
    item_of(raw, "1")["rules"][1]["documents"] = ["minutes"]
    with pytest.raises(RubricError, match="没有是/否项 minutes"):
        rubric_from_dict(raw)


def test_invalid_json_names_the_line():
    with pytest.raises(RubricError, match="第 2 行"):
        rubric_from_json('{"name": "x",\n "version": }')


def test_sheet_rows_round_trip():
    rows = rubric_rows(DEFAULT_RUBRIC)
    assert rows[4] == list(HEADER)
    assert rubric_from_rows(rows) == DEFAULT_RUBRIC


def test_sheet_accepts_percent_text_and_chinese_labels():
    rows = rubric_rows(DEFAULT_RUBRIC)
    row = next(r for r in rows if len(r) > 3 and r[3] == "整合资金投入到位率")
    row[4] = "95%"
    rubric = rubric_from_rows(rows)
    assert rubric.item("5").rules[0].target == pytest.approx(0.95)


def test_sheet_error_names_the_excel_row_and_column():
    rows = rubric_rows(DEFAULT_RUBRIC)
    rows[6][6] = "半分"  # the 扣分 of the second rule of item 1, on Excel row 7
    rows[7][2] = "加分"  # an unknown rule kind on row 8
    with pytest.raises(RubricError) as error:
        rubric_from_rows(rows)
    assert error.value.problems[0] == "「评分细则」第 7 行「扣分」：应为数字"
    assert error.value.problems[1].startswith("「评分细则」第 8 行「规则类型」：规则类型「加分」无效")


def test_sheet_conflicting_maximum_is_reported():
    rows = rubric_rows(DEFAULT_RUBRIC)
    rows[6][1] = 12
    with pytest.raises(RubricError, match="第 7 行「满分」：项目 1 的满分已在第 6 行写为 10"):
        rubric_from_rows(rows)


def test_sheet_without_header_is_reported():
    with pytest.raises(RubricError, match="找不到表头行"):
        rubric_from_rows([["细则名称", "x"]])


def test_workbook_with_a_rubric_sheet_loads(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = RUBRIC_SHEET
    for row in rubric_rows(DEFAULT_RUBRIC):
        ws.append(row)
    path = tmp_path / "细则.xlsx"
    wb.save(path)
    assert load_rubric(path) == DEFAULT_RUBRIC


def test_workbook_without_the_sheet_is_reported(tmp_path):
    path = tmp_path / "other.xlsx"
    Workbook().save(path)
    with pytest.raises(RubricError, match="没有「评分细则」工作表"):
        load_rubric(path)


def test_an_indicator_left_without_a_rule_or_a_reason_is_listed_as_uncovered():
    raw = default_dict()
    item_of(raw, "N4")["rules"] = [r for r in item_of(raw, "N4")["rules"] if r.get("indicator") != "bus_sample"]
    assert rubric_from_dict(raw).uncovered() == ["bus_sample"]


def test_not_scored_needs_its_reason_and_round_trips_through_the_sheet():
    raw = default_dict()
    item_of(raw, "1")["rules"][-1]["note"] = ""
    with pytest.raises(RubricError, match="项目 1 第 3 条规则「说明」：不能为空"):
        rubric_from_dict(raw)
    rows = rubric_rows(DEFAULT_RUBRIC)
    row = next(r for r in rows if len(r) > 2 and r[2] == "不评分")
    assert row[3] == "识别不准确率（方案口径）" and row[-1].startswith("方案公式的分子是识别不准确户")


def test_missing_data_cost_is_per_rule_and_per_case_only_for_case_rules():
    case_rule = next(r for r in DEFAULT_RUBRIC.item("6").rules if r.kind == "deduct_per_case")
    target_rule = DEFAULT_RUBRIC.item("5").rules[0]
    assert (case_rule.on_missing, target_rule.on_missing) == ("per_case", "deduct_max")
    raw = default_dict()
    item_of(raw, "5")["rules"][0]["on_missing"] = "per_case"
    with pytest.raises(RubricError, match="项目 5 第 1 条规则「缺数据时」"):
        rubric_from_dict(raw)
