"""Scoring: every rule kind with hand-computed points, caps and floors, vetoes, the N item, and the 「评分」 sheet."""

import json

import pytest
from openpyxl import Workbook, load_workbook

from ducha.model.parameters import DEFAULT_PARAMETERS, Parameters, PovertyLine, Settings, Thresholds
from ducha.model.schema import BASIC, COUNTY, HOUSEHOLDS, N_HEALTH, N_LIVING, VILLAGES
from ducha.scoring.export import evaluation_dict
from ducha.scoring.indicators import SPECS, compute_indicators
from ducha.scoring.judgments import judge_households
from ducha.scoring.rubric import DEFAULT_RUBRIC, rubric_from_dict
from ducha.scoring.scorecard import score_inspection
from ducha.sheets.outputplan import Formula
from ducha.sheets.score_sheet import EVIDENCE_SHEET, VILLAGE_EVIDENCE_SHEET, score_workbook
from libreoffice import convert
from records_factory import clean_sample, county, household, make_data, village


def rubric_with(key, rules, max_points=None):
    """The default rubric with item `key`'s rules replaced."""
    raw = json.loads(DEFAULT_RUBRIC.model_dump_json())
    item = next(i for i in raw["items"] if i["key"] == key)
    item["rules"] = rules
    if max_points is not None:
        item["max_points"] = max_points
    return rubric_from_dict(raw)


def score(data, rubric=DEFAULT_RUBRIC, key_item=None):
    judgments = judge_households(data)
    return score_inspection(data, judgments, compute_indicators(data, judgments), rubric, key_item)


def target(indicator, goal, per_point, cap=None, **kw):
    return {"kind": "target_deduct_per_point", "indicator": indicator, "target": goal, "per_point": per_point,
            "max_deduction": cap, **kw}


def test_clean_sample_scores_full_marks_under_the_default_rubric():
    card = score(clean_sample())
    assert (card.total, card.max_total, card.red_flags) == (100, 100, ())
    assert [i.key for i in card.items] == ["1", "2", "3", "4", "5", "6", "N1"]
    assert (card.rubric_name, card.rubric_version) == (DEFAULT_RUBRIC.name, DEFAULT_RUBRIC.version)


def test_target_rule_deducts_per_percentage_point_below_target():
    card = score(make_data(county_values=county(funds_integrated=7200.0)),  # 90%: 10 points short × 0.2
                 rubric_with("5", [target("funds_integration", 1.0, 0.2)]))
    item = card.item("5")
    assert item.points == pytest.approx(8.0)
    assert [d.points for d in item.deductions] == [pytest.approx(2.0)]
    assert "低于目标 100% 10.00 个百分点" in item.deductions[0].reason
    assert [e.cell for e in item.deductions[0].evidence] == ["B15", "B14"]


def test_target_rule_at_most_deducts_above_target():
    data = make_data([household("exited", housing_secured="否")] + [household("exited") for _ in range(3)])
    rubric = rubric_with("6", [target("wrong_exit_rate", 0.1, 0.1, direction="at_most")])
    item = score(data, rubric).item("6")  # 4 of 16 people = 25%: 15 points above 10%
    assert item.points == pytest.approx(10 - 1.5)
    assert [e.row for e in item.deductions[0].evidence] == [2]


def test_target_rule_is_capped_by_its_limit_then_by_the_item():
    data = make_data(county_values=county(relocation_done=250))  # 50%: 50 points short × 0.2 = 10
    capped = score(data, rubric_with("3", [target("relocation_completion", 1.0, 0.2, cap=4)])).item("3")
    floored = score(data, rubric_with("3", [target("relocation_completion", 1.0, 0.5)])).item("3")
    assert (capped.points, capped.deductions[0].points) == (6.0, 4.0)
    assert capped.deductions[0].reason.endswith("（扣至上限）")
    assert floored.points == 0.0


def test_target_rule_no_sample_never_deducts_and_missing_data_deducts_the_limit():
    no_sample = score(make_data(county_values=county(funds_available=0.0))).item("5")
    missing = score(make_data(county_values=county(risk_fund_in_place=None))).item("4")
    lenient = score(make_data(county_values=county(risk_fund_in_place=None)),
                    rubric_with("4", [target("risk_fund", 1.0, 0.1, cap=3, on_missing="none")])).item("4")
    assert no_sample.points == 10
    assert (missing.points, missing.deductions[0].points) == (7.0, 3.0)
    assert "缺数据" in missing.deductions[0].reason
    assert lenient.points == 10


