"""Household judgments: each rule, the poverty line of the right year, undeterminable inputs, inspector overrides."""

import pytest
from pydantic import ValidationError

from ducha.model.parameters import DEFAULT_PARAMETERS, Parameters, PovertyLine, Settings, Thresholds
from ducha.scoring.judgments import DEFAULT_RULES, JudgmentRules, judge_households
from records_factory import household, make_data

LINE_2019 = 3218  # DEFAULT_PARAMETERS, inspection month 2019-11
LINE_2018 = 2952  # no 2017/2018 figure: the 2016 line applies


def judge(*households, rules=DEFAULT_RULES, **kw):
    return judge_households(make_data(list(households), **kw), rules)


def codes(judgment):
    return [r.code for r in judgment.reasons]


def test_clean_households_have_no_problems():
    poor, exited, ordinary = judge(household("poor"), household("exited"), household("ordinary"))
    assert (poor.inaccurate.value, exited.wrong_exit.value, ordinary.missed.value) == (False, False, False)
    assert all(j.recognised.value is True and j.problems() == [] for j in (poor, exited, ordinary))


def test_only_the_judgment_of_the_household_type_applies():
    poor, exited, ordinary = judge(household("poor"), household("exited"), household("ordinary"))
    assert (poor.wrong_exit, poor.missed, exited.inaccurate, exited.missed, ordinary.inaccurate) == (None,) * 5


@pytest.mark.parametrize(("field", "code"), [
    ("form_complete", "form-incomplete"),
    ("publicity_records", "no-publicity-record"),
    ("category_matches", "category-mismatch"),
    ("cause_matches", "cause-mismatch"),
])
def test_each_identification_check_answered_no_makes_identification_inaccurate(field, code):
    (j,) = judge(household("poor", **{field: "否"}))
    assert j.inaccurate.value is True
    assert codes(j.inaccurate) == [code]


def test_missing_meeting_minutes_counts_only_when_the_rules_say_so():
    (default,) = judge(household("poor", meeting_minutes="否"))
    (strict,) = judge(household("poor", meeting_minutes="否"),
                      rules=JudgmentRules(identification_checks=("meeting_minutes",)))
    assert default.inaccurate.value is False
    assert strict.inaccurate.value is True and codes(strict.inaccurate) == ["no-meeting-minutes"]


def test_income_above_line_times_margin_fails_the_identification_standard():
    limit = LINE_2019 * 1.5  # 4827
    at, above = judge(household("poor", income_per_head=limit), household("poor", income_per_head=limit + 1))
    assert at.inaccurate.value is False
    assert above.inaccurate.value is True and codes(above.inaccurate) == ["income-above-standard"]
    assert "4,827" in above.inaccurate.reasons[0].text


def test_income_margin_comes_from_the_rules_or_else_the_workbook_parameters():
    income = LINE_2019 * 1.3
    (rule_margin,) = judge(household("poor", income_per_head=income), rules=JudgmentRules(income_margin=1.2))
    params = Parameters(lines=DEFAULT_PARAMETERS.lines, thresholds=Thresholds(income_margin=1.2))
    (param_margin,) = judge(household("poor", income_per_head=income), parameters=params)
    (default,) = judge(household("poor", income_per_head=income))
    assert rule_margin.inaccurate.value is True
    assert param_margin.inaccurate.value is True
    assert default.inaccurate.value is False


def test_exclusion_fields_answered_yes_make_identification_inaccurate():
    rules = JudgmentRules(exclusion_fields=("dilapidated_house",))  # any 是/否 column can carry an exclusion rule
    (j,) = judge(household("poor", dilapidated_house="是"), rules=rules)
    assert j.inaccurate.value is True and codes(j.inaccurate) == ["excluded"]


def test_rules_reject_fields_that_are_not_yes_no_columns():
    with pytest.raises(ValidationError, match="head_name"):
        JudgmentRules(identification_checks=("head_name",))


def test_wrong_exit_when_income_is_not_above_the_inspection_year_line():
    at, above = judge(household("exited", income_per_head=LINE_2019),
                      household("exited", income_per_head=LINE_2019 + 1))
    assert at.wrong_exit.value is True and codes(at.wrong_exit) == ["income-not-above-line"]
    assert above.wrong_exit.value is False


