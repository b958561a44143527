"""The live adapter and the ribbon entry point, through xlwings' remote engine (the real Book/Sheet/Range code).

Each test builds a real .xlsx, turns it into the request an Excel client sends, runs a command with
`ducha.excel.run_on_book` and checks the actions xlwings returns, replaying them with a simulated client.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ducha import __version__
from ducha.adapters import live
from ducha.adapters.live import (
    LONG_RUN,
    NOTE_LIMIT,
    MarkRecord,
    constant_text,
    mark_rules,
    parse_rect,
    read_book,
    rect_address,
    rectangles,
    text_constant,
    union_chunks,
)
from ducha.app import excel
from ducha.app.commands import COMMANDS, TABLE, check_output
from ducha.checks.pipeline import check_parsed, run_check
from ducha.model.findings import Severity
from ducha.model.schema import CHECK_RESULTS_SHEET, GENERATED_SHEETS, HOUSEHOLDS, INPUT_SHEETS
from ducha.reading.raw import read_raw_workbook
from ducha.reading.workbook import parse_workbook
from ducha.scoring.rubric import DEFAULT_RUBRIC
from ducha.sheets.outputplan import FILLS, MARK_LOOKS, MARK_PRECEDENCE, SEVERITY_STYLE, Mark, MarkKind, OutputPlan
from ducha.sheets.score_sheet import share_style
from live_payload import (  # sets XLWINGS_LICENSE_KEY and makes sure xlwings' remote engine is there
    Client,
    Rule,
    absolute,
    cell,
    inspection_sheets,
    payload_from_xlsx,
    sheet_payload,
    xw,
)
from markdown_workbook import set_cell, set_form, valid_sheets, write_workbook

INPUT_NAMES = {s.name for s in INPUT_SHEETS if s.name in valid_sheets()}  # the sheets the test workbooks have


def fill(severity: Severity) -> str:
    return "#" + FILLS[SEVERITY_STYLE[severity]].lower()


@pytest.fixture
def problem_workbook(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A filled workbook with two errors, a warning, a follow-up flag and a real date cell; returns it and the
    planted cells."""
    sheets = valid_sheets()
    planted = {
        "size": set_cell(sheets, HOUSEHOLDS.name, "家庭人口", 3, "四口"),
        "name": set_cell(sheets, HOUSEHOLDS.name, "户主姓名", 7, None),
        "ordinary": set_cell(sheets, HOUSEHOLDS.name, "识别标准", 12, "国家"),
        "id": set_cell(sheets, HOUSEHOLDS.name, "身份证号", 4, "522631197001010011"),
        "unrecognised": set_cell(sheets, HOUSEHOLDS.name, "群众认可", 2, "不认可"),  # a follow-up flag
    }
    set_form(sheets, "基本信息", "督查开始日期", dt.date(2019, 11, 5))
    return write_workbook(tmp_path / "清水县-2019-11 督查.xlsx", sheets), planted


def run(client: Client, command: str) -> tuple[str, list[Any]]:
    """Run a command on the client's current workbook and apply the returned actions."""
    book = client.book()
    message = excel.run_on_book(book, command)
    return message, client.apply(book.json()["actions"])


def expected_marks(path: Path) -> dict[tuple[str, tuple[int, int]], Severity]:
    return {(m.sheet, cell(m.cell)): m.severity for m in check_output(run_check(path)).marks}


# --- check ---------------------------------------------------------------------------------------------------


def test_check_adds_the_result_sheet_written_as_one_block(problem_workbook):
    path, _ = problem_workbook
    client = Client(payload_from_xlsx(path))
    message, applied = run(client, "check")
    plan_rows = check_output(run_check(path)).sheets[0].rows
    assert [a.action["args"][1] for a in applied if a.func == "addSheet"] == [CHECK_RESULTS_SHEET]
    writes = [a for a in applied if a.func == "setValues"]
    assert [(a.sheet, a.action["row_count"], a.action["start_row"]) for a in writes] == [
        (CHECK_RESULTS_SHEET, len(plan_rows), 0)]
    assert client.sheet_names()[0] == CHECK_RESULTS_SHEET
    assert "发现错误" in message
    assert client.alerts == [message]


