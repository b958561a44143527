"""The supervisor's settings (设置.xlsx in the archive folder): the office's name, 机关代字, addressee, contact,
抄送 list and 整改期限 for the letters, and the mailbox to read submissions from — edited in Excel, never in code.

One sheet 「设置」 with 项目 / 内容 / 说明 rows. Rows are found by their 项目, so their order does not matter; a
missing row takes its default. Every value is validated, and a bad one is reported with its cell and the fix. The
mailbox password is never stored here (a 密码 row is refused).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ducha.adapters.writer import write_generated_workbook
from ducha.reading.normalize import fold_header, is_empty
from ducha.reading.raw import UnreadableWorkbook, read_raw_workbook
from ducha.sheets.outputplan import Style
from ducha.sheets.toolkit import SheetBuilder

SETTINGS_FILE, SETTINGS_SHEET = "设置.xlsx", "设置"
HEADER = ("项目", "内容", "说明")
COUNTY_PLACEHOLDER = "{县}"
LIST_SEPARATORS = re.compile(r"[、,，;；\n]+")
PHONE = re.compile(r"^[0-9０-９+\-－（）() ]{7,30}$")
HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
NAME_CHARS = 40


class SettingsError(ValueError):
    """A settings file that cannot be used. `code` is for machines; the message (Chinese) names the cell and the
    fix; `cell` is like 设置!B5 (None when the whole file is at fault)."""

    def __init__(self, code: str, message: str, cell: str | None = None) -> None:
        super().__init__(f"{cell} {message}" if cell else message)
        self.code, self.cell = code, cell


class Settings(BaseModel):
    """The settings with their defaults (what a new archive starts with)."""

    model_config = ConfigDict(frozen=True)

    office: str = "州人民政府督查室"
    office_code: str = "州督办函"
    addressee: str = "{县}人民政府"
    contact: str = ""
    phone: str = ""
    copy_to: tuple[str, ...] = ("州扶贫开发领导小组办公室",)
    printer: str = "州人民政府督查室"
    period_days: int = 30
    imap_host: str = ""
    imap_port: int = 993
    mail_user: str = ""
    mail_folder: str = "INBOX"

    @field_validator("office", "office_code", "printer", "addressee", mode="before")
    @classmethod
    def _required(cls, value: Any) -> str:
        text = _text(value)
        if not text:
            raise ValueError("不能为空")
        if len(text) > NAME_CHARS:
            raise ValueError(f"过长（{len(text)} 字），最多 {NAME_CHARS} 字")
        return text

    @field_validator("office_code")
    @classmethod
    def _code(cls, value: str) -> str:
        if re.search(r"[〔〕\[\]()（）0-9０-９号]", value):
            raise ValueError("只填代字本身（如 州督办函），不要带〔年份〕和序号，ducha 会自动编号")
        return value

    @field_validator("addressee")
    @classmethod
    def _addressee(cls, value: str) -> str:
        if COUNTY_PLACEHOLDER not in value:
            raise ValueError(f"须含 {COUNTY_PLACEHOLDER}（发函时换成县名），如 {COUNTY_PLACEHOLDER}人民政府")
        if re.search(r"\{(?!县\})", value.replace(COUNTY_PLACEHOLDER, "")):
            raise ValueError(f"只能用 {COUNTY_PLACEHOLDER} 一个占位符")
        return value

    @field_validator("contact", "mail_user", "imap_host", "mail_folder", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> str:
        text = _text(value)
        if len(text) > 100:
            raise ValueError("过长，最多 100 字")
        return text

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: Any) -> str:
        text = _text(value)
        if text and not PHONE.match(text):
            raise ValueError("只能含数字、空格、短横线和括号，7–30 位，如 0855-8221234")
        return text

    @field_validator("copy_to", mode="before")
    @classmethod
    def _copy_to(cls, value: Any) -> tuple[str, ...]:
        parts = value if isinstance(value, list | tuple) else LIST_SEPARATORS.split(_text(value))
        names = tuple(p.strip() for p in parts if p and p.strip())
        if any(len(n) > NAME_CHARS for n in names):
            raise ValueError(f"每个机关名称最多 {NAME_CHARS} 字，多个机关用「、」分隔")
        return names

    @field_validator("period_days", mode="before")
    @classmethod
    def _period(cls, value: Any) -> int:
        return _integer(value, 1, 365, "须为 1–365 的整数")

    @field_validator("imap_port", mode="before")
    @classmethod
    def _port(cls, value: Any) -> int:
        return _integer(value, 1, 65535, "须为 1–65535 的整数，通常是 993")

    @field_validator("imap_host")
    @classmethod
    def _host(cls, value: str) -> str:
        if value and not HOST.match(value):
            raise ValueError("应为服务器域名或 IP 地址，如 imap.example.gov.cn（不要带 imap:// 或端口）")
        return value

    @field_validator("mail_user")
    @classmethod
    def _user(cls, value: str) -> str:
        if value and "@" not in value:
            raise ValueError("应为完整的邮箱地址，如 ducha@example.gov.cn")
        return value

    def addressee_for(self, county: str) -> str:
        """主送机关 for a county: the template with {县} replaced (a county name ending in 人民政府 is kept)."""
        if county.endswith("人民政府"):
            return county
        return self.addressee.replace(COUNTY_PLACEHOLDER, county)

    def missing_for_letters(self) -> list[str]:
        """The 项目 a sendable letter needs that are still empty (联系人, 联系电话)."""
        return [label for key, label, _ in ROWS if key in ("contact", "phone") and not getattr(self, key)]


# (field, 项目, 说明): the rows of 「设置」, in this order.
ROWS: tuple[tuple[str, str, str], ...] = (
    ("office", "发文机关名称", "督办函的发文机关标志、落款和版记，如 ××州人民政府督查室"),
    ("office_code", "机关代字", "发文字号中的代字，如 州督办函 → 州督办函〔2019〕3号；序号由 ducha 按年连续编排"),
    ("addressee", "主送机关", "主送机关的写法，{县} 换成县名，如 {县}人民政府"),
    ("contact", "联系人", "督办函末尾的联系人姓名"),
    ("phone", "联系电话", "联系人的电话，如 0855-8221234"),
    ("copy_to", "抄送机关", "版记中的抄送机关，多个用「、」分隔；不抄送则留空"),
    ("printer", "印发机关", "版记中的印发机关，通常是发文机关的办公室"),
    ("period_days", "整改期限（天）", "整改期限 = 发文日期 + 此天数，1–365"),
    ("imap_host", "IMAP服务器", "接收各县报送邮件的 IMAP 服务器，如 imap.example.gov.cn；不用邮箱接收则留空"),
    ("imap_port", "IMAP端口", "通常为 993（SSL）"),
    ("mail_user", "邮箱账号", "完整邮箱地址。密码不保存在此文件中：运行时输入，或用环境变量提供"),
    ("mail_folder", "邮件文件夹", "各县报送邮件所在的文件夹，默认 INBOX（收件箱）"),
)
LABELS = {key: label for key, label, _ in ROWS}
FIRST_ROW = 2  # row 1 is the header


def _text(value: Any) -> str:
    if is_empty(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _integer(value: Any, low: int, high: int, message: str) -> int:
    text = _text(value)
    try:
        number = float(text)
    except ValueError:
        raise ValueError(message) from None
    if not number.is_integer() or not low <= number <= high:
        raise ValueError(message)
    return int(number)


def settings_path(archive_dir: Path) -> Path:
    return Path(archive_dir) / SETTINGS_FILE


def _cell_value(settings: Settings, key: str) -> Any:
    value = getattr(settings, key)
    return "、".join(value) if isinstance(value, tuple) else value


def write_settings_workbook(path: Path, settings: Settings | None = None) -> Path:
    """Write 设置.xlsx (atomically, through the one writer)."""
    settings = settings or Settings()
    s = SheetBuilder(SETTINGS_SHEET, [18, 40, 70])
    s.add(list(HEADER), Style.HEADER)
    for key, label, note in ROWS:
        row = s.add([label, _cell_value(settings, key), note])
        s.style(f"A{row}", Style.HEADER)
        s.style(f"C{row}", Style.NOTE)
    sheet = s.build(landscape=True, tab_color="1F4E78", freeze="B2", print_title_rows="1:1")
    return write_generated_workbook([sheet], Path(path), title="督查设置")


def read_settings_workbook(path: Path) -> Settings:
    """Read and validate 设置.xlsx; raises SettingsError naming the cell and the fix."""
    path = Path(path)
    try:
        raw = read_raw_workbook(path, error_cells=False)
    except UnreadableWorkbook as exc:
        raise SettingsError("settings-unreadable", f"设置文件「{path.name}」无法读取：{exc}") from None
    name = next((n for n in raw.sheets if fold_header(n) == fold_header(SETTINGS_SHEET)), None)
    if name is None:
        raise SettingsError("settings-no-sheet", f"设置文件「{path.name}」中没有「{SETTINGS_SHEET}」工作表；"
                                                 "可删除该文件后运行 ducha settings 重新生成")
    by_label = {fold_header(label): key for key, label, _ in ROWS}
    values: dict[str, Any] = {}
    cells: dict[str, str] = {}
    for number, line in enumerate(raw.sheets[name], start=1):
        label = _text(line[0]) if line else ""
        if not label or fold_header(label) in (fold_header(HEADER[0]),):
            continue
        where = f"{SETTINGS_SHEET}!B{number}"
        if "密码" in label:
            raise SettingsError("settings-password",
                                "设置文件中不保存密码，请删除这一行（密码在运行时输入或用环境变量提供）",
                                f"{SETTINGS_SHEET}!A{number}")
        key = by_label.get(fold_header(label))
        if key is None:
            raise SettingsError("settings-unknown-item",
                                f"「{label}」不是设置项，请改正或删除这一行（可用：{'、'.join(LABELS.values())}）",
                                f"{SETTINGS_SHEET}!A{number}")
        if key in values:
            raise SettingsError("settings-duplicate-item", f"「{label}」重复出现，请只保留一行",
                                f"{SETTINGS_SHEET}!A{number}")
        values[key] = line[1] if len(line) > 1 else ""
        cells[key] = where
    try:
        return Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][0])
        message = str(error.get("ctx", {}).get("error") or error["msg"])
        raise SettingsError("settings-invalid-value", f"{LABELS[key]}{message}", cells.get(key)) from None


def load_settings(archive_dir: Path) -> Settings:
    """The archive's settings: 设置.xlsx when it exists (validated), else the defaults."""
    path = settings_path(archive_dir)
    return read_settings_workbook(path) if path.exists() else Settings()
