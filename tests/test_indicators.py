"""Indicators: hand-computed values for every indicator, zero denominators, people versus households."""

import pytest

from ducha.scoring.indicators import (
    N_ITEMS,
    NO_DATA,
    NO_SAMPLE,
    SIX_ITEMS,
    SPECS,
    by_key,
    compute_indicators,
    household_evidence,
    village_evidence,
)
from ducha.scoring.judgments import judge_households
from records_factory import county, household, make_data, village

# Rows 2.. in this order. Sizes are chosen so that counting people and counting households differ.
HOUSEHOLDS = [
    household("poor", household_size=4, has_industry="否", two_exemptions_one_subsidy="不涉及"),  # 2 accurate
    household("poor", household_size=2, form_complete="否", has_help_plan="否"),  # 3 inaccurate
    household("poor", household_size=5, income_per_head=None),  # 4 undeterminable: left out of item 1
    household("exited", household_size=3, income_per_head=3000.0, has_handbook="否",
              in_critical_illness_insurance="否"),  # 5 wrong exit
    household("exited", household_size=5, has_industry=None, in_rural_coop_insurance="否",
              help_plan_targets_cause="否"),  # 6
    household("exited", household_size=2, high_school_aid="是", two_exemptions_one_subsidy="否"),  # 7
    household("ordinary", household_size=6, income_per_head=2000.0, minimum_living_eligible="是"),  # 8 missed
    household("ordinary", household_size=4, minimum_living_eligible="是", minimum_living_received="是"),  # 9
    household("ordinary", household_size=1, recognition="不认可", non_recognition_reason="没见过帮扶干部"),  # 10
]
VILLAGES = [
    village(village="一村"),  # 2
    village(village="二村", has_leading_industry="否", team_months=5, has_clinic="否", road_maintained="否",
            team_ledger="否", has_cooperative="否"),  # 3
    village(village="三村", team_months=None, has_village_plan=None, has_culture_facility="否"),  # 4
]
SAMPLING = [{"township": "甲镇", "village": "一村", "village_is_poor": "是"},
            {"township": "甲镇", "village": "二村", "village_is_poor": "是"},
            {"township": "甲镇", "village": "三村", "village_is_poor": "否"}]
COUNTY = county(industry_driven_households=950, industry_poor_households=1000, relocation_done=520,
                relocation_planned=500, loans_last_year=1000.0, loans_now=900.0, risk_fund_in_place=None,
                funds_available=0.0, reimbursement_raise=3.0, dilapidated_last_year=120, dilapidated_now=30,
                admin_villages_bus_last_year=80, admin_villages_bus_now=76)


@pytest.fixture(scope="module")
def indicators():
    data = make_data(HOUSEHOLDS, VILLAGES, COUNTY, sampling=SAMPLING)
    return by_key(compute_indicators(data, judge_households(data)))


