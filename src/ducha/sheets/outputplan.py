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
    FOLLOW_UP = "follow_up"
    FOLLOW_UP_MARKER = "follow_up_marker"


# Highlights on input cells are conditional-format rules whose formula carries this text, so that each adapter
# can find and remove the rules ducha wrote, and never the clerk's own.
MARK_PREFIX = "ducha:"
NOTE_AUTHOR = "ducha"  # the author of every note ducha writes, so that either adapter removes only its own


class MarkKind(StrEnum):
    """The one visual language of marks, in every generated sheet and both adapters: a cell to correct, a cell to
    confirm, information, and a household, village or county figure to follow up (its whole row, with a marker on
    the row's first cell)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    FOLLOW_UP_MARKER = "follow_up_marker"
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True)
class MarkLook:
    """How one kind of mark looks: fill and font colours (RRGGBB), bold, and its line of the legend."""

    fill: str
    font: str
    bold: bool
    name: str
    meaning: str


MARK_LOOKS: dict[MarkKind, MarkLook] = {
    MarkKind.ERROR: MarkLook("FFC7CE", "9C0006", True, "错误", "红底红字的单元格：填写有误，请改正后重新检查。"),
    MarkKind.WARNING: MarkLook("FFEB9C", "7F6000", False, "警告", "黄底的单元格：请核实；确认无误的可以保留。"),
    MarkKind.INFO: MarkLook("EDEDED", "404040", False, "提示", "灰底的单元格：仅供参考，无需改动。"),
    MarkKind.FOLLOW_UP_MARKER: MarkLook("7030A0", "FFFFFF", True, "跟进",
                                        "行首深紫、整行淡紫：该户、该村或该项县级数据需要跟进（入户、到村或向县级"
                                        "核实整改），见「跟进清单」；不是填写错误，不要改动填写内容。"),
    MarkKind.FOLLOW_UP: MarkLook("E4DFEC", "3F1D5C", False, "跟进行", "淡紫整行：需要跟进的户、村或县级数据。"),
}
MARK_PRECEDENCE = tuple(MarkKind)  # first wins where marks overlap: a data-entry error shows inside a follow-up row
SEVERITY_KIND = {Severity.ERROR: MarkKind.ERROR, Severity.WARNING: MarkKind.WARNING, Severity.INFO: MarkKind.INFO}
KIND_STYLE = {MarkKind.ERROR: Style.ERROR, MarkKind.WARNING: Style.WARNING, MarkKind.INFO: Style.INFO,
              MarkKind.FOLLOW_UP: Style.FOLLOW_UP, MarkKind.FOLLOW_UP_MARKER: Style.FOLLOW_UP_MARKER}
STYLE_LOOKS = {style: MARK_LOOKS[kind] for kind, style in KIND_STYLE.items()}
SEVERITY_STYLE = {severity: KIND_STYLE[kind] for severity, kind in SEVERITY_KIND.items()}

# Fill colours (RGB hex) shared by both adapters.
FILLS = {
    Style.HEADER: "DDEBF7",
    Style.GOOD: "C6EFCE",
    Style.BAD: "FFC7CE",
    Style.TOTAL: "FCE4D6",
    **{style: look.fill for style, look in STYLE_LOOKS.items()},
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


def sheet_styles(sheet: GeneratedSheet) -> list[tuple[str, Style]]:
    """The sheet's styles after the one alignment rule of every generated table: each cell top-aligned and
    wrapped (Style.NOTE), so that the cells of a row read straight across."""
    width = max([len(sheet.column_widths), *(len(row) for row in sheet.rows)], default=0)
    if not sheet.rows or not width:
        return list(sheet.styles)
    return [(f"A1:{get_column_letter(width)}{len(sheet.rows)}", Style.NOTE), *sheet.styles]


LINE_HEIGHT = 15.0  # points per line of wrapped text
TITLE_SCALE = 14 / 11  # a title's font against the body's: wider characters, taller lines


def text_width(text: str) -> int:
    """Width in Excel character units: CJK characters count double."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def text_lines(text: str, width: float, scale: float = 1.0) -> int:
    """Lines `text` takes wrapped in a column `width` characters wide (one character of padding)."""
    room = max(width - 1, 1)
    return sum(max(1, math.ceil(text_width(part) * scale / room)) for part in text.split("\n"))


