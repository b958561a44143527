"""Every command that writes, killed (SIGKILL) at random moments: nothing is ever left half-written.

For `check --in-place`, `run --out`, `ledger export --out` and `report --out`, two whole runs are timed first,
then TRIALS runs are killed at random moments spread over 30 %–100 % of the shorter one (the first 30 % is
interpreter start-up and imports, where nothing is written; a run that finishes before its kill must be fine too).
After each kill:

* the input workbook is byte-identical, or (for --in-place) a complete valid workbook whose input cell values equal
  the original's, and then a backup in 「ducha备份」 is byte-identical to the original;
* every backup that exists is complete (byte-identical to the original);
* the output is absent, or byte-identical to what was there before, or a complete workbook openpyxl opens with the
  sheets a finished run writes; temp files (`.*.tmp`) may remain but never under the output's name;
* the archive the command read stays consistent.

Runtime: about 1.3 s per trial on a 2-CPU machine, so roughly 90 s for the file (4 commands × 20 trials).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ducha.adapters.files import BACKUP_FOLDER
from ducha.app.cli import main
from ducha.prefecture.archive import Archive
from markdown_workbook import set_cell, set_form, valid_sheets, write_workbook

TRIALS = int(os.environ.get("DUCHA_CRASH_TRIALS", 20))
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")


def inspection_workbook(path: Path) -> Path:
    sheets = valid_sheets()
    set_form(sheets, "基本信息", "被督查县", "清水县")
    set_form(sheets, "基本信息", "县级区划代码", "522631")
    set_cell(sheets, "农户调查", "家庭人口", 0, 0)  # one error, so the ledger and the report have something to say
    return write_workbook(path, sheets)


def values(path: Path, sheets: list[str] | None = None) -> dict[str, list[tuple]]:
    wb = load_workbook(path, read_only=True)
    try:
        return {name: [tuple(row) for row in wb[name].iter_rows(values_only=True)]
                for name in (sheets if sheets is not None else wb.sheetnames)}
    finally:
        wb.close()


def sheet_names(path: Path) -> list[str]:
    wb = load_workbook(path, read_only=True)
    try:
        return list(wb.sheetnames)
    finally:
        wb.close()


def _process(args: list[str], cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "DUCHA_LOG_DIR": str(cwd / "logs")}
    return subprocess.Popen([sys.executable, "-m", "ducha", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_at_random_moments(args: Callable[[int], list[str]], cwd: Path, prepare: Callable[[int], None],
                           verify: Callable[[int, bool], None], seed: int) -> tuple[int, int]:
    """Time one whole run, then kill TRIALS runs at random moments; returns (killed, finished)."""
    prepare(-1)
    started = time.perf_counter()
    assert _process(args(-1), cwd).wait(timeout=120) in (0, 1)
    whole = time.perf_counter() - started
    verify(-1, False)
    started = time.perf_counter()  # the first run also warms caches: time a second one and take the shorter
    assert _process(args(-1), cwd).wait(timeout=120) in (0, 1)
    whole = min(whole, time.perf_counter() - started)
    rng = random.Random(seed)
    killed = finished = 0
    for trial in range(TRIALS):
        prepare(trial)
        process = _process(args(trial), cwd)
        time.sleep(rng.uniform(0.3, 1.0) * whole)
        was_running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        was_killed = was_running and process.returncode == -signal.SIGKILL
        killed += was_killed
        finished += not was_killed
        verify(trial, was_killed)
    return killed, finished


def assert_no_temp_as_target(folder: Path, target_name: str) -> None:
    for leftover in folder.glob(".*.tmp"):
        assert leftover.name != target_name


def test_check_in_place_killed_leaves_the_original_or_a_complete_workbook_with_a_backup(tmp_path: Path) -> None:
    original = inspection_workbook(tmp_path / "原始.xlsx").read_bytes()
    original_values = values(tmp_path / "原始.xlsx")
    changed = 0

    def folder(trial: int) -> Path:
        return tmp_path / f"试验{trial}"

    def prepare(trial: int) -> None:
        folder(trial).mkdir()
        (folder(trial) / "督查工作簿.xlsx").write_bytes(original)

    def verify(trial: int, was_killed: bool) -> None:
        nonlocal changed
        here = folder(trial)
        workbook = here / "督查工作簿.xlsx"
        assert workbook.exists(), "the workbook itself must never disappear"
        backups = sorted((here / BACKUP_FOLDER).glob("*.xlsx")) if (here / BACKUP_FOLDER).exists() else []
        for copy in backups:
            assert copy.read_bytes() == original, f"half-written backup {copy.name}"
        if workbook.read_bytes() != original:
            changed += 1
            assert values(workbook, list(original_values)) == original_values, "input values changed"
            assert backups, "the workbook changed in place without a backup"
        elif not was_killed:
            pytest.fail("a finished --in-place run did not change the workbook")
        assert_no_temp_as_target(here, workbook.name)

    killed, _ = kill_at_random_moments(lambda t: ["check", str(folder(t) / "督查工作簿.xlsx"), "--in-place"],
                                              tmp_path, prepare, verify, seed=20191101)
    assert killed >= TRIALS // 3, "most kills should land while the command runs"
    assert changed >= 1


def test_run_out_killed_leaves_the_input_untouched_and_no_half_written_output(tmp_path: Path) -> None:
    source = inspection_workbook(tmp_path / "督查工作簿.xlsx")
    original = source.read_bytes()
    original_values = values(source)
    previous = tmp_path / "上次结果.xlsx"
    write_workbook(previous, {"旧结果": [["这是上次的结果"]]})
    expected_sheets: list[str] = []

    def out(trial: int) -> Path:
        return tmp_path / f"结果{trial}.xlsx"

    def prepare(trial: int) -> None:
        if trial % 2:  # every other trial overwrites an existing output
            shutil.copyfile(previous, out(trial))

    def verify(trial: int, was_killed: bool) -> None:
        assert source.read_bytes() == original, "the input workbook changed"
        target = out(trial)
        if trial == -1:
            expected_sheets.extend(sheet_names(target))
            return
        if not target.exists():
            assert was_killed and trial % 2 == 0
        elif target.read_bytes() != previous.read_bytes():
            assert sheet_names(target) == expected_sheets, "an incomplete output"
            assert values(target, list(original_values)) == original_values
        else:
            assert was_killed
        assert_no_temp_as_target(tmp_path, target.name)
        assert not (tmp_path / BACKUP_FOLDER).exists(), "--out must not back up or touch the input"

    killed, _ = kill_at_random_moments(lambda t: ["run", str(source), "--out", str(out(t))], tmp_path, prepare,
                                       verify, seed=20191102)
    assert killed >= TRIALS // 3


@pytest.fixture(scope="module")
def archive_folder(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("档案")
    inbox = base / "收件"
    inbox.mkdir()
    inspection_workbook(inbox / "清水县.xlsx")
    folder = base / "督查档案"
    assert main(["intake", str(inbox), "--archive", str(folder), "--no-receipts"]) == 0
    return folder


def _output_from_archive(tmp_path: Path, archive_folder: Path, command: Callable[[Path], list[str]],
                         seed: int) -> None:
    previous = tmp_path / "上次.xlsx"
    write_workbook(previous, {"旧": [["上次导出的内容"]]})
    originals = {p: p.read_bytes() for p in (archive_folder / "原件").rglob("*") if p.is_file()}
    expected_sheets: list[str] = []

    def out(trial: int) -> Path:
        return tmp_path / f"输出{trial}.xlsx"

    def prepare(trial: int) -> None:
        if trial % 2:
            shutil.copyfile(previous, out(trial))

    def verify(trial: int, was_killed: bool) -> None:
        target = out(trial)
        if trial == -1:
            expected_sheets.extend(sheet_names(target))
        elif not target.exists():
            assert was_killed and trial % 2 == 0
        elif target.read_bytes() != previous.read_bytes():
            assert sheet_names(target) == expected_sheets, "an incomplete output"
            assert values(target), "an output that cannot be read back"
        else:
            assert was_killed
        assert_no_temp_as_target(tmp_path, target.name)
        with Archive(archive_folder) as archive:
            assert archive.integrity_check() == "ok"
            assert len(archive.submissions()) == 1
        assert {p: p.read_bytes() for p in originals} == originals, "the stored originals changed"

    killed, _ = kill_at_random_moments(lambda t: command(out(t)), tmp_path, prepare, verify, seed)
    assert killed >= TRIALS // 3


def test_ledger_export_killed_never_leaves_a_half_written_ledger(tmp_path: Path, archive_folder: Path) -> None:
    _output_from_archive(tmp_path, archive_folder,
                         lambda out: ["ledger", "export", "--archive", str(archive_folder), "--out", str(out)],
                         seed=20191103)


def test_report_killed_never_leaves_a_half_written_report(tmp_path: Path, archive_folder: Path) -> None:
    _output_from_archive(tmp_path, archive_folder,
                         lambda out: ["report", "--month", "2019-11", "--archive", str(archive_folder), "--out",
                                      str(out)],
                         seed=20191104)


def test_check_in_place_keeps_the_workbooks_file_permissions(tmp_path: Path) -> None:
    """Replacing the workbook atomically must not make a shared workbook private (mkstemp creates 0600 files)."""
    workbook = inspection_workbook(tmp_path / "督查工作簿.xlsx")
    workbook.chmod(0o664)

    main(["check", str(workbook), "--in-place"])

    assert oct(workbook.stat().st_mode & 0o777) == oct(0o664)


def test_sample_killed_never_leaves_a_half_written_workbook(tmp_path: Path, archive_folder: Path) -> None:
    from ducha.app.demo import write_demo_roster

    roster = write_demo_roster(tmp_path / "名册.xlsx")
    _output_from_archive(tmp_path, archive_folder,
                         lambda out: ["sample", str(roster), "--month", "2019-12", "--county", "522631", "--seed",
                                      "7", "--archive", str(archive_folder), "--out", str(out)],
                         seed=20191105)
