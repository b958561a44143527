"""The 「检查结果」 sheet and the highlights on input cells, built from findings and completeness."""

from __future__ import annotations

from collections import defaultdict

from ducha.checks.completeness import Completeness
from ducha.model.findings import SEVERITY_ORDER, Finding, Severity, count_by_severity
from ducha.model.schema import CHECK_RESULTS_SHEET
from ducha.sheets.outputplan import SEVERITY_STYLE, GeneratedSheet, Mark, OutputPlan, Style
from ducha.sheets.toolkit import SheetBuilder

FINDING_HEADERS = ["序号", "严重程度", "工作表", "单元格", "字段", "填写内容", "问题说明及修改方法", "代码"]
FINDING_WIDTHS = [9, 9, 14, 12, 18, 22, 70, 22]
CODE_COLUMN = "H"  # the finding's code, for machines: hidden (a clerk reads the message)
NO_FINDINGS = "未发现问题。"


def finding_row(number: int, f: Finding) -> list[object]:
    """One finding as a row of the findings table (columns of FINDING_HEADERS)."""
    return [number, f.severity.value, f.sheet, f.cell, f.field, f.value, f.message, f.code]


def add_findings(s: SheetBuilder, findings: list[Finding], *, columns: int = len(FINDING_HEADERS),
                 links: bool = True) -> int:
    """The findings table: its header, one row per finding, errors first (the first `columns` columns; with
    `links`, the cell links to the finding's cell of the same workbook), or a row saying nothing was found.
    Returns the header row."""
    header = s.add(FINDING_HEADERS[:columns], Style.HEADER)
    for n, f in enumerate(sorted(findings, key=lambda f: SEVERITY_ORDER[f.severity]), start=1):
        row = s.add(finding_row(n, f)[:columns])
        s.style(f"B{row}", SEVERITY_STYLE[f.severity])
        s.style(f"G{row}", Style.NOTE)
        if links and f.cell:
            s.link(f"D{row}", f.sheet, f.cell)
    if not findings:
        s.add(["", "", "", "", "", "", NO_FINDINGS, ""][:columns])
    return header


def check_results_sheet(findings: list[Finding], per_sheet: list[Completeness], per_village: list[Completeness],
                        title: str) -> GeneratedSheet:
    """One row per finding (with a link to its cell), after a summary of counts and completeness."""
    counts = count_by_severity(findings)
    s = SheetBuilder(CHECK_RESULTS_SHEET, FINDING_WIDTHS)
    s.banner(title, Style.TITLE)
    s.add([])
    row = s.add(["问题统计", "", f"错误 {counts[Severity.ERROR]} 个", f"警告 {counts[Severity.WARNING]} 个",
                 f"提示 {counts[Severity.INFO]} 个"])
    s.style(f"A{row}", Style.HEADER)
    s.legend()
    s.add(["完整率", "", "范围", "已填/应填", "完整率"], Style.HEADER)
    for label, items in (("按工作表", per_sheet), ("按村", per_village)):
        for item in items:
            row = s.add([label, "", item.scope, f"{item.answered}/{item.required}",
                         item.ratio if item.ratio is not None else "无应填项"])
            s.style(f"E{row}", Style.PERCENT)
    s.add([])
    header = add_findings(s, findings)
    return s.build(freeze=f"A{header + 1}", auto_filter=f"A{header}:H{max(len(s.rows), header)}",
                   tab_color="C00000" if counts[Severity.ERROR] else "00B050", position=0,
                   print_title_rows=f"{header}:{header}", hidden_columns=[CODE_COLUMN])


def marks_for(findings: list[Finding]) -> list[Mark]:
    """One mark per cell a finding points at (a table's or a form's): the most severe finding's colour, every
    message in the note."""
    by_cell: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.cell and f.sheet:
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
