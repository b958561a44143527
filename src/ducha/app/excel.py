"""Excel entry points called by the 督查助手 ribbon.

Every ribbon button runs `RunPython "import ducha.excel as x; x.run('<button id>')"`; the button ids are
`ducha.addin_tools.BUTTONS` and, for the commands that change the workbook, the keys of `ducha.commands.COMMANDS`.
Nothing here raises: any failure becomes a short Chinese message box and a traceback in the log file.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ducha import __version__
from ducha.app.logs import log_path, setup_logging

log = logging.getLogger("ducha.excel")

TITLE = "督查助手"
ADDIN_SUFFIXES = (".xlam", ".xla")


def run(command: str) -> None:
    """Carry out the ribbon command named by a button id on the workbook the clerk is looking at."""
    setup_logging()
    try:
        book = calling_book()
    except Exception:
        if command == "about":
            _show_without_book(about())
            return
        log.exception("no workbook to work on for command %s", command)
        _show_without_book("督查助手找不到要处理的工作簿。请先打开督查工作簿，点一下其中任意单元格，再按按钮。"
                           f"\n详细情况已记录到日志：{log_path()}")
        return
    run_on_book(book, command)


def calling_book() -> Any:
    """The clerk's workbook: the caller, or the active workbook of the caller's Excel when the caller is the add-in."""
    import xlwings as xw

    try:
        caller = xw.Book.caller()
    except Exception:  # e.g. a workbook name that did not survive the command line
        log.warning("Book.caller() failed; using the active workbook", exc_info=True)
        caller = None
    if caller is not None and not _is_addin(caller):
        return caller
    book = (caller.app if caller is not None else xw.apps.active).books.active
    if book is None or _is_addin(book):
        raise LookupError("no workbook is active")
    return book


def _is_addin(book: Any) -> bool:
    return str(book.name).lower().endswith(ADDIN_SUFFIXES)


def run_on_book(book: Any, command: str) -> str:
    """Run `command` on an open workbook, tell the clerk what happened, and return that message. Never raises."""
    setup_logging()
    started = time.perf_counter()
    status = _StatusBar(book)
    ok = True
    try:
        message = _carry_out(book, command, status.show)
    except Exception:
        ok = False
        log.exception("command %s failed on %s", command, _book_name(book))
        message = (f"督查助手在执行「{_label(command)}」时出错，结果可能不完整。\n"
                   "请保存工作簿、关闭后重新打开再试一次；如仍出错，请把下面的日志文件发给技术支持：\n"
                   f"{log_path()}")
    finally:
        status.restore()
    log.info("command %s on %s finished in %.2f s (ok=%s)", command, _book_name(book),
             time.perf_counter() - started, ok)
    _alert(book, message, ok)
    return message


def _carry_out(book: Any, command: str, progress: Callable[[str], None]) -> str:
    if command == "about":
        return about(book)
    if command == "report":
        return summarise(book, progress)
    if command == "sample":
        return sample_from_roster(book, progress)
    from ducha.app.commands import COMMANDS

    if command not in COMMANDS:
        return unknown_command(command)
    from ducha.adapters.live import apply_plan_live, read_book
    from ducha.reading.workbook import parse_workbook

    progress("督查助手：正在读取工作簿…")
    raw = read_book(book)
    progress("督查助手：正在检查…")
    parsed = parse_workbook(raw)
    result = COMMANDS[command](raw.path, parsed)
    report = apply_plan_live(book, result.plan, progress=progress)
    log.info("command %s wrote %s, %d marked cells in %d rules, %d notes; not applied: %s", command, report.sheets,
             report.marked_cells, report.rules, report.notes_written, ", ".join(report.unsupported) or "nothing")
    return "\n".join([result.summary, *report.remarks()])


def summarise(book: Any, progress: Callable[[str], None],
              pick_folder: Callable[[Any], str | None] | None = None) -> str:
    """The 汇总 button: choose the folder of emailed workbooks, take them in, write and open the month's report."""
    from ducha.prefecture.intake import summarise_folder

    folder = (pick_folder or _pick_folder)(book)
    if not folder:
        return "没有选择文件夹，汇总已取消。"
    progress("督查助手：正在接收各县工作簿并汇总…")
    outcomes, report = summarise_folder(Path(folder))
    taken = sum(o.kind in ("accepted", "conflict") for o in outcomes)
    rejected = [o for o in outcomes if o.kind == "rejected"]
    lines = [f"接收 {taken} 份，重复 {sum(o.kind == 'duplicate' for o in outcomes)} 份，拒收 {len(rejected)} 份。"]
    lines += [f"拒收：{o.name}（{o.reason}）" for o in rejected[:5]]
    if report is None:
        return "\n".join([*lines, "文件夹里没有可以汇总的督查工作簿。"])
    lines.append(f"汇总工作簿：{report}；档案和回执在：{report.parent}")
    try:
        book.app.books.open(str(report))
    except Exception:
        log.warning("could not open the report in Excel", exc_info=True)
        lines.append("请在 Excel 中打开上面的汇总工作簿。")
    return "\n".join(lines)


