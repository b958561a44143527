"""Build, install and uninstall 督查助手.xlam, the ribbon add-in that runs ducha from Excel.

The add-in is xlwings' Office-authored ribbon add-in with our ribbon (rendered from the command table's buttons,
`BUTTONS`) and our one VBA module (`addin/ducha_ribbon.bas`, one callback that passes the button id to
`ducha.excel.run`). The build is deterministic: the same sources give the same bytes on any OS.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET

from ducha import __version__
from ducha.adapters.files import write_atomically, write_bytes_atomically
from ducha.adapters.writer import pack_zip
from ducha.app.addin_file import (
    ADDIN_DIR,
    ADDIN_FILENAME,
    CONFIG_SHEET,
    DUCHA_VERSION_CONST,
    INTERPRETER_KEY,
    MAIN_NS,
    OFFICE_KEY,
    PKG_REL_NS,
    PROJECT_NAME,
    VBA_MODULE,
    XLWINGS_MODULE,
    AddinError,
    _cell_text,
    _config_sheet_part,
    _shared_strings,
    _split_ref,
    addins_folder,
    read_config,
)
from ducha.app.addin_file import open_values as _open_values
from ducha.app.addin_file import options_keys as _options_keys
from ducha.app.addin_file import read_parts as _read_parts
from ducha.app.commands import TABLE
from ducha.reading.gate import column_number

__all__ = ["ADDIN_DIR", "ADDIN_FILENAME", "CONFIG_SHEET", "INTERPRETER_KEY", "PROJECT_NAME", "VBA_MODULE",
           "AddinError", "addins_folder", "read_config"]

if TYPE_CHECKING:
    pass

RIBBON_XML = "customUI14.xml"
VBA_SOURCE = "ducha_ribbon.bas"

VBA_CALLBACK = "DuchaButton"
ON_ACTION = f"{VBA_MODULE}.{VBA_CALLBACK}"

# xlwings' VBA looks up its settings on a sheet named PROJECT_NAME + ".conf"; the template ships it disabled
# (a leading underscore) under the project name "myaddin".
TEMPLATE_FILE = "quickstart_addin_ribbon.xlam"
TEMPLATE_PROJECT_NAME = "myaddin"
TEMPLATE_CONFIG_SHEET = f"_{TEMPLATE_PROJECT_NAME}.conf"
TEMPLATE_RIBBON_MODULE = "RibbonMyAddin"

ADDIN_TITLE = "督查助手"
ADDIN_DESCRIPTION = "精准扶贫专题督查：检查完整性、计算评分、标记跟进、汇总与督办函（ducha）"

CUSTOMUI14_NS = "http://schemas.microsoft.com/office/2009/07/customui"
CUSTOMUI14_PART = "customUI/customUI14.xml"
UI_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
UI_REL_TYPES = frozenset({UI_REL_TYPE, "http://schemas.microsoft.com/office/2006/relationships/ui/extensibility"})
ADDIN_CONTENT_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

# Fixed zip metadata: no timestamps, no host OS, no compressor version can change the bytes.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class RibbonGroup:
    """A group on the 精准扶贫督查 tab."""

    id: str
    label: str


@dataclass(frozen=True)
class RibbonButton:
    """A ribbon button; its id is the command passed to `ducha.excel.run`."""

    id: str
    label: str
    image: str
    group: str
    supertip: str
    screentip: str = ""


TAB_ID = "tabDucha"
TAB_LABEL = "精准扶贫督查"
GROUPS = (
    RibbonGroup("grpInspect", "督查"),
    RibbonGroup("grpPrefecture", "州督查办"),
    RibbonGroup("grpHelp", "帮助"),
)
# The buttons, in the command table's order: a command with a ribbon group is a button whose id is its name.
BUTTONS = tuple(RibbonButton(c.name, c.label, c.image, c.group, c.tip or c.help, c.screentip)
                for c in TABLE if c.group is not None)


@dataclass(frozen=True)
class AddinResult:
    """What install / uninstall did, for the command line to print; `exit_code` is non-zero on failure."""

    ok: bool
    message: str
    path: Path | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1


# --- ribbon -------------------------------------------------------------------------------------------------


def render_ribbon_xml(buttons: Iterable[RibbonButton] = BUTTONS, groups: Iterable[RibbonGroup] = GROUPS) -> str:
    """The customUI14 ribbon XML for `buttons`, every button calling the one VBA callback."""
    buttons = tuple(buttons)
    groups = tuple(groups)
    known = {group.id for group in groups}
    for button in buttons:
        if button.group not in known:
            raise AddinError(f"按钮 {button.id} 的分组 {button.group} 不在 GROUPS 中。")
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        "<!-- Generated from BUTTONS in src/ducha/addin_tools.py: edit the list there and run `ducha addin build`. -->",
        f"<customUI xmlns={quoteattr(CUSTOMUI14_NS)}>",
        "  <ribbon>",
        "    <tabs>",
        f"      <tab id={quoteattr(TAB_ID)} label={quoteattr(TAB_LABEL)}>",
    ]
    for group in groups:
        members = [button for button in buttons if button.group == group.id]
        if not members:
            continue
        lines.append(f"        <group id={quoteattr(group.id)} label={quoteattr(group.label)}>")
        for button in members:
            attributes = {
                "id": button.id,
                "label": button.label,
                "imageMso": button.image,
                "size": "large",
                "screentip": button.screentip or button.label,
                "supertip": button.supertip,
                "onAction": ON_ACTION,
            }
            rendered = " ".join(f"{name}={quoteattr(value)}" for name, value in attributes.items())
            lines.append(f"          <button {rendered}/>")
        lines.append("        </group>")
    lines += ["      </tab>", "    </tabs>", "  </ribbon>", "</customUI>"]
    return "\n".join(lines) + "\n"


def read_vba_source(path: Path | None = None) -> str:
    """The ribbon VBA module's source with CRLF line endings, as the VBE stores it."""
    path = path or ADDIN_DIR / VBA_SOURCE
    try:
        text = path.read_text(encoding="ascii")
    except UnicodeDecodeError as error:
        raise AddinError(f"{path.name} 只能包含 ASCII 字符（VBA 工程使用代码页 1252，中文会变成问号）。") from error
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    return stamp_version(text)


