"""What a clerk sees: one visual language of marks, every listed finding marked, rows that read straight across, text
that fits its cell, no English codes, and every generated workbook drawn by LibreOffice without a blank page."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.worksheet.worksheet import Worksheet

from ducha.app.cli import main
from ducha.model.schema import CHECK_RESULTS_SHEET, FOLLOW_UP_SHEET, GENERATED_SHEETS
from ducha.sheets.outputplan import LINE_HEIGHT, MARK_LOOKS, MARK_PREFIX, MarkKind, text_width
from ducha.sheets.template import TEMPLATE_FILE_NAME
from libreoffice import convert_each, is_blank, page_pngs

TEMPLATE = Path(__file__).resolve().parents[1] / "workbook_templates" / TEMPLATE_FILE_NAME
DEFAULT_WIDTH = 8.43  # Excel's width of a column without its own
CODE_TEXT = re.compile(r"\b[a-z]+(?:[-_][a-z]+)+\b")  # id-check-digit, industry_households


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every kind of workbook ducha generates, from the demo county: name -> path."""
    folder = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(folder)]) == 0
    workbook = folder / "清水县-2019-11-督查工作簿.xlsx"
    assert main(["check", str(workbook), "--out", str(folder / "检查.xlsx")]) == 0 or (folder / "检查.xlsx").exists()
    assert main(["rubric", "--out", str(folder / "评分细则.xlsx")]) == 0
    return {"template": TEMPLATE, "check": folder / "检查.xlsx", "run": folder / "清水县-2019-11-督查工作簿.结果.xlsx",
            "report": folder / "督查评分汇总-2019-11.xlsx", "ledger": folder / "问题台账.xlsx",
            "receipt": next((folder / "督查档案" / "回执").glob("*.xlsx")),
            "sample": folder / "清水县-2019-12-督查工作簿.xlsx", "rubric": folder / "评分细则.xlsx"}


def generated_sheets(name: str, book: openpyxl.Workbook) -> list[Worksheet]:
    """The sheets ducha drew: of a result workbook its generated sheets, of every other workbook all of them."""
    if name in ("check", "run"):
        return [ws for ws in book.worksheets if ws.title in GENERATED_SHEETS]
    return list(book.worksheets)


# --- the one visual language -------------------------------------------------------------------------------------

def _rules(ws: Worksheet) -> dict[str, tuple[list[str], str, str, bool]]:
    """ducha's mark rules of a sheet: kind -> (ranges, fill, font colour, bold)."""
    found = {}
    for area in ws.conditional_formatting:
        for rule in area.rules:
            kind = _kind(rule.formula)
            if kind:
                dxf = rule.dxf
                found[kind] = (str(area.sqref).split(), dxf.fill.fgColor.rgb[-6:], dxf.font.color.rgb[-6:],
                               bool(dxf.font.b))
    return found


def _kind(formula: list[str] | None) -> str:
    """The kind of mark a ducha rule's formula names ("" for a rule that is not ducha's)."""
    text = "".join(formula or [])
    return text.split(MARK_PREFIX)[1].split('"')[0] if MARK_PREFIX in text else ""


def test_follow_up_rows_and_data_entry_cells_have_different_looks(outputs):
    book = openpyxl.load_workbook(outputs["run"])
    rules = _rules(book["农户调查"])
    for kind in (MarkKind.ERROR, MarkKind.WARNING, MarkKind.FOLLOW_UP, MarkKind.FOLLOW_UP_MARKER):
        look = MARK_LOOKS[kind]
        assert rules[kind.value][1:] == (look.fill, look.font, look.bold), kind
    error_cells, follow_up_rows = rules["error"][0], rules["follow_up"][0]
    assert all(":" not in ref for ref in error_cells)  # an error is one cell
    assert all(re.fullmatch(r"A(\d+):AW\1", ref) for ref in follow_up_rows)  # a follow-up is the whole row
    assert sorted(rules["follow_up_marker"][0]) == sorted(ref.split(":")[0] for ref in follow_up_rows)
    fills = {rules[k][1] for k in ("error", "warning", "follow_up", "follow_up_marker")}
    assert len(fills) == 4
    priorities = {_kind(r.formula): r.priority for area in book["农户调查"].conditional_formatting for r in area.rules}
    assert priorities["error"] < priorities["follow_up"]  # an error shows inside a follow-up row


