"""The generated sheets 「评分」, 「跟进清单」, 「判定明细」 and 「村级明细」, and the marks on flagged input rows.

The ratio cells of 「评分」 are live formulas: COUNTIF / SUMIF over the evidence sheets (the judgments Python wrote)
and references to the 「县级核查」 cells. `ScoreOutput.expected` holds Python's own value of every formula cell, so a
spreadsheet recalculation can be checked against it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import get_column_letter

from ducha.model.privacy import mask_id
from ducha.model.records import ROW, InspectionData, records
from ducha.model.schema import EVIDENCE_SHEET, SCORE_SHEET, VILLAGE_EVIDENCE_SHEET
from ducha.scoring.followup import Flag, build_flags
from ducha.scoring.indicators import (
    HOUSEHOLD_COLUMNS,
    NO_DATA,
    NO_SAMPLE,
    SPECS,
    VILLAGE_COLUMNS,
    CountySpec,
    Indicator,
    SampleSpec,
    compute_indicators,
    household_evidence,
    percent,
    village_evidence,
)
from ducha.scoring.judgments import JUDGMENT_NAMES, HouseholdJudgment, judge_households
from ducha.scoring.rubric import DEFAULT_RUBRIC, EFFECT_NAMES, KIND_NAMES, Rubric
from ducha.scoring.scorecard import Deduction, ScoreCard, score_inspection
from ducha.sheets.followup_sheet import follow_up_marks, follow_up_sheet, sheet_name
from ducha.sheets.outputplan import (
    LINE_HEIGHT,
    BarChart,
    Conditional,
    Formula,
    GeneratedSheet,
    Link,
    OutputPlan,
    Style,
    auto_row_heights,
    formula_text,
    formula_values,
    sheet_ref,
    text_width,
)
from ducha.sheets.toolkit import SheetBuilder

EVIDENCE_HEADERS = {ROW: "农户调查行号", "township": "乡镇", "village": "村", "household_type": "户类型",
                    "head_name": "户主姓名", "id_number": "身份证号（脱敏）", "household_size": "家庭人口",
                    **HOUSEHOLD_COLUMNS, "verdicts": "督查组认定", "reasons": "判定原因"}
VILLAGE_HEADERS = {ROW: "村级核查行号", "township": "乡镇", "village": "村", **VILLAGE_COLUMNS}
SCORE_WIDTHS = [9, 43, 10, 22, 17, 52, 9, 7]  # D: evidence links, which do not wrap
ScalarValue = float | int | str


@dataclass
class ScoreOutput:
    """Everything the score run produces: the plan to write and Python's values of the formula cells."""

    plan: OutputPlan
    card: ScoreCard
    flags: list[Flag]
    expected: dict[tuple[str, str], ScalarValue] = field(default_factory=dict)  # (sheet, A1) -> value
    indicators: list[Indicator] = field(default_factory=list)
    judgments: list[HouseholdJudgment] = field(default_factory=list)


def _evidence_sheets(data: InspectionData, judgments: list[HouseholdJudgment]) -> tuple[GeneratedSheet, ...]:
    """「判定明细」 (one row per household) and 「村级明细」 (one row per village), linked to their source rows."""
    households = household_evidence(data, judgments)
    notes = {j.row: _judgment_notes(j) for j in judgments}
    hh_widths = [10, 10, 10, 14, 10, 21, 8] + [10] * (len(HOUSEHOLD_COLUMNS)) + [30, 60]
    vg_widths = [10, 10, 10] + [12] * len(VILLAGE_COLUMNS)
    hh = SheetBuilder(EVIDENCE_SHEET, hh_widths, full_width=True)
    hh.add(list(EVIDENCE_HEADERS.values()), Style.HEADER)
    for rec in records(households):
        verdicts, reasons = notes[rec[ROW]]
        rec.update(id_number=mask_id(rec["id_number"]), verdicts=verdicts, reasons=reasons)
        row = hh.add([rec[k] for k in EVIDENCE_HEADERS])
        hh.links.append(Link(f"A{row}", sheet_name(data, "households"), f"A{rec[ROW]}"))
    vg = SheetBuilder(VILLAGE_EVIDENCE_SHEET, vg_widths, full_width=True)
    vg.add(list(VILLAGE_HEADERS.values()), Style.HEADER)
    for rec in records(village_evidence(data)):
        row = vg.add([rec[k] for k in VILLAGE_HEADERS])
        vg.links.append(Link(f"A{row}", sheet_name(data, "villages"), f"A{rec[ROW]}"))
    return tuple(sheet.build(freeze="A2", auto_filter=f"A1:{sheet.last}{len(sheet.rows)}",
                             tab_color="808080") for sheet in (hh, vg))