def sample_from_roster(book: Any, progress: Callable[[str], None],
                       pick_roster: Callable[[Any], str | None] | None = None,
                       ask_month: Callable[[Any], str | None] | None = None) -> str:
    """The 抽样 button: choose a roster, give the month, draw, write and open the pre-filled workbook."""
    from ducha.prefecture import ledger
    from ducha.prefecture.archive import DEFAULT_FOLDER, Archive
    from ducha.prefecture.sampling import SamplingError, sample_command
    from ducha.reading.raw import UnreadableWorkbook

    roster = (pick_roster or _pick_file)(book)
    if not roster:
        return "没有选择农户名册，抽样已取消。"
    month = (ask_month or _ask_month)(book)
    if not month:
        return "没有填写督查月份，抽样已取消。"
    progress("督查助手：正在抽样…")
    with Archive(Path(roster).parent / DEFAULT_FOLDER) as archive:
        try:
            drawn, out = sample_command(
                Path(roster), month, archive=archive,
                revisit_entries=lambda code: ledger.open_entries(archive, code, before=month))
        except UnreadableWorkbook as exc:
            return f"农户名册无法读取：{exc}。"
        except SamplingError as exc:
            return str(exc)
    lines = [f"已抽取 {drawn.county} {month} 的样本（随机种子 {drawn.seed}，已记入档案）。",
             *[s.note for s in drawn.short_strata], f"预填的督查工作簿：{out}"]
    try:
        book.app.books.open(str(out))
    except Exception:
        log.warning("could not open the sample workbook in Excel", exc_info=True)
    return "\n".join(lines)


def _pick_file(book: Any) -> str | None:
    """Excel's own file picker (msoFileDialogFilePicker = 3) for the roster workbook."""
    dialog = book.app.api.FileDialog(3)
    dialog.Title = "选择农户名册工作簿"
    dialog.AllowMultiSelect = False
    return str(dialog.SelectedItems(1)) if dialog.Show() == -1 else None


def _ask_month(book: Any) -> str | None:
    """Excel's InputBox for the month (Type 2 = text); defaults to next month."""
    import datetime as dt

    today = dt.date.today()
    following = dt.date(today.year + today.month // 12, today.month % 12 + 1, 1)
    answer = book.app.api.InputBox("督查月份（YYYY-MM）：", "抽样", following.strftime("%Y-%m"), Type=2)
    return str(answer).strip() if answer not in (False, None, "") else None


def _pick_folder(book: Any) -> str | None:
    """Excel's own folder picker (desktop Excel; msoFileDialogFolderPicker = 4)."""
    dialog = book.app.api.FileDialog(4)
    dialog.Title = "选择存放各县报回工作簿（邮件、压缩包也可以）的文件夹"
    return str(dialog.SelectedItems(1)) if dialog.Show() == -1 else None


def about(book: Any | None = None) -> str:
    """Version, Python and log file: what technical support asks for first."""
    try:
        import xlwings as xw

        xlwings_version = xw.__version__
    except Exception:
        xlwings_version = "未安装"
    lines = [f"督查助手（ducha）{__version__}", f"Python：{sys.executable}（{sys.version.split()[0]}）",
             f"xlwings：{xlwings_version}", f"日志文件：{log_path()}"]
    if book is not None:
        lines.append(f"当前工作簿：{_book_name(book)}")
    lines.append("使用说明见工作簿中的「说明」工作表；遇到问题请把日志文件发给技术支持。")
    return "\n".join(lines)


def unknown_command(command: str) -> str:
    """The message for a button this version cannot carry out."""
    label = _label(command, default="")
    if label:
        return f"「{label}」功能在此版本的督查助手中尚未提供。请向技术支持咨询新版本。"
    return (f"督查助手不认识按钮命令「{command}」。加载项与 Python 程序的版本可能不一致，"
            "请重新安装督查助手（ducha addin install）。")


def _label(command: str, default: str | None = None) -> str:
    try:
        from ducha.app.addin import BUTTONS

        return next((b.label for b in BUTTONS if b.id == command), command if default is None else default)
    except Exception:
        return command if default is None else default


def _book_name(book: Any) -> str:
    try:
        return str(book.name)
    except Exception:
        return "?"


def _alert(book: Any, message: str, ok: bool) -> None:
    try:
        book.app.alert(message, title=TITLE, mode="info" if ok else "critical")
    except Exception:
        log.warning("could not show the message box; message was: %s", message, exc_info=True)


def _show_without_book(message: str) -> None:
    try:
        import xlwings as xw

        xw.apps.active.alert(message, title=TITLE, mode="critical")
    except Exception:
        log.warning("could not show the message box; message was: %s", message, exc_info=True)


class _StatusBar:
    """Progress in Excel's status bar where the engine has one; its previous text comes back at the end.

    Screen updating is switched off meanwhile on the same engines (desktop Excel) and always switched back on.
    """

    def __init__(self, book: Any) -> None:
        self.app: Any = None
        self.showing = False
        self.previous: Any = False
        self.screen_updating = False
        try:
            app = book.app
            self.previous = app.status_bar
        except Exception:
            return
        self.app, self.showing = app, True
        try:
            app.screen_updating = False
            self.screen_updating = True
        except Exception:
            log.debug("screen updating cannot be switched off here", exc_info=True)

    def show(self, text: str) -> None:
        if self.showing:
            try:
                self.app.status_bar = text
            except Exception:
                self.showing = False

    def restore(self) -> None:
        if self.app is None:
            return
        for attribute, value in (("screen_updating", True), ("status_bar", self.previous)):
            if attribute == "screen_updating" and not self.screen_updating:
                continue
            try:
                setattr(self.app, attribute, value)
            except Exception:
                log.debug("could not restore %s", attribute, exc_info=True)
