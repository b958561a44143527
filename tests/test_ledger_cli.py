"""The ledger and the letters from the command line, on an archive filled by a real intake."""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from ducha.app.cli import main
from ducha.app.demo import write_demo_workbook
from ducha.prefecture.archive import Archive


@pytest.fixture
def archive_folder(tmp_path: Path) -> Path:
    demo = write_demo_workbook(tmp_path / "清水县.xlsx")
    folder = tmp_path / "档案"
    assert main(["intake", str(demo), "--archive", str(folder)]) == 0
    return folder


def _column(ws, header: str) -> int:
    return next(c.column for c in ws[3] if c.value and str(c.value).startswith(header))


def test_flagged_problems_are_in_the_ledger_and_a_supervisors_edit_comes_back(archive_folder: Path,
                                                                               tmp_path: Path) -> None:
    exported = tmp_path / "问题台账.xlsx"
    assert main(["ledger", "export", "--archive", str(archive_folder), "--out", str(exported)]) == 0
    book = load_workbook(exported)
    ws = book["问题台账"]
    status = _column(ws, "状态")
    assert ws.max_row > 4 and ws.cell(4, status).value == "待整改"
    entry = ws.cell(4, 1).value
    ws.cell(4, status).value = "整改中"
    ws.cell(5, status).value = "回访通过"  # not allowed straight from 待整改
    book.save(exported)

    code = main(["ledger", "import", str(exported), "--archive", str(archive_folder)])

    assert code == 1  # one row refused
    with Archive(archive_folder) as archive:
        rows = {r["id"]: r["status"] for r in archive.query("SELECT id, status FROM ledger")}
        assert rows[entry] == "整改中"
        assert "回访通过" not in rows.values()


def test_a_reported_problem_is_added_by_hand_and_letters_list_every_open_problem(archive_folder: Path,
                                                                                  tmp_path: Path) -> None:
    assert main(["ledger", "add", "--archive", str(archive_folder), "--county-name", "清水县", "--county", "522631",
                 "--month", "2019-11", "--problem", "群众反映危房改造补助未发放", "--evidence", "12317 热线来电",
                 "--village", "石门村"]) == 0
    out = tmp_path / "督办函"

    assert main(["letters", "--month", "2019-11", "--archive", str(archive_folder), "--out", str(out)]) == 0

    letters = list(out.glob("*.docx"))
    assert len(letters) == 1
    text = "\n".join(p.text for p in Document(letters[0]).paragraphs)
    text += "\n".join(c.text for t in Document(letters[0]).tables for r in t.rows for c in r.cells)
    with Archive(archive_folder) as archive:
        problems = [r["problem"] for r in archive.query("SELECT problem FROM ledger WHERE month = '2019-11'")]
    assert "群众反映危房改造补助未发放" in problems
    assert all(problem in text for problem in problems)