def stamp_version(vba: str) -> str:
    """The module with its DUCHA_VERSION constant set to this ducha's version (the doctor compares them)."""
    declaration = re.compile(rf'^(Public Const {DUCHA_VERSION_CONST} As String = )"[^"]*"', re.M)
    if len(declaration.findall(vba)) != 1:
        raise AddinError(f"{VBA_SOURCE} 中必须有一行 Public Const {DUCHA_VERSION_CONST} As String = \"…\"。")
    return declaration.sub(lambda m: f'{m.group(1)}"{__version__}"', vba)


# --- build --------------------------------------------------------------------------------------------------


def xlwings_template() -> Path:
    """xlwings' own ribbon add-in, the Office-authored starting point of the build."""
    import xlwings

    return Path(xlwings.__file__).resolve().parent / TEMPLATE_FILE


def build_addin(out: Path | None = None) -> Path:
    """Build 督查助手.xlam from the sources and return its path (default: addin/督查助手.xlam).

    Without `out` the committed addin/customUI14.xml is refreshed from `BUTTONS` as well.
    """
    target = ADDIN_DIR / ADDIN_FILENAME if out is None else Path(out)
    if target.is_dir():
        target = target / ADDIN_FILENAME
    ribbon = render_ribbon_xml()
    vba = read_vba_source()
    if out is None:
        _write_if_changed(ADDIN_DIR / RIBBON_XML, ribbon.encode("utf-8"))
        _write_if_changed(ADDIN_DIR / VBA_SOURCE, vba.encode("ascii"))
    with tempfile.TemporaryDirectory(prefix="ducha-addin-") as tmp:
        stage = Path(tmp) / "stage.xlam"
        shutil.copyfile(xlwings_template(), stage)
        _replace_vba(stage, vba)
        parts = _read_parts(stage)
    parts = _replace_ribbon(parts, ribbon)
    parts = _enable_config_sheet(parts)
    parts["docProps/core.xml"] = _set_core_properties(parts["docProps/core.xml"])
    write_bytes_atomically(target, _pack(parts))
    return target


def _replace_vba(stage: Path, vba: str) -> None:
    """Replace xlwings' ribbon module with ours and point xlwings' PROJECT_NAME at our config sheet."""
    from pyopenvba import ExcelFile

    header = re.match(r'Attribute VB_Name = "(\w+)"\r\n', vba)
    if header is None or header.group(1) != VBA_MODULE:
        raise AddinError(f"{VBA_SOURCE} 必须以 Attribute VB_Name = \"{VBA_MODULE}\" 开头。")
    old = f'Public Const PROJECT_NAME As String = "{TEMPLATE_PROJECT_NAME}"'
    new = f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"'
    with ExcelFile(stage) as book:
        # Renaming the template's ribbon module in place keeps the PROJECT stream in the shape Office wrote it.
        project = book.vba_project()
        project.rename_module(TEMPLATE_RIBBON_MODULE, VBA_MODULE)
        book.set_module(VBA_MODULE, vba)
        source = project.get_module(XLWINGS_MODULE).source
        if source.count(old) != 1:
            raise AddinError(f"xlwings 模板的 VBA 中找不到 {old}：xlwings 版本变化，需要检查构建步骤。")
        book.set_module(XLWINGS_MODULE, source.replace(old, new))
        book.save()
    with ExcelFile(stage) as book:
        problems = book.validate()
    if problems:
        raise AddinError("VBA 工程校验失败：" + "；".join(problems))