EXPECTED = {  # key: (numerator, denominator, value)
    "identification_inaccuracy": (1, 2, 0.5),
    "identification_accuracy": (1, 2, 0.5),
    "industry_households": (4, 5, 0.8),
    "industry_villages": (2, 3, 2 / 3),
    "industry_driven": (950, 1000, 0.95),
    "coop_villages": (40, 40, 1.0),
    "relocation_completion": (520, 500, 1.04),
    "loan_growth": (-100.0, 1000.0, -0.1),
    "microloan_coverage": (300, 300, 1.0),
    "wrong_exit_rate": (3, 10, 0.3),
    "missed_rate": (6, 11, 6 / 11),
    "recognition_rate": (8, 9, 8 / 9),
    "village_plan": (2, 2, 1.0),
    "help_plan": (5, 6, 5 / 6),
    "help_plan_cause": (4, 5, 0.8),  # row 3 has no plan at all; row 6 answers 否
    "team_ledger": (2, 3, 2 / 3),
    "coop_poor_villages_sample": (1, 2, 0.5),  # 三村 is not a 贫困村 in 「抽样」, so its 合作社 answer is not counted
    "handbook": (5, 6, 5 / 6),
    "publicity": (3, 3, 1.0),
    "plan_projects": (3, 3, 1.0),
    "team_resident": (1, 2, 0.5),
    "critical_illness_sample": (5, 6, 5 / 6),
    "coop_insurance_sample": (5, 6, 5 / 6),
    "clinic_sample": (2, 3, 2 / 3),
    "doctor_sample": (3, 3, 1.0),
    "critical_illness": (4000, 4000, 1.0),
    "reimbursement_raise": (3.0, 100, 0.03),
    "coop_insurance": (4000, 4000, 1.0),
    "clinic_villages": (100, 100, 1.0),
    "doctor_villages": (100, 100, 1.0),
    "two_exemptions_sample": (4, 5, 0.8),
    "high_school_aid_sample": (1, 1, 1.0),
    "two_exemptions": (800, 800, 1.0),
    "high_school_aid": (200, 200, 1.0),
    "vocational_training": (100, 100, 1.0),
    "broadband_sample": (3, 3, 1.0),
    "culture_facilities": (2, 3, 2 / 3),
    "road_hardened_sample": (3, 3, 1.0),
    "road_maintained_sample": (2, 3, 2 / 3),
    "bus_sample": (3, 3, 1.0),
    "water_solved": (600, 600, 1.0),
    "broadband": (48000, 50000, 0.96),
    "dilapidated_decline": (90, 120, 0.75),
    "power_coverage": (300, 300, 1.0),
    "road_villages": (100, 100, 1.0),
    "bus_retention": (76, 80, 0.95),
    "minimum_living_sample": (1, 2, 0.5),
    "minimum_living_coverage": (900, 900, 1.0),
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_indicator_matches_hand_computed_value(indicators, key):
    ind = indicators[key]
    assert (ind.numerator, ind.denominator) == pytest.approx(EXPECTED[key][:2])
    assert ind.value == pytest.approx(EXPECTED[key][2])


def test_every_indicator_is_computed_and_explains_itself(indicators):
    assert set(indicators) == set(SPECS)
    assert set(EXPECTED) | {"risk_fund", "funds_integration"} == set(SPECS)
    assert {ind.item for ind in indicators.values()} == {*SIX_ITEMS, *N_ITEMS}
    assert all(ind.formula_zh and ind.name for ind in indicators.values())


def test_zero_denominator_is_no_sample_and_a_blank_figure_is_missing_data(indicators):
    funds, risk = indicators["funds_integration"], indicators["risk_fund"]
    assert (funds.numerator, funds.denominator, funds.value, funds.value_text) == (8000.0, 0.0, None, NO_SAMPLE)
    assert (risk.numerator, risk.value, risk.value_text) == (None, None, NO_DATA)


def test_an_empty_sample_has_no_sample_rates():
    data = make_data()
    found = by_key(compute_indicators(data, judge_households(data)))
    sample = [i for i in found.values() if i.source != "county"]
    assert all(i.value is None and i.value_text == NO_SAMPLE and not i.red_flag for i in sample)


def test_wrong_exit_and_missed_count_people_but_recognition_counts_households(indicators):
    assert indicators["wrong_exit_rate"].counts_people and indicators["missed_rate"].counts_people
    assert not indicators["recognition_rate"].counts_people
    assert indicators["wrong_exit_rate"].value != pytest.approx(1 / 3)  # by households it would be 1 of 3


def test_item_one_is_reported_as_written_and_as_accuracy(indicators):
    written, accuracy = indicators["identification_inaccuracy"], indicators["identification_accuracy"]
    assert written.value + accuracy.value == pytest.approx(1)


def test_national_thresholds_raise_red_flags(indicators):
    flagged = {k for k, ind in indicators.items() if ind.red_flag}
    assert flagged == {"wrong_exit_rate", "missed_rate", "recognition_rate"}
    assert indicators["wrong_exit_rate"].threshold == 0.02
    assert indicators["recognition_rate"].direction == "at_least"


def test_a_rate_exactly_at_the_threshold_is_not_a_red_flag():
    households = [household("exited", household_size=1, housing_secured="否")] + [
        household("exited", household_size=1) for _ in range(49)]
    data = make_data(households)
    ind = by_key(compute_indicators(data, judge_households(data)))["wrong_exit_rate"]
    assert (ind.value, ind.red_flag) == (0.02, False)


def test_cases_are_the_excel_rows_of_the_problem_units(indicators):
    assert indicators["wrong_exit_rate"].cases == (5,)
    assert indicators["identification_accuracy"].cases == (3,)
    assert indicators["recognition_rate"].cases == (10,)
    assert indicators["team_resident"].cases == (3,)
    assert indicators["minimum_living_sample"].cases == (8,)


def test_county_ratios_are_not_clamped(indicators):
    assert indicators["relocation_completion"].value > 1 and not indicators["relocation_completion"].share
    assert indicators["loan_growth"].value < 0


def test_household_evidence_writes_judgments_as_yes_no_and_blanks_what_does_not_apply():
    data = make_data(HOUSEHOLDS)
    frame = household_evidence(data, judge_households(data)).set_index("_row")
    assert frame.loc[2, ["inaccurate", "wrong_exit", "missed", "recognition"]].tolist() == ["否", None, None, "认可"]
    assert frame.loc[4, "inaccurate"] == "无法判定"
    assert frame.loc[5, "wrong_exit"] == "是"
    assert frame.loc[8, "has_industry"] is None  # asked of registered households only
    assert frame.loc[8, "living_guarantee"] == "否" and frame.loc[2, "living_guarantee"] is None


def test_village_evidence_combines_residence_and_months():
    frame = village_evidence(make_data([], VILLAGES)).set_index("_row")
    assert frame["team_ok"].tolist() == ["是", "否", "缺数据"]  # an N1 month needs 驻村时间: a blank is 缺数据
    other_month = village_evidence(make_data([], VILLAGES, key_item=None)).set_index("_row")
    assert other_month["team_ok"].tolist() == ["是", "否", None]


def test_household_size_zero_missing_or_invalid_is_missing_data_and_the_rate_counts_the_rest():
    data = make_data([
        household("ordinary", household_size=0, income_per_head=1000.0),  # 2 漏评, but how many people?
        household("ordinary", household_size=3),  # 3
        household("ordinary", household_size=5),  # 4
        household("ordinary", household_size=2, income_per_head=1000.0),  # 5 漏评
        household("ordinary", household_size=None),  # 6 blank
        household("ordinary", household_size=25),  # 7 above the sheet's 1-20
    ])
    missed = by_key(compute_indicators(data, judge_households(data)))["missed_rate"]
    # 漏评人口 2 (row 5) ÷ 3 + 5 + 2 = 10 people of the households whose size is known
    assert (missed.numerator, missed.denominator, missed.value) == (2, 10, 0.2)
    assert missed.status == NO_DATA and missed.red_flag
    assert [(m.row, m.why) for m in missed.missing] == [(2, "家庭人口缺失或无效"), (6, "家庭人口缺失或无效"),
                                                       (7, "家庭人口缺失或无效")]
    assert missed.cases == (2, 5)  # row 2 is still a 漏评 household; only its weight is unknown
    assert missed.missing_text == "3 户缺数据（家庭人口缺失或无效 3）"


def test_a_rate_whose_only_household_has_no_valid_size_is_missing_data_never_zero():
    data = make_data([household("ordinary", household_size=0, income_per_head=1000.0)])
    missed = by_key(compute_indicators(data, judge_households(data)))["missed_rate"]
    assert (missed.numerator, missed.denominator, missed.value) == (0, 0, None)
    assert (missed.value_text, missed.status) == (NO_DATA, NO_DATA)


def test_blank_answer_the_month_needs_is_missing_data_and_other_months_ignore_it():
    households = [household("poor", has_help_plan=None), household("poor")]
    n1 = make_data(households)  # 有帮扶计划 is required of every registered household
    n2 = make_data([household("exited", in_critical_illness_insurance=None), household("exited")], key_item=None)
    help_plan = by_key(compute_indicators(n1, judge_households(n1)))["help_plan"]
    insured = by_key(compute_indicators(n2, judge_households(n2)))["critical_illness_sample"]
    assert (help_plan.numerator, help_plan.denominator, help_plan.status) == (1, 1, NO_DATA)
    assert help_plan.missing_text == "1 户缺数据（「有帮扶计划」未填写 1）"
    assert (insured.numerator, insured.denominator, insured.status) == (1, 1, NO_DATA)  # required in every month
    blank_clinic = make_data([], [village(has_clinic=None)], key_item=None)  # 卫生室 is asked in N2 months only
    clinic = by_key(compute_indicators(blank_clinic, judge_households(blank_clinic)))["clinic_sample"]
    assert (clinic.value_text, clinic.missing) == (NO_SAMPLE, ())


def test_poor_village_cooperative_needs_the_sampling_mark():
    villages = [village(village="一村", has_cooperative="否"), village(village="二村", has_cooperative="否")]
    sampling = [{"township": "甲镇", "village": "一村", "village_is_poor": "是"},
                {"township": "甲镇", "village": "二村", "village_is_poor": None}]
    data = make_data([], villages, sampling=sampling)
    coop = by_key(compute_indicators(data, judge_households(data)))["coop_poor_villages_sample"]
    assert (coop.numerator, coop.denominator, coop.cases) == (0, 1, (2,))
    assert [(m.row, m.why) for m in coop.missing] == [(3, "「贫困村成立农民专业合作社」未填写")]


def test_indicator_specs_carry_their_follow_up_action():
    assert all(spec.action for spec in SPECS.values())
    assert SPECS["wrong_exit_rate"].rate_action.startswith("对全县脱贫户开展错退排查")


def test_undecidable_households_leave_the_denominator_and_say_why():
    data = make_data([household("exited", household_size=3, income_per_head=None),  # 2
                      household("exited", household_size=2),  # 3
                      household("exited", household_size=4, exit_year=None, income_per_head=5904.0)])  # 4: decided
    wrong_exit = by_key(compute_indicators(data, judge_households(data)))["wrong_exit_rate"]
    assert (wrong_exit.numerator, wrong_exit.denominator) == (0, 6)  # rows 3 and 4: 2 + 4 people
    assert [(m.row, m.why) for m in wrong_exit.missing] == [(2, "「年人均纯收入」未填写或无效，无法判定")]
    assert wrong_exit.missing_text == "1 户缺数据（「年人均纯收入」未填写或无效，无法判定 1）"
