"""Put formula results into a sheet's XML after openpyxl has written it.

openpyxl writes a formula without a computed value, so a reader that does not recalculate (python-calamine,
Protected View, a phone's viewer, ducha's next run) would see formula cells as empty. This writes Python's own value
into every formula cell ducha composed (the writer's standard step). The clerk's own formula cells keep theirs: the
file adapter never re-saves the clerk's sheets.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping
from html import escape as _html_escape


def escape(text: str) -> str:
    """XML character data: &, < and > escaped (xml.sax.saxutils.escape, without its slow import of urllib)."""
    return _html_escape(text, quote=False)

_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f[^>]*/>|<f[^>]*>.*?</f>)<v>([^<]*)</v></c>', re.S)
_EMPTY_FORMULA_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f[^>]*/>|<f[^>]*>.*?</f>)<v\s*(?:/>|></v>)</c>',
                                 re.S)
_TYPE = re.compile(rb'\st="([a-z]+)"')

CachedValue = float | int | str | bool | None
FormulaValues = Mapping[str, CachedValue]  # A1 cell -> the value its formula gives


def _restore(xml: bytes, cached: dict[bytes, tuple[bytes, bytes]]) -> bytes:
    def put_back(match: re.Match[bytes]) -> bytes:
        hit = cached.get(match.group(1))
        if hit is None:
            return match.group(0)
        kind, value = hit
        attributes = _TYPE.sub(b"", match.group(2)) + (b' t="' + kind + b'"' if kind else b"")
        return b'<c r="' + match.group(1) + b'"' + attributes + b">" + match.group(3) + b"<v>" + value + b"</v></c>"

    return _EMPTY_FORMULA_CELL.sub(put_back, xml)


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