def _replace_ribbon(parts: dict[str, bytes], ribbon: str) -> dict[str, bytes]:
    """Drop the template's customUI parts, add ours, and relate it from the package root."""
    parts = {name: data for name, data in parts.items() if not name.startswith("customUI/")}
    parts[CUSTOMUI14_PART] = ribbon.encode("utf-8")

    rels = SafeET.fromstring(parts["_rels/.rels"])
    entries: list[dict[str, str]] = []
    ui_rel: dict[str, str] | None = None
    for rel in rels.findall(f"{{{PKG_REL_NS}}}Relationship"):
        attributes = dict(rel.attrib)
        if attributes["Type"] in UI_REL_TYPES:
            if ui_rel is None:
                ui_rel = {"Id": attributes["Id"], "Type": UI_REL_TYPE, "Target": CUSTOMUI14_PART}
                entries.append(ui_rel)
            continue
        entries.append(attributes)
    if ui_rel is None:
        used = {entry["Id"] for entry in entries}
        number = 1
        while f"rId{number}" in used:
            number += 1
        entries.append({"Id": f"rId{number}", "Type": UI_REL_TYPE, "Target": CUSTOMUI14_PART})
    parts["_rels/.rels"] = _flat_xml(PKG_REL_NS, "Relationships", [("Relationship", entry) for entry in entries])

    types = SafeET.fromstring(parts["[Content_Types].xml"])
    children: list[tuple[str, dict[str, str]]] = []
    for child in types:
        local = child.tag.rpartition("}")[2]
        attributes = dict(child.attrib)
        if local == "Override" and attributes["PartName"].lstrip("/") not in parts:
            continue
        if local == "Override" and attributes["PartName"] == "/xl/workbook.xml":
            attributes["ContentType"] = ADDIN_CONTENT_TYPE
        children.append((local, attributes))
    covered = {attributes.get("Extension", "").lower() for local, attributes in children if local == "Default"}
    covered |= {attributes.get("PartName", "") for local, attributes in children if local == "Override"}
    if "xml" not in covered and f"/{CUSTOMUI14_PART}" not in covered:
        children.append(("Override", {"PartName": f"/{CUSTOMUI14_PART}", "ContentType": "application/xml"}))
    parts["[Content_Types].xml"] = _flat_xml(CT_NS, "Types", children)
    return parts


def _enable_config_sheet(parts: dict[str, bytes]) -> dict[str, bytes]:
    """Rename the template's disabled `_myaddin.conf` sheet to the name xlwings' VBA looks up."""
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    old = f"name={quoteattr(TEMPLATE_CONFIG_SHEET)}"
    if workbook.count(old) != 1:
        raise AddinError(f"xlwings 模板中找不到配置表 {TEMPLATE_CONFIG_SHEET}。")
    parts["xl/workbook.xml"] = workbook.replace(old, f"name={quoteattr(CONFIG_SHEET)}").encode("utf-8")
    return parts


def _set_core_properties(core: bytes) -> bytes:
    """Give the add-in the title and description Excel shows in its Add-ins dialog."""
    text = core.decode("utf-8")
    for tag, value in (("dc:title", ADDIN_TITLE), ("dc:description", ADDIN_DESCRIPTION)):
        text, count = re.subn(rf"<{tag}\s*/>|<{tag}>[^<]*</{tag}>", f"<{tag}>{escape(value)}</{tag}>", text)
        if count != 1:
            raise AddinError(f"docProps/core.xml 中没有唯一的 {tag}。")
    return text.encode("utf-8")


def _flat_xml(namespace: str, root: str, children: list[tuple[str, dict[str, str]]]) -> bytes:
    """A one-level package XML part (.rels, [Content_Types].xml) written the way Office writes it."""
    body = "".join(
        f"<{tag} " + " ".join(f"{name}={quoteattr(value)}" for name, value in attributes.items()) + "/>"
        for tag, attributes in children
    )
    declaration = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    return f"{declaration}<{root} xmlns={quoteattr(namespace)}>{body}</{root}>".encode()


