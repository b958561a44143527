"""The follow-up list: households, villages and county figures that need action: where, why, what to do."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from ducha.model.findings import SEVERITY_ORDER, Severity
from ducha.model.privacy import mask_id
from ducha.model.records import ROW, InspectionData
from ducha.scoring.indicators import SPECS, Indicator, SampleSpec
from ducha.scoring.judgments import JUDGMENT_NAMES, HouseholdJudgment, Reason
from ducha.scoring.scorecard import JUDGMENT_OF_COLUMN, ScoreCard

JUDGMENT_ACTIONS = {
    "inaccurate": "核查登记表和“两公示一公告”等识别程序，补齐缺项；不符合识别标准的按程序清退",
    "wrong_exit": "按程序纳入返贫监测或重新识别，落实帮扶措施，补齐“两不愁三保障”短板",
    "missed": "核实后按程序纳入建档立卡（农户申请、民主评议、两公示一公告）",
    "recognised": "入户回访，了解不认可原因，做好政策宣传和帮扶工作",
}
UNDETERMINED_ACTION = "补填缺失的调查数据后重新运行评分"
INDICATOR_ACTIONS = {
    "industry_households": "帮助该户发展增收产业，落实产业扶持措施",
    "industry_villages": "因地制宜确定村脱贫增收主导产业",
    "village_plan": "驻村工作队因村制定贫困村精准扶贫规划",
    "help_plan": "分析致贫原因，为该户制定帮扶计划",
    "handbook": "为该户发放扶贫手册并讲解政策",
    "publicity": "加强扶贫政策宣传",
    "plan_projects": "督促规划和帮扶计划项目落实",
    "team_resident": "落实驻村工作队全脱产常驻，驻村时间不少于 6 个月",
    "critical_illness_sample": "为该户办理大病补充保险",
    "coop_insurance_sample": "为该户办理新农合参保",
    "clinic_sample": "建设标准化村卫生室",
    "doctor_sample": "配备合格乡村医生或执业（助理）医师",
    "two_exemptions_sample": "为该户子女落实义务教育“两免一补”",
    "high_school_aid_sample": "为该户子女落实普通高中免学费及助学金",
    "broadband_sample": "推进固定宽带进村",
    "culture_facilities": "建设村综合文化服务设施",
    "road_hardened_sample": "推进通村道路硬化",
    "road_maintained_sample": "落实农村公路养护",
    "bus_sample": "恢复或开通行政村客车",
    "minimum_living_sample": "按程序将该户纳入低保或特困供养",
    "wrong_exit_rate": "对全县脱贫户开展错退排查，逐户核实收入和“两不愁三保障”",
    "missed_rate": "对未建档立卡农户开展漏评排查，符合条件的按程序纳入",
    "recognition_rate": "针对群众不认可的问题逐户回访整改，加强政策宣传",
}
COUNTY_ACTION = "核实数据来源；未达目标的，督促县级部门制定整改措施，下月回访督查"
MISSING_ACTION = "补填县级数据并在 C 列注明数据来源"


class Flag(BaseModel):
    """One row of the follow-up list."""

    model_config = ConfigDict(frozen=True)

    level: Literal["农户", "村", "县"]
    severity: Severity
    sheet: str  # schema sheet key of the source: households / villages / county, or "score" (a rate of the sample)
    row: int | None = None
    cell: str = ""
    indicator: str | None = None
    township: str | None = None
    village: str | None = None
    household: str | None = None
    masked_id: str = ""
    problem: str  # short, e.g. 错退；不认可
    reasons: tuple[Reason, ...]
    action: str


def _worst(severities: list[Severity]) -> Severity:
    return min(severities, key=SEVERITY_ORDER.__getitem__)


def _join(texts: list[str]) -> str:
    return "；".join(dict.fromkeys(t for t in texts if t))


def _household_flags(judgments: list[HouseholdJudgment], cases: dict[int, list[Indicator]]) -> list[Flag]:
    flags = []
    for j in judgments:
        problems, undetermined = j.problems(), j.undetermined()
        extra = cases.get(j.row, [])
        if not (problems or undetermined or extra):
            continue
        severity = [Severity.WARNING if k == "recognised" else Severity.ERROR for k, _ in problems]
        severity += [Severity.WARNING] * len(extra) + [Severity.INFO] * len(undetermined)
        labels = [("不认可" if k == "recognised" else JUDGMENT_NAMES[k]) for k, _ in problems]
        labels += [ind.case_label for ind in extra] + [f"{JUDGMENT_NAMES[k]}无法判定" for k, _ in undetermined]
        reasons = [r for _, jd in (*problems, *undetermined) for r in jd.reasons]
        reasons += [Reason(code=ind.key, text=ind.case_label) for ind in extra]
        actions = [JUDGMENT_ACTIONS[k] for k, _ in problems] + [INDICATOR_ACTIONS.get(i.key, "") for i in extra]
        actions += [UNDETERMINED_ACTION] if undetermined else []
        flags.append(Flag(level="农户", severity=_worst(severity), sheet="households", row=j.row,
                          township=j.township, village=j.village, household=j.head_name,
                          masked_id=mask_id(j.id_number), problem=_join(labels), reasons=tuple(reasons),
                          action=_join(actions)))
    return flags


def _village_flags(data: InspectionData, cases: dict[int, list[Indicator]]) -> list[Flag]:
    flags = []
    for rec in data.villages.astype(object).to_dict("records"):
        found = cases.get(int(rec[ROW]), [])
        if found:
            flags.append(Flag(level="村", severity=Severity.WARNING, sheet="villages", row=int(rec[ROW]),
                              township=rec.get("township"), village=rec.get("village"),
                              problem=_join([i.case_label for i in found]),
                              reasons=tuple(Reason(code=i.key, text=i.case_label) for i in found),
                              action=_join([INDICATOR_ACTIONS.get(i.key, "") for i in found])))
    return flags


def _county_flags(data: InspectionData, card: ScoreCard) -> list[Flag]:
    flags = [Flag(level="县", severity=Severity.ERROR, sheet="score", indicator=f.indicator, problem=f"红旗：{f.name}",
                  reasons=(Reason(code="red-flag", text=f.reason),), action=INDICATOR_ACTIONS.get(f.indicator, ""))
             for f in card.red_flags]
    for item in card.items:
        for d in item.deductions:
            spec = SPECS.get(d.indicator or "")
            if spec is None or isinstance(spec, SampleSpec):
                continue
            figures = [k for k in (spec.a, spec.b) if k]
            blank = [k for k in figures if data.county.get(k) is None]
            flags.append(Flag(level="县", severity=Severity.WARNING, sheet="county", indicator=spec.key,
                              cell=data.county.cells.get((blank or figures)[0], ""), problem=spec.name,
                              reasons=(Reason(code=spec.key, text=d.reason),),
                              action=MISSING_ACTION if blank else COUNTY_ACTION))
    return flags


def build_flags(data: InspectionData, judgments: list[HouseholdJudgment], indicators: list[Indicator],
                card: ScoreCard) -> list[Flag]:
    """Flags for the scored items: problem households, villages failing checks, county figures short of target."""
    scored = {k for item in card.items for k in item.indicators}
    cases: dict[str, dict[int, list[Indicator]]] = {"households": {}, "villages": {}}
    for ind in indicators:
        spec = SPECS[ind.key]
        if ind.key in scored and isinstance(spec, SampleSpec) and spec.column not in JUDGMENT_OF_COLUMN:
            for row in ind.cases:
                cases[spec.table].setdefault(row, []).append(ind)
    return [*_household_flags(judgments, cases["households"]), *_village_flags(data, cases["villages"]),
            *_county_flags(data, card)]
