"""The 「跟进清单」 sheet and the follow-up marks on input rows, in the one visual language of marks: a follow-up is
a household, village or county figure to act on (its whole row, with a marker on the row's first cell), never a
cell to correct; each carries a follow-up level, not a data-entry severity. Reason codes are for machines: kept in
a hidden column, the clerk reads the reasons."""

from __future__ import annotations

from openpyxl.utils import get_column_letter

from ducha.model.records import InspectionData
from ducha.model.schema import FOLLOW_UP_SHEET, SCORE_SHEET, SHEETS_BY_KEY
from ducha.scoring.followup import FOLLOW_UP_LEVEL_TEXT, Flag
from ducha.scoring.indicators import SPECS
from ducha.sheets.outputplan import GeneratedSheet, Link, Mark, Style
from ducha.sheets.template import form_headers
from ducha.sheets.toolkit import SheetBuilder

HEADERS = ["序号", "对象", "跟进级别", "乡镇", "村", "户主", "身份证号", "问题", "原因说明", "建议措施", "来源",
           "原因代码"]
WIDTHS = [6, 6, 10, 10, 10, 9, 21, 24, 44, 36, 20, 16]
SOURCE_HEADER, CODE_COLUMN = "来源", get_column_letter(len(HEADERS))
LEVEL_STYLE = {"重点跟进": Style.FOLLOW_UP_MARKER, "一般跟进": Style.FOLLOW_UP, "补充资料": Style.INFO}


def sheet_name(data: InspectionData, key: str) -> str:
    return data.sheet_names.get(key) or SHEETS_BY_KEY[key].name


def flag_source(data: InspectionData, f: Flag, score_rows: dict[str, int]) -> tuple[str, Link | None]:
    """Where a flag comes from: its text and a link to the 评分 row of its indicator or to its input row/cell."""
    if f.sheet == "score":
        row = score_rows.get(f.indicator or "")
        text = f"评分 {SPECS[f.indicator].name}" if f.indicator else "评分"
        return text, Link("", SCORE_SHEET, f"E{row}") if row else None
    sheet = sheet_name(data, f.sheet)
    target = f"A{f.row}" if f.row else f.cell
    return f"{sheet} {f'第 {f.row} 行' if f.row else f.cell}", Link("", sheet, target) if target else None


def follow_up_sheet(data: InspectionData, flags: list[Flag], county: str, month: str,
                    score_rows: dict[str, int]) -> GeneratedSheet:
    """One row per flag: who, its follow-up level, the problem, why, what to do and where it comes from (linked to
    the 评分 row of its indicator, `score_rows`, or to its input row)."""
    s = SheetBuilder(FOLLOW_UP_SHEET, WIDTHS, full_width=True)
    s.banner(f"跟进清单：{county} {month}，共 {len(flags)} 条", Style.TITLE)
    s.legend()
    s.banner(FOLLOW_UP_LEVEL_TEXT, Style.NOTE)
    header = s.add(HEADERS, Style.HEADER)
    source = get_column_letter(HEADERS.index(SOURCE_HEADER) + 1)
    for n, f in enumerate(flags, start=1):
        text, link = flag_source(data, f, score_rows)
        row = s.add([n, f.level, f.follow_up_level, f.township, f.village, f.household, f.masked_id, f.problem,
                     "；".join(r.text for r in f.reasons), f.action, text,
                     "、".join(dict.fromkeys(r.code for r in f.reasons))])
        s.style(f"C{row}", LEVEL_STYLE[f.follow_up_level])
        if link is not None:
            s.link(f"{source}{row}", link.sheet, link.target)
    return s.build(freeze=f"A{header + 1}", auto_filter=f"A{header}:{s.last}{max(len(s.rows), header)}", position=1,
                   print_title_rows=f"{header}:{header}", hidden_columns=[CODE_COLUMN])


def _row_end(data: InspectionData, key: str) -> str:
    """The last column letter of a row of an input sheet: a table's last field, a form's 填写说明 column."""
    letters = data.column_letters.get(key) or {}
    if letters:
        return max(letters.values(), key=lambda c: (len(c), c))
    sheet = SHEETS_BY_KEY[key]
    return get_column_letter(len(form_headers(sheet)) if key == "county" else len(sheet.fields))


def follow_up_marks(data: InspectionData, flags: list[Flag]) -> list[Mark]:
    """One follow-up mark per flagged household, village or county figure: its whole row, with a note."""
    marks = []
    for f in flags:
        if f.sheet in ("households", "villages") and f.row:
            row = f.row
        elif f.sheet == "county" and f.cell:
            row = int("".join(ch for ch in f.cell if ch.isdigit()))
        else:
            continue
        note = (f"【{f.follow_up_level}】督查发现：{f.problem}。原因：{'；'.join(r.text for r in f.reasons)}。"
                f"建议：{f.action}")
        marks.append(Mark(sheet=sheet_name(data, f.sheet), cell=f"A{row}:{_row_end(data, f.sheet)}{row}",
                          severity=f.severity, note=note, follow_up=True))
    return marks
