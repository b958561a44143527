"""Intake behind the same gate: every hostile shape is rejected with its coded reason in under 10 s and 1.5 GB, the
input unchanged; every file ends in exactly one outcome; a workbook without a valid 督查月份 is rejected with that
reason (also when it comes twice), and the batch always completes with its result table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import hostile
from ducha.model.refusals import Refusal
from ducha.prefecture.archive import Archive
from ducha.prefecture.intake import NO_MONTH
from markdown_workbook import valid_sheets, write_workbook

SHAPES: dict[str, tuple[Callable[[Path], Path], Refusal]] = {
    "zip bomb": (hostile.zip_bomb, Refusal.ZIP_BOMB),
    "zip bomb (lying size)": (hostile.lying_size_bomb, Refusal.ZIP_BOMB),
    "value at XFD1048576": (hostile.far_value, Refusal.SHEET_EXTENT),
    "FIFO named .xlsx": (hostile.fifo, Refusal.NOT_REGULAR),
    "symlink to /dev/zero": (hostile.dev_zero_link, Refusal.NOT_REGULAR),
    "XXE parameter entity in sharedStrings": (hostile.xxe_in_shared_strings, Refusal.XML_DECLARATION),
    "XXE parameter entity in an .ods": (hostile.xxe_in_ods_content, Refusal.XML_DECLARATION),
    ".ods value row repeated 300,000 times": (hostile.ods_repeat_bomb, Refusal.ZIP_BOMB),
    "dangling symlink": (hostile.dangling_link, Refusal.BROKEN_LINK),
    "looping symlink": (hostile.looping_link, Refusal.BROKEN_LINK),
}


def intake(tmp_path: Path, *paths: Path) -> tuple[int, str, list[dict]]:
    archive = tmp_path / "档案"
    done = hostile.ducha("intake", *map(str, paths), "--archive", str(archive), "--no-receipts",
                         env={"DUCHA_LOG_DIR": str(tmp_path / "logs")})
    with Archive(archive) as opened:
        events = [dict(row) for row in opened.query("SELECT kind, file_name, reason FROM events ORDER BY id")]
    return done.returncode, done.stdout + done.stderr, events


@pytest.mark.parametrize("shape", list(SHAPES))
def test_intake_rejects_each_hostile_shape_with_its_code_and_takes_the_rest(tmp_path: Path, shape: str) -> None:
    build, refusal = SHAPES[shape]
    folder = tmp_path / "收件"
    folder.mkdir()
    bad = build(folder)
    good = hostile.clean_workbook(tmp_path / "清水县.xlsx")
    (folder / "clean.xlsx").unlink(missing_ok=True)
    before = hostile.digest_of(bad)
    code, output, events = intake(tmp_path, bad, good)
    assert code == 1, output  # a rejection in the batch
    assert "Traceback" not in output and "内部错误" not in output
    [rejected] = [e for e in events if e["kind"] == "rejected"]
    assert rejected["file_name"] == bad.name
    assert Refusal.identify(rejected["reason"]) is refusal, rejected["reason"]
    assert [e["file_name"] for e in events if e["kind"] != "rejected"] == [good.name]  # the batch went on
    assert hostile.digest_of(bad) == before


def month_less(path: Path) -> Path:
    sheets = valid_sheets()
    for row in sheets["基本信息"]:
        if row and str(row[0]).rstrip("*") == "督查月份":
            row[1] = None
    return write_workbook(path, sheets)


def test_a_workbook_without_a_month_is_rejected_with_that_reason_even_twice(tmp_path: Path) -> None:
    first = month_less(tmp_path / "无月份.xlsx")
    second = tmp_path / "无月份-副本.xlsx"
    second.write_bytes(first.read_bytes())
    good = hostile.clean_workbook(tmp_path / "清水县.xlsx")
    before = first.read_bytes()
    code, output, events = intake(tmp_path, first, second, good)
    assert code == 1, output
    assert "接收结果" in output and "内部错误" not in output and "Traceback" not in output  # the table was printed
    outcomes = {e["file_name"]: e for e in events}
    assert len(events) == 3  # exactly one outcome per file
    assert outcomes[first.name]["kind"] == outcomes[second.name]["kind"] == "rejected"
    assert outcomes[first.name]["reason"] == outcomes[second.name]["reason"] == NO_MONTH
    assert "「基本信息」" in NO_MONTH and "督查月份" in NO_MONTH  # the sheet and the field as the template names them
    assert outcomes[good.name]["kind"] == "accepted"
    assert first.read_bytes() == second.read_bytes() == before


def test_intake_takes_a_workbook_with_whole_column_formatting_and_a_sheet_wide_dimension(tmp_path: Path) -> None:
    formatted = hostile.whole_column_formatting(hostile.clean_workbook(tmp_path / "clean.xlsx"),
                                                tmp_path / "整列格式.xlsx")
    before = formatted.read_bytes()
    code, output, events = intake(tmp_path, formatted)
    assert code == 0, output
    assert [(e["kind"], e["file_name"]) for e in events] == [("accepted", formatted.name)]
    assert formatted.read_bytes() == before
