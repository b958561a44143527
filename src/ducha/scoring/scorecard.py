"""The month's score: the rubric applied to the indicators, each deduction with its reason and evidence rows."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from ducha.model.records import ROW, InspectionData, records
from ducha.model.schema import HOUSEHOLDS, NO, VILLAGES
from ducha.scoring.indicators import (
    N_ITEM_BY_NAME,
    NO_DATA,
    SIX_ITEMS,
    SPECS,
    CountySpec,
    Indicator,
    SampleSpec,
    percent,
)
from ducha.scoring.judgments import HouseholdJudgment
from ducha.scoring.rubric import EFFECT_NAMES, CaseRule, DocumentRule, Rubric, RubricItem, TargetRule, VetoRule

PRECISION = 2  # points are kept as they are shown (2 decimals): deductions add up to each item, items to the total
JUDGMENT_OF_COLUMN = {"inaccurate": "inaccurate", "wrong_exit": "wrong_exit", "missed": "missed",
                      "recognition": "recognised"}
SHEET_NAMES = {"households": HOUSEHOLDS.name, "villages": VILLAGES.name, "county": "县级核查"}
Raw = tuple[str, float, tuple["Evidence", ...]]  # reason, points before caps, evidence


class Evidence(BaseModel):
    """A source row (table sheets) or cell (the 「县级核查」 form) that a deduction rests on."""

    model_config = ConfigDict(frozen=True)

    sheet: str  # schema sheet key
    row: int | None = None
    cell: str = ""

    @property
    def text(self) -> str:
        return f"{SHEET_NAMES.get(self.sheet, self.sheet)} {f'第 {self.row} 行' if self.row else self.cell}"


class Deduction(BaseModel):
    model_config = ConfigDict(frozen=True)

    item: str
    rule: str  # rule kind
    rule_note: str = ""
    indicator: str | None = None
    reason: str
    points: float
    evidence: tuple[Evidence, ...] = ()


class RedFlag(BaseModel):
    model_config = ConfigDict(frozen=True)

    indicator: str
    name: str
    value_text: str
    threshold: float
    direction: str
    effect: str = "flag"

    @property
    def reason(self) -> str:
        word = "低于" if self.direction == "at_least" else "超过"
        return f"{self.name} {self.value_text}，{word} {percent(self.threshold)}（{EFFECT_NAMES[self.effect]}）"


class ItemScore(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    max_points: float
    points: float
    indicators: tuple[str, ...] = ()
    deductions: tuple[Deduction, ...] = ()


class Basis(BaseModel):
    """What a score rests on, for the score tab: versions, the poverty line, settings and the data left out."""

    model_config = ConfigDict(frozen=True)

    parameters_version: str
    line: str  # the inspection year's line in the chosen scope, with its source
    settings: tuple[tuple[str, str], ...] = ()  # (name, value) of settings and thresholds changed from the defaults
    missing: tuple[tuple[str, str], ...] = ()  # (indicator name, what is missing) of the scored indicators
    not_scored: tuple[tuple[str, str], ...] = ()  # (indicator name, why the rubric leaves it unscored)


class ScoreCard(BaseModel):
    """The score of one county for one month: the six items and the month's N item."""

    model_config = ConfigDict(frozen=True)

    county: str | None
    month: str | None
    key_item: str | None  # N1..N5, None when the workbook does not say
    items: tuple[ItemScore, ...]
    total: float
    max_total: float
    red_flags: tuple[RedFlag, ...] = ()
    rubric_name: str
    rubric_version: str
    basis: Basis | None = None

    def item(self, key: str) -> ItemScore:
        return next(i for i in self.items if i.key == key)


class _Context:
    """What the rules read: the data, the indicators by key, the judgments by Excel row."""

    def __init__(self, data: InspectionData, indicators: list[Indicator], judgments: list[HouseholdJudgment]):
        self.data = data
        self.indicators = {ind.key: ind for ind in indicators}
        self.judgments = {j.row: j for j in judgments}

    def who(self, spec: SampleSpec, row: int) -> str:
        if spec.table == "villages":
            match = self.data.villages[self.data.villages[ROW] == row]
            rec = match.iloc[0].to_dict() if len(match) else {}
            return f"{rec.get('township') or ''}{rec.get('village') or ''}（村级核查第 {row} 行）"
        j = self.judgments.get(row)
        if j is None:
            return f"农户调查第 {row} 行"
        name = f"{j.head_name or '（无姓名）'}（{j.township or ''}{j.village or ''}，农户调查第 {row} 行）"
        key = JUDGMENT_OF_COLUMN.get(spec.column)
        judgment = getattr(j, key) if key else None
        return f"{name}：{'；'.join(r.text for r in judgment.reasons)}" if judgment and judgment.reasons else name


