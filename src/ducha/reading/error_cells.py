"""Cells holding a formula error (#REF!, #DIV/0!, …), which python-calamine reads as empty.

Each sheet's XML is streamed through zlib looking for error cells (t="e"); only a sheet that has any is parsed
further. Meant to run in a thread beside the calamine read: zlib releases the GIL.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path

from defusedxml import ElementTree
from openpyxl.utils import column_index_from_string

from ducha.reading import ooxml

MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MARKER = b't="e"'
CHUNK = 1 << 20
_ERROR_CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*)>(.*?)</c>', re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")

ErrorCell = tuple[int, int, str]  # 1-based row, 1-based column, error text


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the archive."""
    return ooxml.sheet_parts(archive.read("xl/workbook.xml"), archive.read("xl/_rels/workbook.xml.rels"))


def _has_marker(archive: zipfile.ZipFile, part: str) -> bool:
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(CHUNK):
            if MARKER in tail + chunk[: len(MARKER)] or MARKER in chunk:
                return True
            tail = chunk[-len(MARKER):]
    return False


def formula_error_cells(path: Path) -> dict[str, list[ErrorCell]]:
    """Sheet name -> its error cells. Empty when there are none or the file cannot be scanned."""
    found: dict[str, list[ErrorCell]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for name, part in sheet_parts(archive).items():
                if part not in archive.namelist() or not _has_marker(archive, part):
                    continue
                cells = []
                for match in _ERROR_CELL.finditer(archive.read(part)):
                    ref, value = _REF.search(match.group(1)), _VALUE.search(match.group(2))
                    if ref and value:
                        cells.append((int(ref.group(2)), column_index_from_string(ref.group(1).decode()),
                                      value.group(1).decode("utf-8", "replace")))
                if cells:
                    found[name] = cells
    except (zipfile.BadZipFile, KeyError, OSError, zlib.error, ElementTree.ParseError, ValueError):
        return {}
    return found
