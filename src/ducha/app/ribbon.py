"""The ribbon's own actions, beside the workbook commands: 汇总, 抽样 and 关于. Each takes the clerk's workbook
(for Excel's dialogs) and a progress callback, and returns the Chinese message the ribbon shows."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ducha import __version__
from ducha.app.logs import log_path

log = logging.getLogger("ducha.excel")

Progress = Callable[[str], None]


def summarise(book: Any, progress: Progress, pick_folder: Callable[[Any], str | None] | None = None) -> str:
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
    if not _open_in_excel(book, report):
        lines.append("请在 Excel 中打开上面的汇总工作簿。")
    return "\n".join(lines)


def sample_from_roster(book: Any, progress: Progress, pick_roster: Callable[[Any], str | None] | None = None,
                       ask_month: Callable[[Any], str | None] | None = None) -> str:
    """The 抽样 button: choose a roster, give the month, draw, write and open the pre-filled workbook."""
    from ducha.prefecture.archive import DEFAULT_FOLDER, Archive
    from ducha.prefecture.sampling import SamplingError, sample_with_revisits
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
            drawn, out = sample_with_revisits(Path(roster), month, archive)
        except UnreadableWorkbook as exc:
            return f"农户名册无法读取：{exc}。"
        except SamplingError as exc:
            return str(exc)
    lines = [f"已抽取 {drawn.county} {month} 的样本（随机种子 {drawn.seed}，已记入档案）。",
             *[s.note for s in drawn.short_strata], f"预填的督查工作簿：{out}"]
    _open_in_excel(book, out)
    return "\n".join(lines)


def about(book: Any | None = None, progress: Progress | None = None) -> str:
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


def _pick_file(book: Any) -> str | None:
    """Excel's own file picker (msoFileDialogFilePicker = 3) for the roster workbook."""
    dialog = book.app.api.FileDialog(3)
    dialog.Title = "选择农户名册工作簿"
    dialog.AllowMultiSelect = False
    return str(dialog.SelectedItems(1)) if dialog.Show() == -1 else None


def _ask_month(book: Any) -> str | None:
    """Excel's InputBox for the month (Type 2 = text); defaults to next month."""
    today = dt.date.today()
    following = dt.date(today.year + today.month // 12, today.month % 12 + 1, 1)
    answer = book.app.api.InputBox("督查月份（YYYY-MM）：", "抽样", following.strftime("%Y-%m"), Type=2)
    return str(answer).strip() if answer not in (False, None, "") else None


def _pick_folder(book: Any) -> str | None:
    """Excel's own folder picker (desktop Excel; msoFileDialogFolderPicker = 4)."""
    dialog = book.app.api.FileDialog(4)
    dialog.Title = "选择存放各县报回工作簿（邮件、压缩包也可以）的文件夹"
    return str(dialog.SelectedItems(1)) if dialog.Show() == -1 else None