def _missing_charge(rule: TargetRule | CaseRule, ind: Indicator, cap: float, evidence: tuple[Evidence, ...],
                    ctx: _Context) -> list[Raw]:
    """What 缺数据 costs under `rule` (its 缺数据时 setting); a zero-point line when it costs nothing, so the tab
    still shows it."""
    what = f"{ind.name}{NO_DATA}：{ind.missing_text}"
    if rule.on_missing == "none":
        return [(f"{what}，按细则不扣分", 0.0, evidence)]
    if rule.on_missing == "deduct_max":
        return [(f"{what}，按细则扣满本条上限", cap, evidence)]
    spec = SPECS[ind.key]
    assert isinstance(spec, SampleSpec) and isinstance(rule, CaseRule)
    cases = set(ind.cases)
    return [(f"{NO_DATA}：{ctx.who(spec, m.row)}，{m.why}，按一例扣分", rule.per_case,
             (Evidence(sheet=spec.table, row=m.row),)) for m in ind.missing if m.row is not None and m.row not in cases]


def _target(rule: TargetRule, ind: Indicator, ctx: _Context, cap: float) -> list[Raw]:
    spec = SPECS[ind.key]
    if isinstance(spec, CountySpec):
        evidence = tuple(Evidence(sheet="county", cell=ctx.data.county.cells.get(k, "")) for k in (spec.a, spec.b) if k)
    else:
        evidence = tuple(Evidence(sheet=spec.table, row=r) for r in ind.cases)
    found: list[Raw] = []
    if ind.missing:
        missing = tuple(Evidence(sheet=spec.table, row=m.row) for m in ind.missing if m.row is not None)
        found = _missing_charge(rule, ind, cap, missing or evidence, ctx)
        if rule.on_missing == "deduct_max":
            return found
    if ind.value is None:
        return found
    short = (rule.target - ind.value if rule.direction == "at_least" else ind.value - rule.target) * 100
    if short <= 1e-9:
        return found
    word = "低于" if rule.direction == "at_least" else "超过"
    reason = (f"{ind.name} {ind.value_text}，{word}目标 {percent(rule.target)} {short:.2f} 个百分点，"
              f"每个百分点扣 {rule.per_point:g} 分")
    return [*found, (reason, short * rule.per_point, evidence)]


def _cases(rule: CaseRule, ind: Indicator, ctx: _Context, cap: float) -> list[Raw]:
    spec = SPECS[ind.key]
    assert isinstance(spec, SampleSpec)
    found: list[Raw] = [(f"{ind.case_label}：{ctx.who(spec, row)}", rule.per_case,
                         (Evidence(sheet=spec.table, row=row),)) for row in ind.cases]
    return found + (_missing_charge(rule, ind, cap, (), ctx) if ind.missing else [])


def _documents(rule: DocumentRule, ctx: _Context) -> list[Raw]:
    sheet = HOUSEHOLDS if rule.sheet == "households" else VILLAGES
    frame = ctx.data.households if rule.sheet == "households" else ctx.data.villages
    fields = [sheet.field(k) for k in rule.documents]
    found: list[Raw] = []
    for rec in records(frame):
        row = int(rec[ROW])
        missing = [f for f in fields
                   if rec.get(f.key) == NO and (f.when is None or rec.get(f.when.field) in f.when.values)]
        if missing:
            who = rec.get("head_name") or f"{rec.get('township') or ''}{rec.get('village') or ''}"
            what = "、".join(f"「{f.header}」为“否”" for f in missing)
            cells = tuple(Evidence(sheet=rule.sheet, row=row, cell=ctx.data.cell(rule.sheet, f.key, row))
                          for f in missing)
            found.append((f"{who}（{sheet.name}第 {row} 行）缺材料：{what}", len(missing) * rule.per_document, cells))
    return found


class _ItemLedger:
    """Deductions of one item: each capped by its rule's limit and by the points left, so points stay in [0, max]."""

    def __init__(self, item: RubricItem) -> None:
        self.item = item
        self.left = item.max_points
        self.deductions: list[Deduction] = []

    def take(self, rule: Any, raw: list[Raw]) -> None:
        rule_left = rule.max_deduction if rule.max_deduction is not None else self.item.max_points
        for reason, points, evidence in raw:
            p = round(max(0.0, min(points, rule_left, self.left)), PRECISION)
            rule_left, self.left = rule_left - p, round(self.left - p, PRECISION)
            note = "" if p >= round(points, PRECISION) else "（已达扣分上限）" if p == 0 else "（扣至上限）"
            self.deductions.append(Deduction(item=self.item.key, rule=rule.kind, rule_note=rule.note,
                                             indicator=getattr(rule, "indicator", None), reason=reason + note,
                                             points=p, evidence=evidence))


