"""What leaves the program: text from an input, the archive or a user is never a formula, and every formula ducha
composes carries Python's own value as its cached result."""

from __future__ import annotations

import json
import re
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from ducha.adapters.xlsx_writer import put_value
from ducha.app.cli import main
from ducha.app.commands import COMMANDS
from ducha.app.demo import write_demo_roster, write_demo_workbook
from ducha.model import schema
from ducha.model.schema import FieldType, Layout
from ducha.prefecture import ledger
from ducha.prefecture.archive import Archive
from ducha.prefecture.intake import RECEIPTS, Intake
from ducha.prefecture.letters import write_letters
from ducha.prefecture.report import write_report
from ducha.prefecture.roster import ROSTER_SHEETS
from ducha.prefecture.sampling import sample_command
from ducha.reading.workbook import read_workbook
from ducha.scoring.rubric import DEFAULT_RUBRIC
from ducha.sheets.template import FORM_FIRST_ROW, FORM_VALUE_COLUMN, TABLE_FIRST_DATA_ROW, table_column
from libreoffice import convert

# Each payload with the marker that shows it inside a formula.
PAYLOADS = {"=cmd|' /C calc'!A0": "calc", "+SUM(7,7)": "SUM(7,", "-SUM(8,8)": "SUM(8,", "@SUM(9,9)": "SUM(9,",
            "\t=SUM(5,5)": "SUM(5,", "\r=SUM(6,6)": "SUM(6,", '=HYPERLINK("http://evil.example","点")': "evil"}
MONTH = "2019-11"
FORMULA = re.compile(rb"<f\b[^>]*>(.*?)</f>|<f\b[^>]*/>", re.S)
FORMULA_CELL = re.compile(rb"<c\b[^>]*>(?:(?!</c>).)*?<f\b(?:(?!</c>).)*</c>", re.S)


def poisoned(text: str) -> str:
    """The same payload for the same text everywhere, so villages and townships still match across sheets."""
    payloads = list(PAYLOADS)
    return payloads[zlib.crc32(text.encode()) % len(payloads)] + text