def _judgment_notes(j: HouseholdJudgment) -> tuple[str, str]:
    """(督查组认定, 判定原因) texts of one household."""
    judged = [(k, jd) for k in ("inaccurate", "wrong_exit", "missed", "recognised") if (jd := getattr(j, k))]
    verdicts = "；".join(f"{JUDGMENT_NAMES[k]}：{jd.reasons[0].text}" for k, jd in judged if jd.overridden)
    reasons = "；".join(r.text for _, jd in judged for r in (*jd.reasons, *jd.notes) if r.code != "inspector-verdict")
    return verdicts, reasons


def _range(sheet: str, column: str, rows: int) -> str:
    return f"{sheet_ref(sheet)}!${column}$2:${column}${max(2, rows + 1)}"


def _sample_formulas(spec: SampleSpec, counts: dict[str, int], row: int) -> tuple[str, str, str]:
    sheet, headers = ((EVIDENCE_SHEET, EVIDENCE_HEADERS) if spec.table == "households"
                      else (VILLAGE_EVIDENCE_SHEET, VILLAGE_HEADERS))
    letters = {k: get_column_letter(i) for i, k in enumerate(headers, start=1)}
    values = _range(sheet, letters[spec.column], counts[spec.table])
    sizes = _range(sheet, letters["household_size"], counts[spec.table]) if spec.people else ""

    def term(v: str) -> str:
        return f"SUMIF({values},{formula_text(v)},{sizes})" if spec.people else f"COUNTIF({values},{formula_text(v)})"
    value = f"IF(D{row}=0,{formula_text(NO_SAMPLE)},C{row}/D{row})"
    return term(spec.hit), f"{term(spec.hit)}+{term(spec.miss)}", value


def _county_formulas(spec: CountySpec, data: InspectionData, row: int) -> tuple[Any, Any, str] | None:
    sheet = sheet_name(data, "county")
    cells = {k: data.county.cells.get(k) for k in (spec.a, spec.b) if k}
    if not all(cells.values()):
        return None
    a, b = (f"{sheet_ref(sheet)}!{cells[k]}" if k else "" for k in (spec.a, spec.b))

    def guard(*refs: str, then: str) -> str:
        return f'IF(AND({",".join(f"ISNUMBER({r})" for r in refs)}),{then},{formula_text(NO_DATA)})'
    numerator = {"growth": guard(a, b, then=f"{a}-{b}"),
                 "decline": guard(a, b, then=f"{b}-{a}")}.get(spec.op, guard(a, then=a))
    denominator = 100 if spec.op == "points" else guard(b, then=b)
    value = (f"IF(AND(ISNUMBER(C{row}),ISNUMBER(D{row})),IF(D{row}=0,{formula_text(NO_SAMPLE)},C{row}/D{row}),"
             f"{formula_text(NO_DATA)})")
    return numerator, denominator, value


def _indicator_row(sheet: SheetBuilder, ind: Indicator, data: InspectionData, counts: dict[str, int]) -> int:
    row = len(sheet.rows) + 1
    spec = SPECS[ind.key]
    formulas = (_sample_formulas(spec, counts, row) if isinstance(spec, SampleSpec)
                else _county_formulas(spec, data, row))
    if isinstance(spec, SampleSpec) and formulas and ind.missing:  # nothing countable is 缺数据, not 无样本
        formulas = (*formulas[:2], f'=IF(D{row}=0,"{NO_DATA}",C{row}/D{row})')
    shown = [NO_DATA if v is None else v for v in (ind.numerator, ind.denominator)]
    shown.append(ind.value if ind.value is not None else ind.value_text)
    threshold = ""
    flag: Any = "红旗" if ind.red_flag else ""
    if ind.threshold is not None:
        sign, test = ("≥", "<") if ind.direction == "at_least" else ("≤", ">")
        threshold = f"{sign} {percent(ind.threshold)}"
        flag = Formula(f'IF(ISNUMBER(E{row}),IF(E{row}{test}{ind.threshold!r},"红旗",""),"")',
                       "红旗" if ind.red_flag else "")
    cells = ([Formula(f, value) if isinstance(f, str) else f for f, value in zip(formulas, shown, strict=True)]
             if formulas else shown)
    sheet.add([ind.item, ind.name, *cells, ind.formula_zh, threshold, flag])
    sheet.styles.extend([(f"A{row}:H{row}", Style.NOTE), (f"E{row}", Style.PERCENT)])
    if ind.red_flag:
        sheet.styles.append((f"E{row}", Style.BAD))
    return row


