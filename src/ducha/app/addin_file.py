"""The add-in file and where Windows keeps it: its config sheet, the versions its VBA carries, Excel's AddIns
folder and the registry keys that load it. Nothing here depends on the command table, so the doctor can use it.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET

import ducha.addin
from ducha.reading.ooxml import sheet_parts

if TYPE_CHECKING:
    import winreg

ADDIN_DIR = Path(ducha.addin.__file__).resolve().parent
ADDIN_FILENAME = "督查助手.xlam"
VBA_MODULE = "DuchaRibbon"
XLWINGS_MODULE = "xlwings"
# xlwings' VBA looks up its settings on a sheet named PROJECT_NAME + ".conf".
PROJECT_NAME = "ducha"
CONFIG_SHEET = f"{PROJECT_NAME}.conf"
INTERPRETER_KEY = "Interpreter_Win"
OFFICE_KEY = r"Software\Microsoft\Office"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# The versions the VBA carries: ours in the ribbon module (stamped by the build), xlwings' in its own module.
DUCHA_VERSION_CONST = "DUCHA_VERSION"
XLWINGS_VERSION_CONST = "XLWINGS_VERSION"


def version_constant(source: str, name: str) -> str | None:
    """The value of `Public Const <name> As String = "..."` in a VBA module's source."""
    found = re.search(rf'^\s*Public\s+Const\s+{name}\s+As\s+String\s*=\s*"([^"]*)"', source, re.M | re.I)
    return found.group(1) if found else None


def addin_versions(xlam: Path) -> dict[str, str | None]:
    """The ducha and xlwings versions the add-in's VBA was built with."""
    from pyopenvba import ExcelFile

    with ExcelFile(Path(xlam)) as book:
        project = book.vba_project()
        ours = project.get_module(VBA_MODULE).source
        theirs = project.get_module(XLWINGS_MODULE).source
    return {"ducha": version_constant(ours, DUCHA_VERSION_CONST),
            "xlwings": version_constant(theirs, XLWINGS_VERSION_CONST)}


class AddinError(Exception):
    """The add-in cannot be built or edited; the message says why, in Chinese."""


def read_config(xlam: Path) -> dict[str, str]:
    """The settings on the add-in's `ducha.conf` sheet, key → value ("" when empty)."""
    parts = read_parts(Path(xlam))
    sheet = SafeET.fromstring(parts[_config_sheet_part(parts)])
    strings = _shared_strings(parts)
    values: dict[int, dict[str, str]] = {}
    for cell in sheet.iter(f"{{{MAIN_NS}}}c"):
        column, row = _split_ref(cell.get("r", ""))
        values.setdefault(row, {})[column] = _cell_text(cell, strings)
    return {cells["A"]: cells.get("B", "") for _, cells in sorted(values.items()) if cells.get("A")}


def _config_sheet_part(parts: Mapping[str, bytes]) -> str:
    part = sheet_parts(parts["xl/workbook.xml"], parts["xl/_rels/workbook.xml.rels"]).get(CONFIG_SHEET)
    if part is None:
        raise AddinError(f"这不是督查助手加载项：没有配置表 {CONFIG_SHEET}。")
    return part


def _shared_strings(parts: Mapping[str, bytes]) -> list[str]:
    if "xl/sharedStrings.xml" not in parts:
        return []
    table = SafeET.fromstring(parts["xl/sharedStrings.xml"])
    return ["".join(t.text or "" for t in item.iter(f"{{{MAIN_NS}}}t")) for item in table.iter(f"{{{MAIN_NS}}}si")]


def _cell_text(cell: Element, strings: list[str]) -> str:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(f"{{{MAIN_NS}}}t"))
    value = cell.find(f"{{{MAIN_NS}}}v")
    if value is None or value.text is None:
        return ""
    if kind == "s":
        return strings[int(value.text)]
    if kind == "b":
        return "TRUE" if value.text == "1" else "FALSE"
    return value.text


def _split_ref(ref: str) -> tuple[str, int]:
    match = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    return (match.group(1), int(match.group(2))) if match else ("", 0)


def read_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {info.filename: package.read(info) for info in package.infolist() if not info.is_dir()}


def addins_folder() -> Path:
    """Excel's per-user add-in folder, %APPDATA%\\Microsoft\\AddIns."""
    return Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / "Microsoft" / "AddIns"


def options_keys() -> list[str]:
    """HKCU Excel\\Options keys of every installed Office version (16.0 when Excel has never run)."""
    import winreg

    versions: list[str] = []
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, OFFICE_KEY) as office:
            index = 0
            while True:
                try:
                    name = winreg.EnumKey(office, index)
                except OSError:
                    break
                index += 1
                if re.fullmatch(r"\d+\.0", name):
                    try:
                        winreg.OpenKey(office, rf"{name}\Excel").Close()
                    except OSError:
                        continue
                    versions.append(name)
    except OSError:
        pass
    versions.sort(key=float)
    return [rf"{OFFICE_KEY}\{version}\Excel\Options" for version in versions or ["16.0"]]


def open_values(key: winreg.HKEYType) -> dict[str, str]:
    import winreg

    values: dict[str, str] = {}
    index = 0
    while True:
        try:
            name, data, _ = winreg.EnumValue(key, index)
        except OSError:
            return values
        index += 1
        if re.fullmatch(r"OPEN\d*", name, re.IGNORECASE):
            values[name.upper()] = str(data)
