"""The 州督查办 buttons beside 汇总 and 抽样: 问题台账, 督办函, 回执, 裁定冲突, 设置 and 自检.

Each is a ribbon action `(book, progress, dialogs) -> message`: it finds the archive (next to the open workbook,
else chosen with Excel's folder picker), asks what it needs with `dialogs`, runs the same prefecture functions as
the command line, and returns a short Chinese message. None of them writes into the open workbook.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from ducha.app.ribbon import Dialogs, Progress, current_user, next_month
from ducha.prefecture.archive import (
    DATABASE,
    DEFAULT_FOLDER,
    STATUS_NAMES,
    Archive,
    shown_time,
)

CONFLICTS_FILE = "冲突裁定.xlsx"
ARCHIVE_PROMPT = "选择督查档案文件夹（「汇总」生成的「督查档案」，其中有 ducha.sqlite3）"


# --- where and when -------------------------------------------------------------------------------------------


def book_folder(book: Any) -> Path | None:
    """The folder of the open workbook when it is a saved file on this computer."""
    from ducha.adapters.live import book_path

    if book is None:
        return None
    try:
        path = book_path(book)
    except Exception:
        return None
    return path.parent if path.is_absolute() and path.parent.is_dir() else None


def _archive_in(folder: Path) -> Path | None:
    for candidate in (folder, folder / DEFAULT_FOLDER):
        if (candidate / DATABASE).is_file():
            return candidate
    return None


def find_archive(book: Any, dialogs: Dialogs) -> Path | None:
    """The archive beside the open workbook (its own folder or a 督查档案 in it), else the one the clerk picks."""
    here = book_folder(book)
    found = _archive_in(here) if here else None
    if found:
        return found
    chosen = dialogs.pick_folder(ARCHIVE_PROMPT)
    return _archive_in(Path(chosen)) if chosen else None


NO_ARCHIVE = ("没有找到督查档案：请选择「汇总」生成的「督查档案」文件夹（其中有 ducha.sqlite3），"
              "或先用「汇总」接收各县工作簿。")


def ask_month(archive: Archive, dialogs: Dialogs, title: str) -> str | None:
    """The month, asked with Excel's InputBox; the default is the latest month in the archive."""
    from ducha.prefecture.report import MONTH

    latest = archive.query("SELECT MAX(month) AS m FROM submissions")[0]["m"]
    answer = dialogs.ask("督查月份（YYYY-MM）：", title, latest or next_month())
    if answer is None:
        return None
    if not MONTH.match(answer):
        raise _Stop(f"督查月份「{answer}」无效，应为 YYYY-MM，如 2019-11。")
    return answer


class _Stop(Exception):
    """Ends a button with its (Chinese) message."""


def _stopping(action):
    """Turn a `_Stop` into the button's message, so every step can end the action in one line."""

    def run(book: Any, progress: Progress, dialogs: Dialogs | None = None) -> str:
        try:
            return action(book, progress, dialogs or Dialogs(book))
        except _Stop as stop:
            return str(stop)

    run.__name__, run.__doc__ = action.__name__, action.__doc__
    return run


def _sheet_grids(book: Any, names: set[str]) -> dict[str, list[list[Any]]]:
    """The values of the named sheets of the open workbook, as grids from A1."""
    from ducha.adapters.live import parse_rect

    grids: dict[str, list[list[Any]]] = {}
    for sheet in book.sheets:
        if sheet.name not in names:
            continue
        used = sheet.used_range
        top, left, _, _ = parse_rect(used.address)
        values = used.options(ndim=2).value or []
        grids[sheet.name] = [[] for _ in range(top - 1)] + [[None] * (left - 1) + list(row) for row in values]
    return grids


def _sheet_names(book: Any) -> set[str]:
    try:
        return {s.name for s in book.sheets} if book is not None else set()
    except Exception:
        return set()


# --- 问题台账 ---------------------------------------------------------------------------------------------------