def test_no_action_writes_values_into_an_input_sheet(problem_workbook):
    path, _ = problem_workbook
    client = Client(payload_from_xlsx(path))
    before = {name: client.sheet(name)["values"] for name in INPUT_NAMES if name in client.sheet_names()}
    _, applied = run(client, "check")
    writes = [a for a in applied if a.func in ("setValues", "setFormula", "rangeClearContents", "rangeClear",
                                                "sheetClear", "sheetClearContents", "replaceAll")]
    assert writes and all(a.sheet in GENERATED_SHEETS for a in writes)
    assert all(client.sheet(name)["values"] == values for name, values in before.items())


def test_problem_cells_are_highlighted_exactly_with_their_severity(problem_workbook):
    path, planted = problem_workbook
    client = Client(payload_from_xlsx(path))
    run(client, "check")
    expected = expected_marks(path)
    assert (HOUSEHOLDS.name, cell(planted["size"])) in expected
    assert expected[(HOUSEHOLDS.name, cell(planted["ordinary"]))] is Severity.WARNING
    for sheet in INPUT_NAMES:
        wanted = {c: fill(sev) for (s, c), sev in expected.items() if s == sheet}
        assert client.highlighted(sheet) == wanted, sheet


def test_problem_cells_get_notes_with_the_message(problem_workbook):
    path, planted = problem_workbook
    client = Client(payload_from_xlsx(path))
    run(client, "check")
    marks = [m for m in check_output(run_check(path)).marks if m.sheet == HOUSEHOLDS.name and m.note]
    assert {absolute(planted["size"]), absolute(planted["name"])} <= {absolute(m.cell) for m in marks}
    assert client.notes(HOUSEHOLDS.name) == {absolute(m.cell) for m in marks}
    assert "整数" in client.note_texts[(HOUSEHOLDS.name, absolute(planted["size"]))]


def test_the_result_sheet_links_to_cells_and_keeps_text_as_text(problem_workbook):
    path, planted = problem_workbook
    client = Client(payload_from_xlsx(path))
    run(client, "check")
    grid = client.sheet(CHECK_RESULTS_SHEET)["values"]
    links = [v for row in grid for v in row if isinstance(v, str) and v.startswith("=HYPERLINK(")]
    assert f'=HYPERLINK("#\'{HOUSEHOLDS.name}\'!{planted["size"]}","{planted["size"]}")' in links
    ratios = [row[3] for row in grid[4:] if len(row) > 3 and isinstance(row[3], str) and "/" in row[3]
              and row[3] != "已填/应填"]
    assert ratios and all(r.startswith("'") for r in ratios)  # 已填/应填 such as 30/30 must not become a date


def test_reading_the_open_workbook_gives_the_same_findings_as_the_file(problem_workbook):
    path, _ = problem_workbook
    book = Client(payload_from_xlsx(path)).book()
    live_result = check_parsed(path, parse_workbook(read_book(book)))
    file_result = run_check(path)

    def key(result):
        return Counter((f.code, f.sheet, f.cell, f.severity) for f in result.findings)

    assert key(live_result) == key(file_result)
    assert live_result.errors == file_result.errors > 0


def test_read_book_gives_calamine_grids_for_the_input_sheets(problem_workbook):
    path, _ = problem_workbook
    raw_live = read_book(Client(payload_from_xlsx(path)).book())
    raw_file = read_raw_workbook(path)
    assert list(raw_live.sheets) == list(raw_file.sheets)
    for name in INPUT_NAMES & set(raw_file.sheets):
        assert raw_live.sheets[name] == raw_file.sheets[name], name
    assert dt.date(2019, 11, 5) in raw_live.sheets["基本信息"][7]
    assert raw_live.path.name == path.name