def _evidence_link(sheet: SheetBuilder, row: int, evidence: tuple, data: InspectionData) -> str:
    if not evidence:
        return ""
    first = evidence[0]
    target = f"A{first.row}" if first.row else first.cell
    if target:
        sheet.links.append(Link(f"D{row}", sheet_name(data, first.sheet), target))
    return first.text + (f" 等 {len(evidence)} 处" if len(evidence) > 1 else "")


SUMMARY_FIRST_ROW = 8  # the first item's row in section 一
SHARE_BANDS = ((0.9, Style.GOOD), (0.6, Style.WARNING), (0.0, Style.BAD))  # 得分率 from, colour (green, amber, red)
SHARE_LEGEND = "得分率 ≥ 90% 绿色，60%–90% 黄色，低于 60% 红色"
ITEM_ROW_HEIGHT = 18.0  # section 一's rows, so the chart beside them has room for its bars
CHART_ANCHOR_COLUMN = "F"  # the chart sits beside section 一 (columns F-H), on the first printed page
CHART_WIDTH, CHART_HEIGHT = 13.5, 5.9  # centimetres: columns F-H, rows 7-15


def share_style(points: float, max_points: float) -> Style:
    """The colour of an item's points: its share of the maximum in SHARE_BANDS."""
    share = points / max_points if max_points else 0.0
    return next(style for floor, style in SHARE_BANDS if share >= floor - 1e-9)


def _heading(s: SheetBuilder, card: ScoreCard) -> None:
    """Rows 1-4: title, county / month / N item, total / rubric, red flags."""
    n_item = card.items[-1]
    last = SUMMARY_FIRST_ROW + len(card.items) - 1
    s.add(["精准扶贫专题督查评分表"], Style.TITLE)
    s.add(["被督查县", card.county, "督查月份", card.month, "本月重点督查内容", f"{n_item.key} {n_item.name}"])
    s.add(["总分", Formula(f"SUM(D{SUMMARY_FIRST_ROW}:D{last})", card.total), "满分", card.max_total, "评分细则",
           f"{card.rubric_name}（版本 {card.rubric_version}）"])
    s.add(["红旗", "、".join(f.name for f in card.red_flags) or "无"])
    s.merges.extend(["A1:H1", "F2:H2", "F3:H3", "B4:H4"])
    s.styles.extend([("A2:A4", Style.HEADER), ("C2:C3", Style.HEADER), ("E2:E3", Style.HEADER),
                     ("B3", Style.TOTAL), ("B3", Style.NUMBER), ("B2:B3", Style.LEFT), ("D2:D3", Style.LEFT),
                     ("B4", Style.BAD if card.red_flags else Style.GOOD)])
    s.add([])


def _summary(s: SheetBuilder, card: ScoreCard) -> None:
    """Section 一: points and their share of the maximum per item, coloured by SHARE_BANDS, and beside them the bar
    chart of the shares (one 0-100 % axis, whatever each item's maximum)."""
    s.banner(f"一、各项得分（{SHARE_LEGEND}）", Style.HEADER)
    header = s.add(["项目", "名称", "满分", "得分", "得分率"])
    s.style(f"A{header}:E{header}", Style.HEADER)
    for item in card.items:
        row = len(s.rows) + 1
        share = Formula(f'IF(C{row}=0,"",D{row}/C{row})', item.points / item.max_points if item.max_points else "")
        s.add([item.key, item.name, item.max_points, item.points, share])
        band = share_style(item.points, item.max_points)
        s.styles.extend([(f"A{row}:E{row}", Style.NOTE), (f"D{row}:E{row}", band)])
    first, last = SUMMARY_FIRST_ROW, len(s.rows)
    s.styles.extend([(f"C{first}:D{last}", Style.NUMBER), (f"E{first}:E{last}", Style.PERCENT)])
    s.charts = [BarChart(title="各项得分率（得分 ÷ 满分）", categories=f"A{first}:A{last}",
                         series=((f"E{header}", f"E{first}:E{last}"),), anchor=f"{CHART_ANCHOR_COLUMN}{header}",
                         width=CHART_WIDTH, height=CHART_HEIGHT, value_range=(0.0, 1.0), value_format="0%",
                         data_labels=True, top_down=True)]
    s.add([])