def merged_spans(sheet: GeneratedSheet) -> tuple[dict[tuple[int, int], float], set[tuple[int, int]]]:
    """(top-left cell of a one-row merge -> its width, cells hidden under a merge or in a multi-row merge)."""
    spans: dict[tuple[int, int], float] = {}
    covered: set[tuple[int, int]] = set()
    for ref in sheet.merges:
        c1, r1, c2, r2 = range_boundaries(ref)
        cells = {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        if r1 == r2:
            spans[(r1, c1)] = sum(sheet.column_widths[c1 - 1:c2])
            cells.discard((r1, c1))
        covered |= cells
    return spans, covered


def auto_row_heights(sheet: GeneratedSheet) -> dict[int, float]:
    """Heights of the rows whose text needs more than one line: every generated cell wraps in its column (or its
    one-row merge), LINE_HEIGHT a line, a title's lines taller. Hidden columns and formulas do not count."""
    spans, covered = merged_spans(sheet)
    hidden = {range_boundaries(f"{letter}1")[0] for letter in sheet.hidden_columns}
    titles = {cell for ref, style in sheet.styles if style is Style.TITLE for cell in _cells_of(ref)}
    heights: dict[int, float] = {}
    for row, values in enumerate(sheet.rows, start=1):
        need = LINE_HEIGHT
        for col, value in enumerate(values[:len(sheet.column_widths)], start=1):
            if not isinstance(value, str) or not value or (row, col) in covered or col in hidden:
                continue
            scale = TITLE_SCALE if (row, col) in titles else 1.0
            width = spans.get((row, col), sheet.column_widths[col - 1])
            need = max(need, text_lines(value, width, scale) * LINE_HEIGHT * scale)
        if need > LINE_HEIGHT:
            heights[row] = round(need, 2)
    return heights


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
    """A highlight (and note) on an input cell or row. The cell's value is never touched. `follow_up`: a household,
    village or county figure to follow up (its row), not a cell to correct."""

    sheet: str
    cell: str  # A1 cell or range
    severity: Severity
    note: str = ""
    follow_up: bool = False

    @property
    def anchor(self) -> str:
        """The cell that carries the note: the first of the range."""
        return self.cell.split(":")[0].replace("$", "")


def mark_layers(marks: list[Mark]) -> dict[str, list[tuple[MarkKind, list[str]]]]:
    """Sheet -> (kind, A1 ranges) in MARK_PRECEDENCE order: what both adapters turn into one rule per kind. A
    follow-up mark adds its marker on the first cell of its range."""
    layers: dict[str, dict[MarkKind, list[str]]] = {}
    for mark in marks:
        kinds = layers.setdefault(mark.sheet, {})
        if mark.follow_up:
            kinds.setdefault(MarkKind.FOLLOW_UP, []).append(mark.cell)
            kinds.setdefault(MarkKind.FOLLOW_UP_MARKER, []).append(mark.anchor)
        else:
            kinds.setdefault(SEVERITY_KIND[mark.severity], []).append(mark.cell)
    return {sheet: [(kind, list(dict.fromkeys(kinds[kind]))) for kind in MARK_PRECEDENCE if kind in kinds]
            for sheet, kinds in layers.items()}


def mark_notes(marks: list[Mark]) -> dict[tuple[str, str], str]:
    """(sheet, anchor cell) -> the note there: every mark's note on that cell, data-entry findings first."""
    ordered = sorted((m for m in marks if m.note), key=lambda m: m.follow_up)
    notes: dict[tuple[str, str], list[str]] = {}
    for mark in ordered:
        texts = notes.setdefault((mark.sheet, mark.anchor), [])
        if mark.note not in texts:
            texts.append(mark.note)
    return {key: "\n".join(texts) for key, texts in notes.items()}


@dataclass
class OutputPlan:
    sheets: list[GeneratedSheet] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)

    def extend(self, other: OutputPlan) -> OutputPlan:
        self.sheets.extend(other.sheets)
        self.marks.extend(other.marks)
        return self