def test_read_book_pads_a_used_range_that_does_not_start_at_a1():
    payload = {"client": "Office.js", "version": xw.__version__, "names": [],
               "book": {"name": "工作簿1", "active_sheet_index": 0, "selection": "A1"},
               "sheets": [sheet_payload("农户调查", [["", "", ""], ["", "户主姓名", 3], ["", "", ""]])]}
    payload["sheets"][0]["used_range_address"] = "B2:C2"
    raw = read_book(Client(payload).book())
    assert raw.sheets["农户调查"] == [["", "", ""], ["", "户主姓名", 3.0]]


# --- clear and repeated runs -----------------------------------------------------------------------------------


def test_clear_removes_the_sheet_and_exactly_the_previous_marks(problem_workbook):
    path, planted = problem_workbook
    client = Client(payload_from_xlsx(path))
    client.add_note(HOUSEHOLDS.name, "B3", "村里说这户已搬迁")  # the clerk's own note, not a problem cell
    client.add_note(HOUSEHOLDS.name, planted["name"], "户主外出，待补")  # the clerk's note on a problem cell
    before = {name: client.sheet(name)["values"] for name in INPUT_NAMES}
    message, check = run(client, "check")
    added_rules = [(a.sheet, a.action["start_row"], a.action["start_column"], a.action["row_count"],
                    a.action["column_count"]) for a in check if a.func == "addConditionalFormat"]
    added_notes = {(a.sheet, a.action["args"][0]) for a in check if a.func == "addNote"}
    assert (HOUSEHOLDS.name, absolute(planted["name"])) not in added_notes
    assert "已有他人批注" in message

    message, cleared = run(client, "clear")
    assert CHECK_RESULTS_SHEET not in client.sheet_names()
    assert [(a.sheet, a.action["start_row"], a.action["start_column"], a.action["row_count"],
             a.action["column_count"]) for a in cleared if a.func == "clearConditionalFormats"] == added_rules
    assert {(a.sheet, a.action["args"][0]) for a in cleared if a.func == "deleteNote"} == added_notes
    assert not [a for a in cleared if a.func in ("setValues", "setRangeColor", "setRangeColors", "addNote")]
    assert all(not client.highlighted(name) for name in INPUT_NAMES)
    assert client.notes(HOUSEHOLDS.name) == {"$B$3", absolute(planted["name"])}
    assert client.payload["names"] == []
    assert all(client.sheet(name)["values"] == values for name, values in before.items())
    assert "已清除" in message


def test_clear_keeps_other_conditional_formats_outside_ducha_ranges(problem_workbook):
    path, _ = problem_workbook
    client = Client(payload_from_xlsx(path))
    client.rules[HOUSEHOLDS.name] = [Rule({(40, 1)}, "=A40>0", "#00ff00")]  # the clerk's own rule
    run(client, "check")
    run(client, "clear")
    assert [r.formula for r in client.rules[HOUSEHOLDS.name]] == ["=A40>0"]


def test_running_check_twice_is_the_same_as_running_it_once(problem_workbook):
    path, _ = problem_workbook
    once = Client(payload_from_xlsx(path))
    run(once, "check")
    twice = Client(payload_from_xlsx(path))
    run(twice, "check")
    _, second = run(twice, "check")
    assert [a.action["args"] for a in second if a.func == "sheetDelete" or a.func == "addSheet"] == [
        [None], [0, CHECK_RESULTS_SHEET]]
    assert twice.sheet_names() == once.sheet_names()
    assert twice.sheet(CHECK_RESULTS_SHEET)["values"] == once.sheet(CHECK_RESULTS_SHEET)["values"]
    for name in INPUT_NAMES:
        assert twice.highlighted(name) == once.highlighted(name)
        assert twice.notes(name) == once.notes(name)
    assert twice.payload["names"] == once.payload["names"]