def test_case_rule_deducts_per_household_up_to_its_limit():
    data = make_data([household("exited", housing_secured="否", _row=r) for r in (4, 9, 12)])
    item = score(data).item("6")  # 错退 2 points each, at most 4
    wrong_exit = [d for d in item.deductions if d.indicator == "wrong_exit_rate"]
    assert [d.points for d in wrong_exit] == [2.0, 2.0, 0.0]
    assert wrong_exit[2].reason.endswith("（已达扣分上限）")
    assert [d.evidence[0].row for d in wrong_exit] == [4, 9, 12]
    assert "住房安全没有保障" in wrong_exit[0].reason
    assert item.points == 6.0


def test_case_rule_counts_households_even_where_the_rate_counts_people():
    data = make_data([household("ordinary", household_size=9, income_per_head=100.0), household("ordinary")])
    item = score(data).item("6")
    assert [d.points for d in item.deductions] == [2.0]


def test_case_rule_on_villages_names_the_village():
    data = make_data([], [village(), village(township="乙乡", village="二村", has_village_plan="否")])
    item = score(data).item("N1")
    assert item.points == 36
    assert item.deductions[0].reason == "无精准扶贫规划的村：乙乡二村（村级核查第 3 行）"


def test_document_rule_deducts_per_missing_document_where_the_field_applies():
    rules = [{"kind": "deduct_per_missing_document", "documents": ["meeting_minutes", "publicity_records"],
              "per_document": 0.5, "max_deduction": 5}]
    data = make_data([household("poor", meeting_minutes="否", publicity_records="否"),
                      household("poor", meeting_minutes="否"),
                      household("ordinary", meeting_minutes="否")])  # not asked of ordinary households
    item = score(data, rubric_with("1", rules)).item("1")
    assert [d.points for d in item.deductions] == [1.0, 0.5]
    assert item.points == 8.5
    assert [e.cell for e in item.deductions[0].evidence] == ["U2", "T2"]


def test_document_rule_on_villages():
    rules = [{"kind": "deduct_per_missing_document", "sheet": "villages", "documents": ["has_village_plan"],
              "per_document": 3}]
    item = score(make_data([], [village(has_village_plan="否")]), rubric_with("N1", rules)).item("N1")
    assert item.points == 37


def test_veto_flags_without_changing_points_by_default():
    data = make_data([household("exited", housing_secured="否"), household("exited")])
    card = score(data)
    assert [f.indicator for f in card.red_flags] == ["wrong_exit_rate"]
    assert card.red_flags[0].reason == "脱贫人口错退率 50.00%，超过 2%（仅标红旗）"
    assert card.item("6").points == 8


def test_veto_can_zero_the_item_or_the_total():
    data = make_data([household("exited", housing_secured="否"), household("exited")])
    veto = {"kind": "veto", "indicator": "wrong_exit_rate"}
    item = score(data, rubric_with("6", [{**veto, "effect": "zero_item"}])).item("6")
    total = score(data, rubric_with("6", [{**veto, "effect": "zero_total"}]))
    assert item.points == 0 and item.deductions[-1].reason.startswith("一票否决")
    assert total.total == 0 and all(i.points == 0 for i in total.items)


def test_veto_with_its_own_threshold():
    data = make_data([household("ordinary", recognition="不认可")] + [household("ordinary") for _ in range(14)])
    rule = {"kind": "veto", "indicator": "recognition_rate", "threshold": 0.95}
    assert score(data).red_flags == ()  # 14 of 15 = 93.3% meets the national 90%
    assert [f.threshold for f in score(data, rubric_with("6", [rule])).red_flags] == [0.95]


def test_items_never_go_below_zero():
    data = make_data([household("exited", housing_secured="否") for _ in range(5)] +
                     [household("ordinary", income_per_head=1.0) for _ in range(5)])
    rules = [{"kind": "deduct_per_case", "indicator": "wrong_exit_rate", "per_case": 3},
             {"kind": "deduct_per_case", "indicator": "missed_rate", "per_case": 3}]
    item = score(data, rubric_with("6", rules)).item("6")
    assert item.points == 0 and sum(d.points for d in item.deductions) == 10


def test_total_is_the_sum_of_the_items():
    data = make_data([household("poor", form_complete="否"), household("exited", water_secured="否")],
                     [village(team_resident="否")], county(loans_now=950.0))
    card = score(data)
    assert card.total == pytest.approx(sum(i.points for i in card.items))
    assert card.total == pytest.approx(100 - 2 - 1 - 2 - 4)  # item 1, loans 5 pp × 0.2, 错退, 驻村


