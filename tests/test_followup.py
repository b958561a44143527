"""Follow-up flags, the 「跟进清单」 sheet and the marks on flagged input rows."""

import pytest

from ducha.model.findings import Severity
from ducha.scoring.followup import build_flags, mask_id
from ducha.scoring.indicators import compute_indicators
from ducha.scoring.judgments import judge_households
from ducha.scoring.rubric import DEFAULT_RUBRIC
from ducha.scoring.scorecard import score_inspection
from ducha.sheets.score_sheet import score_workbook
from records_factory import clean_sample, county, household, make_data, village


def flags_of(data):
    judgments = judge_households(data)
    indicators = compute_indicators(data, judgments)
    return build_flags(data, judgments, indicators, score_inspection(data, judgments, indicators, DEFAULT_RUBRIC))


@pytest.mark.parametrize(("id_number", "masked"), [
    ("11010519491231002X", "110105********002X"),
    ("440524188001010014", "440524********0014"),
    ("440524800101001", "440524*****1001"),
    ("1234", "****"),
    (None, ""),
])
def test_mask_id_keeps_the_first_six_and_the_last_four(id_number, masked):
    assert mask_id(id_number) == masked


def test_a_clean_sample_has_no_flags():
    assert flags_of(clean_sample()) == []


def test_household_flags_carry_where_why_severity_and_action():
    flags = flags_of(make_data([household("poor", cause_matches="否", township="乙乡", village="二村",
                                           head_name="李四", _row=9)]))
    (flag,) = flags
    assert (flag.level, flag.severity, flag.sheet, flag.row) == ("农户", Severity.ERROR, "households", 9)
    assert (flag.township, flag.village, flag.household) == ("乙乡", "二村", "李四")
    assert flag.masked_id == "110105********002X"
    assert (flag.problem, [r.code for r in flag.reasons]) == ("识别不准确", ["cause-mismatch"])
    assert "两公示一公告" in flag.action


def test_each_problem_has_its_severity():
    flags = flags_of(make_data([household("exited", water_secured="否"), household("ordinary", income_per_head=1.0),
                                household("ordinary", recognition="不认可"), household("poor", form_complete=None)]))
    household_flags = [f for f in flags if f.level == "农户"]
    assert [(f.problem, f.severity) for f in household_flags] == [
        ("错退", Severity.ERROR), ("漏评", Severity.ERROR), ("不认可", Severity.WARNING),
        ("识别不准确无法判定", Severity.INFO)]


def test_one_household_with_several_problems_is_one_flag_with_the_worst_severity():
    (flag, *_) = flags_of(make_data([household("poor", form_complete="否", recognition="不认可", has_help_plan="否")]))
    assert flag.problem == "识别不准确；不认可；无帮扶计划的户"
    assert flag.severity == Severity.ERROR


def test_village_flags_list_the_failed_checks_of_the_scored_items():
    flags = flags_of(make_data([], [village(has_village_plan="否", has_clinic="否", _row=4)]))
    (flag,) = flags  # has_clinic belongs to N2, not this month's N1
    assert (flag.level, flag.row, flag.problem) == ("村", 4, "无精准扶贫规划的村")


def test_county_flags_point_at_the_figure_and_red_flags_at_the_score():
    flags = flags_of(make_data([household("exited", housing_secured="否")], [],
                               county(relocation_done=400, risk_fund_due=None)))
    county_flags = [f for f in flags if f.level == "县"]
    assert [(f.sheet, f.cell, f.indicator) for f in county_flags] == [
        ("score", "", "wrong_exit_rate"), ("county", "B7", "relocation_completion"), ("county", "B10", "risk_fund")]
    assert county_flags[2].action.startswith("补填县级数据")


def test_follow_up_sheet_has_one_row_per_flag_with_a_link_to_the_source():
    from ducha.sheets.followup_sheet import HEADERS

    out = score_workbook(make_data([household("exited", housing_secured="否", _row=5)]))
    sheet = out.plan.sheets[1]
    assert sheet.name == "跟进清单"
    header = sheet.rows.index(HEADERS)
    rows = sheet.rows[header + 1:]
    source, level = HEADERS.index("来源"), HEADERS.index("跟进级别")
    assert [r[1] for r in rows] == ["农户", "县"]
    assert rows[0][6] == "110105********002X" and rows[0][source] == "农户调查 第 5 行"
    assert {r[level] for r in rows} <= {"重点跟进", "一般跟进", "补充资料"}
    assert [(link.cell, link.sheet, link.target) for link in sheet.links] == [
        (f"K{header + 2}", "农户调查", "A5"), (f"K{header + 3}", "评分", f"E{_score_row(out, '脱贫人口错退率')}")]


def _score_row(out, name):
    return next(i for i, r in enumerate(out.plan.sheets[0].rows, 1) if len(r) > 5 and r[1] == name)


def test_flagged_input_rows_are_marked_with_a_note_and_values_are_untouched():
    data = make_data([household("ordinary", income_per_head=1.0, _row=3)], [village(team_resident="否", _row=2)],
                     county(funds_integrated=100.0))
    before = data.households.copy()
    marks = score_workbook(data).plan.marks
    assert [(m.sheet, m.cell, m.severity, m.follow_up) for m in marks] == [
        ("农户调查", "A3:AW3", Severity.ERROR, True), ("村级核查", "A2:U2", Severity.WARNING, True),
        ("县级核查", "A15:D15", Severity.WARNING, True)]  # the whole row: a figure to follow up, not a cell to fix
    assert marks[0].note.startswith("【重点跟进】督查发现：漏评。原因：年人均纯收入 1 元，"
                                    "低于 2019 年国家扶贫标准 3,218 元")
    assert data.households.equals(before)


def test_running_twice_gives_the_same_output():
    data = make_data([household("exited", housing_secured="否")], [village(has_village_plan="否")])
    first, second = score_workbook(data), score_workbook(data)
    assert first.plan == second.plan and first.expected == second.expected


def test_evidence_sheet_links_each_household_to_its_row_and_masks_ids():
    out = score_workbook(make_data([household("poor", _row=7)]))
    evidence = next(s for s in out.plan.sheets if s.name == "判定明细")
    assert evidence.rows[1][:7] == [7, "甲镇", "一村", "建档立卡贫困户", "张三", "110105********002X", 4]
    assert [(link.cell, link.target) for link in evidence.links] == [("A2", "A7")]


def test_missing_data_is_flagged_where_it_is_with_a_request_to_fill_it_in():
    flags = flags_of(make_data([household("poor", has_help_plan=None, _row=2),
                                household("ordinary", household_size=0, income_per_head=1000.0, _row=3)],
                               [village(has_village_plan=None, _row=2)]))
    by_row = {(f.level, f.row): f for f in flags if f.level in ("农户", "村")}
    poor = by_row[("农户", 2)]
    assert (poor.problem, poor.severity) == ("缺数据：「有帮扶计划」未填写", Severity.INFO)
    assert by_row[("农户", 2)].action == "补填缺失的调查数据后重新运行评分"
    assert by_row[("农户", 3)].problem == "漏评；缺数据：家庭人口缺失或无效"
    assert (by_row[("村", 2)].problem, by_row[("村", 2)].severity) == ("缺数据：「有贫困村精准扶贫规划」未填写",
                                                                       Severity.INFO)


def test_actions_come_from_the_indicator_specs():
    (flag,) = flags_of(make_data([], [village(team_ledger="否", _row=3)]))
    assert flag.problem == "驻村工作队工作台账不齐全的村"
    assert flag.action == "驻村工作队建立健全工作台账，如实记录驻村工作"