def _case_name(reason: str) -> str:
    """Who a per-case deduction is about: 「识别不准确户：周燕红（平寨镇石门村，…）：…」 gives 周燕红."""
    parts = reason.split("：")
    return parts[1].split("（")[0] if len(parts) > 2 else ""


def _grouped(card: ScoreCard) -> list[list[Deduction]]:
    """The deductions, those of one rule over several cases (households, villages) in one group."""
    groups: dict[tuple, list[Deduction]] = {}
    for n, d in enumerate(d for item in card.items for d in item.deductions):
        case = d.reason.split("：")[0] if _case_name(d.reason) else None
        key = (d.item, d.rule, d.rule_note, d.indicator, case) if case else (n,)
        groups.setdefault(key, []).append(d)
    return list(groups.values())


def _group_reason(group: list[Deduction]) -> str:
    """One line for the cases of a group: how many, what they cost, who (each one's reason is in 「判定明细」)."""
    first = group[0]
    if len(group) == 1:
        return first.reason
    capped = "（部分已达扣分上限）" if any(d.reason.endswith("上限）") for d in group) else ""
    names = "、".join(dict.fromkeys(filter(None, (_case_name(d.reason) for d in group))))
    where = "「判定明细」" if first.evidence and first.evidence[0].sheet == "households" else "「村级明细」"
    return f"{first.reason.split('：')[0]} {len(group)} 例{capped}：{names}（原因见{where}）"


def _deductions(s: SheetBuilder, card: ScoreCard, inds: dict[str, Indicator], data: InspectionData) -> None:
    """Section 三: the deductions with their rule, points, evidence link and reason; the cases of one rule in one
    row, so that the tab prints on two pages."""
    s.banner("三、扣分明细", Style.HEADER)
    s.add(["项目", "规则", "扣分", "证据", "指标数值", "扣分原因"], Style.HEADER)
    groups = _grouped(card)
    for group in groups:
        d = group[0]
        row = len(s.rows) + 1
        link = _evidence_link(s, row, tuple(e for g in group for e in g.evidence), data)
        value = inds[d.indicator].value_text if d.indicator in inds else ""
        points = round(sum(g.points for g in group), 2)
        s.add([d.item, d.rule_note or KIND_NAMES.get(d.rule, d.rule), points, link, value, _group_reason(group)])
        s.styles.extend([(f"A{row}:F{row}", Style.NOTE), (f"C{row}", Style.NUMBER)])
    if not groups:
        s.add(["", "无扣分"])
    s.add([])


def _red_flags(s: SheetBuilder, card: ScoreCard, rows: dict[str, int]) -> None:
    """Section 四: the red flags, each linked to its indicator row."""
    s.banner("四、红旗指标（国家标准：错退率 ≤ 2%，漏评率 ≤ 2%，群众认可度 ≥ 90%）", Style.HEADER)
    s.add(["项目", "指标", "数值", "后果", "", "说明"], Style.HEADER)
    for f in card.red_flags:
        row = s.add([SPECS[f.indicator].item, f.name, f.value_text, EFFECT_NAMES[f.effect], None, f.reason], Style.BAD)
        if f.indicator in rows:
            s.links.append(Link(f"B{row}", SCORE_SHEET, f"E{rows[f.indicator]}"))
    if not card.red_flags:
        s.add(["", "无"])


def _basis(s: SheetBuilder, card: ScoreCard) -> None:
    """Section 五 (one compact block): rubric and 参数 versions, the poverty line, changed settings, 缺数据 and the
    indicators the rubric leaves unscored."""
    basis = card.basis
    if basis is None:
        return
    s.add([])
    s.banner("五、评分依据", Style.HEADER)
    rows = [("评分细则", f"{card.rubric_name}（版本 {card.rubric_version}）"),
            ("参数版本", basis.parameters_version),
            ("扶贫标准", basis.line),
            ("改动的设置", "；".join(f"{name}：{value}" for name, value in basis.settings) or "无（均为默认值）"),
            ("缺数据", "；".join(f"{name}：{text}" for name, text in basis.missing) or "无"),
            *(("不评分的指标", f"{name}：{why}") for name, why in basis.not_scored)]
    room = sum(SCORE_WIDTHS[2:]) - 1
    for label, text in rows:
        row = s.add([label, None, text])
        s.merges.extend([f"A{row}:B{row}", f"C{row}:H{row}"])
        s.styles.extend([(f"A{row}:B{row}", Style.HEADER), (f"C{row}:H{row}", Style.NOTE)])
        s.heights[row] = math.ceil(text_width(text) / room) * LINE_HEIGHT  # merged: sized here, not by auto


