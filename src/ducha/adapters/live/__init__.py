"""The live adapter: read a workbook open in Excel and apply an OutputPlan to it through xlwings.

Each input sheet is read with one call; a generated sheet is written as one block; formats and highlights go on
grouped ranges, so the number of Excel calls does not grow with the number of households. The same code runs on
xlwings' desktop engine (COM, what clerks use) and on its remote engine (what the tests drive).

Highlights on input cells are conditional-format rules that carry the marker ``ducha:<severity>`` in their formula,
like the file adapter's, so either adapter removes the other's; the clerk's own fills are never touched. Notes and
rule ranges written here are also listed in the workbook name ``ducha_marks`` so that the next run can remove
exactly them where the engine cannot enumerate rules or note authors.

One module per concept, each importing only those above it in this list:
`geometry` (rectangles and addresses), `engine` (what the desktop and remote engines do differently),
`report` (what a run did), `reading` (the open book as a RawWorkbook), `marks` (highlight rules, notes and their
record), `apply` (apply_plan_live: the generated sheets and their formats, then the marks).
"""

from __future__ import annotations

from ducha.adapters.live.apply import apply_plan_live, hyperlink_formula
from ducha.adapters.live.geometry import cells_of, parse_rect, rect_address, rectangles, union_chunks
from ducha.adapters.live.marks import (
    FORMULA_LIMIT,
    LITERAL_LIMIT,
    LONG_RUN,
    RECORD_LIMIT,
    MarkRecord,
    constant_text,
    mark_rules,
    text_constant,
)
from ducha.adapters.live.reading import _merged_areas, book_path, read_book
from ducha.adapters.live.report import NOTE_LIMIT

__all__ = [
    "FORMULA_LIMIT",
    "LITERAL_LIMIT",
    "LONG_RUN",
    "NOTE_LIMIT",
    "RECORD_LIMIT",
    "MarkRecord",
    "_merged_areas",
    "apply_plan_live",
    "book_path",
    "cells_of",
    "constant_text",
    "hyperlink_formula",
    "mark_rules",
    "parse_rect",
    "read_book",
    "rect_address",
    "rectangles",
    "text_constant",
    "union_chunks",
]
