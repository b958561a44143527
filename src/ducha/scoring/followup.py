"""The follow-up list: households, villages and county figures that need action: where, why, what to do."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from ducha.model.findings import SEVERITY_ORDER, Severity
from ducha.model.privacy import mask_id
from ducha.model.records import ROW, InspectionData, records
from ducha.scoring.indicators import NO_DATA, SIZE_INVALID, SPECS, Indicator, SampleSpec
from ducha.scoring.judgments import JUDGMENT_NAMES, HouseholdJudgment, Reason
from ducha.scoring.scorecard import JUDGMENT_OF_COLUMN, ScoreCard

# A flag's follow-up level, from the worst of its problems: what the county does, not a data-entry severity.
FOLLOW_UP_LEVELS = {Severity.ERROR: "重点跟进", Severity.WARNING: "一般跟进", Severity.INFO: "补充资料"}
FOLLOW_UP_LEVEL_TEXT = ("跟进级别：重点跟进＝错退、漏评、识别不准确或红旗指标，须入户或向县级核实并整改；一般跟进＝群众"
                        "不认可或指标未达目标，须回访或督促整改；补充资料＝缺数据无法判定，补填后重新运行评分。")
UNDETERMINED_ACTION = "补填缺失的调查数据后重新运行评分"
MISSING_ACTION = "补填县级数据并在 C 列注明数据来源"


def _judgment_actions() -> dict[str, str]:
    """Judgment key -> the action of the sample indicator that counts it (e.g. wrong_exit -> 错退率's action)."""
    found: dict[str, str] = {}
    for spec in SPECS.values():
        if isinstance(spec, SampleSpec) and spec.column in JUDGMENT_OF_COLUMN:
            found.setdefault(JUDGMENT_OF_COLUMN[spec.column], spec.action)
    return found


JUDGMENT_ACTIONS = _judgment_actions()


def _action(key: str | None) -> str:
    """The action an indicator's spec carries for one problem case."""
    spec = SPECS.get(key or "")
    return spec.action if spec else ""


def _rate_action(key: str) -> str:
    """The action for an indicator that fails its threshold: the spec's rate action, else its case action."""
    spec = SPECS.get(key)
    return (getattr(spec, "rate_action", "") or spec.action) if spec else ""


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

    @property
    def follow_up_level(self) -> str:
        """重点跟进 / 一般跟进 / 补充资料 (FOLLOW_UP_LEVELS)."""
        return FOLLOW_UP_LEVELS[self.severity]


def _worst(severities: list[Severity]) -> Severity:
    return min(severities, key=SEVERITY_ORDER.__getitem__)


def _join(texts: list[str]) -> str:
    return "；".join(dict.fromkeys(t for t in texts if t))


def _gap_parts(gaps: list[str]) -> tuple[list[str], list[Reason], list[str]]:
    """(labels, reasons, actions) of a unit's 缺数据: needed answers left blank or a 家庭人口 that cannot be weighed."""
    return ([f"{NO_DATA}：{why}" for why in gaps], [Reason(code="missing-data", text=why) for why in gaps],
            [UNDETERMINED_ACTION] if gaps else [])


def _household_flags(judgments: list[HouseholdJudgment], cases: dict[int, list[Indicator]],
                     gaps: dict[int, list[str]]) -> list[Flag]:
    flags = []
    for j in judgments:
        problems, undetermined = j.problems(), j.undetermined()
        extra, gap_labels, gap_reasons, gap_actions = cases.get(j.row, []), *_gap_parts(gaps.get(j.row, []))
        if not (problems or undetermined or extra or gap_labels):
            continue
        severity = [Severity.WARNING if k == "recognised" else Severity.ERROR for k, _ in problems]
        severity += [Severity.WARNING] * len(extra) + [Severity.INFO] * (len(undetermined) + len(gap_labels))
        labels = [("不认可" if k == "recognised" else JUDGMENT_NAMES[k]) for k, _ in problems]
        labels += [ind.case_label for ind in extra] + [f"{JUDGMENT_NAMES[k]}无法判定" for k, _ in undetermined]
        labels += gap_labels
        reasons = [r for _, jd in (*problems, *undetermined) for r in jd.reasons]
        reasons += [Reason(code=ind.key, text=ind.case_label) for ind in extra] + gap_reasons
        actions = [JUDGMENT_ACTIONS[k] for k, _ in problems] + [_action(i.key) for i in extra]
        actions += ([UNDETERMINED_ACTION] if undetermined else []) + gap_actions
        flags.append(Flag(level="农户", severity=_worst(severity), sheet="households", row=j.row,
                          township=j.township, village=j.village, household=j.head_name,
                          masked_id=mask_id(j.id_number), problem=_join(labels), reasons=tuple(reasons),
                          action=_join(actions)))
    return flags


def _village_flags(data: InspectionData, cases: dict[int, list[Indicator]], gaps: dict[int, list[str]]) -> list[Flag]:
    flags = []
    for rec in records(data.villages):
        row = int(rec[ROW])
        found, (gap_labels, gap_reasons, gap_actions) = cases.get(row, []), _gap_parts(gaps.get(row, []))
        if found or gap_labels:
            flags.append(Flag(level="村", severity=Severity.WARNING if found else Severity.INFO, sheet="villages",
                              row=row, township=rec.get("township"), village=rec.get("village"),
                              problem=_join([i.case_label for i in found] + gap_labels),
                              reasons=tuple(Reason(code=i.key, text=i.case_label) for i in found) + tuple(gap_reasons),
                              action=_join([_action(i.key) for i in found] + gap_actions)))
    return flags


def _county_flags(data: InspectionData, card: ScoreCard) -> list[Flag]:
    flags = [Flag(level="县", severity=Severity.ERROR, sheet="score", indicator=f.indicator, problem=f"红旗：{f.name}",
                  reasons=(Reason(code="red-flag", text=f.reason),), action=_rate_action(f.indicator))
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
                              action=MISSING_ACTION if blank else spec.action))
    return flags


def build_flags(data: InspectionData, judgments: list[HouseholdJudgment], indicators: list[Indicator],
                card: ScoreCard) -> list[Flag]:
    """Flags for the scored items: problem households, villages failing checks, county figures short of target."""
    scored = {k for item in card.items for k in item.indicators}
    cases: dict[str, dict[int, list[Indicator]]] = {"households": {}, "villages": {}}
    gaps: dict[str, dict[int, list[str]]] = {"households": {}, "villages": {}}
    for ind in indicators:
        spec = SPECS[ind.key]
        if ind.key not in scored or not isinstance(spec, SampleSpec):
            continue
        for m in ind.missing:  # undecidable judgments are flagged from the judgments themselves
            undecided = spec.column in JUDGMENT_OF_COLUMN and m.why != SIZE_INVALID
            whys = gaps[spec.table].setdefault(m.row, [])
            if m.row is not None and not undecided and m.why not in whys:
                whys.append(m.why)
        if spec.column not in JUDGMENT_OF_COLUMN:
            for row in ind.cases:
                cases[spec.table].setdefault(row, []).append(ind)
    return [*_household_flags(judgments, cases["households"], gaps["households"]),
            *_village_flags(data, cases["villages"], gaps["villages"]), *_county_flags(data, card)]