def test_wrong_exit_line_year_is_configurable():
    exited = household("exited", income_per_head=3000.0, exit_year=2018)  # above 2018's 2952, below 2019's 3218
    (exit_only,) = judge(exited, rules=JudgmentRules(exit_lines=("exit",)))
    (inspection_only,) = judge(exited, rules=JudgmentRules(exit_lines=("inspection",)))
    (below_exit_line,) = judge(household("exited", income_per_head=LINE_2018, exit_year=2018),
                               rules=JudgmentRules(exit_lines=("exit",)))
    assert (exit_only.wrong_exit.value, inspection_only.wrong_exit.value) == (False, True)
    assert below_exit_line.wrong_exit.value is True
    assert "脱贫年度（2018 年）适用的 2016 年国家扶贫标准 2,952 元" in below_exit_line.wrong_exit.reasons[0].text


@pytest.mark.parametrize(("field", "code"), [
    ("food_secure", "food-insecure"),
    ("clothing_secure", "clothing-insecure"),
    ("education_secured", "education-unsecured"),
    ("medical_secured", "medical-unsecured"),
    ("housing_secured", "housing-unsafe"),
    ("water_secured", "water-unsafe"),
])
def test_each_unmet_guarantee_makes_an_exited_household_a_wrong_exit(field, code):
    (j,) = judge(household("exited", **{field: "否"}))
    assert j.wrong_exit.value is True and codes(j.wrong_exit) == [code]


def test_education_not_applicable_counts_as_met():
    (j,) = judge(household("exited", education_secured="不涉及"))
    assert j.wrong_exit.value is False


def test_missed_when_an_ordinary_household_is_below_the_line():
    below, at = judge(household("ordinary", income_per_head=LINE_2019 - 1),
                      household("ordinary", income_per_head=LINE_2019))
    assert below.missed.value is True and codes(below.missed) == ["income-below-line"]
    assert at.missed.value is False


@pytest.mark.parametrize("field", ["education_secured", "medical_secured", "housing_secured"])
def test_missed_when_one_of_the_three_guarantees_is_unmet(field):
    (j,) = judge(household("ordinary", **{field: "否"}))
    assert j.missed.value is True


def test_missed_ignores_food_by_default_but_the_rules_can_add_it():
    (default,) = judge(household("ordinary", food_secure="否"))
    (strict,) = judge(household("ordinary", food_secure="否"),
                      rules=JudgmentRules(missed_security_fields=("food_secure",)))
    assert (default.missed.value, strict.missed.value) == (False, True)


def test_a_missing_input_makes_the_judgment_undeterminable_unless_another_rule_fires():
    unknown, found = judge(household("ordinary", income_per_head=None),
                           household("ordinary", income_per_head=None, housing_secured="否"))
    assert unknown.missed.value is None and codes(unknown.missed) == ["undetermined"]
    assert found.missed.value is True and codes(found.missed) == ["housing-unsafe"]


def test_no_poverty_line_for_the_year_makes_income_rules_undeterminable():
    params = Parameters(lines=(PovertyLine(year=2020, yuan=4000),))
    (j,) = judge(household("ordinary"), parameters=params)
    assert j.missed.value is None and codes(j.missed) == ["no-poverty-line"]


def test_inspector_verdict_overrides_and_is_recorded():
    accurate, inaccurate = judge(household("poor", form_complete="否", verdict_accurate="准确"),
                                 household("poor", verdict_accurate="不准确"))
    assert (accurate.inaccurate.value, accurate.inaccurate.auto, accurate.inaccurate.overridden) == (False, True, True)
    assert codes(accurate.inaccurate) == ["inspector-verdict"]
    assert [r.code for r in accurate.inaccurate.auto_reasons] == ["form-incomplete"]
    assert (inaccurate.inaccurate.value, inaccurate.inaccurate.auto) == (True, False)
    assert inaccurate.inaccurate.reasons[0].text == "督查组认定为“不准确”（自动判定：准确）"