def test_n_item_comes_from_the_workbook_or_the_argument():
    data = make_data(key_item=N_LIVING)
    assert score(data).key_item == "N4"
    assert score(data, key_item="N5").key_item == "N5"


def test_without_an_n_item_the_forty_points_are_lost_with_a_reason():
    card = score(make_data(key_item=None))
    assert (card.key_item, card.items[-1].key, card.items[-1].points, card.max_total) == (None, "N", 0, 100)
    assert "本月重点督查内容" in card.items[-1].deductions[0].reason


def test_score_sheet_has_formulas_for_every_ratio_and_a_chart():
    out = score_workbook(clean_sample())
    sheet = out.plan.sheets[0]
    assert [s.name for s in out.plan.sheets] == ["评分", "跟进清单", EVIDENCE_SHEET, VILLAGE_EVIDENCE_SHEET]
    assert sheet.rows[2][:2] == ["总分", Formula("SUM(D8:D14)", 100)]
    formulas = {(r, c) for r, row in enumerate(sheet.rows, 1) for c, v in enumerate(row) if isinstance(v, Formula)}
    assert len(formulas) == len(out.expected)
    assert out.expected[("评分", "B3")] == 100
    (chart,) = sheet.charts
    assert (chart.categories, chart.series, chart.value_range) == ("A8:A14", (("E7", "E8:E14"),), (0.0, 1.0))
    assert DEFAULT_RUBRIC.version in sheet.rows[2][5]


def test_score_sheet_counts_people_with_sumif_over_the_evidence_sheet():
    out = score_workbook(make_data([household("exited", household_size=3, housing_secured="否"),
                                    household("exited", household_size=7)]))
    row = next(r for r in out.plan.sheets[0].rows if len(r) > 5 and r[1] == "脱贫人口错退率")
    assert row[2] == Formula("SUMIF('判定明细'!$I$2:$I$3,\"是\",'判定明细'!$G$2:$G$3)", 3)
    values = {cell: v for (_, cell), v in out.expected.items()}
    number = out.plan.sheets[0].rows.index(row) + 1
    assert (values[f"C{number}"], values[f"D{number}"], values[f"E{number}"]) == (3, 10, 0.3)


def test_county_ratios_refer_to_the_county_sheet_cells():
    out = score_workbook(make_data())
    row = next(r for r in out.plan.sheets[0].rows if len(r) > 5 and r[1] == "整合资金投入到位率")
    assert row[2].expr == "IF(AND(ISNUMBER('县级核查'!B15)),'县级核查'!B15,\"缺数据\")"


def test_deduction_rows_link_to_their_evidence():
    out = score_workbook(make_data([household("exited", housing_secured="否", _row=6)]))
    links = [link for link in out.plan.sheets[0].links if link.sheet == "农户调查"]
    assert [link.target for link in links] == ["A6"]


def _input_workbook(data, path):
    """A minimal input workbook laid out as records_factory assumes: headers in row 1, form values in column B."""
    wb = Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet(BASIC.name)
    for f in BASIC.fields:
        ws.append([f.header, data.basic.get(f.key)])
    for sheet, frame in ((HOUSEHOLDS, data.households), (VILLAGES, data.villages)):
        ws = wb.create_sheet(sheet.name)
        ws.append([f.header for f in sheet.fields])
        for rec in frame.to_dict("records"):
            ws.append([rec.get(f.key) for f in sheet.fields])
    ws = wb.create_sheet(COUNTY.name)
    ws.append(["项目", "数值", "数据来源"])
    for f in COUNTY.fields:
        ws.append([f.header, data.county.get(f.key), None])
    wb.save(path)


def test_libreoffice_recalculates_every_formula_to_pythons_value(tmp_path):
    from ducha.adapters.xlsx_writer import apply_plan

    data = make_data([household("poor", form_complete="否"), household("poor", income_per_head=None),
                      household("exited", household_size=3, water_secured="否"), household("exited"),
                      household("ordinary", income_per_head=100.0, household_size=5),
                      household("ordinary", recognition="不认可")],
                     [village(), village(village="二村", team_months=2)],
                     county(loans_now=800.0, risk_fund_in_place=None, funds_available=0.0))
    out = score_workbook(data)
    source = tmp_path / "input.xlsx"
    _input_workbook(data, source)
    scored = apply_plan(source, out.plan, tmp_path / "scored.xlsx")
    recalculated = convert(scored, "xlsx", tmp_path / "lo")
    book = load_workbook(recalculated, data_only=True)
    for (sheet, cell), want in out.expected.items():
        got = book[sheet][cell].value
        if isinstance(want, str):
            assert (got or "") == want, (sheet, cell)
        else:
            assert got == pytest.approx(want, abs=1e-9), (sheet, cell)


