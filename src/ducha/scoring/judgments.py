"""Per-household judgments (识别不准确, 错退, 漏评, 群众认可) from explicit rules, with the reasons behind each."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ducha.model.findings import display_value
from ducha.model.parameters import Parameters, PovertyLine
from ducha.model.records import ROW, InspectionData, records
from ducha.model.schema import (
    HOUSEHOLD_EXITED,
    HOUSEHOLD_ORDINARY,
    HOUSEHOLD_POOR,
    HOUSEHOLDS,
    NO,
    YES,
    FieldType,
    conflicting_answers,
)


class Why(Enum):
    """Reason codes of judgments: a stable code and a Chinese template."""

    def __init__(self, code: str, zh: str) -> None:
        self.code = code
        self.zh = zh

    FORM_INCOMPLETE = ("form-incomplete", "贫困户登记表填写不完整，有遗漏空缺")
    NO_PUBLICITY = ("no-publicity-record", "无“两公示一公告”记录")
    NO_MINUTES = ("no-meeting-minutes", "无村委会会议记录")
    CATEGORY_MISMATCH = ("category-mismatch", "登记表中的分类类别与实际不符")
    CAUSE_MISMATCH = ("cause-mismatch", "登记表中的致贫原因与实际不符")
    CHECK_FAILED = ("check-failed", "「{field}」为“否”")
    EXCLUDED = ("excluded", "属于不予识别的情形：「{field}」为“是”")
    INCOME_ABOVE_STANDARD = ("income-above-standard",
                             "年人均纯收入 {income} 元，超过 {line} 的 {margin} 倍（{limit} 元），不符合识别标准")
    INCOME_NOT_ABOVE_LINE = ("income-not-above-line",
                             "年人均纯收入 {income} 元，未{stably}超过{which}（{year} 年）适用的 {line}")
    INCOME_BELOW_LINE = ("income-below-line", "年人均纯收入 {income} 元，低于 {line}")
    FOOD = ("food-insecure", "“不愁吃”未实现")
    CLOTHING = ("clothing-insecure", "“不愁穿”未实现")
    EDUCATION = ("education-unsecured", "义务教育没有保障")
    MEDICAL = ("medical-unsecured", "基本医疗没有保障")
    HOUSING = ("housing-unsafe", "住房安全没有保障")
    WATER = ("water-unsafe", "饮水安全没有保障")
    NOT_RECOGNISED = ("not-recognised", "群众不认可：{reason}")
    VERDICT = ("inspector-verdict", "督查组认定为“{verdict}”（自动判定：{auto}）")
    UNKNOWN = ("undetermined", "「{field}」未填写或无效，无法判定")
    NO_LINE = ("no-poverty-line", "没有 {year} 年及以前的扶贫标准，无法判定收入")
    EXIT_YEAR_BLANK = ("exit-year-blank-decided",
                       "脱贫年度未填：扶贫标准逐年上调，按督查年度及以前最高的 {line} 判定收入")
    EXIT_YEAR_LATE = ("exit-year-after-inspection", "脱贫年度 {exit_year} 晚于督查年度 {year}，按 {line} 判定")
    ONE_OFF_EXCLUDED = ("one-off-income-excluded",
                        "按「参数」设置不计一次性收入：年人均纯收入 {income} 元扣除人均一次性收入 {one_off} 元，"
                        "为 {stable} 元")
    ANSWER_USED = ("answer-used", "「{detail}」为“{detail_value}”而「{guarantee}」为“{guarantee_value}”，"
                                  "判定采用「{used}」的回答")

    def reason(self, **values: Any) -> Reason:
        return Reason(code=self.code, text=self.zh.format(**values))


CHECK_REASONS = {"form_complete": Why.FORM_INCOMPLETE, "publicity_records": Why.NO_PUBLICITY,
                 "meeting_minutes": Why.NO_MINUTES, "category_matches": Why.CATEGORY_MISMATCH,
                 "cause_matches": Why.CAUSE_MISMATCH}
SECURITY_REASONS = {"food_secure": Why.FOOD, "clothing_secure": Why.CLOTHING, "education_secured": Why.EDUCATION,
                    "medical_secured": Why.MEDICAL, "housing_secured": Why.HOUSING, "water_secured": Why.WATER}
JUDGMENT_NAMES = {"inaccurate": "识别不准确", "wrong_exit": "错退", "missed": "漏评", "recognised": "群众认可"}
_HEADERS = HOUSEHOLDS.headers()
_YES_NO_FIELDS = {f.key for f in HOUSEHOLDS.fields if f.type is FieldType.YES_NO}
_SIZE = HOUSEHOLDS.field("household_size")


class Reason(BaseModel):
    """Why a judgment came out as it did: a stable code and Chinese text."""

    model_config = ConfigDict(frozen=True)

    code: str
    text: str


class JudgmentRules(BaseModel):
    """The configurable rules behind the automatic judgments."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    identification_checks: tuple[str, ...] = Field(
        ("form_complete", "publicity_records", "category_matches", "cause_matches"),
        description="是/否 fields of a 建档立卡贫困户 whose “否” makes its identification inaccurate")
    check_income_standard: bool = Field(True, description="识别不准确 when income exceeds the line × margin")
    income_margin: float | None = Field(None, ge=1, description="None: the workbook's 参数 threshold")
    exclusion_fields: tuple[str, ...] = Field((), description="是/否 fields whose “是” excludes a household")
    exit_lines: tuple[Literal["exit", "inspection"], ...] = Field(
        ("exit", "inspection"), min_length=1,
        description="错退 when income is not above the line of the exit year and/or the inspection year")
    exit_security_fields: tuple[str, ...] = tuple(SECURITY_REASONS)
    missed_security_fields: tuple[str, ...] = ("education_secured", "medical_secured", "housing_secured")
    use_verdicts: bool = Field(True, description="the inspector's verdict columns override the automatic judgment")
    conflicting_answers: Literal["guarantee", "detail"] = Field(
        "guarantee", description="when a guarantee answer contradicts a detail answer (参加新农合, 住危房, "
                                 "义务教育阶段子女数), which one the judgment uses")

    @field_validator("identification_checks", "exclusion_fields", "exit_security_fields", "missed_security_fields")
    @classmethod
    def _yes_no_fields(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [k for k in keys if k not in _YES_NO_FIELDS]
        if unknown:
            raise ValueError(f"「农户调查」没有是/否字段 {'、'.join(unknown)}")
        return keys

    def changed(self) -> list[tuple[str, str]]:
        """(Chinese name, value) of the rules that differ from the defaults, for the score tab."""
        found = []
        for key, name in RULE_NAMES.items():
            value = getattr(self, key)
            if value != getattr(DEFAULT_RULES, key):
                values = value if isinstance(value, tuple) else (value,)
                found.append((name, "、".join(_rule_value(v) for v in values) or "无"))
        return found


DEFAULT_RULES = JudgmentRules()
RULE_NAMES = {"identification_checks": "识别不准确的核查项", "check_income_standard": "按收入核查识别标准",
              "income_margin": "识别不准确收入倍数(细则)", "exclusion_fields": "不予识别的情形",
              "exit_lines": "错退对照的扶贫标准年度", "exit_security_fields": "错退核查的两不愁三保障",
              "missed_security_fields": "漏评核查的保障项", "use_verdicts": "督查组认定优先",
              "conflicting_answers": "回答矛盾时采用"}
RULE_VALUES = {"exit": "脱贫年度", "inspection": "督查年度", "guarantee": "保障项的回答", "detail": "明细项的回答"}


def _rule_value(value: object) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None:
        return "按「参数」"
    if isinstance(value, str):
        return RULE_VALUES.get(value) or _HEADERS.get(value, value)
    return f"{value:g}" if isinstance(value, float) else str(value)


class Judgment(BaseModel):
    """One judgment: True means the problem (or, for 群众认可, recognition) holds; None means undeterminable."""

    model_config = ConfigDict(frozen=True)

    value: bool | None
    auto: bool | None
    overridden: bool = False
    reasons: tuple[Reason, ...] = ()  # what produced `value`
    auto_reasons: tuple[Reason, ...] = ()  # what the rules found, whatever the inspector decided
    notes: tuple[Reason, ...] = ()  # which line or answer the rules used where the inputs left a choice


class HouseholdJudgment(BaseModel):
    """The judgments of one sampled household; those that do not apply to its type are None."""

    model_config = ConfigDict(frozen=True)

    row: int
    township: str | None = None
    village: str | None = None
    household_type: str | None = None
    household_size: int | None = None
    head_name: str | None = None
    id_number: str | None = None
    inaccurate: Judgment | None = None  # 建档立卡贫困户
    wrong_exit: Judgment | None = None  # 脱贫户
    missed: Judgment | None = None  # 普通农户
    recognised: Judgment | None = None  # every household

    def problems(self) -> list[tuple[str, Judgment]]:
        """(judgment key, judgment) for 识别不准确 / 错退 / 漏评 found and 不认可."""
        found = [(k, j) for k in ("inaccurate", "wrong_exit", "missed") if (j := getattr(self, k)) and j.value]
        if self.recognised and self.recognised.value is False:
            found.append(("recognised", self.recognised))
        return found

    def undetermined(self) -> list[tuple[str, Judgment]]:
        keys = ("inaccurate", "wrong_exit", "missed", "recognised")
        return [(k, j) for k in keys if (j := getattr(self, k)) is not None and j.value is None]


class _Tally:
    """Reasons found (the problem holds), unknown inputs (it cannot be decided) and notes on what was used."""

    def __init__(self) -> None:
        self.found: list[Reason] = []
        self.unknown: list[Reason] = []
        self.notes: list[Reason] = []

    def field(self, rec: Mapping[str, Any], key: str, bad: str, why: Why) -> None:
        value = rec.get(key)
        if value is None:
            self.unknown.append(Why.UNKNOWN.reason(field=_HEADERS[key]))
        elif value == bad:
            self.found.append(why.reason(field=_HEADERS[key]))

    def result(self) -> tuple[bool | None, tuple[Reason, ...]]:
        if self.found:
            return True, tuple(self.found)
        if self.unknown:
            return None, tuple(self.unknown)
        return False, ()


def _yuan(x: float) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def _line(params: Parameters, year: Any, tally: _Tally, label: str) -> PovertyLine | None:
    if year is None:
        tally.unknown.append(Why.UNKNOWN.reason(field=label))
        return None
    line = params.line_for(int(year))
    if line is None:
        tally.unknown.append(Why.NO_LINE.reason(year=year))
    return line


def _income(rec: Mapping[str, Any], tally: _Tally) -> float | None:
    income = rec.get("income_per_head")
    if income is None:
        tally.unknown.append(Why.UNKNOWN.reason(field=_HEADERS["income_per_head"]))
    return income


def household_size(rec: Mapping[str, Any]) -> int | None:
    """家庭人口 when it is a whole number within the schema's range, else None (missing or invalid)."""
    size = rec.get("household_size")
    if isinstance(size, bool) or not isinstance(size, int | float) or size != size or not float(size).is_integer():
        return None
    low, high = _SIZE.minimum or 1, _SIZE.maximum or float("inf")
    return int(size) if low <= size <= high else None


def _stable_income(rec: Mapping[str, Any], params: Parameters, tally: _Tally) -> float | None:
    """The income that must stably exceed the line: without 一次性收入 when the 「参数」 setting says so."""
    income = _income(rec, tally)
    one_off = rec.get("one_off_income")
    if income is None or not params.settings.exclude_one_off_income or not one_off:
        return income
    size = household_size(rec)
    if size is None:
        tally.unknown.append(Why.UNKNOWN.reason(field=_HEADERS["household_size"]))
        return None
    stable = income - one_off / size
    tally.notes.append(Why.ONE_OFF_EXCLUDED.reason(income=_yuan(income), one_off=_yuan(one_off / size),
                                                   stable=_yuan(stable)))
    return stable


def _word(value: bool | None, names: tuple[str, str]) -> str:
    return "无法判定" if value is None else names[0] if value else names[1]


def _decide(tally: _Tally, verdict: bool | None, names: tuple[str, str], use_verdict: bool) -> Judgment:
    """The automatic judgment, or the inspector's verdict recorded with what the rules found."""
    auto, auto_reasons = tally.result()
    notes = tuple(tally.notes)
    if verdict is None or not use_verdict:
        return Judgment(value=auto, auto=auto, reasons=auto_reasons, auto_reasons=auto_reasons, notes=notes)
    note = Why.VERDICT.reason(verdict=_word(verdict, names), auto="一致" if verdict == auto else _word(auto, names))
    kept = auto_reasons if auto == verdict else ()
    return Judgment(value=verdict, auto=auto, overridden=True, reasons=(note, *kept), auto_reasons=auto_reasons,
                    notes=notes)


def _resolved(rec: Mapping[str, Any], rules: JudgmentRules, tally: _Tally) -> Mapping[str, Any]:
    """The record with each contradicted guarantee answer settled as the rules say, noting which answer was used."""
    conflicts = conflicting_answers(rec)
    if not conflicts:
        return rec
    out = dict(rec)
    use_detail = rules.conflicting_answers == "detail"
    for c in conflicts:
        if use_detail:
            out[c.guarantee] = c.implied
        tally.notes.append(Why.ANSWER_USED.reason(
            detail=_HEADERS[c.detail], detail_value=display_value(rec.get(c.detail)), guarantee=_HEADERS[c.guarantee],
            guarantee_value=rec.get(c.guarantee), used=_HEADERS[c.detail if use_detail else c.guarantee]))
    return out


def _identification(rec: Mapping[str, Any], year: int | None, params: Parameters, rules: JudgmentRules) -> Judgment:
    tally = _Tally()
    for key in rules.identification_checks:
        tally.field(rec, key, NO, CHECK_REASONS.get(key, Why.CHECK_FAILED))
    for key in rules.exclusion_fields:
        tally.field(rec, key, YES, Why.EXCLUDED)
    if rules.check_income_standard:
        income, line = _income(rec, tally), _line(params, year, tally, "督查月份")
        margin = rules.income_margin or params.thresholds.income_margin
        if income is not None and line is not None and income > line.yuan * margin:
            tally.found.append(Why.INCOME_ABOVE_STANDARD.reason(
                income=_yuan(income), line=line.text, margin=f"{margin:g}", limit=_yuan(line.yuan * margin)))
    verdict = {"不准确": True, "准确": False}.get(rec.get("verdict_accurate"))
    return _decide(tally, verdict, ("不准确", "准确"), rules.use_verdicts)


def _exit_line_year(rec: Mapping[str, Any], year: int | None, params: Parameters, income: float,
                    tally: _Tally) -> tuple[int, str] | None:
    """(year, wording) of the line the exit-year rule compares with, or None when it needs none or cannot say.

    Lines only rise, so a blank 脱贫年度 is decided when the income is above the highest line up to the
    inspection year (not a wrong exit by this rule) or not above the lowest one (a wrong exit whatever the year).
    A 脱贫年度 after the inspection year (flagged by the checks) is judged against the inspection year's line.
    """
    exit_year = rec.get("exit_year")
    if exit_year is not None and (year is None or exit_year <= year):
        return int(exit_year), "脱贫年度"
    if exit_year is not None:
        line = params.line_for(year)
        tally.notes.append(Why.EXIT_YEAR_LATE.reason(exit_year=exit_year, year=year,
                                                     line=line.text if line else f"{year} 年扶贫标准"))
        return year, "脱贫年度"
    highest, lowest = (params.highest_line_until(year), params.lowest_line_until(year)) if year else (None, None)
    needed = 1 + params.thresholds.stability_margin
    if highest is not None and income > highest.yuan * needed:
        tally.notes.append(Why.EXIT_YEAR_BLANK.reason(line=highest.text))
        return None
    if lowest is not None and income <= lowest.yuan * needed:
        return lowest.year, "任何可能的脱贫年度"
    tally.unknown.append(Why.UNKNOWN.reason(field=_HEADERS["exit_year"]))
    return None


def _wrong_exit(rec: Mapping[str, Any], year: int | None, params: Parameters, rules: JudgmentRules) -> Judgment:
    tally = _Tally()
    income = _stable_income(rec, params, tally)
    margin = params.thresholds.stability_margin
    stably = f"稳定（高出 {margin:.0%} 以上）" if margin else ""
    for which in rules.exit_lines if income is not None else ():
        chosen = _exit_line_year(rec, year, params, income, tally) if which == "exit" else (year, "督查年度")
        if chosen is None:
            continue
        line_year, word = chosen
        line = _line(params, line_year, tally, "督查月份")
        if line is not None and income <= line.yuan * (1 + margin):
            limit = f"（须超过 {_yuan(line.yuan * (1 + margin))} 元）" if margin else ""
            reason = Why.INCOME_NOT_ABOVE_LINE.reason(income=_yuan(income), stably=stably, which=word, year=line_year,
                                                      line=line.text + limit)
            tally.found.append(reason)
    answers = _resolved(rec, rules, tally)
    for key in rules.exit_security_fields:
        tally.field(answers, key, NO, SECURITY_REASONS.get(key, Why.CHECK_FAILED))
    verdict = {YES: True, NO: False}.get(rec.get("verdict_wrong_exit"))
    return _decide(tally, verdict, ("错退", "非错退"), rules.use_verdicts)


def _missed(rec: Mapping[str, Any], year: int | None, params: Parameters, rules: JudgmentRules) -> Judgment:
    tally = _Tally()
    income, line = _income(rec, tally), _line(params, year, tally, "督查月份")
    if income is not None and line is not None and income < line.yuan:
        tally.found.append(Why.INCOME_BELOW_LINE.reason(income=_yuan(income), line=line.text))
    answers = _resolved(rec, rules, tally)
    for key in rules.missed_security_fields:
        tally.field(answers, key, NO, SECURITY_REASONS.get(key, Why.CHECK_FAILED))
    verdict = {YES: True, NO: False}.get(rec.get("verdict_missed"))
    return _decide(tally, verdict, ("漏评", "非漏评"), rules.use_verdicts)


def _recognised(rec: Mapping[str, Any]) -> Judgment:
    value = {"认可": True, "不认可": False}.get(rec.get("recognition"))
    if value is None:
        reasons: tuple[Reason, ...] = (Why.UNKNOWN.reason(field=_HEADERS["recognition"]),)
    elif value:
        reasons = ()
    else:
        reasons = (Why.NOT_RECOGNISED.reason(reason=rec.get("non_recognition_reason") or "未说明原因"),)
    return Judgment(value=value, auto=value, reasons=reasons, auto_reasons=reasons)


def judge_household(rec: Mapping[str, Any], year: int | None, params: Parameters,
                    rules: JudgmentRules = DEFAULT_RULES) -> HouseholdJudgment:
    """Judge one 农户调查 record (field key -> value, plus `_row`)."""
    kind = rec.get("household_type")
    return HouseholdJudgment(
        row=int(rec[ROW]),
        township=rec.get("township"),
        village=rec.get("village"),
        household_type=kind,
        household_size=household_size(rec),
        head_name=rec.get("head_name"),
        id_number=rec.get("id_number"),
        inaccurate=_identification(rec, year, params, rules) if kind == HOUSEHOLD_POOR else None,
        wrong_exit=_wrong_exit(rec, year, params, rules) if kind == HOUSEHOLD_EXITED else None,
        missed=_missed(rec, year, params, rules) if kind == HOUSEHOLD_ORDINARY else None,
        recognised=_recognised(rec),
    )


def judge_households(data: InspectionData, rules: JudgmentRules = DEFAULT_RULES) -> list[HouseholdJudgment]:
    """Judge every household of the 农户调查 sheet, in sheet order."""
    rows = records(data.households, none_for_missing=True)
    return [judge_household(rec, data.year, data.parameters, rules) for rec in rows]