def test_fixing_a_problem_removes_its_mark_on_the_next_check(problem_workbook):
    path, planted = problem_workbook
    client = Client(payload_from_xlsx(path))
    run(client, "check")
    r, c = cell(planted["size"])
    client.sheet(HOUSEHOLDS.name)["values"][r - 1][c - 1] = 4
    run(client, "check")
    assert (r, c) not in client.highlighted(HOUSEHOLDS.name)
    assert absolute(planted["size"]) not in client.notes(HOUSEHOLDS.name)
    assert cell(planted["name"]) in client.highlighted(HOUSEHOLDS.name)


# --- messages, errors, engines ---------------------------------------------------------------------------------


def test_a_workbook_without_input_sheets_gets_a_chinese_summary(tmp_path):
    path = write_workbook(tmp_path / "空.xlsx", {"Sheet1": [["随便写的"]]})
    client = Client(payload_from_xlsx(path))
    message, applied = run(client, "check")
    assert "发现错误" in message
    assert client.sheet_names() == [CHECK_RESULTS_SHEET, "Sheet1"]
    assert not [a for a in applied if a.func == "setValues" and a.sheet == "Sheet1"]


def test_an_internal_error_is_logged_and_shown_in_chinese_without_raising(problem_workbook, monkeypatch, caplog):
    path, _ = problem_workbook

    def broken(_path, _parsed):
        raise RuntimeError("boom")

    monkeypatch.setitem(COMMANDS, "check", broken)
    client = Client(payload_from_xlsx(path))
    with caplog.at_level(logging.ERROR, logger="ducha"):
        message, _ = run(client, "check")
    assert "出错" in message and "日志" in message and str(excel.log_path()) in message
    assert client.alerts == [message]
    assert any("boom" in (r.exc_text or "") or (r.exc_info and "boom" in str(r.exc_info[1])) for r in caplog.records)


def test_a_broken_request_does_not_raise(problem_workbook):
    path, _ = problem_workbook
    payload = payload_from_xlsx(path)
    del payload["names"]
    client = Client(payload)
    message, _ = run(client, "check")
    assert "出错" in message


def test_an_unknown_command_gives_a_chinese_alert_and_changes_nothing(problem_workbook):
    path, _ = problem_workbook
    client = Client(payload_from_xlsx(path))
    message, applied = run(client, "frobnicate")
    assert "不认识" in message and "frobnicate" in message
    assert [a.func for a in applied] == ["alert"]


def test_every_ribbon_button_has_a_command_and_a_newer_addin_button_says_it_is_not_provided(monkeypatch):
    from ducha.app import addin as addin_tools
    from ducha.app.addin import BUTTONS, RibbonButton

    actions = {c.name for c in TABLE if c.action is not None}
    assert [b.id for b in BUTTONS if b.id not in COMMANDS and b.id not in actions] == []
    newer = RibbonButton("letters", "督办函", "FileSave", "grpPrefecture", "生成整改督办函。")
    monkeypatch.setattr(addin_tools, "BUTTONS", (*BUTTONS, newer))
    assert "「督办函」" in excel.unknown_command("letters") and "尚未提供" in excel.unknown_command("letters")


def test_about_names_version_python_and_log(problem_workbook):
    path, _ = problem_workbook
    client = Client(payload_from_xlsx(path))
    message, applied = run(client, "about")
    assert __version__ in message and sys.executable in message and str(excel.log_path()) in message
    assert [a.func for a in applied] == ["alert"]


def test_run_outside_excel_does_not_raise(monkeypatch):
    shown = []
    monkeypatch.setattr(excel, "_show_without_book", shown.append)
    assert excel.run("check") is None
    assert shown and "找不到" in shown[0]


def test_a_client_without_notes_still_gets_highlights_and_is_told(problem_workbook):
    path, planted = problem_workbook
    client = Client(payload_from_xlsx(path, notes=False))
    message, applied = run(client, "check")
    assert not [a for a in applied if a.func == "addNote"]
    assert cell(planted["size"]) in client.highlighted(HOUSEHOLDS.name)
    assert "不支持" in message


