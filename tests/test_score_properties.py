"""Properties of scoring over random samples: rates in [0, 1], points in [0, max], total = sum, monotone 错退."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ducha.model.schema import HOUSEHOLDS, KEY_ITEMS, VILLAGES, FieldType
from ducha.scoring.indicators import N_ITEMS, compute_indicators
from ducha.scoring.judgments import judge_households
from ducha.scoring.rubric import DEFAULT_RUBRIC, rubric_from_dict
from ducha.scoring.scorecard import score_inspection
from records_factory import county, household, make_data, village

LINE_2019 = 3218
YES_NO = [f.key for f in HOUSEHOLDS.fields if f.type is FieldType.YES_NO and not f.key.startswith("verdict")]
VILLAGE_YES_NO = [f.key for f in VILLAGES.fields if f.type is FieldType.YES_NO]
answers = st.sampled_from(["是", "是", "是", "否", "不涉及", None])


@st.composite
def any_household(draw, kind=None):
    kind = kind or draw(st.sampled_from(["poor", "exited", "ordinary"]))
    values = {key: draw(answers) for key in YES_NO}
    values.update(
        household_size=draw(st.one_of(st.none(), st.integers(1, 12))),
        income_per_head=draw(st.one_of(st.none(), st.floats(0, 20000, allow_nan=False))),
        exit_year=draw(st.one_of(st.none(), st.integers(2014, 2019))),
        recognition=draw(st.sampled_from(["认可", "认可", "不认可", None])),
        verdict_accurate=draw(st.sampled_from([None, None, "准确", "不准确"])),
        verdict_wrong_exit=draw(st.sampled_from([None, None, "是", "否"])),
        verdict_missed=draw(st.sampled_from([None, None, "是", "否"])),
    )
    return household(kind, **values)


@st.composite
def any_village(draw):
    return village(**{key: draw(answers) for key in VILLAGE_YES_NO},
                   team_months=draw(st.one_of(st.none(), st.integers(0, 24))))


@st.composite
def any_county(draw):
    figures = st.one_of(st.none(), st.integers(0, 5000), st.floats(0, 1e5, allow_nan=False))
    return {key: draw(figures) for key in county()}


@st.composite
def any_data(draw):
    households = draw(st.lists(any_household(), max_size=30))
    households = [{**h, "_row": row} for row, h in enumerate(households, start=2)]
    return make_data(households, draw(st.lists(any_village(), max_size=4)), draw(any_county()),
                     key_item=draw(st.sampled_from([*KEY_ITEMS, None])))


@st.composite
def any_rubric(draw):
    """The default rubric's rules with random deductions and limits."""
    raw = json.loads(DEFAULT_RUBRIC.model_dump_json())
    for item in raw["items"]:
        for rule in item["rules"]:
            for amount in ("per_point", "per_case", "per_document"):
                if amount in rule:
                    rule[amount] = draw(st.floats(0.05, 20))
            if rule["kind"] != "veto":
                rule["max_deduction"] = draw(st.one_of(st.none(), st.floats(0.5, 50)))
    return rubric_from_dict(raw)


def run(data, rubric=DEFAULT_RUBRIC):
    judgments = judge_households(data)
    indicators = compute_indicators(data, judgments)
    return indicators, score_inspection(data, judgments, indicators, rubric)


@settings(deadline=None, max_examples=150)
@given(any_data(), any_rubric())
def test_sample_rates_lie_in_zero_one_and_points_in_zero_max(data, rubric):
    indicators, card = run(data, rubric)
    assert all(0 <= i.value <= 1 for i in indicators if i.share and i.value is not None)
    assert all(0 <= item.points <= item.max_points for item in card.items)
    assert abs(card.total - sum(item.points for item in card.items)) < 1e-9
    assert card.max_total == 100
    for item in card.items:
        assert abs(item.max_points - item.points - sum(d.points for d in item.deductions)) < 1e-6
    # points are kept as shown (2 decimals): the shown items add up to the shown total, the deductions to the items
    shown = [float(f"{item.points:.2f}") for item in card.items]
    assert shown == [item.points for item in card.items]
    assert f"{sum(shown):.2f}" == f"{card.total:.2f}"
    assert all(float(f"{d.points:.2f}") == d.points for item in card.items for d in item.deductions)


@settings(deadline=None, max_examples=150)
@given(any_data(), any_rubric(), any_household(kind="exited"))
def test_adding_a_wrong_exit_household_never_raises_item_six(data, rubric, extra):
    _, before = run(data, rubric)
    row = max([*data.households["_row"], 1]) + 1
    households = [*data.households.to_dict("records"), {**extra, "verdict_wrong_exit": "是", "_row": row}]
    more = make_data(households, data.villages.to_dict("records"), data.county.values,
                     key_item=data.basic.get("key_item"))
    _, after = run(more, rubric)
    assert after.item("6").points <= before.item("6").points


@st.composite
def clean_data(draw):
    def clean(kind, low, high, t, v):
        return household(kind, township=t, village=v, household_size=draw(st.integers(1, 8)),
                         income_per_head=draw(st.floats(low, high)),
                         education_secured=draw(st.sampled_from(["是", "不涉及"])))
    names = [("甲镇", "一村"), ("乙乡", "二村"), ("丙镇", "三村")][:draw(st.integers(1, 3))]
    per_type = draw(st.integers(1, 5))
    households = [h for t, v in names for h in (
        *(clean("poor", 0, LINE_2019 * 1.5, t, v) for _ in range(per_type)),
        *(clean("exited", LINE_2019 + 0.01, 50000, t, v) for _ in range(per_type)),
        *(clean("ordinary", LINE_2019, 50000, t, v) for _ in range(per_type)))]
    scale = draw(st.integers(1, 50))
    figures = {k: v * scale for k, v in county().items() if k != "reimbursement_raise"}
    return make_data(households, [village(township=t, village=v) for t, v in names],
                     {**figures, "reimbursement_raise": draw(st.floats(5, 20))},
                     key_item=draw(st.sampled_from(KEY_ITEMS)))


@settings(deadline=None, max_examples=100)
@given(clean_data())
def test_a_clean_sample_scores_full_marks_under_the_default_rubric(data):
    _, card = run(data)
    assert card.total == 100
    assert card.red_flags == ()
    assert card.key_item in N_ITEMS
