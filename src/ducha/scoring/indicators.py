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

from ducha.model.records import ROW, InspectionData, records
from ducha.model.schema import COUNTY, HOUSEHOLDS, KEY_ITEMS, NO, REGISTERED_TYPES, VILLAGES, YES, Sheet
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
OK = "ok"
UNDETERMINED = "无法判定"
SIZE_INVALID = "家庭人口缺失或无效"
COUNTY_ACTION = "核实数据来源；未达目标的，督促县级部门制定整改措施，下月回访督查"
RECOGNISED, NOT_RECOGNISED = "认可", "不认可"

Direction = Literal["at_least", "at_most"]
Source = Literal["households", "villages", "county"]


class Missing(BaseModel):
    """A unit left out of an indicator's rate: its Excel row (None for a county figure) and why."""

    model_config = ConfigDict(frozen=True)

    row: int | None
    why: str


class Indicator(BaseModel):
    """One computed indicator. `value` is None when there is no sample (denominator 0) or a figure is missing.

    `missing` lists the units whose answer (or 家庭人口, for people-based rates) the month needs but the sheet
    lacks: they are left out of the rate, which is then computed over the rest, and the status is 缺数据.
    """

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
    missing: tuple[Missing, ...] = ()

    @property
    def status(self) -> str:
        """缺数据 (a needed answer or figure is blank), 无样本 (nothing to count) or ok."""
        if self.missing or self.numerator is None or self.denominator is None:
            return NO_DATA
        return NO_SAMPLE if self.value is None else OK

    @property
    def value_text(self) -> str:
        if self.value is None:
            return NO_DATA if self.status == NO_DATA else NO_SAMPLE
        return f"{self.value:.2%}"

    @property
    def missing_text(self) -> str:
        """E.g. 2 户缺数据（家庭人口缺失或无效 1，「有帮扶计划」未填写 1）; empty when nothing is missing."""
        if not self.missing:
            return ""
        if self.source == "county":
            return "县级数据未填写"
        unit = "个村" if self.source == "villages" else "户"
        whys: dict[str, int] = {}
        for m in self.missing:
            whys[m.why] = whys.get(m.why, 0) + 1
        return f"{len(self.missing)} {unit}缺数据（{'，'.join(f'{w} {n}' for w, n in whys.items())}）"

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
    action: str = ""  # what to do about each problem case
    rate_action: str = ""  # what to do when the rate itself fails its threshold (a red flag)

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
    action: str = COUNTY_ACTION


def _hh(key: str, item: str, name: str, formula: str, column: str, label: str, **kw: Any) -> SampleSpec:
    return SampleSpec(key, item, name, formula, "households", column, label, **kw)


def _vg(key: str, item: str, name: str, column: str, label: str, action: str) -> SampleSpec:
    formula = f"「{VILLAGE_COLUMNS[column]}」为“是”的抽查村数 ÷ 该项为“是”或“否”的抽查村数"
    return SampleSpec(key, item, name, formula, "villages", column, label, action=action)


def _yes(header: str, whom: str = "建档立卡户") -> str:
    return f"「{header}」为“是”的抽查{whom}数 ÷ 该项为“是”或“否”的抽查{whom}数"


# Evidence columns: key -> Chinese header. Household fields here are kept for 建档立卡户 only.
JUDGMENT_COLUMNS = {"inaccurate": "识别不准确", "wrong_exit": "错退", "missed": "漏评", "recognition": "群众认可"}
REGISTERED_FIELDS = ("has_industry", "in_rural_coop_insurance", "in_critical_illness_insurance",
                     "two_exemptions_one_subsidy", "high_school_aid", "has_help_plan", "help_plan_targets_cause",
                     "has_handbook")
HOUSEHOLD_COLUMNS = {**JUDGMENT_COLUMNS, **{k: HOUSEHOLDS.field(k).header for k in REGISTERED_FIELDS},
                     "living_guarantee": "符合低保或特困条件且已纳入"}
VILLAGE_FIELDS = ("has_leading_industry", "has_cooperative", "has_village_plan", "team_ledger", "plan_projects_done",
                  "policy_publicised", "has_clinic", "has_doctor", "has_broadband", "has_culture_facility",
                  "road_hardened", "road_maintained", "has_bus")
VILLAGE_COLUMNS = {**{k: VILLAGES.field(k).header for k in VILLAGE_FIELDS}, "team_ok": "驻村工作队全脱产常驻满6个月",
                   "poor_village_coop": "贫困村成立农民专业合作社"}
_H = HOUSEHOLD_COLUMNS

