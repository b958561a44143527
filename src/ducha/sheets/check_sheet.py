"""The 「检查结果」 sheet and the highlights on input cells, built from findings and completeness."""

from __future__ import annotations

from collections import defaultdict

from ducha.checks.completeness import Completeness
from ducha.model.findings import SEVERITY_ORDER, Finding, Severity, count_by_severity
from ducha.model.schema import CHECK_RESULTS_SHEET
from ducha.sheets.outputplan import SEVERITY_STYLE, GeneratedSheet, Link, Mark, OutputPlan, Style, auto_row_heights

FINDING_HEADERS = ["序号", "严重程度", "工作表", "单元格", "字段", "填写内容", "问题说明及修改方法", "代码"]
FINDING_WIDTHS = [9, 9, 14, 16, 18, 22, 70, 22]


def check_results_sheet(findings: list[Finding], per_sheet: list[Completeness], per_village: list[Completeness],
                        title: str) -> GeneratedSheet:
    """One row per finding (with a link to its cell), after a summary of counts and completeness."""
    counts = count_by_severity(findings)
    rows: list[list[object]] = [[title], []]
    styles: list[tuple[str, Style]] = [("A1:H1", Style.TITLE)]
    rows.append(["问题统计", "", f"错误 {counts[Severity.ERROR]} 个", f"警告 {counts[Severity.WARNING]} 个",
                 f"提示 {counts[Severity.INFO]} 个"])
    styles.append((f"A{len(rows)}", Style.HEADER))
    rows.append(["完整率", "", "范围", "已填/应填", "完整率"])
    styles.append((f"A{len(rows)}:E{len(rows)}", Style.HEADER))
    for label, items in (("按工作表", per_sheet), ("按村", per_village)):
        for item in items:
            rows.append([label, "", item.scope, f"{item.answered}/{item.required}",
                         item.ratio if item.ratio is not None else "无应填项"])
            styles.append((f"E{len(rows)}", Style.PERCENT))
    rows.append([])
    header_row = len(rows) + 1
    rows.append(list(FINDING_HEADERS))
    styles.append((f"A{header_row}:H{header_row}", Style.HEADER))
    links: list[Link] = []
    for n, f in enumerate(findings, start=1):
        rows.append([n, f.severity.value, f.sheet, f.cell, f.field, f.value, f.message, f.code])
        r = len(rows)
        styles.append((f"B{r}", SEVERITY_STYLE[f.severity]))
        styles.append((f"G{r}", Style.NOTE))
        if f.cell:
            links.append(Link(cell=f"D{r}", sheet=f.sheet, target=f.cell))
    if not findings:
        rows.append(["", "", "", "", "", "", "未发现问题。", ""])
    sheet = GeneratedSheet(
        name=CHECK_RESULTS_SHEET,
        rows=rows,
        column_widths=FINDING_WIDTHS,
        freeze=f"A{header_row + 1}",
        styles=styles,
        links=links,
        auto_filter=f"A{header_row}:H{max(len(rows), header_row)}",
        tab_color="C00000" if counts[Severity.ERROR] else "00B050",
        position=0,
        print_title_rows=f"{header_row}:{header_row}",
    )
    sheet.row_heights = auto_row_heights(sheet)
    return sheet


def marks_for(findings: list[Finding]) -> list[Mark]:
    """One mark per cell: the most severe finding's colour, every message in the note."""
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.cell and f.row is not None:
            by_cell[(f.sheet, f.cell)].append(f)
    marks = []
    for (sheet, cell), items in by_cell.items():
        worst = min((f.severity for f in items), key=SEVERITY_ORDER.__getitem__)
        note = "\n".join(f"【{f.severity.value}】{f.message}" for f in items)
        marks.append(Mark(sheet=sheet, cell=cell, severity=worst, note=note))
    return marks


def check_plan(findings: list[Finding], per_sheet: list[Completeness], per_village: list[Completeness],
               title: str) -> OutputPlan:
    return OutputPlan(sheets=[check_results_sheet(findings, per_sheet, per_village, title)],
                      marks=marks_for(findings))
