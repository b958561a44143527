"""`ducha intake` end to end: real workbooks, emails and zips in; the archive, the originals and the receipts out."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from contextlib import closing
from email.message import EmailMessage
from pathlib import Path
from typing import ClassVar

import pytest
from openpyxl import load_workbook

from ducha.adapters.protect import protect_copy
from ducha.app.cli import main
from ducha.prefecture.archive import Archive, sha256_of
from ducha.prefecture.intake import Intake
from markdown_workbook import set_cell, set_form, valid_sheets, write_workbook

COUNTIES = (("清水县", "522631"), ("麻江县", "522635"), ("丹寨县", "522636"), ("三都县", "522732"))


def county_workbook(path: Path, county: str = "清水县", code: str = "522631", group: str = "第一督查组",
                    month: str = "2019-11", spoil: bool = False) -> Path:
    sheets = valid_sheets(month=month)
    set_form(sheets, "基本信息", "被督查县", county)
    set_form(sheets, "基本信息", "县级区划代码", code)
    set_form(sheets, "基本信息", "督查组", group)
    if spoil:
        set_cell(sheets, "农户调查", "家庭人口", 0, 0)
    return write_workbook(path, sheets)


def receipt_rows(path: Path) -> list[tuple]:
    return [tuple(c.value for c in row) for row in load_workbook(path)["回执"].iter_rows()]


@pytest.fixture
def archive(tmp_path: Path):
    with Archive(tmp_path / "督查档案") as a:
        yield a


def test_a_folder_of_workbooks_is_archived_checked_scored_and_answered(tmp_path: Path, archive: Archive) -> None:
    inbox = tmp_path / "收件"
    inbox.mkdir()
    clean = county_workbook(inbox / "清水县.xlsx")
    spoiled = county_workbook(inbox / "麻江县.xlsx", "麻江县", "522635", spoil=True)

    outcomes = Intake(archive).run([inbox])

    assert sorted((o.name, o.kind) for o in outcomes) == [("清水县.xlsx", "accepted"), ("麻江县.xlsx", "accepted")]
    rows = {r["county"]: r for r in archive.submissions("2019-11")}
    assert rows["清水县"]["errors"] == 0 and rows["清水县"]["total"] == 100
    assert rows["麻江县"]["errors"] == 1
    assert [f["code"] for f in archive.results("findings", rows["麻江县"]["id"])] == ["out-of-range"]
    assert len(archive.results("scores", rows["清水县"]["id"])) == 7
    for row, original in ((rows["清水县"], clean), (rows["麻江县"], spoiled)):
        assert (archive.folder / row["stored_path"]).read_bytes() == original.read_bytes()
        assert row["sha256"] == sha256_of(original.read_bytes())
    receipt = next(o.receipt for o in outcomes if o.county == "麻江县")
    cells = receipt_rows(receipt)
    assert ("处理结果", "已接收") in [r[:2] for r in cells]
    assert any(r[2:4] == ("农户调查", "G2") and "家庭人口" in r[4] for r in cells if len(r) > 4 and r[4])


def test_identical_content_is_a_duplicate_and_not_stored_twice(tmp_path: Path, archive: Archive) -> None:
    first = county_workbook(tmp_path / "a.xlsx")
    second = tmp_path / "同一份-改了名.xlsx"
    second.write_bytes(first.read_bytes())

    outcomes = Intake(archive).run([first, second])

    assert [o.kind for o in outcomes] == ["accepted", "duplicate"]
    assert len(archive.submissions()) == 1
    assert len(list((archive.folder / "原件").rglob("*.xlsx"))) == 1
    assert [e["kind"] for e in archive.events()] == ["accepted", "duplicate"]


def test_a_resubmission_supersedes_and_a_second_group_is_a_conflict_until_resolved(tmp_path: Path,
                                                                                   archive: Archive) -> None:
    v1 = county_workbook(tmp_path / "v1.xlsx", spoil=True)
    v2 = county_workbook(tmp_path / "v2.xlsx")
    rival = county_workbook(tmp_path / "rival.xlsx", group="第三督查组")
    intake = Intake(archive)

    first, second = intake.run([v1, v2])
    third = intake.run([rival])[0]

    assert (second.version, second.superseded) == (2, first.submission_id)
    assert third.kind == "conflict"
    statuses = {r["id"]: r["status"] for r in archive.submissions()}
    assert statuses == {first.submission_id: "superseded", second.submission_id: "conflict",
                        third.submission_id: "conflict"}
    assert main(["resolve", str(second.submission_id), "--archive", str(archive.folder)]) == 0
    assert [r["id"] for r in Archive(archive.folder).current("2019-11")] == [second.submission_id]


def test_a_corrupt_file_is_rejected_and_the_batch_goes_on(tmp_path: Path, capsys) -> None:
    inbox = tmp_path / "收件"
    inbox.mkdir()
    county_workbook(inbox / "好的.xlsx")
    (inbox / "坏的.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")

    code = main(["intake", str(inbox), "--archive", str(tmp_path / "档案")])

    assert code == 1
    with Archive(tmp_path / "档案") as a:
        assert len(a.submissions()) == 1
        rejected = [e for e in a.events() if e["kind"] == "rejected"]
        assert [e["file_name"] for e in rejected] == ["坏的.xlsx"] and rejected[0]["reason"]
    assert "Traceback" not in capsys.readouterr().err
    receipts = list((tmp_path / "档案" / "回执").glob("*.xlsx"))
    assert len(receipts) == 2


def test_an_email_with_a_workbook_and_a_pdf_takes_in_the_workbook(tmp_path: Path, archive: Archive) -> None:
    book = county_workbook(tmp_path / "w.xlsx")
    mail = EmailMessage()
    mail["From"] = "清水县扶贫办 <fpb@example.org>"
    mail["Subject"] = "清水县11月督查工作簿"
    mail["Date"] = "Fri, 29 Nov 2019 10:00:00 +0800"
    mail.set_content("请查收。")
    mail.add_attachment(book.read_bytes(), maintype="application", subtype="octet-stream",
                        filename=("utf-8", "", "清水县-2019-11.xlsx"))
    mail.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="说明.pdf")
    eml = tmp_path / "邮件.eml"
    eml.write_bytes(bytes(mail))

    outcomes = Intake(archive).run([eml])

    assert sorted(o.kind for o in outcomes) == ["accepted", "ignored"]
    row = archive.submissions()[0]
    assert row["file_name"] == "清水县-2019-11.xlsx"
    assert row["subject"] == "清水县11月督查工作簿" and "fpb@example.org" in row["sender"]


def test_a_zip_of_several_counties_is_taken_in_whole(tmp_path: Path, archive: Archive) -> None:
    bundle = tmp_path / "各县.zip"
    with zipfile.ZipFile(bundle, "w") as z:
        for county, code in COUNTIES[:3]:
            z.write(county_workbook(tmp_path / f"{county}.xlsx", county, code), f"{county}.xlsx")

    outcomes = Intake(archive).run([bundle])

    assert [o.kind for o in outcomes] == ["accepted"] * 3
    assert sorted(r["county"] for r in archive.current("2019-11")) == sorted(c for c, _ in COUNTIES[:3])


def test_an_encrypted_workbook_needs_the_password(tmp_path: Path, archive: Archive) -> None:
    locked = protect_copy(county_workbook(tmp_path / "w.xlsx"), "督查2019", tmp_path / "加密.xlsx")

    without = Intake(archive).run([locked])[0]
    wrong = Intake(archive, password="不对").run([locked])[0]
    right = Intake(archive, password="督查2019").run([locked])[0]

    assert (without.kind, wrong.kind, right.kind) == ("rejected", "rejected", "accepted")
    assert "加密" in without.reason and "密码" in wrong.reason
    assert archive.submissions()[0]["total"] == 100


# --- crash safety and concurrency ----------------------------------------------------------------------------------

def _inbox(tmp_path: Path, n: int = 16) -> Path:
    inbox = tmp_path / "收件"
    inbox.mkdir()
    for i in range(n):
        county, code = COUNTIES[i % len(COUNTIES)]
        county_workbook(inbox / f"{i:02d}-{county}.xlsx", county, code, month=f"2019-{1 + i // len(COUNTIES):02d}")
    return inbox


def _intake_process(inbox: Path, folder: Path, output: Path | None = None) -> subprocess.Popen:
    """`ducha intake` in a child process; its console output goes to `output` (else nowhere)."""
    env = {**os.environ, "DUCHA_LOG_DIR": str(folder.parent / "logs")}
    sink = output.open("w", encoding="utf-8") if output else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "ducha", "intake", str(inbox), "--archive", str(folder)],
                            stdout=sink, stderr=subprocess.STDOUT, env=env)


def _assert_consistent(folder: Path) -> list:
    with Archive(folder) as a:
        assert a.integrity_check() == "ok"
        rows = a.submissions()
        for row in rows:
            assert len(a.results("scores", row["id"])) == 7, "a submission without its scores"
            assert len(a.results("indicators", row["id"])) > 0
            assert (folder / row["stored_path"]).exists()
        assert len({r["sha256"] for r in rows}) == len(rows)
        return rows


def _wait_for_submissions(folder: Path, count: int, process: subprocess.Popen, deadline: float) -> None:
    """Poll the archive (read-only) until it holds `count` submissions, the intake ends, or the deadline passes."""
    database = folder / "ducha.sqlite3"
    while process.poll() is None and time.perf_counter() < deadline:
        if database.exists():
            try:
                with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=0.1)) as connection:
                    if connection.execute("SELECT count(*) FROM submissions").fetchone()[0] >= count:
                        return
            except sqlite3.Error:
                pass  # not created yet, or locked for a moment
        time.sleep(0.01)


def test_intake_killed_at_random_moments_leaves_the_archive_consistent_and_the_next_run_completes(
        tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    rng = random.Random(20191129)
    started = time.perf_counter()
    assert _intake_process(inbox, tmp_path / "计时").wait(timeout=300) == 0
    whole = time.perf_counter() - started  # kill moments are spread over one whole run on this machine
    partial = 0
    for trial in range(20):
        folder = tmp_path / f"档案{trial}"
        process = _intake_process(inbox, folder)
        if trial % 2:  # at a random moment of a whole run
            time.sleep(rng.uniform(0.2, 1.0) * whole)
        else:  # once a random number of submissions is in: mid-batch however fast or slow this machine is today
            _wait_for_submissions(folder, rng.randint(1, 15), process, deadline=time.perf_counter() + 3 * whole)
        process.send_signal(signal.SIGKILL)
        process.wait()
        before = _assert_consistent(folder) if (folder / "ducha.sqlite3").exists() else []
        assert main(["intake", str(inbox), "--archive", str(folder), "--no-receipts"]) == 0
        after = _assert_consistent(folder)
        assert len(after) == 16
        assert {r["sha256"] for r in before} <= {r["sha256"] for r in after}
        partial += 0 < len(before) < 16
    assert partial >= 5, "the kills should land in the middle of the batch"


def test_two_intakes_at_once_store_each_workbook_once(tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    folder = tmp_path / "档案"
    outputs = [tmp_path / "first.txt", tmp_path / "second.txt"]
    first, second = (_intake_process(inbox, folder, output) for output in outputs)
    codes = (first.wait(timeout=300), second.wait(timeout=300))
    assert codes == (0, 0), [(code, out.read_text(encoding="utf-8")[-2000:]) for code, out in zip(codes, outputs,
                                                                                                    strict=True)]

    rows = _assert_consistent(folder)
    assert len(rows) == 16
    with Archive(folder) as a:
        kinds = [e["kind"] for e in a.events()]
    assert kinds.count("accepted") == 16 and kinds.count("duplicate") == 16


def test_the_summary_button_takes_in_a_folder_and_writes_the_report_without_reading_its_own_archive(
        tmp_path: Path) -> None:
    from ducha.app import excel

    inbox = _inbox(tmp_path, n=4)

    class Books:  # stands in for Excel's Workbooks.Open only
        opened: ClassVar[list[str]] = []

        def open(self, path: str) -> None:
            self.opened.append(path)

    class App:
        books = Books()

    class Book:
        app = App()

    first = excel.summarise(Book(), lambda text: None, pick_folder=lambda book: str(inbox))
    again = excel.summarise(Book(), lambda text: None, pick_folder=lambda book: str(inbox))

    report = inbox / "督查档案" / "督查评分汇总-2019-01.xlsx"
    assert "接收 4 份" in first and str(report) in first
    assert "接收 0 份，重复 4 份，拒收 0 份" in again  # neither the originals nor the receipts were read back
    assert Books.opened == [str(report), str(report)]
    assert load_workbook(report).sheetnames[0] == "评分汇总"
    assert excel.summarise(Book(), lambda text: None, pick_folder=lambda book: None) == "没有选择文件夹，汇总已取消。"


def test_intake_expands_wildcards_itself_as_windows_cmd_does_not(tmp_path: Path) -> None:
    for county, code in COUNTIES[:2]:
        county_workbook(tmp_path / f"{county}.xlsx", county, code)

    assert main(["intake", str(tmp_path / "*.xlsx"), "--archive", str(tmp_path / "档案")]) == 0

    with Archive(tmp_path / "档案") as a:
        assert len(a.submissions()) == 2
    assert main(["intake", str(tmp_path / "*.eml"), "--archive", str(tmp_path / "档案")]) == 2


def test_a_duplicate_also_gets_a_receipt_saying_so(tmp_path: Path, archive: Archive) -> None:
    book = county_workbook(tmp_path / "a.xlsx")

    outcomes = Intake(archive).run([book, book])

    assert outcomes[1].receipt is not None and outcomes[1].receipt != outcomes[0].receipt
    assert ("处理结果", "重复提交") in [r[:2] for r in receipt_rows(outcomes[1].receipt)]


def test_the_archive_records_its_schema_version_and_migrates_only_once(tmp_path: Path) -> None:
    from ducha.prefecture.archive import MIGRATIONS

    with Archive(tmp_path / "档案") as first:
        assert first.schema_version == len(MIGRATIONS)
        first.add_event("ignored", "x.pdf", "文件 x.pdf", reason="不是工作簿")
    with Archive(tmp_path / "档案") as again:  # reopening runs no migration twice and keeps the data
        assert again.schema_version == len(MIGRATIONS)
        assert [e["file_name"] for e in again.events()] == ["x.pdf"]


def test_protect_writes_an_encrypted_copy_that_intake_takes_with_the_password(tmp_path: Path, monkeypatch) -> None:
    book = county_workbook(tmp_path / "清水县.xlsx")
    before = book.read_bytes()
    monkeypatch.setenv("DUCHA_PASSWORD", "督查2019")

    assert main(["protect", str(book)]) == 0

    locked = tmp_path / "清水县.加密.xlsx"
    assert book.read_bytes() == before and locked.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    assert main(["intake", str(locked), "--archive", str(tmp_path / "档案")]) == 0
    monkeypatch.delenv("DUCHA_PASSWORD")
    assert main(["protect", str(book)]) == 2


def test_a_formula_error_cell_is_found_through_intake_as_through_check(tmp_path: Path, archive: Archive) -> None:
    sheets = valid_sheets()
    cell = set_cell(sheets, "农户调查", "户主姓名", 0, "#REF!")  # openpyxl writes it as an error cell
    clean = county_workbook(tmp_path / "clean.xlsx", "麻江县", "522635")

    outcomes = Intake(archive).run([write_workbook(tmp_path / "err.xlsx", sheets), clean])

    codes = {o.county: [(f["code"], f["cell"]) for f in archive.results("findings", o.submission_id)]
             for o in outcomes}
    assert codes == {"清水县": [("formula-error", cell)], "麻江县": []}