def poison_text_columns(path: Path, sheets) -> None:
    """Prefix every text value of the workbook's text fields with a formula payload, stored as text."""
    wb = openpyxl.load_workbook(path)
    for sheet in sheets:
        if sheet.name not in wb.sheetnames:
            continue
        ws = wb[sheet.name]
        for f in sheet.fields:
            if f.type is not FieldType.TEXT:
                continue
            if sheet.layout is Layout.FORM:
                row = FORM_FIRST_ROW + [g.key for g in sheet.fields].index(f.key)
                cells = [(row, FORM_VALUE_COLUMN)]
            else:
                column = table_column(sheet, f.key)
                cells = [(row, column) for row in range(TABLE_FIRST_DATA_ROW, ws.max_row + 1)]
            for row, column in cells:
                value = ws.cell(row, column).value
                if isinstance(value, str) and value.strip():
                    put_value(ws, row, column, poisoned(value))
    wb.save(path)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every workbook and document the programme writes, from a workbook and a roster full of payloads."""
    folder = tmp_path_factory.mktemp("payloads")
    workbook = write_demo_workbook(folder / "清水县-2019-11-督查工作簿.xlsx")
    poison_text_columns(workbook, schema.INPUT_SHEETS)
    roster = write_demo_roster(folder / "农户名册.xlsx")
    poison_text_columns(roster, ROSTER_SHEETS)
    rubric = DEFAULT_RUBRIC.model_dump(mode="json")
    rubric["description"] = "=cmd|' /C calc'!A0"
    rubric["items"][0]["rules"][0]["note"] = "+SUM(7,7)"
    (folder / "细则.json").write_text(json.dumps(rubric, ensure_ascii=False), encoding="utf-8")
    main(["check", str(workbook), "--out", str(folder / "检查.xlsx")])
    main(["run", str(workbook), "--out", str(folder / "运行.xlsx")])
    main(["rubric", "--rubric", str(folder / "细则.json"), "--out", str(folder / "评分细则.xlsx")])
    with Archive(folder / "档案") as archive:
        Intake(archive).run([workbook])
        write_report(archive, MONTH, folder / "汇总.xlsx")
        exported = ledger.export_ledger(archive, folder / "台账.xlsx")
        book = openpyxl.load_workbook(exported)
        ws = book[ledger.LEDGER_SHEET]
        note = [k for k, _, _ in ledger.COLUMNS].index("note") + 1
        put_value(ws, ledger.HEADER_ROW + 1, note, "=cmd|' /C calc'!A0")
        book.save(folder / "台账-改.xlsx")
        ledger.import_ledger(archive, folder / "台账-改.xlsx", actor="@SUM(9,9)")
        ledger.export_ledger(archive, folder / "台账-再导出.xlsx")
        letters = write_letters(archive, MONTH, folder / "督办函")
        _, sample = sample_command(roster, "2019-12", folder / "抽样.xlsx", county_code="522631", seed=3,
                                   archive=archive, drawn_by="\t=SUM(5,5)",
                                   revisit_entries=lambda code: ledger.open_entries(archive, code, before="2019-12"))
    receipts = sorted((folder / "档案" / RECEIPTS).glob("*.xlsx"))
    assert receipts and letters
    return [folder / name for name in ("检查.xlsx", "运行.xlsx", "评分细则.xlsx", "汇总.xlsx", "台账.xlsx",
                                       "台账-再导出.xlsx")] + receipts + [sample, *letters]


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist() if name.endswith(".xml")}


def test_no_formula_holds_user_text_in_any_output(outputs: list[Path]) -> None:
    formulas = []
    for path in outputs:
        for name, xml in parts(path).items():
            formulas += [(path.name, name, m.group(1) or b"") for m in FORMULA.finditer(xml)]
            if path.suffix == ".docx":  # a field code would be Word's way of running text: only the page number
                codes = re.findall(rb"<w:instrText[^>]*>([^<]*)</w:instrText>", xml)
                assert b"fldSimple" not in xml and all(c == b" PAGE " for c in codes), (path.name, name)
                assert not codes or name.startswith("word/footer"), (path.name, name)
    assert any(b"SUM(D8" in f for _, _, f in formulas)  # ducha's own formulas are there
    markers = [m.encode() for m in PAYLOADS.values()]
    held = [(book, part, f) for book, part, f in formulas if any(m in f for m in markers)]
    assert held == []


def test_the_payloads_reach_the_outputs_as_text(outputs: list[Path]) -> None:
    """The check above only means something if the payloads were written: as plain text cells."""
    for path in outputs:
        if path.suffix != ".xlsx":
            continue
        text = b"".join(parts(path).values())
        assert any(m.encode() in text for m in PAYLOADS.values()), path.name
    results = openpyxl.load_workbook(outputs[1])
    values = [c.value for ws in results.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(v.startswith("=cmd|") for v in values)


def test_every_formula_ducha_writes_has_a_cached_value(outputs: list[Path]) -> None:
    for path in outputs:
        if path.suffix != ".xlsx":
            continue
        for name, xml in parts(path).items():
            for cell in FORMULA_CELL.finditer(xml):
                value = re.search(rb"<v>[^<]+</v>", cell.group(0)) or re.search(rb'\bt="str".*<v></v>', cell.group(0))
                assert value, (path.name, name, cell.group(0)[:200])  # an empty text result is t="str" and <v></v>


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("cached")
    workbook = write_demo_workbook(folder / "清水县.xlsx")
    result = COMMANDS["run_all"](workbook, read_workbook(workbook), DEFAULT_RUBRIC)
    out = folder / "结果.xlsx"
    main(["run", str(workbook), "--out", str(out)])
    assert result.score is not None and len(result.score.expected) > 30
    return folder, out, result.score.expected


def _same(got, want) -> bool:
    if isinstance(want, str):
        return (got or "") == want
    return got == pytest.approx(want, abs=1e-9)


def test_cached_values_equal_pythons_in_openpyxl_calamine_and_libreoffice(scored) -> None:
    folder, out, expected = scored
    cached = openpyxl.load_workbook(out, data_only=True)
    calamine = CalamineWorkbook.from_path(str(out))
    grids = {name: calamine.get_sheet_by_name(name).to_python() for name in {s for s, _ in expected}}
    recalculated = openpyxl.load_workbook(convert(out, "xlsx", folder / "lo"), data_only=True)
    for (sheet, ref), want in expected.items():
        row, column = cached[sheet][ref].row, cached[sheet][ref].column
        grid = grids[sheet]
        assert _same(cached[sheet][ref].value, want), (sheet, ref)
        assert _same(grid[row - 1][column - 1], want), (sheet, ref)
        assert _same(recalculated[sheet][ref].value, want), (sheet, ref)


def test_each_sheet_that_repeats_user_text_holds_the_payloads_as_text_cells(outputs: list[Path]) -> None:
    """跟进清单, 判定明细, 检查结果 (names, 备注, 不认可原因, finding values), the report's 跟进汇总, the ledger's
    问题台账 and the letters: the payloads are there, each in a text cell, none in a formula."""
    by_name = {path.name: path for path in outputs}
    wanted = {"运行.xlsx": ["跟进清单", "判定明细", "检查结果"], "检查.xlsx": ["检查结果"], "汇总.xlsx": ["跟进汇总"],
              "台账.xlsx": ["问题台账"], "台账-再导出.xlsx": ["问题台账"]}
    for file, sheets in wanted.items():
        book = openpyxl.load_workbook(by_name[file])
        for sheet in sheets:
            cells = [c for row in book[sheet].iter_rows() for c in row if isinstance(c.value, str)]
            carrying = [c for c in cells if any(p.strip() in c.value for p in PAYLOADS)]
            assert carrying, (file, sheet)
            assert all(c.data_type != "f" for c in carrying), (file, sheet)
    letters = [p for p in outputs if p.suffix == ".docx"]
    text = b"".join(parts(letters[0]).values()).decode("utf-8")
    assert any(re.sub(r"[<>&\"']", "", p.strip()) in text for p in PAYLOADS)


CACHED = re.compile(rb"(<f\b[^>]*>[^<]*</f>|<f\b[^>]*/>)<v>[^<]*</v>")


def with_wrong_cached_values(source: Path, target: Path) -> Path:
    """A copy of `source` whose every formula cell claims the cached result 999 (as an auditor would tamper)."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in original.infolist():
            data = original.read(item)
            if item.filename.startswith("xl/worksheets/sheet"):
                data = CACHED.sub(rb"\1<v>999</v>", data)
            copy.writestr(item, data)
    return target


def test_libreoffice_recalculates_a_deliberately_wrong_cached_value_to_pythons(scored) -> None:
    """Proof that the LibreOffice checks recalculate: every cached result says 999, LibreOffice's say Python's."""
    folder, out, expected = scored
    tampered = with_wrong_cached_values(out, folder / "篡改.xlsx")
    stored = openpyxl.load_workbook(tampered, data_only=True)
    assert stored["评分"]["B3"].value == 999 and expected[("评分", "B3")] != 999  # the tampering took

    recalculated = openpyxl.load_workbook(convert(tampered, "xlsx", folder / "lo-tampered"), data_only=True)

    wrong = [(sheet, ref) for (sheet, ref), want in expected.items() if not _same(recalculated[sheet][ref].value, want)]
    assert wrong == []
    assert recalculated["评分"]["B3"].value == pytest.approx(expected[("评分", "B3")], abs=1e-9)