def _veto(rule: VetoRule, ind: Indicator) -> RedFlag | None:
    threshold = rule.threshold if rule.threshold is not None else ind.threshold
    direction = rule.direction or ind.direction
    if threshold is None or ind.meets(threshold, direction) is not False:
        return None
    return RedFlag(indicator=ind.key, name=ind.name, value_text=ind.value_text, threshold=threshold,
                   direction=direction, effect=rule.effect)


def _score_item(item: RubricItem, ctx: _Context) -> tuple[ItemScore, list[RedFlag]]:
    ledger = _ItemLedger(item)
    for rule in item.rules:
        cap = rule.max_deduction if rule.max_deduction is not None else item.max_points
        if isinstance(rule, TargetRule):
            ledger.take(rule, _target(rule, ctx.indicators[rule.indicator], ctx, cap))
        elif isinstance(rule, CaseRule):
            ledger.take(rule, _cases(rule, ctx.indicators[rule.indicator], ctx, cap))
        elif isinstance(rule, DocumentRule):
            ledger.take(rule, _documents(rule, ctx))
    flags = []
    for rule in (r for r in item.rules if isinstance(r, VetoRule)):
        if flag := _veto(rule, ctx.indicators[rule.indicator]):
            flags.append(flag)
            if rule.effect == "zero_item" and ledger.left > 0:
                ledger.take(rule, [(f"一票否决：{flag.reason}", ledger.left, ())])
    keys = tuple(k for k, spec in SPECS.items() if spec.item == item.key)
    return ItemScore(key=item.key, name=item.name, max_points=item.max_points, points=max(0.0, ledger.left),
                     indicators=keys, deductions=tuple(ledger.deductions)), flags


def _zeroed(score: ItemScore, reason: str) -> ItemScore:
    if score.points <= 0:
        return score
    cut = Deduction(item=score.key, rule="veto", reason=reason, points=score.points)
    return score.model_copy(update={"points": 0.0, "deductions": (*score.deductions, cut)})


def _unscored_n(six: list[ItemScore]) -> ItemScore:
    n_max = 100 - sum(s.max_points for s in six)
    missing = Deduction(item="N", rule="missing", reason="「本月重点督查内容」未填写或无效，N 项无法评分", points=n_max)
    return ItemScore(key="N", name="本月重点督查内容（未确定）", max_points=n_max, points=0.0, deductions=(missing,))


def _basis(data: InspectionData, indicators: list[Indicator], rubric: Rubric, scored: set[str]) -> Basis:
    params = data.parameters
    line = params.line_for(data.year) if data.year else None
    line_text = (f"{line.text}（{line.source or '「参数」表'}）" if line
                 else "无（督查月份未填，或「参数」表没有适用的扶贫标准）")
    why = rubric.not_scored()
    return Basis(parameters_version=params.settings.version, line=line_text,
                 settings=(*params.changed_settings(), *rubric.judgment_rules.changed()),
                 missing=tuple((i.name, i.missing_text) for i in indicators if i.key in scored and i.missing),
                 not_scored=tuple((i.name, why[i.key]) for i in indicators if i.key in scored and i.key in why))


def score_inspection(data: InspectionData, judgments: list[HouseholdJudgment], indicators: list[Indicator],
                     rubric: Rubric, key_item: str | None = None) -> ScoreCard:
    """Score the six items and the N item (`key_item`, else the one named in 「基本信息」) under `rubric`."""
    n_key = key_item or N_ITEM_BY_NAME.get(data.basic.get("key_item") or "")
    ctx = _Context(data, indicators, judgments)
    scores: list[ItemScore] = []
    flags: list[RedFlag] = []
    for key in (*SIX_ITEMS, *([n_key] if n_key else [])):
        score, item_flags = _score_item(rubric.item(key), ctx)
        scores.append(score)
        flags.extend(item_flags)
    if not n_key:
        scores.append(_unscored_n(scores))
    flagged = {f.indicator for f in flags}
    shown = {k for s in scores for k in s.indicators}
    flags.extend(RedFlag(indicator=i.key, name=i.name, value_text=i.value_text, threshold=i.threshold,
                         direction=i.direction) for i in indicators
                 if i.red_flag and i.threshold is not None and i.key in shown and i.key not in flagged)
    if vetoes := [f.name for f in flags if f.effect == "zero_total"]:
        scores = [_zeroed(s, f"一票否决（{'、'.join(vetoes)}），总分为零") for s in scores]
    return ScoreCard(county=data.basic.get("county"), month=data.month, key_item=n_key, items=tuple(scores),
                     total=round(sum(s.points for s in scores), PRECISION),
                     max_total=round(sum(s.max_points for s in scores), PRECISION), red_flags=tuple(flags),
                     rubric_name=rubric.name, rubric_version=rubric.version,
                     basis=_basis(data, indicators, rubric, shown))
