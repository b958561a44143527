"""The one sheet builder: rows added one by one with their styles, merges, links, colours and charts, then turned
into a `GeneratedSheet`. Every generated sheet (检查结果, 评分, 跟进清单, 判定明细, receipts, the report, the
ledger, the rubric) is built with it."""

from __future__ import annotations

from typing import Any

from openpyxl.utils import get_column_letter

from ducha.sheets.outputplan import (
    KIND_STYLE,
    MARK_LOOKS,
    BarChart,
    Conditional,
    GeneratedSheet,
    LineChart,
    Link,
    MarkKind,
    Style,
    auto_row_heights,
)

# The legend of 检查结果 and 跟进清单: the follow-up marker stands for the follow-up row it starts.
LEGEND = (MarkKind.ERROR, MarkKind.WARNING, MarkKind.INFO, MarkKind.FOLLOW_UP_MARKER)


class SheetBuilder:
    """Rows being built. `full_width`: a row's style spans every column (else only the row's own values)."""

    def __init__(self, name: str, widths: list[float], *, full_width: bool = False) -> None:
        self.name, self.widths, self.full_width = name, list(widths), full_width
        self.rows: list[list[Any]] = []
        self.styles: list[tuple[str, Style]] = []
        self.links: list[Link] = []
        self.merges: list[str] = []
        self.conditional: list[Conditional] = []
        self.charts: list[BarChart | LineChart] = []
        self.heights: dict[int, float] = {}  # rows sized by hand (merged cells, which auto sizing leaves alone)

    @property
    def last(self) -> str:
        """The letter of the last column."""
        return get_column_letter(len(self.widths))

    @property
    def next_row(self) -> int:
        return len(self.rows) + 1

    def add(self, values: list[Any], style: Style | None = None) -> int:
        """Append a row; returns its number."""
        self.rows.append(list(values))
        row = len(self.rows)
        if style:
            end = self.last if self.full_width else get_column_letter(max(len(values), 1))
            self.styles.append((f"A{row}:{end}{row}", style))
        return row

    def style(self, ref: str, style: Style) -> None:
        self.styles.append((ref, style))

    def link(self, cell: str, sheet: str, target: str) -> None:
        self.links.append(Link(cell, sheet, target))

    def banner(self, text: str, style: Style) -> int:
        """A text across the whole width (title, note or section heading)."""
        row = self.add([text])
        self.styles.append((f"A{row}" if style is Style.TITLE else f"A{row}:{self.last}{row}", style))
        self.merges.append(f"A{row}:{self.last}{row}")
        return row

    def head(self, title: str, note: str, headers: list[str]) -> int:
        """Title, note and header rows; returns the header's row."""
        self.banner(title, Style.TITLE)
        self.banner(note, Style.NOTE)
        return self.add(headers, Style.HEADER)

    def legend(self, kinds: tuple[MarkKind, ...] = LEGEND) -> int:
        """The legend of the marks: per kind, its coloured name (column B) and what it asks the clerk to do.
        Returns the first row."""
        first = self.next_row
        for kind in kinds:
            look = MARK_LOOKS[kind]
            row = self.add(["图例" if kind is kinds[0] else "", look.name, look.meaning])
            self.styles.extend([(f"A{row}", Style.HEADER), (f"B{row}", KIND_STYLE[kind])])
            self.merges.append(f"C{row}:{self.last}{row}")
        return first

    def build(self, **options: Any) -> GeneratedSheet:
        """The sheet, its rows as high as their text needs."""
        sheet = GeneratedSheet(name=self.name, rows=self.rows, column_widths=self.widths, styles=self.styles,
                               links=self.links, merges=self.merges, charts=self.charts,
                               conditional=self.conditional, **options)
        heights = auto_row_heights(sheet)
        for row, height in self.heights.items():  # sized by hand: kept where it asks for more
            heights[row] = max(height, heights.get(row, 0))
        sheet.row_heights = dict(sorted(heights.items()))
        return sheet