def test_score_sheet_without_an_n_item_still_renders():
    out = score_workbook(make_data(key_item=None))
    assert out.plan.sheets[0].rows[1][5] == "N 本月重点督查内容（未确定）"
    assert out.expected[("评分", "B3")] == 60


def test_score_output_colours_red_flags_and_sizes_wrapped_rows():
    out = score_workbook(make_data([household("poor", cause_matches="否")]))
    (red_flags,) = out.plan.sheets[0].conditional
    first = min(r for r, row in enumerate(out.plan.sheets[0].rows, 1) if row[:2] == ["1", "识别不准确率（方案口径）"])
    assert (red_flags.range.split(":")[0], red_flags.formula) == (f"H{first}", f'H{first}="红旗"')  # not the header
    reason_row = next(i for i, r in enumerate(out.plan.sheets[0].rows, 1) if len(r) > 5 and r[0] == "1"
                      and isinstance(r[5], str) and r[5].startswith("识别不准确户"))
    assert out.plan.sheets[0].row_heights[reason_row] >= 30


def test_blank_village_answer_and_blank_county_figure_follow_one_missing_data_rule():
    data = make_data([], [village(has_clinic=None), village(village="二村")], county(admin_villages_with_clinic=None),
                     key_item=N_HEALTH)
    item = score(data).item("N2")
    by_indicator = {d.indicator: d for d in item.deductions}
    village_gap, county_gap = by_indicator["clinic_sample"], by_indicator["clinic_villages"]
    # per case (2 points) for the one village whose answer is blank; the county rule's cap (6) for the blank figure
    assert (village_gap.points, county_gap.points, item.points) == (2.0, 6.0, 32.0)
    assert village_gap.reason == "缺数据：甲镇一村（村级核查第 2 行），「有标准化卫生室」未填写，按一例扣分"
    assert county_gap.reason == "有标准化卫生室行政村比率缺数据：县级数据未填写，按细则扣满本条上限"
    lenient = rubric_with("N2", [{"kind": "deduct_per_case", "indicator": "clinic_sample", "per_case": 2,
                                  "on_missing": "none"},
                                 target("clinic_villages", 1.0, 0.2, cap=6, on_missing="none")])
    free = score(data, lenient).item("N2")
    assert free.points == 40
    assert [(d.points, d.reason.endswith("按细则不扣分")) for d in free.deductions] == [(0.0, True), (0.0, True)]


def test_household_without_a_valid_size_is_counted_as_missing_data_not_as_zero_people():
    data = make_data([household("ordinary", household_size=0, income_per_head=1000.0, _row=2),  # 漏评, size unknown
                      household("ordinary", household_size=3, _row=3),
                      household("ordinary", household_size=None, _row=4)])
    card = score(data)
    missed = [d for d in card.item("6").deductions if d.indicator == "missed_rate"]
    # row 2: one 漏评 case (2 points); row 4: 缺数据 charged as one case (2 points); row 2 is not charged twice
    assert [(d.points, d.evidence[0].row) for d in missed] == [(2.0, 2), (2.0, 4)]
    assert card.basis.missing == (("贫困人口漏评率", "2 户缺数据（家庭人口缺失或无效 2）"),)


def test_score_tab_names_the_line_the_settings_and_the_versions():
    params = Parameters(lines=(*DEFAULT_PARAMETERS.lines, PovertyLine(year=2019, yuan=4500, scope="地方",
                                                                      source="省定标准")),
                        settings=Settings(line_scope="地方", version="2019.3"),
                        thresholds=Thresholds(stability_margin=0.1))
    sheet = score_workbook(make_data(parameters=params)).plan.sheets[0]
    block = {r[0]: r[2] for r in sheet.rows[sheet.rows.index(["五、评分依据"]) + 1:]}
    assert block["评分细则"] == f"{DEFAULT_RUBRIC.name}（版本 {DEFAULT_RUBRIC.version}）"
    assert block["参数版本"] == "2019.3"
    assert block["扶贫标准"] == "2019 年地方扶贫标准 4,500 元（省定标准）"
    assert block["改动的设置"] == "判定采用的扶贫标准口径：地方；稳定超过扶贫标准的幅度：0.1"
    assert block["缺数据"] == "无"
    assert block["不评分的指标"].startswith("识别不准确率（方案口径）：")


