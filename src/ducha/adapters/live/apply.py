"""Applying an OutputPlan to the open workbook: the generated sheets recreated, each written as one block with its
formats on grouped ranges (so the number of Excel calls does not grow with the number of households), and
ducha's previous marks replaced."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from openpyxl.utils import get_column_letter

from ducha.adapters.live.engine import Engine, bgr, com_api, engine_of, rgb, set_property
from ducha.adapters.live.geometry import Rect, cells_of, parse_rect, rect_address, rectangles, union_chunks
from ducha.adapters.live.marks import LITERAL_LIMIT, apply_marks, read_record, remove_marks, write_record
from ducha.adapters.live.report import LiveReport
from ducha.model.schema import GENERATED_SHEETS
from ducha.sheets.outputplan import (
    FILLS,
    STYLE_LOOKS,
    BarChart,
    Formula,
    GeneratedSheet,
    OutputPlan,
    Style,
    sheet_styles,
)

Progress = Callable[[str], None]
COLORS_LIMIT = 10_000  # cells of one Range.set_colors call
POINTS_PER_CM = 72 / 2.54  # a chart's size in the plan is in centimetres, xlwings takes points
LINK_COLOR = "0563C1"


STYLE_PROPERTIES: dict[Style, dict[str, Any]] = {
    Style.TITLE: {"bold": True, "size": 14},
    Style.HEADER: {"bold": True, "fill": FILLS[Style.HEADER], "wrap": True, "valign": "center"},
    Style.TOTAL: {"bold": True, "fill": FILLS[Style.TOTAL], "wrap": True, "valign": "center"},
    Style.PERCENT: {"number_format": "0.0%"},
    Style.NUMBER: {"number_format": "0.00"},
    Style.LINK: {"font_color": LINK_COLOR, "underline": True},
    Style.NOTE: {"wrap": True, "valign": "top"},
    Style.LEFT: {"halign": "left"},
    **{style: {"fill": FILLS[style]} for style in (Style.GOOD, Style.BAD)},
    **{style: {"fill": look.fill, "font_color": look.font, "bold": look.bold} for style, look in STYLE_LOOKS.items()},
}


def apply_plan_live(book: Any, plan: OutputPlan, *, progress: Progress | None = None) -> LiveReport:
    """Recreate the plan's generated sheets, replace ducha's previous highlights and notes; input values stay."""
    say = progress or (lambda _message: None)
    engine = engine_of(book)
    report = LiveReport()
    say("督查助手：正在清除上次的结果…")
    record = read_record(book)
    reuse = _remove_generated_sheets(book, {s.name for s in plan.sheets})
    remove_marks(book, record)
    for spec in plan.sheets:
        say(f"督查助手：正在写入「{spec.name}」…")
        _write_sheet(book, spec, engine, report, reuse)
        report.sheets.append(spec.name)
    written = {name.casefold() for name in report.sheets}
    for name, sheet in reuse.items():
        if name not in written and len(book.sheets) > 1:
            sheet.delete()
    if plan.marks:
        say("督查助手：正在标记问题单元格…")
    new_record = apply_marks(book, plan.marks, report)
    write_record(book, new_record)
    if plan.sheets:
        book.sheets[plan.sheets[0].name].activate()
    return report


def _remove_generated_sheets(book: Any, extra: set[str]) -> dict[str, Any]:
    """Delete the generated sheets; if they are all the book has, keep the last one, cleared, for reuse."""
    names = {n.casefold() for n in (*GENERATED_SHEETS, *extra)}
    doomed = [s for s in book.sheets if s.name.casefold() in names]
    kept: dict[str, Any] = {}
    if doomed and len(doomed) == len(book.sheets):
        last = doomed.pop()
        last.clear()
        kept[last.name.casefold()] = last
    for sheet in doomed:
        sheet.delete()
    return kept


def _position(book: Any, index: int) -> dict[str, Any]:
    """Keyword arguments for Sheets.add placing the new sheet at `index` (0-based)."""
    sheets = book.sheets
    index = max(0, min(index, len(sheets)))
    return {"before": sheets[0]} if index == 0 else {"after": sheets[index - 1]}


def _write_sheet(book: Any, spec: GeneratedSheet, engine: Engine, report: LiveReport, reuse: dict[str, Any]) -> None:
    """A new sheet at its position (None: after every other sheet), as the file adapter places it."""
    sheet = reuse.get(spec.name.casefold())
    if sheet is None:
        index = spec.position if spec.position is not None else len(book.sheets)
        sheet = book.sheets.add(name=spec.name, **_position(book, index))
    block, link_cells = sheet_block(spec)
    if block:
        sheet.range((1, 1), (len(block), len(block[0]))).value = block
    hidden = set(spec.hidden_columns)  # a column for machines (codes): width 0 hides it in Excel
    _column_widths(sheet, [0 if get_column_letter(i) in hidden else w for i, w in enumerate(spec.column_widths, 1)],
                   engine)
    _row_heights(sheet, spec.row_heights)
    styles = sheet_styles(spec) + [(ref, Style.LINK) for ref in link_cells]
    _apply_styles(sheet, styles, engine, report)
    for ref in spec.merges:
        sheet.range(ref).merge()
    for chart in spec.charts:
        _guarded(report, "charts", lambda chart=chart: _add_chart(sheet, chart))
    if spec.freeze:
        _guarded(report, "freeze panes", lambda: _freeze(book, sheet, spec.freeze, engine))
    if spec.auto_filter:
        _guarded(report, "auto filter", lambda: com_api(sheet.range(spec.auto_filter), engine).AutoFilter())
    _guarded(report, "tab colour", lambda: setattr(com_api(sheet, engine).Tab, "Color", bgr(spec.tab_color)))
    report.skip("page setup")


def _guarded(report: LiveReport, feature: str, action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception as exc:  # a cosmetic feature must not cost the clerk the results
        report.skip(feature, exc)


def sheet_block(spec: GeneratedSheet) -> tuple[list[list[Any]], list[str]]:
    """The sheet's rows as one rectangular block (links as HYPERLINK formulas, text kept as text) and the link cells."""
    width = max((len(row) for row in spec.rows), default=0)
    block = [[_cell_value(v) for v in row] + [None] * (width - len(row)) for row in spec.rows]
    link_cells = []
    for link in spec.links:
        r, c, _, _ = parse_rect(link.cell)
        if r > len(block) or c > width:
            continue
        shown = spec.rows[r - 1][c - 1] if c <= len(spec.rows[r - 1]) else None
        formula = hyperlink_formula(link.sheet, link.target, shown)
        if formula is not None:
            block[r - 1][c - 1] = formula
            link_cells.append(link.cell)
    return (block if width else []), link_cells


