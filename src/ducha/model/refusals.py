"""Why a file is refused before anything reads it: a stable code, a Chinese message that says what to do next, and
English for the log. Like finding `Code`s, tests assert on codes, never on prose.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

SAVE_AS_XLSX = "请在 Excel 或 WPS 表格中打开它，点“文件 → 另存为”，保存类型选“Excel 工作簿（*.xlsx）”，再用新文件重试"
RESEND = "请在 Excel 中打开后重新保存（或请报送单位重新发送）再试"


class Refusal(Enum):
    """Refusal codes. Never reuse or rename a code; add new ones at the end."""

    def __init__(self, code: str, zh: str, en: str) -> None:
        self.code = code
        self.zh = zh
        self.en = en

    NOT_FOUND = ("not-found", "找不到文件「{name}」（文件不存在）。请检查路径和文件名是否正确", "file not found")
    DIRECTORY = ("directory", "「{name}」是一个文件夹，不是工作簿。请选择文件夹里的 .xlsx 工作簿",
                 "path is a directory")
    NOT_REGULAR = ("not-regular", "「{name}」不是普通文件（可能是设备、管道或快捷方式），已拒绝读取。"
                                  "请把工作簿复制成普通文件后再试", "not a regular file")
    BROKEN_LINK = ("broken-link", "「{name}」是一个快捷方式（链接），但它指向的文件不存在或链接循环。"
                                  "请直接选择工作簿文件本身", "dangling or looping symbolic link")
    NO_ACCESS = ("no-access", "没有权限读取「{name}」，或文件正被其他程序独占打开。"
                              "请关闭 Excel 等程序或检查文件权限后再试",
                 "permission denied or file locked")
    EMPTY = ("empty", "「{name}」是空文件（0 字节），可能没有保存完或传输中断。" + RESEND, "empty file")
    TOO_BIG = ("too-big", "「{name}」有 {size}，超过 {limit} 的上限。请删除无关的工作表和内容，或拆分后再试",
               "file over the size limit")
    ZIP_ENTRIES = ("zip-entries", "「{name}」内部包含 {count} 个文件，超过 {limit} 个的上限，文件可能被篡改，已拒收",
                   "too many zip entries")
    ZIP_BOMB = ("zip-bomb", "「{name}」解压后的内容异常庞大（{detail}），疑似“压缩炸弹”，已拒收。" + RESEND,
                "zip bomb: declared or streamed size or compression ratio over the limit")
    ZIP_DAMAGED = ("zip-damaged", "「{name}」已损坏（{detail}）。" + RESEND, "damaged zip container")
    XML_DECLARATION = ("xml-declaration", "「{name}」的内部文件「{part}」含有不允许的 XML 声明（DTD 或实体），"
                                          "文件可能被篡改，已拒收。" + RESEND, "DOCTYPE/ENTITY in an XML part")
    SHEET_EXTENT = ("sheet-extent", "工作表「{sheet}」的单元格 {cell} 有内容，"
                                    "使有内容的区域达 {rows:,} 行 × {columns:,} 列，"
                                    "超过 {limit:,} 个单元格的上限。请删除该单元格及远处多余的内容后保存再试",
                    "a value far out makes the used range too large")
    ENCRYPTED = ("encrypted", "「{name}」设有打开密码。请在 Excel 中打开，"
                              "点“文件 → 信息 → 保护工作簿 → 用密码进行加密”，"
                              "清空密码并保存后再试", "password-protected workbook")
    WPS_ET = ("wps-et", "「{name}」是 WPS 表格格式（.et）。" + SAVE_AS_XLSX, "WPS .et workbook")
    NUMBERS = ("numbers", "「{name}」是苹果 Numbers 表格。请在 Numbers 中点“文件 → 导出到 → Excel”，"
                          "导出为 .xlsx 后再试", "Apple Numbers document")
    WEB_PAGE = ("web-page", "「{name}」是“另存为网页”或 XML 表格格式，不是工作簿。" + SAVE_AS_XLSX,
                "HTML or SpreadsheetML 2003 XML")
    CSV = ("csv", "「{name}」是文本表格（CSV/TXT），没有工作表结构。" + SAVE_AS_XLSX,
           "CSV or text file")
    NOT_WORKBOOK = ("not-workbook", "「{name}」不是 Excel 工作簿"
                                    "（可读取的格式：.xlsx .xlsm .xltx .xltm .xls .xlsb .ods）。"
                                    "如果它是用其他软件做的表格，" + SAVE_AS_XLSX, "not a spreadsheet")
    DAMAGED = ("damaged", "「{name}」的内容已损坏，无法读取（{detail}）。" + RESEND,
               "workbook content cannot be parsed")

    @classmethod
    def identify(cls, text: str) -> Refusal | None:
        """Which refusal a stored Chinese message (an intake rejection's reason) was made from."""
        for refusal in cls:
            pattern = re.sub(r"\\\{[^}]*\\\}", ".*?", re.escape(refusal.zh))
            if re.search(pattern, text, re.S):
                return refusal
        return None

    def message(self, **kwargs: Any) -> str:
        """The Chinese message; a missing placeholder shows as 「…」 rather than failing."""
        try:
            return self.zh.format(**kwargs)
        except (KeyError, IndexError, ValueError):
            return self.zh.format_map(_Blank(kwargs))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "…"


class Refused(Exception):
    """A file is refused before (or while) it is read. `str()` is the Chinese message; `log_text` the English."""

    def __init__(self, refusal: Refusal, **details: Any) -> None:
        self.refusal = refusal
        self.details = details
        super().__init__(refusal.message(**details))

    def __reduce__(self) -> tuple:  # crosses process boundaries (intake's workers) intact
        return _rebuild, (self.refusal, self.details)

    @property
    def code(self) -> str:
        return self.refusal.code

    @property
    def log_text(self) -> str:
        shown = {k: v for k, v in self.details.items() if k not in ("name",)}
        return f"refused [{self.refusal.code}] {self.refusal.en} {shown}" if shown else \
            f"refused [{self.refusal.code}] {self.refusal.en}"

    def as_dict(self) -> dict[str, str]:
        """For `--json` and the archive: the code, the Chinese message and the English."""
        return {"code": self.code, "message": str(self), "log": self.log_text}


def _rebuild(refusal: Refusal, details: dict[str, Any]) -> Refused:
    return Refused(refusal, **details)