def test_notes_stop_at_the_limit(tmp_path):
    path = write_workbook(tmp_path / "大.xlsx", inspection_sheets(40))
    client = Client(payload_from_xlsx(path))
    message, applied = run(client, "check")
    assert sum(a.func == "addNote" for a in applied) == NOTE_LIMIT
    assert f"前 {NOTE_LIMIT} 个" in message
    assert len(client.highlighted(HOUSEHOLDS.name)) == len(check_output(run_check(path)).marks)


def test_action_count_does_not_grow_with_households(tmp_path):
    counts = []
    for villages in (3, 60):
        path = write_workbook(tmp_path / f"{villages}.xlsx", inspection_sheets(villages))
        book = Client(payload_from_xlsx(path)).book()
        excel.run_on_book(book, "check")
        counts.append(len(book.json()["actions"]))
    assert counts[1] <= 2 * counts[0], counts


def test_book_path_handles_unsaved_books_and_onedrive_urls():
    class Book:
        def __init__(self, fullname: str, name: str) -> None:
            self.fullname, self.name = fullname, name

    assert live.book_path(Book("工作簿1", "工作簿1")) == Path("工作簿1")
    assert live.book_path(Book("https://d.docs.live.net/abc/督查/%E6%B8%85%E6%B0%B4%E5%8E%BF.xlsx", "清水县.xlsx")) \
        == Path("清水县.xlsx")


# --- pure helpers ----------------------------------------------------------------------------------------------

cells_strategy = st.sets(st.tuples(st.integers(1, 120), st.integers(1, 12)), max_size=300)


@given(cells_strategy)
def test_rectangles_cover_exactly_the_cells(cells):
    covered = [c for rect in rectangles(cells) for c in live.cells_of(rect)]
    assert sorted(covered) == sorted(cells)


@given(cells_strategy)
def test_mark_rules_cover_exactly_the_cells(cells):
    covered = [c for rule in mark_rules(cells) for c in rule.cells()]
    assert sorted(covered) == sorted(cells)
    assert all(len(rule.formula(Severity.ERROR)) <= live.FORMULA_LIMIT for rule in mark_rules(cells))


def test_mark_rules_depend_on_columns_not_rows():
    rows = range(2, 4502, 15)
    assert len(mark_rules({(r, 7) for r in rows})) == len(mark_rules({(r, 7) for r in rows[:3]})) == 1
    assert len(mark_rules({(r, 7) for r in range(2, 2 + LONG_RUN)} | {(200, 7), (300, 7)})) == 2
    assert mark_rules({(5, 1), (5, 2), (5, 3), (9, 1), (9, 2), (9, 3)})[0].rows == (5, 9)


def test_mark_rule_formulas_carry_the_file_adapters_marker():
    from ducha.adapters.xlsx_writer import MARK_FORMULA

    whole, listed = mark_rules({(3, 2)})[0], mark_rules({(3, 2), (8, 2)})[0]
    assert whole.formula(MarkKind.WARNING) == "=" + MARK_FORMULA.format(kind="warning")
    assert listed.formula(MarkKind.ERROR) == '=ISNUMBER(FIND("|"&ROW()&"|","ducha:error|3|8|"))'


@given(st.text(max_size=1200))
def test_text_constants_round_trip(text):
    formula = text_constant(text)
    assert constant_text(formula) == text
    assert all(len(piece) <= live.LITERAL_LIMIT + 2 for piece in formula.split("&") if piece.startswith('"'))


def test_union_chunks_stay_within_excels_address_limit():
    rects = [(r, 2, r, 2) for r in range(1, 5000, 3)]
    chunks = union_chunks(rects)
    assert all(len(chunk) <= 255 for chunk in chunks)
    assert ",".join(chunks).split(",") == [rect_address(r) for r in rects]