def test_verdict_agreeing_with_the_rules_keeps_their_reasons():
    (j,) = judge(household("exited", housing_secured="否", verdict_wrong_exit="是"))
    assert j.wrong_exit.overridden and codes(j.wrong_exit) == ["inspector-verdict", "housing-unsafe"]
    assert "（自动判定：一致）" in j.wrong_exit.reasons[0].text


def test_missed_and_wrong_exit_verdicts_override():
    exited, ordinary = judge(household("exited", verdict_wrong_exit="是"),
                             household("ordinary", income_per_head=100.0, verdict_missed="否"))
    assert (exited.wrong_exit.value, exited.wrong_exit.auto) == (True, False)
    assert (ordinary.missed.value, ordinary.missed.auto) == (False, True)


def test_verdicts_can_be_switched_off():
    (j,) = judge(household("poor", verdict_accurate="不准确"), rules=JudgmentRules(use_verdicts=False))
    assert (j.inaccurate.value, j.inaccurate.overridden) == (False, False)


def test_recognition_is_taken_from_the_sheet_with_the_stated_reason():
    no, blank = judge(household("ordinary", recognition="不认可", non_recognition_reason="帮扶不到位"),
                      household("ordinary", recognition=None))
    assert no.recognised.value is False and no.recognised.reasons[0].text == "群众不认可：帮扶不到位"
    assert [k for k, _ in no.problems()] == ["recognised"]
    assert blank.recognised.value is None and [k for k, _ in blank.undetermined()] == ["recognised"]


def test_judgments_keep_the_excel_row_and_the_household_facts():
    (j,) = judge(household("exited", household_size=3, township="乙乡", village="二村", _row=17))
    assert (j.row, j.household_size, j.township, j.village) == (17, 3, "乙乡", "二村")


def test_blank_exit_year_is_decided_by_the_inspection_years_line_when_that_decides():
    # 朱英 in the demo (农户调查 row 23): 脱贫年度 blank, income 5,904, every 两不愁三保障 answer 是.
    # Lines only rise, so whatever her exit year, its line is at most 2019's 3,218: not a wrong exit.
    (zhu,) = judge(household("exited", exit_year=None, income_per_head=5904.0))
    assert (zhu.wrong_exit.value, zhu.wrong_exit.reasons) == (False, ())
    assert [n.code for n in zhu.wrong_exit.notes] == ["exit-year-blank-decided"]
    assert "2019 年国家扶贫标准 3,218 元" in zhu.wrong_exit.notes[0].text


def test_blank_exit_year_is_undeterminable_only_between_the_lowest_and_highest_line():
    exit_only = JudgmentRules(exit_lines=("exit",))
    between, below = judge(household("exited", exit_year=None, income_per_head=3000.0),  # 2,536 < 3,000 <= 3,218
                           household("exited", exit_year=None, income_per_head=2500.0),  # <= 2011's 2,536
                           rules=exit_only)
    assert between.wrong_exit.value is None and codes(between.wrong_exit) == ["undetermined"]
    assert "脱贫年度" in between.wrong_exit.reasons[0].text
    assert below.wrong_exit.value is True and codes(below.wrong_exit) == ["income-not-above-line"]


def test_future_exit_year_is_judged_against_the_inspection_years_line():
    # 2021 in a 2019 inspection: the 2021 line (4,000, carried from 2020) must not be used; 3,500 > 3,218.
    (j,) = judge(household("exited", exit_year=2021, income_per_head=3500.0))
    assert j.wrong_exit.value is False
    assert [n.code for n in j.wrong_exit.notes] == ["exit-year-after-inspection"]
    assert j.wrong_exit.notes[0].text == "脱贫年度 2021 晚于督查年度 2019，按 2019 年国家扶贫标准 3,218 元 判定"


LOCAL_2019 = PovertyLine(year=2019, yuan=4500, scope="地方", source="省定标准")


def test_national_line_is_used_even_when_a_local_line_is_listed():
    params = Parameters(lines=(*DEFAULT_PARAMETERS.lines, LOCAL_2019))
    exited, ordinary = judge(household("exited", income_per_head=4000.0), household("ordinary", income_per_head=4000.0),
                             parameters=params)
    assert (exited.wrong_exit.value, ordinary.missed.value) == (False, False)  # 4,000 > national 3,218


