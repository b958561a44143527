"""The file adapter: apply an OutputPlan to a workbook file with openpyxl.

Generated sheets are recreated, previous highlights and notes written by ducha are removed first, input
values are never written, and the result is saved atomically (to a copy, or in place after a backup).
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.chart import BarChart as XlBarChart
from openpyxl.chart import LineChart as XlLineChart
from openpyxl.chart import Reference, Series
from openpyxl.chart.series import SeriesLabel, StrRef
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from ducha.adapters.cached_values import restore_cached_values, write_formula_values
from ducha.adapters.files import backup, write_atomically
from ducha.model.findings import Severity
from ducha.model.schema import GENERATED_SHEETS
from ducha.sheets.outputplan import (
    FILLS,
    MARK_PREFIX,
    BarChart,
    Formula,
    GeneratedSheet,
    LineChart,
    Mark,
    OutputPlan,
    Style,
    formula_text,
    formula_values,
    sheet_ref,
)

AUTHOR = "ducha"
MARK_FORMULA = '"' + MARK_PREFIX + '{severity}"<>""'  # always true; identifies ducha's own highlight rules
MARK_FILLS = {Severity.ERROR: FILLS[Style.ERROR], Severity.WARNING: FILLS[Style.WARNING],
              Severity.INFO: FILLS[Style.INFO]}
NOTE_SIZE = (360, 160)


def _printable(value: object) -> object:
    """Text without the control characters a workbook cannot hold (a clerk's cell quoted in a message may have
    them)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _cell_value(value: object) -> object:
    """What openpyxl is given for a plan value: a composed formula with its "=", anything else as it is."""
    return "=" + value.expr if isinstance(value, Formula) else _printable(value)


def _write_rows(ws: Worksheet, rows: list[list[object]]) -> None:
    """Append the rows; a `str` stays text even when it starts with "=" (openpyxl would make it a formula)."""
    for number, row in enumerate(rows, start=1):
        ws.append([_cell_value(value) for value in row])
        for column, value in enumerate(row, start=1):
            if isinstance(value, str) and value.startswith("="):
                ws.cell(number, column).data_type = "s"