@_stopping
def problem_ledger(book: Any, progress: Progress, dialogs: Dialogs) -> str:
    """问题台账: export the month's ledger and open it; on an open ledger export, take its status edits back in."""
    from ducha.prefecture import ledger

    folder = find_archive(book, dialogs)
    if folder is None:
        return NO_ARCHIVE
    with Archive(folder) as archive:
        if ledger.LEDGER_SHEET in _sheet_names(book):
            progress("督查助手：正在导回问题台账的状态修改…")
            grids = _sheet_grids(book, {ledger.LEDGER_SHEET})
            try:
                result = ledger.import_ledger(archive, grids, actor=current_user())
            except ledger.LedgerError as exc:
                return f"问题台账无法导回：{exc}。"
            lines = [f"问题台账已导回：更新 {len(result.changed)} 条，未改动 {len(result.unchanged)} 条，"
                     f"拒绝 {len(result.refused)} 条。"]
            lines += result.refused[:10]
            if len(result.refused) > 10:
                lines.append(f"……另有 {len(result.refused) - 10} 条被拒绝，请重新导出台账核对。")
            if result.refused:
                lines.append("被拒绝的行没有改动档案；请按上面的规则改正后再按「问题台账」。")
            return "\n".join(lines)
        month = ask_month(archive, dialogs, "问题台账")
        if month is None:
            return "没有填写督查月份，问题台账未导出。"
        progress("督查助手：正在导出问题台账…")
        out = ledger.export_ledger(archive, archive.folder / f"问题台账-{month}.xlsx", month=month)
        count = len(ledger.entries(archive, month=month))
    opened = dialogs.open_workbook(out)
    return "\n".join([f"问题台账已导出：{out}（{month}，共 {count} 条）。",
                      "在「状态」列修改并保存后，在台账工作簿中再按「问题台账」导回档案。"
                      if opened else "请在 Excel 中打开上面的台账，修改「状态」列后再按「问题台账」导回档案。"])


# --- 督办函 -----------------------------------------------------------------------------------------------------


@_stopping
def rectification_letters(book: Any, progress: Progress, dialogs: Dialogs) -> str:
    """督办函: the month's 整改督办函 into a folder in the archive, then show the folder."""
    from ducha.prefecture.letters import LetterError, issue_date, write_letters
    from ducha.prefecture.settings import SettingsError, load_settings, settings_path

    folder = find_archive(book, dialogs)
    if folder is None:
        return NO_ARCHIVE
    with Archive(folder) as archive:
        month = ask_month(archive, dialogs, "督办函")
        if month is None:
            return "没有填写督查月份，督办函未生成。"
        out = archive.folder / f"整改督办函-{month}"
        progress(f"督查助手：正在生成 {month} 的督办函…")
        issued = issue_date(month, None)
        try:
            paths = write_letters(archive, month, out, issued=issued)
            missing = load_settings(archive.folder).missing_for_letters()
        except (LetterError, SettingsError, ValueError) as exc:
            return f"督办函未生成：{exc}。"
    if not paths:
        return f"{month} 没有需要督办的问题，没有生成督办函。"
    lines = [f"已生成 {len(paths)} 份督办函（发文日期 {issued.year}年{issued.month}月{issued.day}日）：{out}"]
    if issued != dt.date.today():
        lines.append("督查月份已过去较久，发文日期取下月 1 日；需要其他日期请用命令行 ducha letters --date。")
    if missing:
        lines.append(f"「{settings_path(folder).name}」中未填写{'、'.join(missing)}，督办函中没有联系人一行；"
                     "请按「设置」填写后重新生成。")
    if not dialogs.open_folder(out):
        lines.append("请在资源管理器中打开上面的文件夹。")
    return "\n".join(lines)


# --- 回执 -------------------------------------------------------------------------------------------------------


