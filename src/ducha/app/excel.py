"""Excel entry points called by the 督查助手 ribbon.

Every ribbon button runs `RunPython "import ducha.excel as x; x.run('<button id>')"`; the button id is the name of
a command in `ducha.app.commands.TABLE`, which says what it does.
Nothing here raises: any failure becomes a short Chinese message box and a traceback in the log file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ducha.app.logs import log_path, setup_logging
from ducha.app.ribbon import Dialogs, about, book_name, sample_from_roster, summarise

__all__ = ["about", "calling_book", "run", "run_on_book", "sample_from_roster", "summarise"]

log = logging.getLogger("ducha.excel")

TITLE = "督查助手"
ADDIN_SUFFIXES = (".xlam", ".xla")


def run(command: str) -> None:
    """Carry out the ribbon command named by a button id on the workbook the clerk is looking at."""
    setup_logging()
    try:
        book = calling_book()
    except Exception:
        from ducha.app.commands import BY_NAME

        declared = BY_NAME.get(command)
        if declared is not None and declared.action is not None and not declared.needs_book:
            _show_without_book(declared.action(None, lambda text: None, Dialogs(None)))
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


def run_on_book(book: Any, command: str, dialogs: Dialogs | None = None) -> str:
    """Run `command` on an open workbook, tell the clerk what happened, and return that message. Never raises.
    `dialogs`: how a ribbon action asks (Excel's own dialogs unless given)."""
    setup_logging()
    started = time.perf_counter()
    status = _StatusBar(book)
    ok = True
    try:
        message = _carry_out(book, command, status.show, dialogs or Dialogs(book))
    except Exception:
        ok = False
        log.exception("command %s failed on %s", command, book_name(book))
        message = (f"督查助手在执行「{_label(command)}」时出错，结果可能不完整。\n"
                   "请保存工作簿、关闭后重新打开再试一次；如仍出错，请把下面的日志文件发给技术支持：\n"
                   f"{log_path()}")
    finally:
        status.restore()
    log.info("command %s on %s finished in %.2f s (ok=%s)", command, book_name(book),
             time.perf_counter() - started, ok)
    _alert(book, message, ok)
    return message


def _carry_out(book: Any, name: str, progress: Callable[[str], None], dialogs: Dialogs) -> str:
    """Dispatch by the command table: a workbook command reads, checks and writes the open workbook; a ribbon
    action runs with the workbook for its dialogs."""
    from ducha.app.commands import BY_NAME, COMMANDS, SIZE_GATE, too_large_message, too_large_sheets

    command = BY_NAME.get(name)
    if command is None or not command.on_ribbon:
        return unknown_command(name)
    if command.action is not None:
        return command.action(book, progress, dialogs)
    from ducha.adapters.live import apply_plan_live, read_book
    from ducha.reading.workbook import parse_workbook

    progress("督查助手：正在读取工作簿…")
    raw = read_book(book)
    progress("督查助手：正在检查…")
    parsed = parse_workbook(raw)
    result = COMMANDS[name](raw.path, parsed)
    too_large = too_large_sheets(parsed) if SIZE_GATE in command.gates else []
    if too_large:
        return "\n".join([result.summary, too_large_message(too_large)])
    report = apply_plan_live(book, result.plan, progress=progress)
    log.info("command %s wrote %s, %d marked cells in %d rules, %d notes; not applied: %s", name, report.sheets,
             report.marked_cells, report.rules, report.notes_written, ", ".join(report.unsupported) or "nothing")
    return "\n".join([result.summary, *report.remarks()])


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