_COERCED = re.compile(r"\s*[-+(.$¥￥]?\s*\d|\s*[-+@#']|\s*(?i:true|false)\s*$")


def _cell_value(value: Any) -> Any:
    """A value for Excel: composed formulas with their "="; text Excel would turn into a formula, number, date or
    error keeps a quote."""
    if isinstance(value, Formula):
        return "=" + value.expr
    if isinstance(value, str) and (value.startswith("=") or _COERCED.match(value)):
        return "'" + value
    return value


def hyperlink_formula(sheet: str, target: str, shown: Any) -> str | None:
    """=HYPERLINK("#'sheet'!A1", shown): a link that works in every engine without a per-cell call."""
    location = f"#'{sheet.replace(chr(39), chr(39) * 2)}'!{target}"
    if shown is None or shown == "":
        shown = target
    if isinstance(shown, bool) or not isinstance(shown, int | float | str):
        shown = str(shown)
    if isinstance(shown, str):
        if len(shown) > LITERAL_LIMIT or shown.startswith("="):
            return None
        label = '"' + shown.replace('"', '""') + '"'
    else:
        label = repr(float(shown)) if isinstance(shown, float) else str(shown)
    if len(location) > LITERAL_LIMIT:
        return None
    return f'=HYPERLINK("{location.replace(chr(34), chr(34) * 2)}",{label})'


def _column_widths(sheet: Any, widths: list[float], engine: Engine) -> None:
    start = 0
    for i in range(1, len(widths) + 1):
        if i == len(widths) or widths[i] != widths[start]:
            sheet.range((1, start + 1), (1, i)).column_width = engine.column_width(widths[start])
            start = i


MAX_RECTS = 10  # more rectangles than this for one property: switch to a per-column call


def _row_heights(sheet: Any, heights: dict[int, float]) -> None:
    """Equal heights of neighbouring rows in one call; many different heights are left to Excel's autofit."""
    if not heights:
        return
    runs: list[tuple[int, int, float]] = []
    for row in sorted(heights):
        if runs and runs[-1][1] == row - 1 and runs[-1][2] == heights[row]:
            runs[-1] = (runs[-1][0], row, heights[row])
        else:
            runs.append((row, row, heights[row]))
    if len(runs) > MAX_RECTS:
        sheet.range(f"{min(heights)}:{max(heights)}").rows.autofit()
        return
    for first, last, height in runs:
        sheet.range(f"{first}:{last}").row_height = height


