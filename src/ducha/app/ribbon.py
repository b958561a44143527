"""The ribbon's own actions, beside the workbook commands: 汇总, 抽样 and 关于 (the other 州督查办 buttons are in
`ducha.app.supervisor`). Each takes the clerk's workbook, a progress callback and the `Dialogs` it asks with, and
returns the Chinese message the ribbon shows."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ducha import __version__
from ducha.app.logs import log_path

log = logging.getLogger("ducha.excel")

Progress = Callable[[str], None]


class Dialogs:
    """How a button asks and shows: Excel's own dialogs (folder and file pickers, InputBox, MsgBox) on desktop
    Excel. Tests inject a subclass that answers from a script."""

    def __init__(self, book: Any) -> None:
        self.book = book

    def pick_folder(self, title: str) -> str | None:
        """Excel's folder picker (msoFileDialogFolderPicker = 4); None when cancelled."""
        dialog = self.book.app.api.FileDialog(4)
        dialog.Title = title
        return str(dialog.SelectedItems(1)) if dialog.Show() == -1 else None

    def pick_file(self, title: str) -> str | None:
        """Excel's file picker (msoFileDialogFilePicker = 3); None when cancelled."""
        dialog = self.book.app.api.FileDialog(3)
        dialog.Title = title
        dialog.AllowMultiSelect = False
        return str(dialog.SelectedItems(1)) if dialog.Show() == -1 else None

    def ask(self, prompt: str, title: str, default: str = "") -> str | None:
        """Excel's InputBox (Type 2 = text); None when cancelled or left empty."""
        answer = self.book.app.api.InputBox(prompt, title, default, Type=2)
        return str(answer).strip() or None if answer not in (False, None) else None

    def confirm(self, prompt: str, title: str) -> bool:
        """A yes/no MsgBox."""
        return self.book.app.alert(prompt, title=title, buttons="yes_no", mode="info") == "yes"

    def open_workbook(self, path: Path) -> bool:
        """Open a workbook in the clerk's Excel; False when it cannot (the message then names the file)."""
        return _open_in_excel(self.book, path)

    def open_folder(self, path: Path) -> bool:
        """Show a folder in Explorer (Finder, or the desktop's file manager)."""
        try:
            if sys.platform == "win32":
                os.startfile(path)  # type: ignore[attr-defined]
            else:
                subprocess.Popen(["open" if sys.platform == "darwin" else "xdg-open", str(path)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError:
            log.warning("could not show the folder %s", path, exc_info=True)
            return False
        return True


def current_user() -> str:
    """Who is at the keyboard, for the ledger history and the record of a ruling."""
    return os.environ.get("USERNAME") or os.environ.get("USER") or "州督查办"


def next_month(today: dt.date | None = None) -> str:
    today = today or dt.date.today()
    return dt.date(today.year + today.month // 12, today.month % 12 + 1, 1).strftime("%Y-%m")


def summarise(book: Any, progress: Progress, dialogs: Dialogs | None = None,
              pick_folder: Callable[[Any], str | None] | None = None) -> str:
    """The 汇总 button: choose the folder of emailed workbooks, take them in (and the new messages of the mailbox the
    office's 设置 name, if any), write and open the month's report."""
    from ducha.prefecture.archive import DEFAULT_FOLDER
    from ducha.prefecture.intake import summarise_folder

    dialogs = dialogs or Dialogs(book)
    folder = (pick_folder(book) if pick_folder else
              dialogs.pick_folder("选择存放各县报回工作簿（邮件、压缩包也可以）的文件夹"))
    if not folder:
        return "没有选择文件夹，汇总已取消。"
    mail_lines, mailed = _take_configured_mailbox(Path(folder) / DEFAULT_FOLDER, progress)
    progress("督查助手：正在接收各县工作簿并汇总…")
    outcomes, report = summarise_folder(Path(folder))
    outcomes = [*mailed, *outcomes]
    taken = sum(o.kind in ("accepted", "conflict") for o in outcomes)
    rejected = [o for o in outcomes if o.kind == "rejected"]
    lines = [*mail_lines,
             f"接收 {taken} 份，重复 {sum(o.kind == 'duplicate' for o in outcomes)} 份，拒收 {len(rejected)} 份。"]
    lines += [f"拒收：{o.name}（{o.reason}）" for o in rejected[:5]]
    if report is None:
        return "\n".join([*lines, "文件夹里没有可以汇总的督查工作簿。"])
    lines.append(f"汇总工作簿：{report}；档案和回执在：{report.parent}")
    if not dialogs.open_workbook(report):
        lines.append("请在 Excel 中打开上面的汇总工作簿。")
    return "\n".join(lines)


def _take_configured_mailbox(archive_folder: Path, progress: Progress) -> tuple[list[str], list]:
    """When the office's 设置 name a mailbox (IMAP 服务器 and 账号), take in its new messages first; what it did, in
    Chinese, and the outcomes. Not configured: nothing (the folder alone is taken in)."""
    from ducha.prefecture.archive import Archive
    from ducha.prefecture.intake import Intake
    from ducha.prefecture.mailbox import MailboxError, mailbox_config, mailbox_password, take_mailbox
    from ducha.prefecture.settings import SettingsError, load_settings

    try:
        settings = load_settings(archive_folder)
    except SettingsError as exc:
        return [f"「设置」有误，未读收件邮箱：{exc}"], []
    if not (settings.imap_host and settings.mail_user):
        return [], []
    progress("督查助手：正在从收件邮箱接收新邮件…")
    try:
        config = mailbox_config(archive_folder)
        with Archive(archive_folder) as archive:
            run = take_mailbox(Intake(archive), config, mailbox_password(config))
    except MailboxError as exc:
        return [f"收件邮箱未能读取：{exc}"], []
    lines = [f"收件邮箱 {config.account}（{config.folder}）：新邮件 {run.messages} 封，"
             f"其中的工作簿 {len(run.outcomes)} 份已一并接收，回复草稿 {len(run.replies)} 封在档案的回执文件夹。"]
    if run.interrupted:
        lines.append(run.interrupted)
    return lines, run.outcomes


def sample_from_roster(book: Any, progress: Progress, dialogs: Dialogs | None = None,
                       pick_roster: Callable[[Any], str | None] | None = None,
                       ask_month: Callable[[Any], str | None] | None = None) -> str:
    """The 抽样 button: choose a roster, give the month, draw, write and open the pre-filled workbook."""
    from ducha.prefecture.archive import DEFAULT_FOLDER, Archive
    from ducha.prefecture.sampling import SamplingError, sample_with_revisits
    from ducha.reading.raw import UnreadableWorkbook

    dialogs = dialogs or Dialogs(book)
    roster = pick_roster(book) if pick_roster else dialogs.pick_file("选择农户名册工作簿")
    if not roster:
        return "没有选择农户名册，抽样已取消。"
    month = ask_month(book) if ask_month else dialogs.ask("督查月份（YYYY-MM）：", "抽样", next_month())
    if not month:
        return "没有填写督查月份，抽样已取消。"
    progress("督查助手：正在抽样…")
    with Archive(Path(roster).parent / DEFAULT_FOLDER) as archive:
        try:
            drawn, out = sample_with_revisits(Path(roster), month, archive)
        except UnreadableWorkbook as exc:
            return f"农户名册无法读取：{exc}。"
        except SamplingError as exc:
            return str(exc)
    lines = [f"已抽取 {drawn.county} {month} 的样本（随机种子 {drawn.seed}，已记入档案）。",
             *[s.note for s in drawn.short_strata], f"预填的督查工作簿：{out}"]
    dialogs.open_workbook(out)
    return "\n".join(lines)


def about(book: Any | None = None, progress: Progress | None = None, dialogs: Dialogs | None = None) -> str:
    """Version, Python and log file: what technical support asks for first."""
    try:
        import xlwings as xw

        xlwings_version = xw.__version__
    except Exception:
        xlwings_version = "未安装"
    lines = [f"督查助手（ducha）{__version__}", f"Python：{sys.executable}（{sys.version.split()[0]}）",
             f"xlwings：{xlwings_version}", f"日志文件：{log_path()}"]
    if book is not None:
        lines.append(f"当前工作簿：{book_name(book)}")
    lines.append("使用说明见工作簿中的「说明」工作表；遇到问题请把日志文件发给技术支持。")
    return "\n".join(lines)


def book_name(book: Any) -> str:
    try:
        return str(book.name)
    except Exception:
        return "?"


def _open_in_excel(book: Any, path: Path) -> bool:
    try:
        book.app.books.open(str(path))
    except Exception:
        log.warning("could not open %s in Excel", path, exc_info=True)
        return False
    return True