@_stopping
def receipts(book: Any, progress: Progress, dialogs: Dialogs) -> str:
    """回执: show the month's receipts; on request, write them again from the archive (e.g. after a ruling)."""
    from ducha.prefecture.intake import RECEIPTS
    from ducha.prefecture.receipt import reissue_receipts

    folder = find_archive(book, dialogs)
    if folder is None:
        return NO_ARCHIVE
    with Archive(folder) as archive:
        month = ask_month(archive, dialogs, "回执")
        if month is None:
            return "没有填写督查月份。"
        target = archive.folder / RECEIPTS
        counted = archive.counted(month)
        if not counted:
            return f"档案中没有 {month} 的提交，没有回执。"
        lines = []
        if dialogs.confirm(f"{month} 有 {len(counted)} 份提交。是否按档案重新生成它们的回执？\n"
                           "选「是」重新生成（裁定冲突后请重新生成）；选「否」只打开回执文件夹。", "回执"):
            progress(f"督查助手：正在重新生成 {month} 的回执…")
            written = reissue_receipts(archive, month, target)
            lines.append(f"已重新生成 {len(written)} 份回执：{target}")
        else:
            lines.append(f"回执文件夹：{target}")
    target.mkdir(parents=True, exist_ok=True)
    if not dialogs.open_folder(target):
        lines.append("请在资源管理器中打开上面的文件夹。")
    return "\n".join(lines)


# --- 裁定冲突 ---------------------------------------------------------------------------------------------------


def conflict_sheets(archive: Archive):
    """「待裁定冲突」 (the submissions in conflict) and 「裁定记录」 (who decided what, when)."""
    from ducha.sheets.outputplan import Style
    from ducha.sheets.toolkit import SheetBuilder

    # Numbers that people read as labels (提交编号, 版本) are text, so they do not run into the next column.
    waiting = SheetBuilder("待裁定冲突", [10, 12, 10, 14, 14, 36, 20, 24, 10, 10, 8])
    waiting.add(["同县同月有多个督查组报回的工作簿：请按「裁定冲突」，输入应采用的提交编号"], Style.TITLE)
    headers = ["提交编号", "县", "督查月份", "督查组", "状态", "文件", "接收时间", "发件人", "版本", "总分", "错误数"]
    waiting.add(headers, Style.HEADER)
    for r in archive.open_conflicts():
        waiting.add([str(r["id"]), r["county"], r["month"], r["inspection_group"], STATUS_NAMES[r["status"]],
                     r["file_name"], shown_time(r["received_at"]), r["sender"], f"第 {r['version']} 版",
                     None if r["total"] is None else round(r["total"], 2), r["errors"]])
    done = SheetBuilder("裁定记录", [22, 14, 10, 36, 48])
    done.add(["冲突裁定记录（由 ducha 记录，只读）"], Style.TITLE)
    done.add(["裁定时间", "裁定人", "采用提交", "文件", "说明"], Style.HEADER)
    for e in archive.rulings():
        done.add([shown_time(e["at"]), e["source"], str(e["submission_id"]), e["file_name"], e["reason"]])
    return [waiting.build(freeze="A3", tab_color="C00000"), done.build(freeze="A3", tab_color="7F7F7F")]


