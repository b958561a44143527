"""What to write into a workbook, as plain data: generated sheets and marks on input cells.

The pure core produces an `OutputPlan`; the file adapter (openpyxl) and the live adapter (xlwings)
each apply it. Nothing here touches a file or Excel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from openpyxl.utils import get_column_letter, range_boundaries

from ducha.model.findings import Severity


class Style(StrEnum):
    """Named cell styles; each adapter maps them to fonts, fills and number formats."""

    TITLE = "title"
    HEADER = "header"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    GOOD = "good"
    BAD = "bad"
    PERCENT = "percent"
    NUMBER = "number"
    LINK = "link"
    NOTE = "note"
    TOTAL = "total"
    LEFT = "left"  # a number read as a field value (a heading's 总分, 满分): left-aligned, clear of the next label


# Highlights on input cells are conditional-format rules whose formula carries this text, so that each adapter
# can find and remove the rules ducha wrote, and never the clerk's own.
MARK_PREFIX = "ducha:"

SEVERITY_STYLE = {Severity.ERROR: Style.ERROR, Severity.WARNING: Style.WARNING, Severity.INFO: Style.INFO}

# Fill colours (RGB hex) shared by both adapters.
FILLS = {
    Style.HEADER: "DDEBF7",
    Style.ERROR: "FFC7CE",
    Style.WARNING: "FFEB9C",
    Style.INFO: "E2EFDA",
    Style.GOOD: "C6EFCE",
    Style.BAD: "FFC7CE",
    Style.TOTAL: "FCE4D6",
}


@dataclass(frozen=True)
class Formula:
    """A formula ducha composed, and Python's own value of it (written as the cell's cached value, so that a
    viewer that does not recalculate shows the same number). Every other value of a sheet is written as it is:
    a `str` is always text, whatever it starts with."""

    expr: str  # without the leading "="
    cached: float | int | str | bool | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "expr", self.expr.removeprefix("="))


def sheet_ref(name: str) -> str:
    """A sheet name as a formula refers to it: quoted, its quotes doubled (the name may be the clerk's)."""
    return "'" + name.replace("'", "''") + "'"


def formula_text(text: str) -> str:
    """A string literal inside a composed formula: quoted, its quotes doubled, so it cannot end the literal."""
    return '"' + str(text).replace('"', '""') + '"'


@dataclass(frozen=True)
class Link:
    """A hyperlink from `cell` of the generated sheet to a cell of the same workbook."""

    cell: str
    sheet: str
    target: str


@dataclass(frozen=True)
class BarChart:
    """A clustered bar chart over a block of the sheet: categories in one column, series in others."""

    title: str
    categories: str  # e.g. "A5:A11"
    series: tuple[tuple[str, str], ...]  # (title cell, values range)
    anchor: str
    y_title: str = ""
    x_title: str = ""
    width: float = 18.0  # centimetres
    height: float = 9.0
    value_range: tuple[float, float] | None = None  # a fixed value axis (e.g. 0-1 for shares); None: automatic
    value_format: str = ""  # number format of the value axis and the data labels, e.g. "0%"
    data_labels: bool = False  # each bar shows its value
    top_down: bool = False  # the first category at the top, as in the table the chart sits beside


@dataclass(frozen=True)
class LineChart:
    """A line chart: one line per series, each (title cell, values range) in a row or a column of the sheet, over
    the category labels (e.g. months)."""

    title: str
    categories: str  # e.g. "C4:H4"
    series: tuple[tuple[str, str], ...]  # (title cell, values range)
    anchor: str
    y_title: str = ""
    x_title: str = ""


@dataclass(frozen=True)
class Conditional:
    """A conditional colour on a generated sheet: `style` where `formula` (relative to the range's top-left cell)
    is true."""

    range: str
    formula: str
    style: Style


@dataclass(frozen=True)
class ListValidation:
    """A drop-down list of `choices` on the cells of `range`; other values are refused with `error`."""

    range: str
    choices: tuple[str, ...]
    error_title: str
    error: str


@dataclass
class GeneratedSheet:
    """A sheet ducha owns: recreated on every run. Only `Formula` values are formulas; every `str` is text."""

    name: str
    rows: list[list[Any]]
    column_widths: list[float] = field(default_factory=list)
    row_heights: dict[int, float] = field(default_factory=dict)  # 1-based row -> points, for wrapped text
    freeze: str | None = None
    styles: list[tuple[str, Style]] = field(default_factory=list)  # (A1 range, style)
    links: list[Link] = field(default_factory=list)
    merges: list[str] = field(default_factory=list)
    charts: list[BarChart | LineChart] = field(default_factory=list)
    conditional: list[Conditional] = field(default_factory=list)
    auto_filter: str | None = None
    validations: list[ListValidation] = field(default_factory=list)
    hidden_columns: list[str] = field(default_factory=list)  # column letters
    print_title_rows: str | None = None  # e.g. "1:2", repeated on every printed page
    landscape: bool = True
    pages_tall: int = 0  # printed at most this many pages tall (scaled down to fit); 0: as many as needed
    narrow_margins: bool = False  # 0.6 cm left and right, 1.3 cm top and bottom (more of the page for the sheet)
    tab_color: str = "C00000"
    position: int | None = None  # sheet index; None = after the input sheets


LINE_HEIGHT = 15.0  # points per line of wrapped text


def text_width(text: str) -> int:
    """Width in Excel character units: CJK characters count double."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def auto_row_heights(sheet: GeneratedSheet) -> dict[int, float]:
    """Heights of rows whose wrapped (note or header) cells need more than one line; merged rows are left alone."""
    merged = {row for ref in sheet.merges for row, _ in _cells_of(ref)}
    lines: dict[int, int] = {}
    wrapped = {cell for ref, style in sheet.styles if style in (Style.NOTE, Style.HEADER) for cell in _cells_of(ref)}
    for row, col in wrapped:
        values = sheet.rows[row - 1] if row <= len(sheet.rows) and row not in merged else []
        value = values[col - 1] if col <= min(len(values), len(sheet.column_widths)) else None
        if isinstance(value, str):
            width = max(sheet.column_widths[col - 1] - 1, 1)
            lines[row] = max(lines.get(row, 1), math.ceil(text_width(value) / width))
    return {row: n * LINE_HEIGHT for row, n in sorted(lines.items()) if n > 1}


def formula_values(sheet: GeneratedSheet) -> dict[str, Any]:
    """A1 cell -> cached value of every formula of the sheet."""
    return {f"{get_column_letter(col)}{row}": value.cached
            for row, values in enumerate(sheet.rows, start=1)
            for col, value in enumerate(values, start=1) if isinstance(value, Formula)}


def _cells_of(ref: str) -> list[tuple[int, int]]:
    """(row, column) of every cell of an A1 range."""
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    return [(r, c) for r in range(min_row, max_row + 1) for c in range(min_col, max_col + 1)]


@dataclass(frozen=True)
class Mark:
    """A highlight (and note) on an input cell or row. The cell's value is never touched."""

    sheet: str
    cell: str  # A1 cell or range
    severity: Severity
    note: str = ""


@dataclass
class OutputPlan:
    sheets: list[GeneratedSheet] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    def extend(self, other: OutputPlan) -> OutputPlan:
        self.sheets.extend(other.sheets)
        self.marks.extend(other.marks)
        return self