def _pack(parts: Mapping[str, bytes]) -> bytes:
    """Zip the parts uncompressed in a fixed order with fixed metadata, so equal parts give equal bytes."""
    order = sorted(parts, key=lambda name: (name != "[Content_Types].xml", name != "_rels/.rels", name))
    return pack_zip(((name, parts[name]) for name in order), date_time=ZIP_DATE, compression=zipfile.ZIP_STORED,
                    external_attr=0, create_system=0)


def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.exists() or path.read_bytes() != data:
        write_bytes_atomically(path, data)


# --- the xlwings config sheet -------------------------------------------------------------------------------


def set_interpreter(xlam: Path, python_exe: str) -> None:
    """Write `python_exe` as the add-in's Interpreter_Win setting (the Python that RunPython starts)."""
    set_config(xlam, INTERPRETER_KEY, python_exe)


def set_config(xlam: Path, key: str, value: str) -> None:
    """Set an existing key on the add-in's config sheet; the VBA project is left byte for byte."""
    xlam = Path(xlam)
    parts = _read_parts(xlam)
    part = _config_sheet_part(parts)
    sheet_xml = parts[part].decode("utf-8")
    strings = _shared_strings(parts)
    rows = {
        _split_ref(cell.get("r", ""))[1]: _cell_text(cell, strings)
        for cell in SafeET.fromstring(parts[part]).iter(f"{{{MAIN_NS}}}c")
        if _split_ref(cell.get("r", ""))[0] == "A"
    }
    matches = [row for row, name in rows.items() if name.upper() == key.upper()]
    if not matches:
        raise AddinError(f"加载项的配置表 {CONFIG_SHEET} 中没有设置项 {key}。")
    parts[part] = _set_row_value(sheet_xml, matches[0], value).encode("utf-8")
    SafeET.fromstring(parts[part])
    write_bytes_atomically(xlam, _pack(parts))


def _set_row_value(sheet_xml: str, row: int, value: str) -> str:
    """Put `value` into column B of `row` as an inline string; the rest of the sheet XML is kept as written."""
    row_pattern = re.compile(rf'<row\b[^>]*\br="{row}"[^>]*?(?:/>|>.*?</row>)', re.DOTALL)
    found = row_pattern.search(sheet_xml)
    if found is None:
        raise AddinError(f"配置表中找不到第 {row} 行。")
    row_xml = re.sub(rf'<c\b[^>]*\br="B{row}"[^>]*?(?:/>|>.*?</c>)', "", found.group(0), flags=re.DOTALL)
    if value:
        space = ' xml:space="preserve"' if value != value.strip() else ""
        cell = f'<c r="B{row}" s="1" t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'
        a_cell = re.search(rf'<c\b[^>]*\br="A{row}"[^>]*?(?:/>|>.*?</c>)', row_xml, re.DOTALL)
        if a_cell is None:
            raise AddinError(f"配置表第 {row} 行没有设置项名称。")
        row_xml = row_xml[: a_cell.end()] + cell + row_xml[a_cell.end():]
    columns = [column_number(letters) for letters in re.findall(rf'<c\b[^>]*\br="([A-Z]+){row}"', row_xml)]
    if columns:
        row_xml = re.sub(r'\bspans="\d+:\d+"', f'spans="{min(columns)}:{max(columns)}"', row_xml, count=1)
    return sheet_xml[: found.start()] + row_xml + sheet_xml[found.end():]


# --- install / uninstall (Windows) ---------------------------------------------------------------------------