def test_check_results_and_follow_up_list_carry_the_legend_and_a_follow_up_level(outputs):
    book = openpyxl.load_workbook(outputs["run"])
    for name in (CHECK_RESULTS_SHEET, FOLLOW_UP_SHEET):
        ws = book[name]
        legend = {ws.cell(r, 2).value: ws.cell(r, 2).fill.fgColor.rgb[-6:] for r in range(1, 12)
                  if ws.cell(r, 2).value in {look.name for look in MARK_LOOKS.values()}}
        assert legend == {MARK_LOOKS[k].name: MARK_LOOKS[k].fill for k in
                          (MarkKind.ERROR, MarkKind.WARNING, MarkKind.INFO, MarkKind.FOLLOW_UP_MARKER)}, name
    ws = book[FOLLOW_UP_SHEET]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "序号")
    assert "跟进级别" in header and "严重程度" not in header
    levels = {row[header.index("跟进级别")] for row in ws.iter_rows(values_only=True) if isinstance(row[0], int)}
    assert levels <= {"重点跟进", "一般跟进", "补充资料"} and "重点跟进" in levels


def test_every_finding_listed_in_check_results_is_marked_with_a_note(outputs):
    book = openpyxl.load_workbook(outputs["run"])
    ws = book[CHECK_RESULTS_SHEET]
    rows = list(ws.iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[:2] == ("序号", "严重程度"))
    findings = [(r[2], r[3], r[1]) for r in rows[header + 1:] if r[2] and r[3]]
    assert ("县级核查", "C15", "警告") in findings
    for sheet, cell, severity in findings:
        kind = {"错误": "error", "警告": "warning", "提示": "info"}[severity]
        ranges = _rules(book[sheet])[kind][0]
        assert any(_inside(cell, ref) for ref in ranges), (sheet, cell)
        assert book[sheet][cell].comment is not None and book[sheet][cell].comment.author == "ducha", (sheet, cell)


def _inside(cell: str, ref: str) -> bool:
    c1, r1, c2, r2 = range_boundaries(ref)
    col, row = range_boundaries(cell)[:2]
    return c1 <= col <= c2 and r1 <= row <= r2


# --- what a clerk reads ------------------------------------------------------------------------------------------

def _hidden(ws: Worksheet) -> set[int]:
    return {column_index_from_string(k) for k, d in ws.column_dimensions.items() if d.hidden}


def test_no_english_codes_in_front_of_a_clerk(outputs):
    book = openpyxl.load_workbook(outputs["run"])
    for name in (CHECK_RESULTS_SHEET, FOLLOW_UP_SHEET):
        ws = book[name]
        shown = [c.value for row in ws.iter_rows() for c in row
                 if isinstance(c.value, str) and c.column not in _hidden(ws)]
        assert not [v for v in shown if CODE_TEXT.search(v)], name
    codes = [c.value for row in book[CHECK_RESULTS_SHEET].iter_rows() for c in row
             if c.column in _hidden(book[CHECK_RESULTS_SHEET]) and isinstance(c.value, str)]
    assert "id-check-digit" in codes  # kept for machines, in the hidden column


@pytest.mark.parametrize("name", ["check", "run", "ledger", "receipt", "report", "rubric"])
def test_every_generated_table_is_top_aligned_and_wrapped(outputs, name):
    book = openpyxl.load_workbook(outputs[name])
    for ws in generated_sheets(name, book):
        wrong = [c.coordinate for row in ws.iter_rows() for c in row
                 if c.value not in (None, "") and (c.alignment.vertical != "top" or not c.alignment.wrap_text)]
        assert not wrong, (ws.title, wrong[:5])


