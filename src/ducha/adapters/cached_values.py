"""Put formula results back after openpyxl has saved a workbook.

openpyxl keeps a cell's formula but drops its last computed value, so a reader that does not recalculate
(python-calamine, a phone's viewer, ducha's next run) would see the clerk's formula cells as empty. This copies
each input formula cell's cached value from the original file into the saved one.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

from defusedxml import ElementTree

from ducha.reading.error_cells import sheet_parts

_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f[^>]*/>|<f[^>]*>.*?</f>)<v>([^<]*)</v></c>', re.S)
_EMPTY_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f[^>]*/>|<f[^>]*>.*?</f>)<v\s*(?:/>|></v>)</c>',
                                 re.S)
_TYPE = re.compile(rb'\st="([a-z]+)"')


def _cached(xml: bytes) -> dict[bytes, tuple[bytes, bytes]]:
    """Cell reference -> (type attribute, cached value) of every formula cell that has a value."""
    found = {}
    for match in _FORMULA_CELL.finditer(xml):
        kind = _TYPE.search(match.group(2))
        found[match.group(1)] = (kind.group(1) if kind else b"", match.group(4))
    return found


def _restore(xml: bytes, cached: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    def put_back(match: re.Match[bytes]) -> bytes:
        hit = cached.get(match.group(1))
        if hit is None:
            return match.group(0)
        kind, value = hit
        attributes = _TYPE.sub(b"", match.group(2)) + (b' t="' + kind + b'"' if kind else b"")
        return b'<c r="' + match.group(1) + b'"' + attributes + b">" + match.group(3) + b"<v>" + value + b"</v></c>"

    return _EMPTY_FORMULA_CELL.sub(put_back, xml)


def _cached_by_sheet(original: Path, sheets: list[str]) -> dict[str, dict[bytes, tuple[bytes, bytes]]]:
    cached = {}
    with zipfile.ZipFile(original) as before:
        parts = sheet_parts(before)
        for name in sheets:
            part = parts.get(name)
            if part and part in before.namelist():
                xml = before.read(part)
                if b"<f" in xml:
                    values = _cached(xml)
                    if values:
                        cached[name] = values
    return cached


def restore_cached_values(original: Path, saved: Path, sheets: list[str]) -> None:
    """Copy the cached results of formula cells in `sheets` from `original` into `saved` (rewritten in place)."""
    try:
        cached = _cached_by_sheet(original, sheets)
    except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError):  # nothing trustworthy to copy
        return
    if not cached:
        return
    rebuilt = saved.with_name(saved.name + ".values")
    with zipfile.ZipFile(saved) as after, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as out:
        targets = {part: cached[name] for name, part in sheet_parts(after).items() if name in cached}
        for item in after.infolist():
            data = after.read(item.filename)
            if item.filename in targets:
                data = _restore(data, targets[item.filename])
            out.writestr(item, data)
    shutil.move(rebuilt, saved)