def test_mark_record_round_trips_and_ignores_foreign_text():
    record = MarkRecord(rules={"农户调查": ["D9", "G5:G40"], "it's 表": ["A1"]}, notes={"基本信息": ["B8"]})
    decoded = MarkRecord.decode(record.encode())
    assert decoded.rules["农户调查"] == ["D9", "G5:G40"] and decoded.notes == {"基本信息": ["B8"]}
    assert not MarkRecord.decode("something else")
    assert len(MarkRecord(notes={"农户调查": [f"A{r}" for r in range(1, 5000)]}).encode()) <= live.RECORD_LIMIT


def test_parse_rect_and_rect_address_agree():
    assert parse_rect("B2:D5") == (2, 2, 5, 4)
    assert rect_address(parse_rect("AA10")) == "AA10"
    assert rect_address(parse_rect("$B$2:$D$5")) == "B2:D5"


def test_a_refused_long_highlight_formula_is_added_in_halves(problem_workbook, monkeypatch):
    from xlwings.pro import _xlremote

    original = _xlremote.ConditionalFormats.add_custom

    def picky(self, spec):
        if len(spec["formula"]) > 40:
            raise RuntimeError("formula too long")
        return original(self, spec)

    monkeypatch.setattr(_xlremote.ConditionalFormats, "add_custom", picky)
    cells = {(r, 7) for r in range(2, 200, 15)}
    client = Client(payload_from_xlsx(problem_workbook[0]))
    book = client.book()
    plan = OutputPlan(marks=[Mark(HOUSEHOLDS.name, rect_address((r, c, r, c)), Severity.ERROR) for r, c in cells])
    live.apply_plan_live(book, plan)
    client.apply(book.json()["actions"])
    assert set(client.highlighted(HOUSEHOLDS.name)) == cells
    assert all(len(r.formula) <= 40 for r in client.rules[HOUSEHOLDS.name])


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "clear"])
def test_live_and_file_adapters_agree_on_sheets_highlights_and_notes(problem_workbook, tmp_path, command):
    from openpyxl import load_workbook

    from ducha.adapters.xlsx_writer import apply_plan

    path, _ = problem_workbook
    client = Client(payload_from_xlsx(path))
    run(client, command)
    parsed = parse_workbook(read_raw_workbook(path))
    written = load_workbook(apply_plan(path, COMMANDS[command](path, parsed).plan, tmp_path / "out.xlsx"))
    assert client.sheet_names() == written.sheetnames
    rank = {"#" + MARK_LOOKS[kind].fill.lower(): n for n, kind in enumerate(reversed(MARK_PRECEDENCE))}
    for name in INPUT_NAMES:
        ws = written[name]
        on_file: dict[tuple[int, int], str] = {}
        for area in ws.conditional_formatting:
            for rule in area.rules:
                colour = "#" + rule.dxf.fill.fgColor.rgb[-6:].lower()
                for ref in str(area.sqref).split():
                    for c in live.cells_of(parse_rect(ref)):
                        if rank[colour] >= rank.get(on_file.get(c, ""), -1):
                            on_file[c] = colour
        assert client.highlighted(name) == on_file, name
        comments = {absolute(c.coordinate) for row in ws.iter_rows() for c in row if c.comment}
        assert client.notes(name) <= comments
        assert len(client.notes(name)) == min(len(comments), NOTE_LIMIT)


