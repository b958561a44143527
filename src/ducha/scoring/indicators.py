"""The plan's indicators (items 1-6 and the five N items): numerator, denominator, value and formula in words.

Sample indicators count the evidence tables built here (one row per household / village, values as the clerk
would read them: 是 / 否 / 无法判定 / blank where a question does not apply); the score sheet writes the same tables
and counts them again with COUNTIF / SUMIF. Sample shares lie in [0, 1]. County indicators come from the 「县级核查」
figures and are not clamped: a completion ratio may exceed 1, and a growth or decline rate may be negative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from ducha.model.records import ROW, InspectionData
from ducha.model.schema import HOUSEHOLDS, KEY_ITEMS, NO, REGISTERED_TYPES, VILLAGES, YES
from ducha.scoring.judgments import HouseholdJudgment, Judgment

SIX_ITEMS = ("1", "2", "3", "4", "5", "6")
N_ITEMS = ("N1", "N2", "N3", "N4", "N5")
N_ITEM_BY_NAME = dict(zip(KEY_ITEMS, N_ITEMS, strict=True))
ITEM_NAMES = {
    "1": "贫困人口识别准确率", "2": "产业扶贫推进情况", "3": "易地扶贫搬迁推进情况", "4": "金融扶贫推进情况",
    "5": "贫困县整合资金投入到位率", "6": "脱贫人口错退率、贫困人口漏评率、群众认可度",
    **dict(zip(N_ITEMS, KEY_ITEMS, strict=True)),
}
NO_SAMPLE = "无样本"
NO_DATA = "缺数据"
UNDETERMINED = "无法判定"
RECOGNISED, NOT_RECOGNISED = "认可", "不认可"

Direction = Literal["at_least", "at_most"]
Source = Literal["households", "villages", "county"]


class Indicator(BaseModel):
    """One computed indicator. `value` is None when there is no sample (denominator 0) or a figure is missing."""

    model_config = ConfigDict(frozen=True)

    key: str
    item: str
    name: str
    formula_zh: str
    source: Source
    numerator: int | float | None
    denominator: int | float | None
    value: float | None
    counts_people: bool = False
    share: bool = True  # a part of a whole, in [0, 1]; False for county ratios and growth rates
    threshold: float | None = None
    direction: Direction = "at_least"
    red_flag: bool = False
    case_label: str = ""  # what one problem case is called, e.g. 错退户
    cases: tuple[int, ...] = ()  # Excel rows (in the source sheet) of the problem cases

    @property
    def value_text(self) -> str:
        if self.numerator is None or self.denominator is None:
            return NO_DATA
        if self.value is None:
            return NO_SAMPLE
        return f"{self.value:.2%}"

    def meets(self, target: float, direction: Direction | None = None) -> bool | None:
        """Whether the value reaches `target` (None without a value); a 1e-12 tolerance absorbs float noise."""
        if self.value is None:
            return None
        if (direction or self.direction) == "at_least":
            return self.value >= target - 1e-12
        return self.value <= target + 1e-12


def percent(x: float) -> str:
    """A share as a short percentage: 0.9 -> 90%, 0.955 -> 95.5%."""
    return f"{x * 100:.4g}%"


@dataclass(frozen=True)
class SampleSpec:
    """A share of households or villages: units whose `column` is `hit` over units whose column is hit or miss."""

    key: str
    item: str
    name: str
    formula_zh: str
    table: Literal["households", "villages"]
    column: str
    case_label: str
    hit: str = YES
    miss: str = NO
    bad: bool = False  # the hit units are the problem cases (else the miss units are)
    people: bool = False  # weight each household by 家庭人口
    threshold: str | None = None  # a Thresholds attribute
    direction: Direction = "at_least"

    @property
    def problem(self) -> str:
        return self.hit if self.bad else self.miss


@dataclass(frozen=True)
class CountySpec:
    """A ratio of 「县级核查」 figures: a/b ("ratio"), (a-b)/b ("growth"), (b-a)/b ("decline") or a/100 ("points")."""

    key: str
    item: str
    name: str
    formula_zh: str
    op: Literal["ratio", "growth", "decline", "points"]
    a: str
    b: str | None = None


def _hh(key: str, item: str, name: str, formula: str, column: str, label: str, **kw: Any) -> SampleSpec:
    return SampleSpec(key, item, name, formula, "households", column, label, **kw)


def _vg(key: str, item: str, name: str, column: str, label: str) -> SampleSpec:
    formula = f"「{VILLAGE_COLUMNS[column]}」为“是”的抽查村数 ÷ 该项为“是”或“否”的抽查村数"
    return SampleSpec(key, item, name, formula, "villages", column, label)


def _yes(header: str, whom: str = "建档立卡户") -> str:
    return f"「{header}」为“是”的抽查{whom}数 ÷ 该项为“是”或“否”的抽查{whom}数"


# Evidence columns: key -> Chinese header. Household fields here are kept for 建档立卡户 only.
JUDGMENT_COLUMNS = {"inaccurate": "识别不准确", "wrong_exit": "错退", "missed": "漏评", "recognition": "群众认可"}
REGISTERED_FIELDS = ("has_industry", "in_rural_coop_insurance", "in_critical_illness_insurance",
                     "two_exemptions_one_subsidy", "high_school_aid", "has_help_plan", "has_handbook")
HOUSEHOLD_COLUMNS = {**JUDGMENT_COLUMNS, **{k: HOUSEHOLDS.field(k).header for k in REGISTERED_FIELDS},
                     "living_guarantee": "符合低保或特困条件且已纳入"}
VILLAGE_FIELDS = ("has_leading_industry", "has_cooperative", "has_village_plan", "plan_projects_done",
                  "policy_publicised", "has_clinic", "has_doctor", "has_broadband", "has_culture_facility",
                  "road_hardened", "road_maintained", "has_bus")
VILLAGE_COLUMNS = {**{k: VILLAGES.field(k).header for k in VILLAGE_FIELDS}, "team_ok": "驻村工作队全脱产常驻满6个月"}
_H = HOUSEHOLD_COLUMNS

SAMPLE_SPECS: tuple[SampleSpec, ...] = (
    _hh("identification_inaccuracy", "1", "识别不准确率（方案口径）",
        "抽样识别不准确贫困户数 ÷ 抽样贫困户总数（户）", "inaccurate", "识别不准确户", bad=True),
    _hh("identification_accuracy", "1", "贫困人口识别准确率",
        "抽样识别准确贫困户数 ÷ 抽样贫困户总数（户），= 1 − 识别不准确率", "inaccurate", "识别不准确户",
        hit=NO, miss=YES),
    _hh("industry_households", "2", "抽查建档立卡户有增收主导产业比率", _yes(_H["has_industry"]),
        "has_industry", "无增收主导产业的建档立卡户"),
    _vg("industry_villages", "2", "抽查村有脱贫增收主导产业比率", "has_leading_industry", "无主导产业的村"),
    _hh("wrong_exit_rate", "6", "脱贫人口错退率", "抽样错退人口数 ÷ 抽样脱贫人口数（按家庭人口合计）",
        "wrong_exit", "错退户", bad=True, people=True, threshold="wrong_exit_max", direction="at_most"),
    _hh("missed_rate", "6", "贫困人口漏评率",
        "调查核实的漏评人口数 ÷ 抽查村未建档立卡的农村人口数（按家庭人口合计）",
        "missed", "漏评户", bad=True, people=True, threshold="missed_max", direction="at_most"),
    _hh("recognition_rate", "6", "群众认可度", "调查户中认可户数 ÷ 调查户总数（户）", "recognition", "不认可户",
        hit=RECOGNISED, miss=NOT_RECOGNISED, threshold="recognition_min"),
    _vg("village_plan", "N1", "抽查村有精准扶贫规划比率", "has_village_plan", "无精准扶贫规划的村"),
    _hh("help_plan", "N1", "抽查建档立卡户有帮扶计划比率", _yes(_H["has_help_plan"]),
        "has_help_plan", "无帮扶计划的户"),
    _hh("handbook", "N1", "扶贫手册发放率", _yes(_H["has_handbook"]), "has_handbook", "未发放扶贫手册的户"),
    _vg("publicity", "N1", "扶贫政策宣传到位村比率", "policy_publicised", "政策宣传不到位的村"),
    _vg("plan_projects", "N1", "规划和帮扶计划项目落实村比率", "plan_projects_done", "项目未落实的村"),
    _vg("team_resident", "N1", "驻村工作队全脱产常驻满6个月村比率", "team_ok", "驻村工作队不合要求的村"),
    _hh("critical_illness_sample", "N2", "抽查建档立卡户参加大病补充保险比率",
        _yes(_H["in_critical_illness_insurance"]), "in_critical_illness_insurance", "未参加大病补充保险的户"),
    _hh("coop_insurance_sample", "N2", "抽查建档立卡户参加新农合比率", _yes(_H["in_rural_coop_insurance"]),
        "in_rural_coop_insurance", "未参加新农合的户"),
    _vg("clinic_sample", "N2", "抽查村有标准化卫生室比率", "has_clinic", "无标准化卫生室的村"),
    _vg("doctor_sample", "N2", "抽查村有合格乡村医生比率", "has_doctor", "无合格乡村医生的村"),
    _hh("two_exemptions_sample", "N3", "抽查建档立卡户享受两免一补比率", _yes(_H["two_exemptions_one_subsidy"]),
        "two_exemptions_one_subsidy", "未享受两免一补的户"),
    _hh("high_school_aid_sample", "N3", "抽查建档立卡户享受高中免学费及助学金比率", _yes(_H["high_school_aid"]),
        "high_school_aid", "未享受高中免学费及助学金的户"),
    _vg("broadband_sample", "N4", "抽查村通固定宽带比率", "has_broadband", "未通固定宽带的村"),
    _vg("culture_facilities", "N4", "抽查村有综合文化服务设施比率", "has_culture_facility", "无综合文化服务设施的村"),
    _vg("road_hardened_sample", "N4", "抽查村通硬化路比率", "road_hardened", "未通硬化路的村"),
    _vg("road_maintained_sample", "N4", "抽查村道路养护到位比率", "road_maintained", "道路养护不到位的村"),
    _vg("bus_sample", "N4", "抽查村通客车比率", "has_bus", "未通客车的村"),
    _hh("minimum_living_sample", "N5", "抽查户应保尽保率", "符合低保或特困供养条件且已纳入的户数 ÷ 符合条件的户数",
        "living_guarantee", "符合条件未纳入低保或特困供养的户"),
)


def _cy(key: str, item: str, name: str, formula: str, a: str, b: str | None,
        op: Literal["ratio", "growth", "decline", "points"] = "ratio") -> CountySpec:
    return CountySpec(key, item, name, formula, op, a, b)


COUNTY_SPECS: tuple[CountySpec, ...] = (
    _cy("industry_driven", "2", "特色产业带动贫困户比率", "特色产业带动贫困户数 ÷ 贫困户总户数",
        "industry_driven_households", "industry_poor_households"),
    _cy("coop_villages", "2", "成立农民专业合作社的贫困村比例", "成立农民专业合作社的贫困村数 ÷ 全县贫困村数",
        "poor_villages_with_coop", "poor_villages"),
    _cy("relocation_completion", "3", "易地扶贫搬迁计划完成率", "易地扶贫搬迁已完成户数 ÷ 州下达计划户数",
        "relocation_done", "relocation_planned"),
    _cy("loan_growth", "4", "金融扶贫贷款增长率", "（本期贷款余额 − 上年末贷款余额）÷ 上年末贷款余额",
        "loans_now", "loans_last_year", "growth"),
    _cy("risk_fund", "4", "县级风险补偿金到位率", "县级风险补偿金已到位 ÷ 应建立",
        "risk_fund_in_place", "risk_fund_due"),
    _cy("microloan_coverage", "4", "扶贫小额贷款贫困户覆盖率", "获得扶贫小额贷款贫困户数 ÷ 有贷款需求的贫困户数",
        "microloan_households", "microloan_poor_households"),
    _cy("funds_integration", "5", "整合资金投入到位率", "县级已整合资金 ÷ 当年可整合资金",
        "funds_integrated", "funds_available"),
    _cy("critical_illness", "N2", "县财政购买大病补充保险覆盖率",
        "县财政购买大病补充保险贫困人数 ÷ 建档立卡贫困人口数", "critical_illness_insured", "poor_population"),
    _cy("reimbursement_raise", "N2", "贫困户新农合报销比例提高幅度", "报销比例提高的百分点数 ÷ 100",
        "reimbursement_raise", None, "points"),
    _cy("coop_insurance", "N2", "贫困户参加新农合比率", "参加新农合贫困人数 ÷ 建档立卡贫困人口数",
        "rural_coop_insured", "poor_population"),
    _cy("clinic_villages", "N2", "有标准化卫生室行政村比率", "有标准化卫生室行政村数 ÷ 行政村数",
        "admin_villages_with_clinic", "admin_villages"),
    _cy("doctor_villages", "N2", "有合格乡村医生或执业(助理)医师行政村比率", "有合格医生的行政村数 ÷ 行政村数",
        "admin_villages_with_doctor", "admin_villages"),
    _cy("two_exemptions", "N3", "义务教育两免一补落实率", "享受两免一补学生数 ÷ 贫困家庭义务教育阶段学生数",
        "compulsory_students_aided", "compulsory_students"),
    _cy("high_school_aid", "N3", "普通高中免学费及助学金落实率",
        "享受免学费及助学金学生数 ÷ 贫困家庭普通高中学生数", "high_school_students_aided", "high_school_students"),
    _cy("vocational_training", "N3", "新成长劳动力职业教育技能培训比率",
        "参加职业教育技能培训人数 ÷ 贫困人口当年新成长劳动力", "new_labour_trained", "new_labour"),
    _cy("water_solved", "N4", "饮水安全问题年度解决占比",
        "本年已解决饮水安全问题人数 ÷ 年初饮水安全问题贫困人口数",
        "water_solved_population", "water_problem_population"),
    _cy("broadband", "N4", "固定宽带人口普及率", "固定宽带覆盖人口 ÷ 农村总人口",
        "broadband_population", "total_population"),
    _cy("dilapidated_decline", "N4", "住危房贫困户下降率",
        "（上年末住危房户数 − 本期住危房户数）÷ 上年末住危房户数",
        "dilapidated_now", "dilapidated_last_year", "decline"),
    _cy("power_coverage", "N4", "通生产用电自然村覆盖率", "通生产用电自然村数 ÷ 自然村数",
        "natural_villages_powered", "natural_villages"),
    _cy("road_villages", "N4", "通硬化路行政村占比", "通硬化路行政村数 ÷ 行政村数",
        "admin_villages_road", "admin_villages"),
    _cy("bus_retention", "N4", "行政村通客车保持率", "本期通客车行政村数 ÷ 上年末通客车行政村数",
        "admin_villages_bus_now", "admin_villages_bus_last_year"),
    _cy("minimum_living_coverage", "N5", "低保和特困供养应保尽保率", "已纳入低保或特困供养人数 ÷ 应纳入人数",
        "minimum_living_covered", "minimum_living_eligible"),
)

SPECS: dict[str, SampleSpec | CountySpec] = {s.key: s for s in (*SAMPLE_SPECS, *COUNTY_SPECS)}
ITEM_ORDER = {item: i for i, item in enumerate((*SIX_ITEMS, *N_ITEMS))}
INDICATOR_ORDER = {key: i for i, key in enumerate(sorted(SPECS, key=lambda k: ITEM_ORDER[SPECS[k].item]))}


def _judgment_text(j: Judgment | None) -> str | None:
    if j is None:
        return None
    return UNDETERMINED if j.value is None else YES if j.value else NO


def household_evidence(data: InspectionData, judgments: list[HouseholdJudgment]) -> pd.DataFrame:
    """One row per household: the judgments and the household values the sample indicators count."""
    source = {rec[ROW]: rec for rec in data.households.astype(object).to_dict("records")}
    rows = []
    for j in judgments:
        rec = source.get(j.row, {})
        registered = j.household_type in REGISTERED_TYPES
        recognised = j.recognised.value if j.recognised else None
        eligible = rec.get("minimum_living_eligible")
        received = rec.get("minimum_living_received")
        rows.append({
            ROW: j.row, "township": j.township, "village": j.village, "household_type": j.household_type,
            "head_name": j.head_name, "id_number": j.id_number, "household_size": j.household_size,
            "inaccurate": _judgment_text(j.inaccurate), "wrong_exit": _judgment_text(j.wrong_exit),
            "missed": _judgment_text(j.missed),
            "recognition": None if recognised is None else RECOGNISED if recognised else NOT_RECOGNISED,
            **{k: _clean(rec.get(k)) if registered else None for k in REGISTERED_FIELDS},
            "living_guarantee": _clean(received) if eligible == YES else None,
        })
    return pd.DataFrame(rows, columns=[ROW, "township", "village", "household_type", "head_name", "id_number",
                                       "household_size", *HOUSEHOLD_COLUMNS], dtype=object)


def _clean(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def _team_ok(rec: dict[str, Any]) -> str | None:
    resident, months = _clean(rec.get("team_resident")), _clean(rec.get("team_months"))
    if resident == NO or (resident == YES and months is not None and months < 6):
        return NO
    return YES if resident == YES and months is not None else None


def village_evidence(data: InspectionData) -> pd.DataFrame:
    """One row per checked village: the 是/否 checks the sample indicators count (驻村 combined into team_ok)."""
    rows = [{ROW: rec[ROW], "township": _clean(rec.get("township")), "village": _clean(rec.get("village")),
             **{k: _clean(rec.get(k)) for k in VILLAGE_FIELDS}, "team_ok": _team_ok(rec)}
            for rec in data.villages.astype(object).to_dict("records")]
    return pd.DataFrame(rows, columns=[ROW, "township", "village", *VILLAGE_COLUMNS], dtype=object)


def _sample(spec: SampleSpec, records: list[dict[str, Any]], data: InspectionData) -> Indicator:
    num = den = 0
    cases = []
    for rec in records:
        value = rec[spec.column]
        if value not in (spec.hit, spec.miss):
            continue
        weight = (rec["household_size"] or 0) if spec.people else 1
        den += weight
        num += weight if value == spec.hit else 0
        if value == spec.problem:
            cases.append(int(rec[ROW]))
    threshold = getattr(data.parameters.thresholds, spec.threshold) if spec.threshold else None
    ind = Indicator(key=spec.key, item=spec.item, name=spec.name, formula_zh=spec.formula_zh, source=spec.table,
                    numerator=num, denominator=den, value=num / den if den else None, counts_people=spec.people,
                    threshold=threshold, direction=spec.direction, case_label=spec.case_label, cases=tuple(cases))
    return ind.model_copy(update={"red_flag": threshold is not None and ind.meets(threshold) is False})


def county_terms(spec: CountySpec, values: dict[str, Any]) -> tuple[float | None, float | None]:
    """(numerator, denominator) of a county indicator; None where a figure is missing."""
    a = _clean(values.get(spec.a))
    b = _clean(values.get(spec.b)) if spec.b else 100
    if spec.op == "growth":
        return (a - b if a is not None and b is not None else None), b
    if spec.op == "decline":
        return (b - a if a is not None and b is not None else None), b
    return a, b


def _county(spec: CountySpec, data: InspectionData) -> Indicator:
    num, den = county_terms(spec, data.county.values)
    value = num / den if num is not None and den else None
    return Indicator(key=spec.key, item=spec.item, name=spec.name, formula_zh=spec.formula_zh, source="county",
                     numerator=num, denominator=den, value=value, share=False)


def compute_indicators(data: InspectionData, judgments: list[HouseholdJudgment]) -> list[Indicator]:
    """Every indicator of the six items and the five N items, in item order."""
    tables = {"households": household_evidence(data, judgments).to_dict("records"),
              "villages": village_evidence(data).to_dict("records")}
    found = [_sample(s, tables[s.table], data) for s in SAMPLE_SPECS] + [_county(s, data) for s in COUNTY_SPECS]
    return sorted(found, key=lambda ind: INDICATOR_ORDER[ind.key])


def by_key(indicators: list[Indicator]) -> dict[str, Indicator]:
    return {ind.key: ind for ind in indicators}
