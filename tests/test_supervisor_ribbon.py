"""The 州督查办 buttons (问题台账, 督办函, 回执, 裁定冲突, 设置, 自检) through xlwings' remote engine, their dialogs
injected: each does what the command line does, writes nothing into the open workbook, and answers in Chinese."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from ducha.app import excel
from ducha.app.addin import ADDIN_DIR, ADDIN_FILENAME, CUSTOMUI14_PART, ON_ACTION, RIBBON_XML, render_ribbon_xml
from ducha.app.cli import main
from ducha.app.commands import BY_NAME, TABLE
from ducha.app.ribbon import Dialogs
from ducha.prefecture import ledger
from ducha.prefecture.archive import CONFLICT, CURRENT, SUPERSEDED, Archive, Submission, sha256_of
from live_payload import Client, payload_from_xlsx

AT = "2019-11-20T10:00:00+08:00"
MONTH = "2019-11"
BUTTONS = ("ledger_button", "letters_button", "receipts", "resolve_button", "settings_button", "doctor")
CJK = re.compile(r"[\u4e00-\u9fff]")


class ScriptedDialogs(Dialogs):
    """Answers Excel's dialogs from a script and records what the button opened."""

    def __init__(self, folder: Path | None, answers: list[str | None] = (), confirm: bool = False) -> None:
        super().__init__(None)
        self.folder, self.answers, self.answer_yes = folder, list(answers), confirm
        self.prompts: list[str] = []
        self.workbooks: list[Path] = []
        self.folders: list[Path] = []

    def pick_folder(self, title: str) -> str | None:
        self.prompts.append(title)
        return str(self.folder) if self.folder else None

    def ask(self, prompt: str, title: str, default: str = "") -> str | None:
        self.prompts.append(prompt)
        return self.answers.pop(0) if self.answers else default

    def confirm(self, prompt: str, title: str) -> bool:
        self.prompts.append(prompt)
        return self.answer_yes

    def open_workbook(self, path: Path) -> bool:
        self.workbooks.append(Path(path))
        return True

    def open_folder(self, path: Path) -> bool:
        self.folders.append(Path(path))
        return True


def flag(problem: str, household: str, row: int) -> dict[str, Any]:
    return {"level": "农户", "severity": "错误", "sheet": "households", "row": row, "cell": "", "township": "龙场镇",
            "village": "新寨村", "household": household, "masked_id": "5201**********1234", "problem": problem,
            "reasons": f"{problem}：户年人均纯收入低于标准", "action": f"核实并纠正{problem}"}


def submit(archive: Archive, county: str, code: str, group: str, flags: list[dict[str, Any]]) -> int:
    content = f"{county}|{group}".encode()
    sub = Submission(sha256=sha256_of(content), file_name=f"{county}-{group}.xlsx", source="邮件", received_at=AT,
                     county=county, county_code=code, month=MONTH, inspection_group=group, flags=flags, errors=1,
                     findings=[{"code": "E101", "severity": "错误", "sheet": "农户调查", "cell": "C5",
                                "field": "户主姓名", "value": "", "message": "户主姓名必填，请填写。"}])
    stored = archive.add_submission(sub, archive.store_original(content, ".xlsx"))
    ledger.sync_from_flags(archive, stored.submission_id)
    return stored.submission_id


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    """An archive with two counties' problems and one conflict (乙县 from two groups)."""
    folder = tmp_path / "督查档案"
    with Archive(folder) as archive:
        submit(archive, "甲县", "520101", "第一组", [flag("收入低于标准", "张三", 7), flag("未落实医保", "李四", 8)])
        submit(archive, "乙县", "520102", "第二组", [flag("住房不安全", "王五", 9)])
        submit(archive, "乙县", "520102", "第三组", [])
    return folder


