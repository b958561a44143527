"""Drawing the output plan with openpyxl: generated sheets (values, styles, links, charts, rules, validations) on
an openpyxl workbook.

Used by the one writer (adapters/writer) for every generated workbook; the file adapter (xlsx_writer) moves the
sheets so written into the clerk's package.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.chart import BarChart as XlBarChart
from openpyxl.chart import LineChart as XlLineChart
from openpyxl.chart import Reference, Series
from openpyxl.chart.data_source import NumFmt
from openpyxl.chart.label import DataLabelList
from openpyxl.chart.series import SeriesLabel, StrRef
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, quote_sheetname, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.worksheet import Worksheet

from ducha.sheets.outputplan import (
    FILLS,
    LINE_HEIGHT,
    STYLE_LOOKS,
    BarChart,
    Formula,
    GeneratedSheet,
    LineChart,
    Style,
    formula_text,
    sheet_ref,
    sheet_styles,
    text_lines,
    text_width,
)
from ducha.sheets.template import fit_pages

TOP_WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # openpyxl's ILLEGAL_CHARACTERS_RE as one class: faster
MAX_TEXT = 32767  # characters a cell holds
MAX_ROW_HEIGHT = 409  # points: Excel's highest row


def printable(value: object) -> object:
    """Text without the control characters a workbook cannot hold (a clerk's cell quoted in a message may have
    them)."""
    return _ILLEGAL.sub("", value) if isinstance(value, str) else value


def _cell_value(value: object) -> object:
    """What openpyxl is given for a plan value: a composed formula with its "=", anything else as it is."""
    return "=" + value.expr if isinstance(value, Formula) else printable(value)


def write_rows(ws: Worksheet, rows: list[list[object]]) -> None:
    """Write the rows from A1; a `str` is text even when it starts with "=" (it is put in as text directly,
    without openpyxl's guessing and checking, which also makes long sheets faster)."""
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            if isinstance(value, str):
                cell = ws.cell(number, column)
                cell._value = printable(value)[:MAX_TEXT]
                cell.data_type = "s"
            else:
                ws.cell(number, column, _cell_value(value))


def stream_rows(ws: WriteOnlyWorksheet, rows: Iterable[list[object]], widths: list[float]) -> None:
    """Append the rows to a write-only sheet, so memory follows one row, not the sheet (a values copy of a large
    input); a `str` is text whatever it starts with (wrapped, top-aligned, where it is wider than its column of
    `widths`, its row as high as it needs), "" and None leave the cell out."""
    for number, row in enumerate(rows, start=1):
        cells: list[object] = []
        lines = 1
        for column, value in enumerate(row):
            if isinstance(value, str):
                if not value:
                    cells.append(None)
                    continue
                cell = WriteOnlyCell(ws)
                cell._value, cell.data_type = printable(value)[:MAX_TEXT], "s"
                width = widths[column] if column < len(widths) else 8
                if "\n" in value or text_width(value) > width - 2:
                    cell.alignment = TOP_WRAP
                    lines = max(lines, text_lines(value, width))
                cells.append(cell)
            else:
                cells.append(value)
        if lines > 1:  # the row reads straight across: every value at the top, as its wrapped text starts
            ws.row_dimensions[number].height = min(lines * LINE_HEIGHT, MAX_ROW_HEIGHT)
            for i, item in enumerate(cells):
                if item is not None and not isinstance(item, Cell):
                    item = cells[i] = WriteOnlyCell(ws, item)
                if item is not None and not item.alignment.wrap_text:
                    item.alignment = TOP
        ws.append(cells)


def put_value(ws: Worksheet, row: int, column: int, value: object) -> None:
    """Write one value into a cell: a composed `Formula` as a formula, any `str` as text whatever it starts with."""
    cell = ws.cell(row, column, _cell_value(value))
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def _fill(rgb: str) -> PatternFill:
    return PatternFill(fill_type="solid", start_color=rgb, end_color=rgb)


def _apply_style(cells, style: Style, done: dict | None = None) -> None:
    """Layer `style` on the cells. `done` remembers (style before, style) -> style after, so each combination is
    built once through openpyxl's (slow) style setters and then copied."""
    done = {} if done is None else done
    for row in cells:
        for cell in row:
            current = getattr(cell, "_style", None)  # None: a cell never styled yet
            key = (None if current is None else tuple(current), style)
            if key in done:
                cell._style = StyleArray(done[key])
                continue
            _style_one(cell, style)
            done[key] = tuple(cell._style)


def _style_one(cell, style: Style) -> None:
    if style is Style.TITLE:
        cell.font = Font(bold=True, size=14)
    elif style in (Style.HEADER, Style.TOTAL):
        cell.font = Font(bold=True)
        cell.fill = _fill(FILLS[style])
    elif style in STYLE_LOOKS:
        look = STYLE_LOOKS[style]
        cell.fill = _fill(look.fill)
        cell.font = Font(color=look.font, bold=look.bold)
    elif style is Style.PERCENT:
        cell.number_format = "0.0%"
    elif style is Style.NUMBER:
        cell.number_format = "0.00"
    elif style is Style.LINK:
        cell.font = Font(color="0563C1", underline="single")
    elif style is Style.NOTE:
        cell.alignment = TOP_WRAP
    elif style is Style.LEFT:
        old = cell.alignment
        cell.alignment = Alignment(horizontal="left", vertical=old.vertical, wrap_text=old.wrap_text)
    elif style in FILLS:
        cell.fill = _fill(FILLS[style])


def _cells(ws: Worksheet, ref: str):
    if ":" in ref:
        return ws[ref]
    return ((ws[ref],),)


def write_sheet(wb: Workbook, spec: GeneratedSheet) -> Worksheet:
    """A new sheet at its position (None: after every other sheet)."""
    ws = wb.create_sheet(spec.name, spec.position)
    write_rows(ws, spec.rows)
    for i, width in enumerate(spec.column_widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for letter in spec.hidden_columns:
        ws.column_dimensions[letter].hidden = True
    for row, height in spec.row_heights.items():
        ws.row_dimensions[row].height = height
    done: dict = {}
    for ref, style in sheet_styles(spec):
        _apply_style(_cells(ws, ref), style, done)
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
        look = STYLE_LOOKS.get(rule.style)
        font = Font(color=look.font, bold=look.bold) if look else None
        ws.conditional_formatting.add(rule.range, FormulaRule(formula=[rule.formula], fill=_fill(FILLS[rule.style]),
                                                              font=font))
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
    fit_pages(ws, landscape=spec.landscape, pages_tall=spec.pages_tall)
    if spec.narrow_margins:
        ws.page_margins = PageMargins(left=0.25, right=0.25, top=0.5, bottom=0.5, header=0.2, footer=0.2)
        ws.print_options.horizontalCentered = True
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
    chart.height, chart.width = spec.height, spec.width
    chart.x_axis.delete = chart.y_axis.delete = False
    if spec.value_range:
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = spec.value_range
    if spec.value_format:
        chart.y_axis.numFmt = NumFmt(formatCode=spec.value_format, sourceLinked=False)
    if spec.top_down:  # category axis reversed: the first row's bar on top, the value axis kept at the bottom
        chart.x_axis.scaling.orientation = "maxMin"
        chart.y_axis.crosses = "max"
    if spec.data_labels:
        chart.dataLabels = DataLabelList(showVal=True, showCatName=False, showSerName=False, showLegendKey=False,
                                         showPercent=False, numFmt=spec.value_format or None)
    if len(spec.series) == 1:
        chart.legend = None
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
