"""`ducha check` end to end: exit codes, --json, the checked copy (results sheet, links, notes, highlights),
--in-place with a backup, idempotence, and a copy LibreOffice can open.

The workbook with problems is the clean one of `valid_sheets()` with two cells spoiled: 家庭人口 = 0 in the first
household (an error, 农户调查!G2) and 年人均纯收入 = 3000 in the second where its components give 2500 (a warning,
农户调查!M3).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ducha.adapters.files import BACKUP_FOLDER
from ducha.app.cli import main
from ducha.reading.raw import read_raw_workbook
from libreoffice import convert
from markdown_workbook import column_of, set_cell, valid_sheets, write_workbook

INPUT_SHEETS = ["基本信息", "抽样", "农户调查", "村级核查", "县级核查", "访谈记录", "参数"]


def spoil(sheets: dict[str, list[list[Any]]]) -> tuple[str, str]:
    return set_cell(sheets, "农户调查", "家庭人口", 0, 0), set_cell(sheets, "农户调查", "年人均纯收入", 1, 3000)


SIZE, INCOME = spoil(valid_sheets())  # G2 and M3
EXPECTED = [("out-of-range", "农户调查", SIZE), ("income-inconsistent", "农户调查", INCOME)]


@pytest.fixture(autouse=True)
def _log_to_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUCHA_LOG_DIR", str(tmp_path / "logs"))


def spoiled_sheets() -> dict[str, list[list[Any]]]:
    sheets = valid_sheets()
    spoil(sheets)
    return sheets


@pytest.fixture
def spoiled(tmp_path: Path) -> Path:
    return write_workbook(tmp_path / "清水县-2019-11.xlsx", spoiled_sheets())


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return write_workbook(tmp_path / "清水县-2019-11.xlsx", valid_sheets())


def with_income_formulas(path: Path) -> Path:
    """年人均纯收入 as the formula =(H+I+J+K−L)/G with its result cached, as Excel saves it."""
    sheets = valid_sheets()
    column = column_of(sheets, "农户调查", "年人均纯收入")
    wage, business, transfer, assets, costs, size = (
        get_column_letter(column_of(sheets, "农户调查", header) + 1)
        for header in ("工资性收入", "家庭经营性收入", "转移性收入", "财产性收入", "生产经营费用", "家庭人口"))
    results = {}
    for row in range(2, len(sheets["农户调查"]) + 1):
        results[row] = sheets["农户调查"][row - 1][column]
        sheets["农户调查"][row - 1][column] = (
            f"=({wage}{row}+{business}{row}+{transfer}{row}+{assets}{row}-{costs}{row})/{size}{row}")
    write_workbook(path, sheets)
    xml = "xl/worksheets/sheet3.xml"  # 「农户调查」 is the third sheet
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    letter = get_column_letter(column + 1).encode()
    parts[xml] = re.sub(rb'(<c r="' + letter + rb'(\d+)"><f>[^<]*</f>)<v\s*/?>(?:</v>)?',
                        lambda m: m.group(1) + b"<v>%d</v>" % results[int(m.group(2))], parts[xml])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    return path


def seen(path: Path) -> dict[str, list[list[Any]]]:
    """The input sheets as a reader sees them (formula cells show their cached results)."""
    return {name: grid for name, grid in read_raw_workbook(path).sheets.items() if name in INPUT_SHEETS}


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(["check", *argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def values(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    wb = openpyxl.load_workbook(path)
    return {name: list(wb[name].iter_rows(values_only=True)) for name in INPUT_SHEETS}


def result_rows(ws: Worksheet) -> list[dict[str, Any]]:
    """The finding rows of a 「检查结果」 sheet, keyed by its column headers, with the 单元格 cell itself."""
    rows = list(ws.iter_rows())
    start = next(i for i, row in enumerate(rows) if row[0].value == "序号")
    headers = [c.value for c in rows[start]]
    return [{**{h: c.value for h, c in zip(headers, row, strict=False)}, "link": row[headers.index("单元格")]}
            for row in rows[start + 1:] if isinstance(row[0].value, int)]


def ducha_rules(ws: Worksheet) -> list[tuple[str, str]]:
    """(range, formula) of every highlight rule ducha wrote on a sheet."""
    return [(str(rng.sqref), rule.formula[0]) for rng in ws.conditional_formatting for rule in rng.rules
            if rule.formula and "ducha:" in rule.formula[0]]


def ducha_notes(ws: Worksheet) -> dict[str, str]:
    return {c.coordinate: c.comment.text for row in ws.iter_rows() for c in row
            if c.comment is not None and c.comment.author == "ducha"}


def covers(sqref: str, cell: str) -> bool:
    return cell in sqref.split()


# --- exit codes and what is printed --------------------------------------------------------------------------------

def test_a_clean_workbook_exits_0(clean: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(clean)]) == 0
    assert "错误 0 个" in capsys.readouterr().out


def test_a_workbook_with_errors_exits_1_and_prints_where_the_problems_are(spoiled: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(spoiled)]) == 1
    out = capsys.readouterr().out
    assert "错误 1 个，警告 1 个" in out
    assert f"「农户调查」{SIZE}" in out and f"「农户调查」{INCOME}" in out


def test_a_workbook_with_only_warnings_exits_0(tmp_path: Path) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "年人均纯收入", 1, 3000)

    assert main(["check", str(write_workbook(tmp_path / "warn.xlsx", sheets)), "--json"]) == 0


@pytest.mark.parametrize("content", [b"not a workbook", b"", bytes.fromhex("d0cf11e0a1b11ae1") + bytes(512)],
                         ids=["text", "empty", "encrypted"])
def test_an_unreadable_file_exits_2_with_a_chinese_message_and_no_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    path = tmp_path / "坏文件.xlsx"
    path.write_bytes(content)

    assert main(["check", str(path)]) == 2
    captured = capsys.readouterr()
    assert "无法读取" in captured.err and "「坏文件.xlsx」" in captured.err
    assert "Traceback" not in captured.out + captured.err
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".xlsx") == ["坏文件.xlsx"]


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "没有这个文件.xlsx")]) == 2
    captured = capsys.readouterr()
    assert "找不到文件" in captured.err
    assert "Traceback" not in captured.out + captured.err


def test_json_lists_every_finding_with_code_sheet_and_cell(spoiled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, str(spoiled))

    assert code == 1
    assert [(f["code"], f["sheet"], f["cell"]) for f in report["findings"]] == EXPECTED
    assert [f["severity"] for f in report["findings"]] == ["错误", "警告"]
    assert report["counts"] == {"error": 1, "warning": 1, "info": 0}
    assert {"scope": "农户调查", "answered": 780, "required": 780} in report["completeness"]
    assert report["output"] == str(spoiled.with_name("清水县-2019-11.结果.xlsx"))


def test_the_console_entry_point_runs_the_check(spoiled: Path, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("ducha")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ducha"]

    done = subprocess.run([*command, "check", str(spoiled), "--json"], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "DUCHA_LOG_DIR": str(tmp_path / "logs"), "LANG": "C.UTF-8"})

    assert done.returncode == 1, done.stderr
    assert [(f["code"], f["cell"]) for f in json.loads(done.stdout)["findings"]] == [(c, cell) for c, _, cell in
                                                                                       EXPECTED]


# --- the checked copy -----------------------------------------------------------------------------------------------

def test_the_default_writes_a_checked_copy_next_to_the_input_and_never_changes_the_input(spoiled: Path) -> None:
    before = spoiled.read_bytes()

    main(["check", str(spoiled)])

    assert spoiled.read_bytes() == before
    assert {p.name for p in spoiled.parent.glob("*.xlsx")} == {"清水县-2019-11.结果.xlsx", "清水县-2019-11.xlsx"}
    assert not (spoiled.parent / BACKUP_FOLDER).exists()


def test_out_writes_the_checked_copy_where_asked(spoiled: Path, tmp_path: Path) -> None:
    target = tmp_path / "结果" / "检查后.xlsx"

    main(["check", str(spoiled), "--out", str(target)])

    assert openpyxl.load_workbook(target).sheetnames[0] == "检查结果"
    assert not spoiled.with_name("清水县-2019-11.结果.xlsx").exists()


def test_the_checked_copy_starts_with_a_results_sheet_linking_each_finding_to_its_cell(spoiled: Path) -> None:
    main(["check", str(spoiled)])
    wb = openpyxl.load_workbook(spoiled.with_name("清水县-2019-11.结果.xlsx"))

    assert wb.sheetnames == ["检查结果", *INPUT_SHEETS]
    rows = result_rows(wb["检查结果"])
    assert [(r["代码"], r["工作表"], r["单元格"]) for r in rows] == EXPECTED
    assert [r["link"].hyperlink.location for r in rows] == [f"'农户调查'!{SIZE}", f"'农户调查'!{INCOME}"]


def test_the_checked_copy_notes_and_highlights_exactly_the_offending_cells(spoiled: Path) -> None:
    main(["check", str(spoiled)])
    ws = openpyxl.load_workbook(spoiled.with_name("清水县-2019-11.结果.xlsx"))["农户调查"]

    notes = ducha_notes(ws)
    assert sorted(notes) == sorted([SIZE, INCOME])
    assert "「家庭人口」为 0" in notes[SIZE] and notes[SIZE].startswith("【错误】")
    assert notes[INCOME].startswith("【警告】")
    rules = ducha_rules(ws)
    assert any(covers(sqref, SIZE) and "error" in formula for sqref, formula in rules)
    assert any(covers(sqref, INCOME) and "warning" in formula for sqref, formula in rules)
    assert not any(covers(sqref, "D2") for sqref, _ in rules)


def test_the_checked_copy_keeps_every_input_value(spoiled: Path) -> None:
    main(["check", str(spoiled)])

    assert values(spoiled.with_name("清水县-2019-11.结果.xlsx")) == values(spoiled)


def test_a_clean_workbook_gets_a_results_sheet_saying_nothing_was_found(clean: Path) -> None:
    main(["check", str(clean)])
    wb = openpyxl.load_workbook(clean.with_name("清水县-2019-11.结果.xlsx"))

    texts = [v for row in wb["检查结果"].iter_rows(values_only=True) for v in row if v]
    assert "未发现问题。" in texts
    assert all(ducha_notes(wb[name]) == {} and ducha_rules(wb[name]) == [] for name in INPUT_SHEETS)


# --- --in-place -----------------------------------------------------------------------------------------------------

def test_in_place_updates_the_workbook_after_a_backup_of_the_original(spoiled: Path) -> None:
    original, before = spoiled.read_bytes(), values(spoiled)

    assert main(["check", str(spoiled), "--in-place"]) == 1

    [backup] = (spoiled.parent / BACKUP_FOLDER).iterdir()
    assert backup.read_bytes() == original
    assert openpyxl.load_workbook(spoiled).sheetnames[0] == "检查结果"
    assert values(spoiled) == before
    assert not spoiled.with_name("清水县-2019-11.结果.xlsx").exists()


def test_in_place_twice_leaves_one_results_sheet_one_set_of_highlights_and_single_notes(spoiled: Path,
                                                                                        tmp_path: Path) -> None:
    main(["check", str(spoiled), "--in-place"])
    once = openpyxl.load_workbook(spoiled)
    main(["check", str(spoiled), "--in-place"])
    twice = openpyxl.load_workbook(spoiled)

    assert twice.sheetnames == ["检查结果", *INPUT_SHEETS]
    assert ducha_rules(twice["农户调查"]) == ducha_rules(once["农户调查"])
    assert len(ducha_rules(twice["农户调查"])) == 2  # one rule per severity
    assert ducha_notes(twice["农户调查"]) == ducha_notes(once["农户调查"])
    assert ducha_notes(twice["农户调查"])[SIZE].count("【错误】") == 1
    assert [(r["代码"], r["单元格"]) for r in result_rows(twice["检查结果"])] == [(c, cell) for c, _, cell in EXPECTED]
    assert values(spoiled) == values(write_workbook(tmp_path / "again.xlsx", spoiled_sheets()))
    assert len(list((spoiled.parent / BACKUP_FOLDER).iterdir())) == 2


def test_a_fixed_workbook_checked_in_place_loses_the_old_highlights_and_notes(spoiled: Path) -> None:
    main(["check", str(spoiled), "--in-place"])
    wb = openpyxl.load_workbook(spoiled)
    wb["农户调查"][SIZE] = 4
    wb["农户调查"][INCOME] = 2500
    wb.save(spoiled)

    assert main(["check", str(spoiled), "--in-place"]) == 0

    wb = openpyxl.load_workbook(spoiled)
    assert wb.sheetnames.count("检查结果") == 1
    assert all(ducha_notes(wb[name]) == {} and ducha_rules(wb[name]) == [] for name in INPUT_SHEETS)
    assert result_rows(wb["检查结果"]) == []


def test_a_clerks_own_notes_and_highlight_rules_survive_in_place_runs(spoiled: Path) -> None:
    wb = openpyxl.load_workbook(spoiled)
    ws = wb["农户调查"]
    ws["D5"].comment = Comment("户主已改名", "赵敏")
    red = PatternFill("solid", start_color="FF0000", end_color="FF0000")
    ws.conditional_formatting.add("G2:G31", CellIsRule(operator="greaterThan", formula=["10"], fill=red))
    wb.save(spoiled)

    main(["check", str(spoiled), "--in-place"])
    main(["check", str(spoiled), "--in-place"])

    ws = openpyxl.load_workbook(spoiled)["农户调查"]
    assert (ws["D5"].comment.author, ws["D5"].comment.text) == ("赵敏", "户主已改名")
    clerks = [(str(rng.sqref), rule.formula) for rng in ws.conditional_formatting for rule in rng.rules
              if not (rule.formula and "ducha:" in rule.formula[0])]
    assert clerks == [("G2:G31", ["10"])]


# --- formula cells: what Excel saved must still be readable after ducha wrote the file ------------------------------

def test_the_checked_copy_keeps_the_results_of_formula_cells(tmp_path: Path) -> None:
    workbook = with_income_formulas(tmp_path / "公式.xlsx")
    income = column_of(valid_sheets(), "农户调查", "年人均纯收入")
    assert seen(workbook)["农户调查"][1][income] == 2500  # the cached result is what a reader sees

    main(["check", str(workbook)])

    before, after = seen(workbook), seen(workbook.with_name("公式.结果.xlsx"))
    assert [row[income] for row in after["农户调查"]] == [row[income] for row in before["农户调查"]]
    assert after == before


def test_in_place_twice_on_a_workbook_with_formulas_finds_the_same_as_once(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    workbook = with_income_formulas(tmp_path / "公式.xlsx")

    first, once = run_json(capsys, str(workbook), "--in-place")
    second, twice = run_json(capsys, str(workbook), "--in-place")

    assert (first, once["findings"]) == (0, [])
    assert (second, twice["findings"]) == (0, [])


# --- a real spreadsheet application opens the result ----------------------------------------------------------------

def test_libreoffice_opens_the_checked_copy_and_sees_the_findings(spoiled: Path, tmp_path: Path) -> None:
    main(["check", str(spoiled)])
    checked = spoiled.with_name("清水县-2019-11.结果.xlsx")
    csv = convert(checked, "csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "csv")

    text = csv.read_text(encoding="utf-8")  # the first sheet: 「检查结果」
    assert f",错误,农户调查,{SIZE},家庭人口,0," in text
    assert "out-of-range" in text and "income-inconsistent" in text