def test_default_score_tab_says_national_line_and_default_settings():
    sheet = score_workbook(make_data()).plan.sheets[0]
    block = {r[0]: r[2] for r in sheet.rows[sheet.rows.index(["五、评分依据"]) + 1:]}
    assert block["扶贫标准"].startswith("2019 年国家扶贫标准 3,218 元")
    assert (block["参数版本"], block["改动的设置"]) == ("2019.2", "无（均为默认值）")


def test_every_indicator_the_plan_names_is_scored_or_explained_by_the_default_rubric():
    assert DEFAULT_RUBRIC.uncovered() == []
    scored = {r.indicator for i in DEFAULT_RUBRIC.items for r in i.rules if r.kind in ("deduct_per_case",
                                                                                   "target_deduct_per_point")}
    for key in ("road_maintained_sample", "bus_sample", "broadband_sample", "clinic_sample", "doctor_sample",
                "coop_poor_villages_sample", "team_ledger", "help_plan_cause"):
        assert key in scored
    assert set(DEFAULT_RUBRIC.not_scored()) == {"identification_inaccuracy"}


def test_json_export_carries_every_indicator_and_judgment_with_reasons():
    data = make_data([household("exited", exit_year=None, income_per_head=5904.0, _row=2),
                      household("exited", housing_secured="否", household_size=3, _row=3)])
    judgments = judge_households(data)
    indicators = compute_indicators(data, judgments)
    card = score_inspection(data, judgments, indicators, DEFAULT_RUBRIC)
    exported = json.loads(json.dumps(evaluation_dict(judgments, indicators, card), ensure_ascii=False))
    wrong_exit = next(i for i in exported["indicators"] if i["key"] == "wrong_exit_rate")
    assert {k: wrong_exit[k] for k in ("numerator", "denominator", "status", "threshold", "red_flag")} == {
        "numerator": 3, "denominator": 7, "status": "ok", "threshold": 0.02, "red_flag": True}
    assert len(exported["indicators"]) == len(indicators)
    first, second = exported["judgments"]
    assert first["judgments"]["wrong_exit"]["value"] is False
    assert first["judgments"]["wrong_exit"]["notes"][0]["code"] == "exit-year-blank-decided"
    assert second["judgments"]["wrong_exit"]["reasons"] == [{"code": "housing-unsafe", "text": "住房安全没有保障"}]
    assert second["id_number"] == "110105********002X"
    assert exported["basis"]["rubric"]["version"] == DEFAULT_RUBRIC.version


@pytest.mark.parametrize("command", ["score", "run"])
def test_cli_json_of_score_carries_indicators_and_judgments(tmp_path, capsys, command):
    from ducha.app.cli import main
    from markdown_workbook import valid_sheets, write_workbook

    assert main([command, str(write_workbook(tmp_path / "clean.xlsx", valid_sheets())), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    for indicator in report["indicators"]:
        assert {"key", "name", "numerator", "denominator", "value", "status", "threshold", "red_flag"} <= set(indicator)
    assert {i["key"] for i in report["indicators"]} == set(SPECS)
    assert len(report["judgments"]) == 30
    assert report["basis"]["line"].startswith("2019 年国家扶贫标准 3,218 元")


def test_libreoffice_shows_missing_data_where_nothing_could_be_counted(tmp_path):
    from ducha.adapters.xlsx_writer import apply_plan

    data = make_data([household("ordinary", household_size=0, income_per_head=1000.0),
                      household("exited", income_per_head=None)])
    out = score_workbook(data)
    rows = {r[1]: i for i, r in enumerate(out.plan.sheets[0].rows, 1) if len(r) > 5}
    source = tmp_path / "input.xlsx"
    _input_workbook(data, source)
    book = load_workbook(convert(apply_plan(source, out.plan, tmp_path / "scored.xlsx"), "xlsx", tmp_path / "lo"),
                         data_only=True)
    for name in ("贫困人口漏评率", "脱贫人口错退率"):
        assert out.expected[("评分", f"E{rows[name]}")] == "缺数据"
        assert book["评分"][f"E{rows[name]}"].value == "缺数据"


def test_changed_judgment_rules_are_named_on_the_score_tab():
    raw = json.loads(DEFAULT_RUBRIC.model_dump_json())
    raw["judgment_rules"].update(conflicting_answers="detail", exit_lines=["inspection"], income_margin=1.0)
    card = score(make_data(), rubric_from_dict(raw))
    assert card.basis.settings == (("识别不准确收入倍数(细则)", "1"), ("错退对照的扶贫标准年度", "督查年度"),
                                   ("回答矛盾时采用", "明细项的回答"))