def install_addin(source: Path | None = None, python_exe: str | None = None) -> AddinResult:
    """Copy the add-in to Excel's AddIns folder, point it at this Python and load it at every Excel start."""
    python_exe = python_exe or sys.executable
    if sys.platform != "win32":
        what = (f"把 {ADDIN_FILENAME} 复制到 %APPDATA%\\Microsoft\\AddIns，"
                f"在其配置表 {CONFIG_SHEET} 中把 {INTERPRETER_KEY} 设为 {python_exe}，"
                f"并在注册表 HKCU\\{OFFICE_KEY}\\<版本>\\Excel\\Options 中登记 OPEN 项，使 Excel 每次启动时加载它")
        return AddinResult(False, _windows_only("安装", what))
    source = Path(source) if source else ADDIN_DIR / ADDIN_FILENAME
    if not source.is_file():
        return AddinResult(False, f"找不到加载项文件 {source}。请先运行 ducha addin build。")
    if _excel_running():
        return AddinResult(False, "Excel 正在运行。请保存并关闭所有 Excel 窗口后再安装"
                                  "（否则 Excel 退出时会覆盖加载项登记）。")
    target = addins_folder() / ADDIN_FILENAME

    def staged(path: Path) -> None:
        shutil.copyfile(source, path)
        set_interpreter(path, python_exe)

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, staged)
    except PermissionError:
        return AddinResult(False, f"无法写入 {target}：文件被占用。请关闭 Excel 后重试。", target)
    keys = _register(target)
    return AddinResult(True, f"已安装督查助手：{target}\n"
                             f"Python：{python_exe}\n"
                             f"已在注册表登记：{'、'.join(keys)}\n"
                             f"请重新打开 Excel，功能区会出现「{TAB_LABEL}」选项卡。", target)


def uninstall_addin() -> AddinResult:
    """Stop Excel loading the add-in and delete it from the AddIns folder."""
    if sys.platform != "win32":
        what = (f"从注册表 HKCU\\{OFFICE_KEY}\\<版本>\\Excel\\Options 中移除督查助手的 OPEN 项，"
                f"并删除 %APPDATA%\\Microsoft\\AddIns\\{ADDIN_FILENAME}")
        return AddinResult(False, _windows_only("卸载", what))
    if _excel_running():
        return AddinResult(False, "Excel 正在运行。请保存并关闭所有 Excel 窗口后再卸载。")
    target = addins_folder() / ADDIN_FILENAME
    keys = _unregister(target)
    try:
        target.unlink(missing_ok=True)
    except PermissionError:
        return AddinResult(False, f"无法删除 {target}：文件被占用。请关闭 Excel 后重试。", target)
    registered = f"已从注册表移除：{'、'.join(keys)}" if keys else "注册表中没有督查助手的登记"
    return AddinResult(True, f"已卸载督查助手（{target}）；{registered}。", target)


def _windows_only(action: str, what: str) -> str:
    return f"{action}加载项只能在 Windows 上进行（会{what}）。当前系统是 {sys.platform}，没有做任何更改。"


def next_open_entry(values: Mapping[str, str], addin_path: str) -> tuple[str, str] | None:
    """The OPENn value to add so Excel loads `addin_path`, or None when it is already registered."""
    name = Path(addin_path).name.casefold()
    for data in values.values():
        if name in str(data).casefold():
            return None
    slot = next(f"OPEN{n or ''}" for n in range(len(values) + 1) if f"OPEN{n or ''}" not in values)
    return slot, f'"{addin_path}"'


def renumbered_open_entries(values: Mapping[str, str], addin_path: str) -> dict[str, str]:
    """The OPENn values left once `addin_path` is removed, renumbered OPEN, OPEN1, ... without gaps."""
    name = Path(addin_path).name.casefold()

    def index(key: str) -> int:
        return int(key[4:] or 0)

    kept = [values[key] for key in sorted(values, key=index) if name not in str(values[key]).casefold()]
    return {f"OPEN{n or ''}": data for n, data in enumerate(kept)}


def _excel_running() -> bool:
    try:
        listing = subprocess.run(["tasklist", "/FI", "IMAGENAME eq EXCEL.EXE", "/NH"],
                                 capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return "excel.exe" in listing.stdout.casefold()


def _register(target: Path) -> list[str]:
    import winreg

    written: list[str] = []
    for path in _options_keys():
        with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, path, 0, winreg.KEY_READ | winreg.KEY_WRITE) as key:
            entry = next_open_entry(_open_values(key), str(target))
            if entry is not None:
                winreg.SetValueEx(key, entry[0], 0, winreg.REG_SZ, entry[1])
            written.append(rf"{path}\{entry[0] if entry else '（已登记）'}")
    return written


def _unregister(target: Path) -> list[str]:
    import winreg

    removed: list[str] = []
    for path in _options_keys():
        try:
            key = winreg.OpenKey(winreg.HKEY_CURRENT_USER, path, 0, winreg.KEY_READ | winreg.KEY_WRITE)
        except OSError:
            continue
        with key:
            before = _open_values(key)
            after = renumbered_open_entries(before, str(target))
            if after == before:
                continue
            for name in before:
                if name not in after:
                    winreg.DeleteValue(key, name)
            for name, data in after.items():
                winreg.SetValueEx(key, name, 0, winreg.REG_SZ, data)
            removed.append(path)
    return removed