def test_the_local_standard_applies_when_the_parameters_choose_it():
    params = Parameters(lines=(*DEFAULT_PARAMETERS.lines, LOCAL_2019), settings=Settings(line_scope="地方"))
    exited, ordinary = judge(household("exited", income_per_head=4000.0), household("ordinary", income_per_head=4000.0),
                             parameters=params)
    assert (exited.wrong_exit.value, ordinary.missed.value) == (True, True)  # 4,000 <= local 4,500
    assert "2019 年地方扶贫标准 4,500 元" in ordinary.missed.reasons[0].text
    assert params.line_for(2018).text == "2016 年国家扶贫标准 2,952 元"  # no local line yet: national


def test_stability_margin_is_off_by_default_and_named_in_the_reason_when_on():
    just_above = household("exited", income_per_head=3218.01)
    (default,) = judge(just_above)
    params = Parameters(lines=DEFAULT_PARAMETERS.lines, thresholds=Thresholds(stability_margin=0.1))
    (stable,) = judge(just_above, parameters=params)  # must exceed 3,218 × 1.1 = 3,539.80
    assert default.wrong_exit.value is False
    assert stable.wrong_exit.value is True
    assert [r.text for r in stable.wrong_exit.reasons] == [  # the exit year's 2,952 × 1.1 = 3,247.20 fails too
        "年人均纯收入 3,218.01 元，未稳定（高出 10% 以上）超过脱贫年度（2018 年）适用的 2016 年国家扶贫标准 2,952 元"
        "（须超过 3,247.20 元）",
        "年人均纯收入 3,218.01 元，未稳定（高出 10% 以上）超过督查年度（2019 年）适用的 2019 年国家扶贫标准 3,218 元"
        "（须超过 3,539.80 元）"]


def test_one_off_income_is_left_out_only_when_the_parameters_say_so():
    # 4 people, 4,000 per head, of which 4,000 yuan for the family is a one-off grant: 3,000 per head without it.
    record = household("exited", income_per_head=4000.0, one_off_income=4000.0, household_size=4)
    (default,) = judge(record)
    params = Parameters(lines=DEFAULT_PARAMETERS.lines, settings=Settings(exclude_one_off_income=True))
    (excluded,) = judge(record, parameters=params)
    assert default.wrong_exit.value is False and default.wrong_exit.notes == ()
    assert excluded.wrong_exit.value is True
    assert excluded.wrong_exit.notes[0].text.endswith("扣除人均一次性收入 1,000 元，为 3,000 元")


@pytest.mark.parametrize(("values", "guarantee"), [
    ({"in_rural_coop_insurance": "否", "medical_secured": "是"}, "基本医疗有保障"),
    ({"dilapidated_house": "是", "housing_secured": "是"}, "住房安全有保障"),
])
def test_contradicting_answers_use_the_guarantee_answer_and_say_so(values, guarantee):
    (default,) = judge(household("exited", **values))
    (detail,) = judge(household("exited", **values), rules=JudgmentRules(conflicting_answers="detail"))
    assert default.wrong_exit.value is False
    assert default.wrong_exit.notes[0].text.endswith(f"判定采用「{guarantee}」的回答")
    assert detail.wrong_exit.value is True and detail.wrong_exit.notes[0].code == "answer-used"


def test_no_school_children_with_education_unsecured_uses_the_guarantee_answer():
    values = {"school_children": 0, "education_secured": "否"}
    (default,) = judge(household("ordinary", **values))
    (detail,) = judge(household("ordinary", **values), rules=JudgmentRules(conflicting_answers="detail"))
    assert default.missed.value is True and codes(default.missed) == ["education-unsecured"]
    assert default.missed.notes[0].text == ("「义务教育阶段子女数」为“0”而「义务教育有保障」为“否”，"
                                            "判定采用「义务教育有保障」的回答")
    assert detail.missed.value is False


def test_household_size_outside_the_sheets_range_is_unknown():
    sizes = [j.household_size for j in judge(*(household("ordinary", household_size=n) for n in (0, 4, 21, None)))]
    assert sizes == [None, 4, None, None]
