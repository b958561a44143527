"""The one sheet builder: rows added one by one with their styles, merges, links, colours and charts, then turned
into a `GeneratedSheet`. Every generated sheet (检查结果, 评分, 跟进清单, 判定明细, receipts, the report, the
ledger, the rubric) is built with it."""

from __future__ import annotations

import math
from typing import Any

from openpyxl.utils import get_column_letter

from ducha.sheets.outputplan import (
    LINE_HEIGHT,
    BarChart,
    Conditional,
    GeneratedSheet,
    LineChart,
    Link,
    Style,
    auto_row_heights,
    text_width,
)


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
        self.banners: dict[int, str] = {}
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
        self.banners[row] = text
        return row

    def head(self, title: str, note: str, headers: list[str]) -> int:
        """Title, note and header rows; returns the header's row."""
        self.banner(title, Style.TITLE)
        self.banner(note, Style.NOTE)
        return self.add(headers, Style.HEADER)

    def build(self, **options: Any) -> GeneratedSheet:
        """The sheet, with the heights of wrapped rows and of banners longer than one line."""
        sheet = GeneratedSheet(name=self.name, rows=self.rows, column_widths=self.widths, styles=self.styles,
                               links=self.links, merges=self.merges, charts=self.charts,
                               conditional=self.conditional, **options)
        heights = auto_row_heights(sheet)
        room = max(sum(self.widths) - 2, 1)
        for row, text in self.banners.items():
            lines = sum(math.ceil(max(text_width(part), 1) / room) for part in text.split("\n"))
            if row > 1 and lines > 1:
                heights[row] = lines * LINE_HEIGHT
        heights.update({row: height for row, height in self.heights.items() if height > LINE_HEIGHT})
        sheet.row_heights = dict(sorted(heights.items()))
        return sheet