@pytest.fixture
def progress(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the buttons put on the status bar (the remote engine has none, so the bar records it here)."""
    shown: list[str] = []

    class Recording(excel._StatusBar):
        def show(self, text: str) -> None:
            shown.append(text)
            super().show(text)

    monkeypatch.setattr(excel, "_StatusBar", Recording)
    return shown


def any_workbook(tmp_path: Path) -> Path:
    book = Workbook()
    book.active.title = "工作表1"
    book.active["A1"], book.active["B2"] = "州督查办", 42
    path = tmp_path / "随便打开的工作簿.xlsx"
    book.save(path)
    return path


def press(path: Path, button: str, dialogs: Dialogs) -> tuple[str, Client, list[Any]]:
    """Press a button on the workbook at `path`, opened in a remote-engine client; returns the message, the client
    and the actions applied to it."""
    client = Client(payload_from_xlsx(path))
    before = {s["name"]: s["values"] for s in client.payload["sheets"]}
    book = client.book()
    message = excel.run_on_book(book, button, dialogs)
    applied = client.apply(book.json()["actions"])
    assert [a.func for a in applied] == ["alert"], "a 州督查办 button writes nothing into the open workbook"
    assert {s["name"]: s["values"] for s in client.payload["sheets"]} == before
    assert client.alerts == [message] and CJK.search(message) and not re.search(r"Traceback|Error", message)
    return message, client, applied


def copy_archive(folder: Path, name: str) -> Path:
    return Path(shutil.copytree(folder, folder.parent / name))


def statuses(folder: Path) -> dict[int, str]:
    with Archive(folder) as archive:
        return {r["id"]: r["status"] for r in archive.submissions()}


def ledger_statuses(folder: Path) -> dict[str, str]:
    with Archive(folder) as archive:
        return {e["id"]: e["status"] for e in ledger.entries(archive)}


def sheet_values(path: Path) -> dict[str, list[tuple]]:
    book = load_workbook(path)
    return {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}


# --- the ribbon, the VBA and the table -----------------------------------------------------------------------


def test_the_prefecture_group_in_the_built_addin_agrees_with_the_table_and_the_vba() -> None:
    with zipfile.ZipFile(ADDIN_DIR / ADDIN_FILENAME) as package:
        built = package.read(CUSTOMUI14_PART).decode("utf-8")
    assert built == render_ribbon_xml() == (ADDIN_DIR / RIBBON_XML).read_text(encoding="utf-8")
    group = re.search(r'<group id="grpPrefecture" label="州督查办">(.*?)</group>', built, re.S).group(1)
    ids = re.findall(r'<button id="(\w+)"', group)
    assert ids == ["report", "sample", *BUTTONS]
    assert ids == [c.name for c in TABLE if c.group == "grpPrefecture"]
    assert set(re.findall(r'onAction="([\w.]+)"', group)) == {ON_ACTION}
    for name in BUTTONS:
        command = BY_NAME[name]
        assert command.action is not None and command.run is None
        assert command.cli == "" or command.subcommand == name  # a button, or a button and its command
        assert f'label="{command.label}"' in group


# --- 问题台账 --------------------------------------------------------------------------------------------------


def test_ledger_button_exports_the_months_ledger_like_the_cli_and_opens_it(archive_dir, tmp_path, progress):
    dialogs = ScriptedDialogs(archive_dir, [MONTH])
    message, _, _ = press(any_workbook(tmp_path), "ledger_button", dialogs)
    out = archive_dir / f"问题台账-{MONTH}.xlsx"
    assert dialogs.workbooks == [out] and "问题台账已导出" in message and "共 3 条" in message
    assert main(["ledger", "export", "--month", MONTH, "--archive", str(archive_dir),
                 "--out", str(tmp_path / "cli.xlsx")]) == 0
    assert sheet_values(out) == sheet_values(tmp_path / "cli.xlsx")
    assert "督查助手：正在导出问题台账…" in progress


def test_ledger_button_on_an_open_ledger_takes_the_edits_in_and_names_refused_rows(archive_dir, tmp_path):
    out = ledger.export_ledger(Archive(archive_dir), tmp_path / "问题台账.xlsx", month=MONTH)
    book = load_workbook(out)
    sheet = book[ledger.LEDGER_SHEET]
    status, note = ledger._column("status"), ledger._column("note")
    first, second = ledger.HEADER_ROW + 1, ledger.HEADER_ROW + 2
    sheet.cell(first, status).value, sheet.cell(first, note).value = ledger.IN_PROGRESS, "已安排核实"
    sheet.cell(second, status).value = ledger.PASSED  # 待整改 → 回访通过 is not allowed
    book.save(out)
    cli_archive = copy_archive(archive_dir, "cli")

    message, _, _ = press(out, "ledger_button", ScriptedDialogs(archive_dir))
    assert "更新 1 条" in message and "拒绝 1 条" in message
    assert f"「问题台账」第 {second} 行" in message and "回访结果只能在「已整改」之后登记" in message

    assert main(["ledger", "import", str(out), "--archive", str(cli_archive)]) == 1  # a row refused
    assert ledger_statuses(archive_dir) == ledger_statuses(cli_archive)
    assert sorted(ledger_statuses(archive_dir).values()) == sorted([ledger.IN_PROGRESS, ledger.PENDING, ledger.PENDING])


def test_ledger_button_without_an_archive_says_so(tmp_path):
    message, _, _ = press(any_workbook(tmp_path), "ledger_button", ScriptedDialogs(tmp_path))
    assert "没有找到督查档案" in message


# --- 督办函 ---------------------------------------------------------------------------------------------------


def test_letters_button_writes_the_cli_letters_and_shows_the_folder(archive_dir, tmp_path, progress):
    cli_archive = copy_archive(archive_dir, "cli")
    dialogs = ScriptedDialogs(archive_dir, [MONTH])
    message, _, _ = press(any_workbook(tmp_path), "letters_button", dialogs)
    folder = archive_dir / f"整改督办函-{MONTH}"
    assert dialogs.folders == [folder] and "已生成 2 份督办函" in message
    cli_out = tmp_path / "letters_cli"
    assert main(["letters", "--month", MONTH, "--archive", str(cli_archive), "--out", str(cli_out)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in cli_out.iterdir())
    assert any("督办函" in text for text in progress)


def test_letters_button_with_a_bad_month_explains_and_writes_nothing(archive_dir, tmp_path):
    message, _, _ = press(any_workbook(tmp_path), "letters_button", ScriptedDialogs(archive_dir, ["2019-13"]))
    assert "督查月份「2019-13」无效" in message
    assert not (archive_dir / "整改督办函-2019-13").exists()


# --- 回执 -----------------------------------------------------------------------------------------------------


def test_receipts_button_reissues_the_months_receipts_from_the_archive(archive_dir, tmp_path):
    dialogs = ScriptedDialogs(archive_dir, [MONTH], confirm=True)
    message, _, _ = press(any_workbook(tmp_path), "receipts", dialogs)
    folder = archive_dir / "回执"
    written = sorted(folder.glob("*.xlsx"))
    assert dialogs.folders == [folder] and "已重新生成 3 份回执" in message and len(written) == 3
    texts = [" ".join(str(v) for row in sheet_values(p)["回执"] for v in row if v) for p in written]
    assert sum("冲突待处理" in t for t in texts) == 2 and all("户主姓名必填" in t for t in texts)


def test_receipts_button_writes_what_the_command_line_writes(archive_dir, tmp_path, capsys):
    from ducha.app.cli import main

    assert main(["receipts", "--month", MONTH, "--archive", str(archive_dir), "--reissue"]) == 0
    folder = archive_dir / "回执"
    by_cli = {p.name: sheet_values(p) for p in folder.glob("*.xlsx")}
    assert f"已重新生成 {len(by_cli)} 份回执" in capsys.readouterr().out and len(by_cli) == 3
    for p in folder.glob("*.xlsx"):
        p.unlink()
    message, _, _ = press(any_workbook(tmp_path), "receipts", ScriptedDialogs(archive_dir, [MONTH], confirm=True))
    assert "已重新生成 3 份回执" in message
    assert {p.name: sheet_values(p) for p in folder.glob("*.xlsx")} == by_cli
    assert main(["receipts", "--month", MONTH, "--archive", str(archive_dir)]) == 0
    listed = capsys.readouterr().out
    assert "3 份提交" in listed and all(name in listed for name in by_cli)


def test_receipts_button_declined_only_shows_the_folder(archive_dir, tmp_path):
    dialogs = ScriptedDialogs(archive_dir, [MONTH], confirm=False)
    message, _, _ = press(any_workbook(tmp_path), "receipts", dialogs)
    assert dialogs.folders == [archive_dir / "回执"] and "回执文件夹" in message
    assert list((archive_dir / "回执").glob("*.xlsx")) == []


# --- 裁定冲突 -------------------------------------------------------------------------------------------------


def test_resolve_button_lists_conflicts_keeps_the_chosen_one_and_records_who_and_when(archive_dir, tmp_path,
                                                                                       monkeypatch):
    monkeypatch.setenv("USERNAME", "王督查")
    cli_archive = copy_archive(archive_dir, "cli")
    with Archive(archive_dir) as archive:
        waiting = [r["id"] for r in archive.open_conflicts()]
    assert len(waiting) == 2
    dialogs = ScriptedDialogs(archive_dir, [str(waiting[1])])
    message, _, _ = press(any_workbook(tmp_path), "resolve_button", dialogs)
    listing = archive_dir / "冲突裁定.xlsx"
    assert dialogs.workbooks == [listing] and f"已采用提交 {waiting[1]}" in message and "王督查" in message

    assert main(["resolve", str(waiting[1]), "--archive", str(cli_archive)]) == 0
    assert statuses(archive_dir) == statuses(cli_archive)
    assert statuses(archive_dir)[waiting[0]] == SUPERSEDED and statuses(archive_dir)[waiting[1]] == CURRENT
    with Archive(archive_dir) as archive:
        ruling = archive.rulings()[-1]
    assert (ruling["source"], ruling["submission_id"]) == ("王督查", waiting[1]) and ruling["at"]
    sheets = sheet_values(listing)
    assert len(sheets["待裁定冲突"]) == 2  # title and header: nothing left to decide
    assert sheets["裁定记录"][2][1:3] == ("王督查", str(waiting[1]))


def test_resolve_button_refuses_a_number_that_is_not_in_conflict(archive_dir, tmp_path):
    message, _, _ = press(any_workbook(tmp_path), "resolve_button", ScriptedDialogs(archive_dir, ["1"]))
    assert "「1」不是待裁定的提交编号" in message
    assert sorted(statuses(archive_dir).values()) == [CONFLICT, CONFLICT, CURRENT]


# --- 设置 -----------------------------------------------------------------------------------------------------


def test_settings_button_creates_the_cli_settings_and_checks_an_open_one(archive_dir, tmp_path):
    dialogs = ScriptedDialogs(archive_dir)
    message, _, _ = press(any_workbook(tmp_path), "settings_button", dialogs)
    path = archive_dir / "设置.xlsx"
    assert dialogs.workbooks == [path] and "已生成默认设置" in message
    cli_archive = tmp_path / "cli"
    assert main(["settings", "--archive", str(cli_archive)]) == 0
    assert sheet_values(path) == sheet_values(cli_archive / "设置.xlsx")

    book = load_workbook(path)
    sheet = book["设置"]
    row = next(r for r in range(1, sheet.max_row + 1) if sheet.cell(r, 1).value == "整改期限（天）")
    sheet.cell(row, 2).value = "很久"
    book.save(path)
    client = Client(payload_from_xlsx(path, name=str(path)))
    message = excel.run_on_book(client.book(), "settings_button", ScriptedDialogs(None))
    assert f"设置!B{row}" in message and "有误" in message


# --- 自检 -----------------------------------------------------------------------------------------------------


def test_doctor_button_reports_what_the_cli_reports(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DUCHA_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "appdata"))
    message, _, _ = press(any_workbook(tmp_path), "doctor", ScriptedDialogs(None))
    assert message.startswith("督查助手自检") and "✘ 加载项文件" in message and "解决办法" in message
    code = main(["addin", "doctor", "--workbook", "随便打开的工作簿.xlsx"])
    printed = capsys.readouterr()
    assert code == 1
    cli_lines = [line for line in (printed.out + printed.err).splitlines() if "工作簿路径" not in line]
    assert [line for line in message.splitlines() if "工作簿路径" not in line] == [
        line.strip() if not line.startswith("    ") else line for line in cli_lines]