def _apply_styles(sheet: Any, styles: list[tuple[str, Style]], engine: Engine, report: LiveReport) -> None:
    """One call per property value and rectangle (desktop: per multi-area chunk); the last style of a cell wins."""
    values: dict[str, dict[tuple[int, int], Any]] = defaultdict(dict)
    for ref, style in styles:
        for prop, value in STYLE_PROPERTIES.get(style, {}).items():
            for cell in cells_of(parse_rect(ref)):
                values[prop][cell] = value
    for prop, by_cell in values.items():
        groups: dict[Any, list[tuple[int, int]]] = defaultdict(list)
        for cell, value in by_cell.items():
            groups[value].append(cell)
        rects = {value: rectangles(cells) for value, cells in groups.items()}
        if prop == "fill" and not engine.multi_area and sum(map(len, rects.values())) > MAX_RECTS:
            _fill_by_columns(sheet, by_cell)
            continue
        for value, value_rects in rects.items():
            refs = union_chunks(value_rects) if engine.multi_area else [rect_address(r) for r in value_rects]
            for ref in refs:
                try:
                    set_property(sheet.range(ref), prop, value, engine)
                except NotImplementedError as exc:
                    report.skip(f"style {prop}", exc)


def _fill_by_columns(sheet: Any, fills: dict[tuple[int, int], str]) -> None:
    """Scattered fills with Range.set_colors over blocks of neighbouring columns (up to 10,000 cells a call);
    cells without a fill in the plan keep theirs."""
    spans: dict[int, tuple[int, int]] = {}
    for r, c in fills:
        low, high = spans.get(c, (r, r))
        spans[c] = (min(low, r), max(high, r))
    blocks: list[Rect] = []
    for c in sorted(spans):
        low, high = spans[c]
        if blocks:
            r1, c1, r2, c2 = blocks[-1]
            merged = (min(r1, low), c1, max(r2, high), c)
            if c2 == c - 1 and (merged[2] - merged[0] + 1) * (c - c1 + 1) <= COLORS_LIMIT:
                blocks[-1] = merged
                continue
        blocks.append((low, c, high, c))
    for r1, c1, r2, c2 in blocks:
        for top in range(r1, r2 + 1, max(1, COLORS_LIMIT // (c2 - c1 + 1))):
            bottom = min(r2, top + COLORS_LIMIT // (c2 - c1 + 1) - 1)
            matrix = [[rgb(fills[(r, c)]) if (r, c) in fills else ... for c in range(c1, c2 + 1)]
                      for r in range(top, bottom + 1)]
            if any(v is not ... for row in matrix for v in row):
                sheet.range((top, c1), (bottom, c2)).set_colors(matrix)


def _freeze(book: Any, sheet: Any, ref: str, engine: Engine) -> None:
    """Freeze the rows above and the columns left of `ref` (openpyxl's meaning of freeze_panes)."""
    row, column, _, _ = parse_rect(ref)
    if row == 1 and column == 1:
        return
    if engine.remote:
        frozen = (f"1:{row - 1}" if column == 1 else
                  f"A:{get_column_letter(column - 1)}" if row == 1 else
                  f"A1:{get_column_letter(column - 1)}{row - 1}")
        sheet.freeze_panes.freeze_at(frozen)
        return
    sheet.activate()
    window = com_api(book.app, engine).ActiveWindow
    window.FreezePanes = False
    window.SplitColumn = column - 1
    window.SplitRow = row - 1
    window.FreezePanes = True


def _add_chart(sheet: Any, spec: BarChart) -> None:
    """A clustered bar chart from the series' columns, with their title row, and the category labels."""
    boxes = [(parse_rect(title), parse_rect(values)) for title, values in spec.series]
    first_row = min(t[0] for t, _ in boxes)
    last_row = max(v[2] for _, v in boxes)
    first_col = min(v[1] for _, v in boxes)
    last_col = max(v[3] for _, v in boxes)
    source = sheet.range((first_row, first_col), (last_row, last_col))
    chart = sheet.charts.add(source=source, chart_type="bar_clustered", plot_by="columns",
                             anchor=sheet.range(spec.anchor), width=spec.width * POINTS_PER_CM,
                             height=spec.height * POINTS_PER_CM)
    chart.set_x_axis_values(sheet.range(spec.categories))
    chart.title = spec.title
    if spec.x_title:
        chart.category_axis.title = spec.x_title
    if spec.y_title:
        chart.value_axis.title = spec.y_title