@_stopping
def resolve_conflicts(book: Any, progress: Progress, dialogs: Dialogs) -> str:
    """裁定冲突: list the open conflicts in a workbook, ask which submission stands, record who decided and when."""
    from ducha.adapters.writer import write_generated_workbook

    folder = find_archive(book, dialogs)
    if folder is None:
        return NO_ARCHIVE
    with Archive(folder) as archive:
        progress("督查助手：正在列出待裁定的冲突…")
        waiting = archive.open_conflicts()
        listing = write_generated_workbook(conflict_sheets(archive), archive.folder / CONFLICTS_FILE,
                                          title="冲突裁定")
        if not waiting:
            return f"没有待裁定的冲突。以往的裁定记录在：{listing}"
        dialogs.open_workbook(listing)
        choices = "、".join(str(r["id"]) for r in waiting)
        answer = dialogs.ask(f"有 {len(waiting)} 份提交处于冲突中（见「{CONFLICTS_FILE}」）。\n"
                             f"请输入应采用的提交编号（可选：{choices}）：", "裁定冲突")
        if answer is None:
            return f"没有裁定。待裁定的冲突已列在：{listing}"
        chosen = next((r for r in waiting if str(r["id"]) == answer.strip()), None)
        if chosen is None:
            return f"「{answer}」不是待裁定的提交编号（可选：{choices}），没有裁定。"
        who = current_user()
        try:
            rivals = archive.resolve_conflict(chosen["id"], actor=who)
        except sqlite3.Error as exc:
            return f"裁定没有保存：档案无法写入（{exc}）。请稍后再试。"
        when = shown_time(archive.rulings()[-1]["at"])
        write_generated_workbook(conflict_sheets(archive), listing, title="冲突裁定")
    return (f"已采用提交 {chosen['id']}（{chosen['county']} {chosen['month']}，{chosen['inspection_group']}）；"
            f"同县同月的其他 {len(rivals)} 份已标为“已被取代”。\n裁定人：{who}，时间：{when}，已记入档案。\n"
            "如需通知各县，请按「回执」重新生成回执。")


# --- 设置 -------------------------------------------------------------------------------------------------------


@_stopping
def office_settings(book: Any, progress: Progress, dialogs: Dialogs) -> str:
    """设置: open the archive's 设置.xlsx (written with the defaults when missing); on an open 设置.xlsx, check it."""
    from ducha.adapters.live import book_path
    from ducha.prefecture.settings import (
        SETTINGS_FILE,
        SETTINGS_SHEET,
        SettingsError,
        read_settings_workbook,
        settings_path,
        write_settings_workbook,
    )

    if book is not None and SETTINGS_SHEET in _sheet_names(book) and book_path(book).name == SETTINGS_FILE:
        path = book_path(book)
        if not path.is_file():
            return f"请先把「{SETTINGS_FILE}」保存到督查档案文件夹，再按「设置」检查。"
        progress("督查助手：正在检查设置…")
        try:
            settings = read_settings_workbook(path)
        except SettingsError as exc:
            return f"「{SETTINGS_FILE}」有误：{exc}。改正后保存，再按「设置」检查。"
        missing = settings.missing_for_letters()
        return "\n".join([f"设置无误（检查的是已保存的内容）：发文机关 {settings.office}，"
                          f"机关代字 {settings.office_code}，整改期限 {settings.period_days} 天。",
                          *([f"尚未填写：{'、'.join(missing)}（督办函中将没有联系人一行）。"] if missing else [])])
    here = book_folder(book)
    folder = _archive_in(here) if here else None
    if folder is None:
        chosen = dialogs.pick_folder(ARCHIVE_PROMPT)
        if not chosen:
            return "没有选择督查档案文件夹，设置未打开。"
        folder = _archive_in(Path(chosen)) or Path(chosen)
    path = settings_path(folder)
    lines = []
    if not path.exists():
        progress("督查助手：正在生成默认设置…")
        try:
            write_settings_workbook(path)
        except OSError as exc:
            return f"无法写入「{path}」：{exc.strerror or exc}。"
        lines.append(f"已生成默认设置：{path}。")
    opened = dialogs.open_workbook(path)
    lines.append("填写发文机关、机关代字、联系人、抄送和整改期限后保存，再按「设置」检查。" if opened
                 else f"请在 Excel 中打开「{path}」填写，保存后再按「设置」检查。")
    return "\n".join(lines)


# --- 自检 -------------------------------------------------------------------------------------------------------


def self_check(book: Any, progress: Progress, dialogs: Dialogs | None = None) -> str:
    """自检: the add-in doctor on this Excel and the open workbook."""
    from ducha.adapters.live import book_path
    from ducha.app.doctor import excel_readers, run_doctor

    progress("督查助手：正在自检…")
    workbook = None
    if book is not None:
        try:
            workbook = book_path(book)
        except Exception:
            workbook = None
    return run_doctor(workbook=workbook, readers=excel_readers(book)).text()