def put_value(ws: Worksheet, row: int, column: int, value: object) -> None:
    """Write one value into a cell: a composed `Formula` as a formula, any `str` as text whatever it starts with."""
    cell = ws.cell(row, column, _cell_value(value))
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def _fill(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


def _apply_style(cells, style: Style) -> None:
    for row in cells:
        for cell in row:
            if style is Style.TITLE:
                cell.font = Font(bold=True, size=14)
            elif style in (Style.HEADER, Style.TOTAL):
                cell.font = Font(bold=True)
                cell.fill = _fill(FILLS[style])
                cell.alignment = Alignment(wrap_text=True, vertical="center")
            elif style is Style.PERCENT:
                cell.number_format = "0.0%"
            elif style is Style.NUMBER:
                cell.number_format = "0.00"
            elif style is Style.LINK:
                cell.font = Font(color="0563C1", underline="single")
            elif style is Style.NOTE:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif style in FILLS:
                cell.fill = _fill(FILLS[style])


def _cells(ws: Worksheet, ref: str):
    if ":" in ref:
        return ws[ref]
    return ((ws[ref],),)


def write_sheet(wb: Workbook, spec: GeneratedSheet) -> Worksheet:
    """A new sheet at its position (None: after every other sheet)."""
    ws = wb.create_sheet(spec.name, spec.position)
    _write_rows(ws, spec.rows)
    for i, width in enumerate(spec.column_widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for letter in spec.hidden_columns:
        ws.column_dimensions[letter].hidden = True
    for row, height in spec.row_heights.items():
        ws.row_dimensions[row].height = height
    for ref, style in spec.styles:
        _apply_style(_cells(ws, ref), style)
    for link in spec.links:
        cell = ws[link.cell]
        cell.hyperlink = Hyperlink(ref=link.cell, location=f"{sheet_ref(link.sheet)}!{link.target}",
                                   display=str(cell.value))
        cell.font = Font(color="0563C1", underline="single")
    for ref in spec.merges:
        ws.merge_cells(ref)
    for chart in spec.charts:
        ws.add_chart(_line_chart(ws, chart) if isinstance(chart, LineChart) else _bar_chart(ws, chart), chart.anchor)
    for rule in spec.conditional:
        colour = _fill(FILLS[rule.style])
        ws.conditional_formatting.add(rule.range, FormulaRule(formula=[rule.formula], fill=colour))
    for rule in spec.validations:
        check = DataValidation(type="list", formula1=formula_text(",".join(rule.choices)), allow_blank=False,
                               showErrorMessage=True, errorTitle=rule.error_title, error=rule.error)
        check.add(rule.range)
        ws.add_data_validation(check)
    if spec.print_title_rows:
        ws.print_title_rows = spec.print_title_rows
    if spec.freeze:
        ws.freeze_panes = spec.freeze
    if spec.auto_filter:
        ws.auto_filter.ref = spec.auto_filter
    ws.sheet_properties.tabColor = spec.tab_color
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if spec.landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "&A 第 &P 页，共 &N 页"
    return ws


def _bar_chart(ws: Worksheet, spec: BarChart) -> XlBarChart:
    chart = XlBarChart()
    chart.type = "bar"
    chart.title = spec.title
    if spec.y_title:
        chart.y_axis.title = spec.y_title
    if spec.x_title:
        chart.x_axis.title = spec.x_title
    min_col, min_row, max_col, max_row = range_boundaries(spec.categories)
    for title_cell, values in spec.series:
        v_min_col, _, v_max_col, v_max_row = range_boundaries(values)
        _, t_row, _, _ = range_boundaries(title_cell)
        ref = Reference(ws, min_col=v_min_col, min_row=t_row, max_col=v_max_col, max_row=v_max_row)
        chart.add_data(ref, titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=min_col, min_row=min_row, max_col=max_col, max_row=max_row))
    chart.height, chart.width = 9, 18
    return chart


def _line_chart(ws: Worksheet, spec: LineChart) -> XlLineChart:
    """One line with markers per series; a series' title is the text of its title cell."""
    chart = XlLineChart()
    chart.title = spec.title
    chart.y_axis.title = spec.y_title or None
    chart.x_axis.title = spec.x_title or None
    chart.x_axis.delete = chart.y_axis.delete = False
    for title_cell, values in spec.series:
        v_min_col, v_min_row, v_max_col, v_max_row = range_boundaries(values)
        series = Series(Reference(ws, min_col=v_min_col, min_row=v_min_row, max_col=v_max_col, max_row=v_max_row))
        t_col, t_row, _, _ = range_boundaries(title_cell)
        series.tx = SeriesLabel(strRef=StrRef(f"{quote_sheetname(ws.title)}!${get_column_letter(t_col)}${t_row}"))
        series.marker.symbol = "circle"
        series.smooth = False
        chart.series.append(series)
    min_col, min_row, max_col, max_row = range_boundaries(spec.categories)
    chart.set_categories(Reference(ws, min_col=min_col, min_row=min_row, max_col=max_col, max_row=max_row))
    chart.height, chart.width = 10, 20
    return chart


def remove_generated(wb: Workbook, extra_names: set[str] | None = None) -> None:
    """Delete ducha's generated sheets, its highlight rules and its notes; input values stay as they are."""
    names = set(GENERATED_SHEETS) | (extra_names or set())
    for name in list(wb.sheetnames):
        if name in names:
            del wb[name]
    for ws in wb.worksheets:
        _remove_marks(ws)


def _is_ours(rule) -> bool:
    return any(MARK_PREFIX in (f or "") for f in (rule.formula or []))


def _remove_marks(ws: Worksheet) -> None:
    cf = ws.conditional_formatting
    kept = [(rng, [r for r in rng.rules if not _is_ours(r)]) for rng in cf]
    if any(len(rules) != len(rng.rules) for rng, rules in kept):
        ws.conditional_formatting = type(cf)()
        for rng, rules in kept:
            for rule in rules:
                ws.conditional_formatting.add(str(rng.sqref), rule)
    for row in ws.iter_rows():
        for cell in row:
            if cell.comment is not None and cell.comment.author == AUTHOR:
                cell.comment = None


def _apply_marks(wb: Workbook, marks: list[Mark]) -> None:
    """One conditional-format rule per sheet and severity (a fill), plus one note per cell."""
    grouped: dict[tuple[str, Severity], list[str]] = {}
    for mark in marks:
        if mark.sheet not in wb.sheetnames:
            continue
        grouped.setdefault((mark.sheet, mark.severity), []).append(mark.cell)
        if mark.note:
            ws = wb[mark.sheet]
            anchor = ws[mark.cell.split(":")[0]]
            if not isinstance(anchor, MergedCell) and anchor.comment is None:  # a merged cell holds no note
                comment = Comment(_printable(mark.note), AUTHOR)
                comment.width, comment.height = NOTE_SIZE
                anchor.comment = comment
    # Errors last so that, where ranges overlap, the most severe colour is applied on top.
    for (sheet, severity), cells in sorted(grouped.items(), key=lambda kv: _severity_rank(kv[0][1])):
        rule = FormulaRule(formula=[MARK_FORMULA.format(severity=severity.name.lower())],
                           fill=_fill(MARK_FILLS[severity]), stopIfTrue=False)
        wb[sheet].conditional_formatting.add(" ".join(sorted(set(cells))), rule)


def _severity_rank(severity: Severity) -> int:
    return {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}[severity]


def apply_plan(source: Path, plan: OutputPlan, dest: Path | None = None, *, in_place: bool = False) -> Path:
    """Write `plan` into a copy of `source` at `dest` (or into `source` itself, after a backup)."""
    source = Path(source)
    target = source if in_place else Path(dest) if dest else default_output(source)
    keep_vba = source.suffix.lower() == ".xlsm"
    wb = load_workbook(source, keep_vba=keep_vba, rich_text=False)
    generated = set(GENERATED_SHEETS) | {s.name for s in plan.sheets}
    inputs = [name for name in wb.sheetnames if name not in generated]
    remove_generated(wb, generated)
    for spec in plan.sheets:
        write_sheet(wb, spec)
    _apply_marks(wb, plan.marks)
    if plan.sheets:
        first = plan.sheets[0].name
        wb.active = wb.sheetnames.index(first)
        for ws in wb.worksheets:
            ws.sheet_view.tabSelected = ws.title == first
    if in_place:
        backup(source)

    def save(tmp: Path) -> None:
        wb.save(tmp)
        restore_cached_values(source, tmp, inputs)
        write_formula_values(tmp, {spec.name: formula_values(spec) for spec in plan.sheets})

    write_atomically(target, save)
    return target


def default_output(source: Path) -> Path:
    """<name>.checked.xlsx (or .xlsm) next to the input."""
    return source.with_name(f"{source.stem}.checked{source.suffix}")