def _score_sheet(data: InspectionData, indicators: list[Indicator],
                 card: ScoreCard) -> tuple[SheetBuilder, dict[str, int]]:
    """The 「评分」 sheet, and the row of each indicator on it."""
    s = SheetBuilder(SCORE_SHEET, SCORE_WIDTHS, full_width=True)
    inds = {ind.key: ind for ind in indicators}
    counts = {"households": len(data.households), "villages": len(data.villages)}
    _heading(s, card)
    _summary(s, card)
    s.banner("二、指标（分子、分母、数值为实时公式，点击单元格可查看算法；分母为 0 显示“无样本”）", Style.HEADER)
    s.add(["项目", "指标", "分子", "分母", "数值", "计算公式", "阈值", "红旗"], Style.HEADER)
    rows = {key: _indicator_row(s, inds[key], data, counts) for item in card.items for key in item.indicators
            if key in inds}
    s.add([])
    _deductions(s, card, inds, data)
    _red_flags(s, card, rows)
    _basis(s, card)
    return s, rows


def build_score_output(data: InspectionData, judgments: list[HouseholdJudgment], indicators: list[Indicator],
                       card: ScoreCard, flags: list[Flag]) -> ScoreOutput:
    """The generated sheets, marks, expected formula values and conditional colours of one score run."""
    builder, score_rows = _score_sheet(data, indicators, card)
    score = builder.build(freeze="A5", position=0, print_title_rows="1:2", pages_tall=2, narrow_margins=True)
    follow_up = follow_up_sheet(data, flags, card.county or "", card.month or "", score_rows)
    plan = OutputPlan(sheets=[score, follow_up, *_evidence_sheets(data, judgments)],
                      marks=follow_up_marks(data, flags))
    first, last = min(score_rows.values(), default=1), max(score_rows.values(), default=1)
    score.conditional = [Conditional(f"H{first}:H{last}", f'H{first}="红旗"', Style.BAD)]  # not the header
    for sheet in plan.sheets:
        if sheet is not score:
            sheet.row_heights = auto_row_heights(sheet)
        if sheet.name in (EVIDENCE_SHEET, VILLAGE_EVIDENCE_SHEET):
            sheet.print_title_rows = "1:1"
    items = range(SUMMARY_FIRST_ROW, SUMMARY_FIRST_ROW + len(card.items))
    score.row_heights = dict(sorted({**score.row_heights, **{r: max(score.row_heights.get(r, 0.0), ITEM_ROW_HEIGHT)
                                                             for r in items}}.items()))
    expected = {(sheet.name, cell): value for sheet in plan.sheets for cell, value in formula_values(sheet).items()}
    return ScoreOutput(plan=plan, card=card, flags=flags, expected=expected, indicators=indicators,
                       judgments=judgments)


@dataclass
class Evaluation:
    """The plan's formulas applied to one workbook: judgments, indicators, the score card and the flags."""

    judgments: list[HouseholdJudgment]
    indicators: list[Indicator]
    card: ScoreCard
    flags: list[Flag]


def evaluate(data: InspectionData, rubric: Rubric = DEFAULT_RUBRIC, key_item: str | None = None) -> Evaluation:
    """Judgments, indicators, score and flags, without describing any sheet (what intake needs)."""
    judgments = judge_households(data, rubric.judgment_rules)
    indicators = compute_indicators(data, judgments)
    card = score_inspection(data, judgments, indicators, rubric, key_item)
    return Evaluation(judgments, indicators, card, build_flags(data, judgments, indicators, card))


def score_workbook(data: InspectionData, rubric: Rubric = DEFAULT_RUBRIC, key_item: str | None = None) -> ScoreOutput:
    """The whole score run: judgments, indicators, score, flags and the output plan."""
    e = evaluate(data, rubric, key_item)
    return build_score_output(data, e.judgments, e.indicators, e.card, e.flags)