SAMPLE_SPECS: tuple[SampleSpec, ...] = (
    _hh("identification_inaccuracy", "1", "识别不准确率（方案口径）",
        "抽样识别不准确贫困户数 ÷ 抽样贫困户总数（户）", "inaccurate", "识别不准确户", bad=True,
        action="核查登记表和“两公示一公告”等识别程序，补齐缺项；不符合识别标准的按程序清退"),
    _hh("identification_accuracy", "1", "贫困人口识别准确率",
        "抽样识别准确贫困户数 ÷ 抽样贫困户总数（户），= 1 − 识别不准确率", "inaccurate", "识别不准确户",
        hit=NO, miss=YES, action="核查登记表和“两公示一公告”等识别程序，补齐缺项；不符合识别标准的按程序清退"),
    _hh("industry_households", "2", "抽查建档立卡户有增收主导产业比率", _yes(_H["has_industry"]),
        "has_industry", "无增收主导产业的建档立卡户", action="帮助该户发展增收产业，落实产业扶持措施"),
    _vg("industry_villages", "2", "抽查村有脱贫增收主导产业比率", "has_leading_industry", "无主导产业的村",
        "因地制宜确定村脱贫增收主导产业"),
    SampleSpec("coop_poor_villages_sample", "2", "抽查贫困村成立农民专业合作社比率",
               "「抽样」表中为贫困村且「成立农民专业合作社」为“是”的抽查村数 ÷ 抽查贫困村数", "villages",
               "poor_village_coop", "未成立农民专业合作社的贫困村", action="指导贫困村成立农民专业合作社，带动贫困户"),
    _hh("wrong_exit_rate", "6", "脱贫人口错退率", "抽样错退人口数 ÷ 抽样脱贫人口数（按家庭人口合计）",
        "wrong_exit", "错退户", bad=True, people=True, threshold="wrong_exit_max", direction="at_most",
        action="按程序纳入返贫监测或重新识别，落实帮扶措施，补齐“两不愁三保障”短板",
        rate_action="对全县脱贫户开展错退排查，逐户核实收入和“两不愁三保障”"),
    _hh("missed_rate", "6", "贫困人口漏评率",
        "调查核实的漏评人口数 ÷ 抽查村未建档立卡的农村人口数（按家庭人口合计）",
        "missed", "漏评户", bad=True, people=True, threshold="missed_max", direction="at_most",
        action="核实后按程序纳入建档立卡（农户申请、民主评议、两公示一公告）",
        rate_action="对未建档立卡农户开展漏评排查，符合条件的按程序纳入"),
    _hh("recognition_rate", "6", "群众认可度", "调查户中认可户数 ÷ 调查户总数（户）", "recognition", "不认可户",
        hit=RECOGNISED, miss=NOT_RECOGNISED, threshold="recognition_min",
        action="入户回访，了解不认可原因，做好政策宣传和帮扶工作",
        rate_action="针对群众不认可的问题逐户回访整改，加强政策宣传"),
    _vg("village_plan", "N1", "抽查村有精准扶贫规划比率", "has_village_plan", "无精准扶贫规划的村",
        "驻村工作队因村制定贫困村精准扶贫规划"),
    _hh("help_plan", "N1", "抽查建档立卡户有帮扶计划比率", _yes(_H["has_help_plan"]),
        "has_help_plan", "无帮扶计划的户", action="分析致贫原因，为该户制定帮扶计划"),
    _hh("help_plan_cause", "N1", "帮扶计划针对致贫原因比率",
        f"有帮扶计划且「{_H['help_plan_targets_cause']}」为“是”的建档立卡户数 ÷ 该项为“是”或“否”的户数",
        "help_plan_targets_cause", "帮扶计划未针对致贫原因的户", action="对照登记表致贫原因修订该户帮扶计划"),
    _hh("handbook", "N1", "扶贫手册发放率", _yes(_H["has_handbook"]), "has_handbook", "未发放扶贫手册的户",
        action="为该户发放扶贫手册并讲解政策"),
    _vg("publicity", "N1", "扶贫政策宣传到位村比率", "policy_publicised", "政策宣传不到位的村", "加强扶贫政策宣传"),
    _vg("plan_projects", "N1", "规划和帮扶计划项目落实村比率", "plan_projects_done", "项目未落实的村",
        "督促规划和帮扶计划项目落实"),
    _vg("team_ledger", "N1", "驻村工作队工作台账齐全村比率", "team_ledger", "驻村工作队工作台账不齐全的村",
        "驻村工作队建立健全工作台账，如实记录驻村工作"),
    _vg("team_resident", "N1", "驻村工作队全脱产常驻满6个月村比率", "team_ok", "驻村工作队不合要求的村",
        "落实驻村工作队全脱产常驻，驻村时间不少于 6 个月"),
    _hh("critical_illness_sample", "N2", "抽查建档立卡户参加大病补充保险比率",
        _yes(_H["in_critical_illness_insurance"]), "in_critical_illness_insurance", "未参加大病补充保险的户",
        action="为该户办理大病补充保险"),
    _hh("coop_insurance_sample", "N2", "抽查建档立卡户参加新农合比率", _yes(_H["in_rural_coop_insurance"]),
        "in_rural_coop_insurance", "未参加新农合的户", action="为该户办理新农合参保"),
    _vg("clinic_sample", "N2", "抽查村有标准化卫生室比率", "has_clinic", "无标准化卫生室的村", "建设标准化村卫生室"),
    _vg("doctor_sample", "N2", "抽查村有合格乡村医生比率", "has_doctor", "无合格乡村医生的村",
        "配备合格乡村医生或执业（助理）医师"),
    _hh("two_exemptions_sample", "N3", "抽查建档立卡户享受两免一补比率", _yes(_H["two_exemptions_one_subsidy"]),
        "two_exemptions_one_subsidy", "未享受两免一补的户", action="为该户子女落实义务教育“两免一补”"),
    _hh("high_school_aid_sample", "N3", "抽查建档立卡户享受高中免学费及助学金比率", _yes(_H["high_school_aid"]),
        "high_school_aid", "未享受高中免学费及助学金的户", action="为该户子女落实普通高中免学费及助学金"),
    _vg("broadband_sample", "N4", "抽查村通固定宽带比率", "has_broadband", "未通固定宽带的村", "推进固定宽带进村"),
    _vg("culture_facilities", "N4", "抽查村有综合文化服务设施比率", "has_culture_facility", "无综合文化服务设施的村",
        "建设村综合文化服务设施"),
    _vg("road_hardened_sample", "N4", "抽查村通硬化路比率", "road_hardened", "未通硬化路的村", "推进通村道路硬化"),
    _vg("road_maintained_sample", "N4", "抽查村道路养护到位比率", "road_maintained", "道路养护不到位的村",
        "落实农村公路养护"),
    _vg("bus_sample", "N4", "抽查村通客车比率", "has_bus", "未通客车的村", "恢复或开通行政村客车"),
    _hh("minimum_living_sample", "N5", "抽查户应保尽保率", "符合低保或特困供养条件且已纳入的户数 ÷ 符合条件的户数",
        "living_guarantee", "符合条件未纳入低保或特困供养的户", action="按程序将该户纳入低保或特困供养"),
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


def _clean(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def _answer(sheet: Sheet, key: str, rec: dict[str, Any], key_item: str | None) -> Any:
    """A 是/否 answer as counted: the value, 缺数据 when the month needs it and it is blank, else None."""
    value = _clean(rec.get(key))
    f = sheet.field(key)
    if value is None and f.needed_for(key_item) and (f.when is None or rec.get(f.when.field) in f.when.values):
        return NO_DATA
    return value


def household_evidence(data: InspectionData, judgments: list[HouseholdJudgment]) -> pd.DataFrame:
    """One row per household: the judgments and the household values the sample indicators count.

    A needed answer left blank reads 缺数据; 家庭人口 is blank where it is missing or invalid.
    """
    source = {rec[ROW]: rec for rec in records(data.households)}
    key_item = data.basic.get("key_item")
    rows = []
    for j in judgments:
        rec = {k: _clean(v) for k, v in source.get(j.row, {}).items()}
        registered = j.household_type in REGISTERED_TYPES
        recognised = j.recognised.value if j.recognised else None
        eligible = _answer(HOUSEHOLDS, "minimum_living_eligible", rec, key_item)
        answers = {k: _answer(HOUSEHOLDS, k, rec, key_item) if registered else None for k in REGISTERED_FIELDS}
        if answers["has_help_plan"] != YES:
            answers["help_plan_targets_cause"] = None
        rows.append({
            ROW: j.row, "township": j.township, "village": j.village, "household_type": j.household_type,
            "head_name": j.head_name, "id_number": j.id_number, "household_size": j.household_size,
            "inaccurate": _judgment_text(j.inaccurate), "wrong_exit": _judgment_text(j.wrong_exit),
            "missed": _judgment_text(j.missed),
            "recognition": (UNDETERMINED if j.recognised else None) if recognised is None
            else RECOGNISED if recognised else NOT_RECOGNISED,
            **answers,
            "living_guarantee": (_answer(HOUSEHOLDS, "minimum_living_received", rec, key_item) if eligible == YES
                                 else NO_DATA if eligible == NO_DATA else None),
        })
    return pd.DataFrame(rows, columns=[ROW, "township", "village", "household_type", "head_name", "id_number",
                                       "household_size", *HOUSEHOLD_COLUMNS], dtype=object)


def _team_ok(rec: dict[str, Any], key_item: str | None) -> str | None:
    resident, months = _answer(VILLAGES, "team_resident", rec, key_item), _answer(VILLAGES, "team_months", rec,
                                                                                 key_item)
    if resident == NO or (resident == YES and isinstance(months, int | float) and months < 6):
        return NO
    if NO_DATA in (resident, months):
        return NO_DATA
    return YES if resident == YES and months is not None else None


def _poor_village_coop(rec: dict[str, Any], poor: dict[tuple[Any, Any], Any], key_item: str | None) -> str | None:
    """The 合作社 answer of a village the 「抽样」 sheet marks as a 贫困村 (缺数据 when that mark is blank)."""
    key = (rec.get("township"), rec.get("village"))
    if key not in poor:
        return None
    if poor[key] is None:
        return NO_DATA
    return _answer(VILLAGES, "has_cooperative", rec, key_item) if poor[key] == YES else None


def village_evidence(data: InspectionData) -> pd.DataFrame:
    """One row per checked village: the 是/否 checks the sample indicators count (驻村 combined into team_ok,
    合作社 of the villages sampled as 贫困村 into poor_village_coop)."""
    key_item = data.basic.get("key_item")
    poor = {(_clean(r.get("township")), _clean(r.get("village"))): _clean(r.get("village_is_poor"))
            for r in records(data.sampling)}
    rows = []
    for raw in records(data.villages):
        rec = {k: _clean(v) for k, v in raw.items()}
        rows.append({ROW: rec[ROW], "township": rec.get("township"), "village": rec.get("village"),
                     **{k: _answer(VILLAGES, k, rec, key_item) for k in VILLAGE_FIELDS},
                     "team_ok": _team_ok(rec, key_item), "poor_village_coop": _poor_village_coop(rec, poor, key_item)})
    return pd.DataFrame(rows, columns=[ROW, "township", "village", *VILLAGE_COLUMNS], dtype=object)


Undecided = dict[tuple[int, str], str]  # (Excel row, evidence column) -> why the judgment cannot be made


def _undecided(judgments: list[HouseholdJudgment]) -> Undecided:
    keys = {"inaccurate": "inaccurate", "wrong_exit": "wrong_exit", "missed": "missed", "recognition": "recognised"}
    return {(j.row, column): "；".join(r.text for r in jd.reasons) for j in judgments for column, key in keys.items()
            if (jd := getattr(j, key)) is not None and jd.value is None}


def _missing_why(spec: SampleSpec, value: Any, row: int, undecided: Undecided) -> str:
    if value == UNDETERMINED:
        return undecided.get((row, spec.column)) or f"{JUDGMENT_COLUMNS.get(spec.column, spec.name)}无法判定"
    return f"「{(HOUSEHOLD_COLUMNS if spec.table == 'households' else VILLAGE_COLUMNS)[spec.column]}」未填写"


def _sample(spec: SampleSpec, records: list[dict[str, Any]], data: InspectionData, undecided: Undecided) -> Indicator:
    num = den = 0
    cases, missing = [], []
    for rec in records:
        value, row = rec[spec.column], int(rec[ROW])
        if value in (UNDETERMINED, NO_DATA):
            missing.append(Missing(row=row, why=_missing_why(spec, value, row, undecided)))
            continue
        if value not in (spec.hit, spec.miss):
            continue
        if value == spec.problem:
            cases.append(row)
        weight = rec["household_size"] if spec.people else 1
        if weight is None:
            missing.append(Missing(row=row, why=SIZE_INVALID))
            continue
        den += weight
        num += weight if value == spec.hit else 0
    threshold = getattr(data.parameters.thresholds, spec.threshold) if spec.threshold else None
    ind = Indicator(key=spec.key, item=spec.item, name=spec.name, formula_zh=spec.formula_zh, source=spec.table,
                    numerator=num, denominator=den, value=num / den if den else None, counts_people=spec.people,
                    threshold=threshold, direction=spec.direction, case_label=spec.case_label, cases=tuple(cases),
                    missing=tuple(missing))
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
    missing = tuple(Missing(row=None, why=f"「{COUNTY.field(k).header}」未填写") for k in (spec.a, spec.b)
                    if k and _clean(data.county.values.get(k)) is None)
    return Indicator(key=spec.key, item=spec.item, name=spec.name, formula_zh=spec.formula_zh, source="county",
                     numerator=num, denominator=den, value=value, share=False, missing=missing)


def compute_indicators(data: InspectionData, judgments: list[HouseholdJudgment]) -> list[Indicator]:
    """Every indicator of the six items and the five N items, in item order."""
    tables = {"households": records(household_evidence(data, judgments)),
              "villages": records(village_evidence(data))}
    undecided = _undecided(judgments)
    found = [_sample(s, tables[s.table], data, undecided) for s in SAMPLE_SPECS]
    found += [_county(s, data) for s in COUNTY_SPECS]
    return sorted(found, key=lambda ind: INDICATOR_ORDER[ind.key])


def by_key(indicators: list[Indicator]) -> dict[str, Indicator]:
    return {ind.key: ind for ind in indicators}
