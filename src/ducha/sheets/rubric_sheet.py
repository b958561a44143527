"""The 「评分细则」 sheet: the rubric in use, as a workbook supervisors can edit and load back with --rubric."""

from __future__ import annotations

from openpyxl.utils import get_column_letter

from ducha.scoring.rubric import HEADER, RUBRIC_SHEET, Rubric, rubric_rows
from ducha.sheets.outputplan import GeneratedSheet, Style, auto_row_heights

RUBRIC_WIDTHS = [8, 8, 14, 30, 10, 10, 10, 10, 30, 12, 12, 40]
RUBRIC_HEADER_ROW = 5  # rubric_rows: name, version, description, a blank row, then the header


def rubric_sheet(rubric: Rubric) -> GeneratedSheet:
    """The rubric's rows with the header in bold and frozen above the rules."""
    last = len(HEADER)
    end = get_column_letter(last)
    sheet = GeneratedSheet(name=RUBRIC_SHEET, rows=rubric_rows(rubric), column_widths=RUBRIC_WIDTHS[:last],
                           styles=[(f"A{RUBRIC_HEADER_ROW}:{end}{RUBRIC_HEADER_ROW}", Style.HEADER),
                                   ("A1:A3", Style.HEADER)],
                           merges=[f"B{row}:{end}{row}" for row in range(1, RUBRIC_HEADER_ROW - 1)],
                           freeze=f"A{RUBRIC_HEADER_ROW + 1}", tab_color="1F4E78")
    sheet.row_heights = auto_row_heights(sheet)
    return sheet
