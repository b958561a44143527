"""Personal data by audience: a whole demo cycle, every output grepped for the inputs' full ID and phone numbers.

They may appear only in the clerk's own workbook (and the input cells of its result copy), the archive's stored
original files, the roster, and a sample exported with --full-ids.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sqlite3
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from ducha.app.cli import main
from ducha.model.privacy import Audience, mask_id, mask_phone, redact
from ducha.prefecture.archive import ORIGINALS

PERSONAL = re.compile(r"^(?:\d{14}[0-9X]|\d{17}[0-9X]|1\d{9,10})$")
DEMO = "清水县-2019-11-督查工作簿.xlsx"
RESULT = "清水县-2019-11-督查工作簿.结果.xlsx"
ROSTER = "农户名册-清水县.xlsx"
FULL_SAMPLE = "全号抽样.xlsx"


def personal_numbers(path: Path) -> set[str]:
    """Every ID or phone number written in a workbook (also an ID stored as a number)."""
    found = set()
    book = CalamineWorkbook.from_path(str(path))
    for name in book.sheet_names:
        for row in book.get_sheet_by_name(name).to_python():
            for value in row:
                if isinstance(value, float) and value.is_integer() and value > 1e9:
                    value = str(int(value))
                if isinstance(value, str) and PERSONAL.match(value.strip()):
                    found.add(value.strip())
    return found


def texts(path: Path) -> list[tuple[str, str]]:
    """(where, text) of every part of an output: zip parts one by one, SQLite as its dump, other files whole."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as package:
            return [(f"{path.name}:{n}", package.read(n).decode("utf-8", "replace")) for n in package.namelist()]
    if path.suffix == ".sqlite3":
        with sqlite3.connect(path) as db:
            return [(path.name, "\n".join(db.iterdump()))]
    return [(path.name, path.read_bytes().decode("utf-8", "replace"))]


@pytest.fixture(scope="module")
def cycle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """The demo cycle run from the command line, plus `run --json`, `check` and `sample --full-ids`; returns the
    folder, everything printed, and the log folder."""
    folder = tmp_path_factory.mktemp("cycle")
    logs = folder / "日志"
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("DUCHA_LOG_DIR", str(logs))
    ducha_log = logging.getLogger("ducha")
    earlier = list(ducha_log.handlers)  # an earlier test in this process may have set up logging elsewhere
    for handler in earlier:
        ducha_log.removeHandler(handler)
    printed = []

    def run(*args: str) -> None:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main(list(args))
        printed.extend([out.getvalue(), err.getvalue()])

    run("demo", "--out", str(folder))
    run("run", str(folder / DEMO), "--json", "--out", str(folder / "json运行.xlsx"))
    run("check", str(folder / DEMO), "--out", str(folder / "检查.xlsx"))
    run("ledger", "export", "--archive", str(folder / "督查档案"), "--out", str(folder / "台账2.xlsx"))
    run("sample", str(folder / ROSTER), "--month", "2020-01", "--county", "522631", "--seed", "7", "--full-ids",
        "--out", str(folder / FULL_SAMPLE))
    monkeypatch.undo()
    for handler in list(ducha_log.handlers):
        ducha_log.removeHandler(handler)
        handler.close()
    for handler in earlier:
        ducha_log.addHandler(handler)
    return folder, "\n".join(printed), logs


def test_masks_keep_first_six_and_last_four_or_first_three_and_last_four() -> None:
    assert mask_id("52263119680421322X") == "522631********322X"
    assert mask_id("522631********322X") == "522631********322X"  # masking twice changes nothing
    assert mask_id("12345") == "*****"  # a short value is masked whole
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id("52263119680421322X", Audience.FIELD_WORK) == "52263119680421322X"
    text = "身份证号 52263119680421322X 与第 5 行重复，电话 13812345678，村代码 522631202202"
    assert redact(text) == "身份证号 522631********322X 与第 5 行重复，电话 138****5678，村代码 522631202202"


def test_full_numbers_appear_only_where_allowed(cycle: tuple[Path, str, Path]) -> None:
    folder, printed, logs = cycle
    numbers = personal_numbers(folder / DEMO) | personal_numbers(folder / ROSTER)
    assert len(numbers) > 100
    allowed = {folder / DEMO, folder / ROSTER, folder / FULL_SAMPLE}
    leaks = [(where, n) for where, text in [("console", printed)] for n in numbers if n in text]
    assert printed.count("*") > 0 and logs.joinpath("ducha.log").exists()
    outputs = [p for p in folder.rglob("*") if p.is_file() and p not in allowed and ORIGINALS not in p.parts
               and p.name not in (RESULT, "json运行.xlsx", "检查.xlsx")]
    assert {p.suffix for p in outputs} >= {".xlsx", ".docx", ".sqlite3", ".log"}
    for path in outputs:
        for where, text in texts(path):
            leaks += [(where, n) for n in numbers if n in text]
    assert leaks == []


def test_result_copies_hold_full_numbers_only_in_the_clerks_input_cells(cycle: tuple[Path, str, Path]) -> None:
    folder, _, _ = cycle
    numbers = personal_numbers(folder / DEMO)
    inputs = set(openpyxl.load_workbook(folder / DEMO, read_only=True).sheetnames)
    for name in (RESULT, "json运行.xlsx", "检查.xlsx"):
        book = openpyxl.load_workbook(folder / name)
        generated = [ws for ws in book.worksheets if ws.title not in inputs]
        assert generated
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    shown = [str(cell.comment.text)] if cell.comment else []
                    shown += [str(cell.value)] if ws in generated and cell.value is not None else []
                    assert not [n for n in numbers for text in shown if n in text], (name, ws.title, cell.coordinate)


def test_a_sample_exported_with_full_ids_has_them_and_a_default_one_does_not(cycle: tuple[Path, str, Path]) -> None:
    folder, _, _ = cycle
    roster = personal_numbers(folder / ROSTER)
    full = personal_numbers(folder / FULL_SAMPLE)
    assert full and full <= roster
    default = folder / "清水县-2019-12-督查工作簿.xlsx"
    assert not personal_numbers(default) & roster
    assert "*" in "".join(text for _, text in texts(default))
