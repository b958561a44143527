"""Put formula results into a workbook after openpyxl has saved it.

openpyxl keeps a cell's formula but drops its last computed value, so a reader that does not recalculate
(python-calamine, Protected View, a phone's viewer, ducha's next run) would see formula cells as empty. This copies
each input formula cell's cached value from the original file into the saved one, and writes Python's own value
into every formula cell ducha composed (the writer's standard step).
"""

from __future__ import annotations

import math
import numbers
import re
import shutil
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from xml.sax.saxutils import escape

from defusedxml import ElementTree

from ducha.reading.error_cells import sheet_parts

_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f[^>]*/>|<f[^>]*>.*?</f>)<v>([^<]*)</v></c>', re.S)
_EMPTY_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f[^>]*/>|<f[^>]*>.*?</f>)<v\s*(?:/>|></v>)</c>',
                                 re.S)
_TYPE = re.compile(rb'\st="([a-z]+)"')

CachedValue = float | int | str | bool | None
FormulaValues = Mapping[str, CachedValue]  # A1 cell -> the value its formula gives


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
    _rewrite_sheets(saved, {name: lambda xml, found=found: _restore(xml, found) for name, found in cached.items()})


def _rewrite_sheets(saved: Path, edits: Mapping[str, Callable[[bytes], bytes]]) -> None:
    """Rewrite the XML of the named sheets of the saved workbook (in place); every other part is copied as it is."""
    if not edits:
        return
    rebuilt = saved.with_name(saved.name + ".values")
    with zipfile.ZipFile(saved) as after, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as out:
        targets = {part: edits[name] for name, part in sheet_parts(after).items() if name in edits}
        for item in after.infolist():
            data = after.read(item.filename)
            if item.filename in targets:
                data = targets[item.filename](data)
            out.writestr(item, data)
    shutil.move(rebuilt, saved)


def _typed(value: CachedValue) -> tuple[bytes, bytes] | None:
    """(cell type attribute, <v> text) of a cached value; None for no value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"b", b"1" if value else b"0"
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            return None
        return b"", repr(int(number) if number.is_integer() and abs(number) < 1e15 else number).encode()
    return b"str", escape(str(value)).encode("utf-8")


def with_formula_values(xml: bytes, values: FormulaValues) -> bytes:
    """A sheet's XML with `values` written as the cached results of those (empty) formula cells."""
    typed = {ref.encode(): hit for ref, value in values.items() if (hit := _typed(value)) is not None}
    return _restore(xml, typed) if typed else xml


def write_formula_values(saved: Path, values: Mapping[str, FormulaValues]) -> None:
    """Write `values` (sheet -> cell -> value) as cached results into the saved workbook (rewritten in place)."""
    _rewrite_sheets(saved, {name: lambda xml, cells=cells: with_formula_values(xml, cells)
                            for name, cells in values.items() if cells})