class FakeMergeSheet:
    """Just enough of a desktop-Excel sheet to answer Range.merge_cells and Range.merge_area, counting calls."""

    def __init__(self, areas: list[tuple[int, int, int, int]]) -> None:
        self.areas, self.calls = areas, 0

    def area_of(self, r: int, c: int) -> tuple[int, int, int, int] | None:
        return next((a for a in self.areas if a[0] <= r <= a[2] and a[1] <= c <= a[3]), None)

    def range(self, first: tuple[int, int], last: tuple[int, int] | None = None) -> Any:
        sheet, (r1, c1), (r2, c2) = self, first, last or first

        class FakeRange:
            @property
            def merge_cells(self) -> bool | None:
                sheet.calls += 1
                merged = {sheet.area_of(r, c) is not None for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
                return None if len(merged) == 2 else merged.pop()

            @property
            def merge_area(self) -> Any:
                area = sheet.area_of(r1, c1) or (r1, c1, r1, c1)
                return type("Area", (), {"address": rect_address(area)})

        return FakeRange()


def test_merged_areas_are_found_like_calamine_reports_them():
    areas = [(1, 1, 1, 8), (40, 3, 41, 4), (900, 2, 900, 2 + 5)]
    sheet = FakeMergeSheet(areas)
    assert live._merged_areas(sheet, (1, 1, 4000, 47)) == [(r1 - 1, c1 - 1, r2 - 1, c2 - 1)
                                                         for r1, c1, r2, c2 in areas]
    assert sheet.calls < 200
    unmerged = FakeMergeSheet([])
    assert live._merged_areas(unmerged, (1, 1, 4000, 47)) == [] and unmerged.calls == 1


@pytest.mark.parametrize("shown", ['x",cmd|"/C calc"!A0,"', '")&HYPERLINK("http://evil.example","', "a'b\"\"c", 12.5])
def test_a_link_label_cannot_break_out_of_its_string(shown) -> None:
    """The live adapter's =HYPERLINK(...) keeps a hostile display text inside its string literal: exactly two
    text operands, the second being the text itself."""
    from openpyxl.formula import Tokenizer

    from ducha.adapters.live import hyperlink_formula

    formula = hyperlink_formula("农户'调查", "A3", shown)
    tokens = [t for t in Tokenizer(formula).items if t.type == "OPERAND"]
    assert [t.subtype for t in tokens] == ["TEXT", "TEXT" if isinstance(shown, str) else "NUMBER"]
    label = tokens[1].value
    assert (label[1:-1].replace('""', '"') if isinstance(shown, str) else float(label)) == shown
    assert tokens[0].value == "\"#'农户''调查'!A3\""


def test_a_link_label_that_starts_with_a_formula_sign_is_not_put_in_a_formula() -> None:
    from ducha.adapters.live import hyperlink_formula

    assert hyperlink_formula("检查结果", "A1", "=cmd|' /C calc'!A0") is None


def test_score_in_excel_draws_the_share_chart_beside_the_items_and_colours_them_by_share(problem_workbook):
    path, _ = problem_workbook
    client = Client(payload_from_xlsx(path))
    _, applied = run(client, "score")
    on_tab = [a for a in applied if a.sheet == "评分"]
    (chart,) = [a.action["args"] for a in on_tab if a.func == "addChart"]
    assert chart[3] == "$E$7:$E$14" and chart[9] == "$F$7"  # the 得分率 column, beside section 一
    left = [(a.action["start_row"], a.action["start_column"]) for a in on_tab if a.func == "setHorizontalAlignment"]
    assert (1, 3) in left  # D2:D3 (0-based row 1, column 3): 满分 stands clear of 「评分细则」
    score = COMMANDS["score"](path, parse_workbook(read_raw_workbook(path)), DEFAULT_RUBRIC).score
    colours = {}  # (0-based row, column) -> fill, from the block fills the adapter sends
    for a in on_tab:
        if a.func == "setRangeColors":
            for r, row in enumerate(a.action["args"][0], start=a.action["start_row"]):
                colours.update({(r, c): v for c, v in enumerate(row, start=a.action["start_column"]) if v != "keep"})
    for number, item in enumerate(score.card.items, start=7):  # 0-based row of D8 is 7
        want = "#" + FILLS[share_style(item.points, item.max_points)].lower()
        assert colours[(number, 3)] == colours[(number, 4)] == want, item.key