def _shown(value: object, number_format: str) -> str:
    """The text a cell shows, near enough to measure it."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (dt.date, dt.datetime)):
        return "2019-11-30"
    if isinstance(value, float):
        if "%" in number_format:
            return f"{value:.1%}"
        decimals = number_format.split(".")[1].count("0") if "." in number_format else None
        return f"{value:.{decimals}f}" if decimals is not None else f"{value:.10g}"
    return str(value)


def fit_problems(ws: Worksheet) -> list[str]:
    """Cells whose text cannot fit their column width × row height: a CJK character is 2 width units, any other 1;
    wrapped text takes ceil(width / (column width − 1)) lines of LINE_HEIGHT points (a bigger font: wider and
    taller); unwrapped text must fit its width unless the cell to its right is empty (it runs on there)."""
    spans: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    under: set[tuple[int, int]] = set()
    for merged in ws.merged_cells.ranges:
        c1, r1, c2, r2 = merged.bounds
        spans[(r1, c1)] = (c1, r1, c2, r2)
        under |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)} - {(r1, c1)}
    hidden = _hidden(ws)

    def width(c: int) -> float:
        d = ws.column_dimensions.get(get_column_letter(c))
        return d.width if d is not None and d.customWidth and d.width else DEFAULT_WIDTH

    def height(r: int) -> float:
        d = ws.row_dimensions.get(r)
        return d.height if d is not None and d.height else LINE_HEIGHT

    problems = []
    for row in ws.iter_rows():
        for cell in row:
            if cell.value in (None, "") or (cell.row, cell.column) in under or cell.column in hidden:
                continue
            c1, r1, c2, r2 = spans.get((cell.row, cell.column), (cell.column, cell.row, cell.column, cell.row))
            room_w = sum(width(c) for c in range(c1, c2 + 1))
            room_h = sum(height(r) for r in range(r1, r2 + 1))
            scale = (cell.font.size or 11) / 11
            text = _shown(cell.value, cell.number_format)
            if cell.alignment.wrap_text and isinstance(cell.value, str):
                lines = sum(max(1, math.ceil(text_width(part) * scale / max(room_w - 1, 1)))
                            for part in text.split("\n"))
                if lines * LINE_HEIGHT * max(scale, 1) > room_h + 0.5:
                    problems.append(f"{ws.title}!{cell.coordinate} needs {lines} lines in {room_h:g} pt")
            elif text_width(text) * scale > room_w - 1 and (isinstance(cell.value, (int, float)) or
                                                           ws.cell(cell.row, c2 + 1).value not in (None, "")):
                problems.append(f"{ws.title}!{cell.coordinate} is {text_width(text)} wide in {room_w:g}")
    return problems


@pytest.mark.parametrize("name", ["template", "check", "run", "ledger", "receipt", "report", "sample", "rubric"])
def test_every_generated_cell_shows_its_whole_text(outputs, name):
    book = openpyxl.load_workbook(outputs[name], data_only=True)
    problems = [p for ws in generated_sheets(name, book) for p in fit_problems(ws)]
    assert not problems, problems[:10]


def test_the_fit_check_flags_a_cell_that_overprints(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws["A1"] = "很长的说明文字" * 10
    ws["A1"].alignment = openpyxl.styles.Alignment(wrap_text=True)
    ws.column_dimensions["A"].width = 20
    ws["A2"], ws["B2"] = "台账编号 TZ-2019-11-0001", "下一格"
    ws.row_dimensions[1].height = 30
    assert [p.split(" ")[0] for p in fit_problems(ws)] == ["Sheet!A1", "Sheet!A2"]
    ws.row_dimensions[1].height = 8 * LINE_HEIGHT
    ws.column_dimensions["A"].width = 30
    assert fit_problems(ws) == []


# --- pictures ----------------------------------------------------------------------------------------------------

def test_every_generated_workbook_renders_without_a_blank_page(outputs, tmp_path):
    names = list(outputs)
    copies = []
    for name in names:  # distinct stems, so one LibreOffice run converts them all
        copy = tmp_path / f"{name}.xlsx"
        copy.write_bytes(outputs[name].read_bytes())
        copies.append(copy)
    for name, pdf in zip(names, convert_each(copies, "pdf", tmp_path / "pdf"), strict=True):
        pages = page_pngs(pdf, tmp_path / "pdf" / name)
        assert pages, name
        assert not [p.name for p in pages if is_blank(p, margin=0.075, share=0.0001)], name
