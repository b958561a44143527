"""Reading the workbook open in Excel: each input sheet's values with one call and its merged areas, as calamine
gives them for a file; the book's path."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from ducha.adapters.live.geometry import Rect, parse_rect
from ducha.model.schema import INPUT_SHEETS
from ducha.reading import normalize
from ducha.reading.raw import RawWorkbook

log = logging.getLogger("ducha.live")

_INPUT_NAMES = {normalize.fold_header(n) for s in INPUT_SHEETS for n in (s.name, *s.aliases)}


def read_book(book: Any) -> RawWorkbook:
    """Every sheet's name in order; the values (one read each) and merged areas of the input sheets, as calamine
    gives them. Other sheets (generated ones, 说明) only need their names."""
    raw = RawWorkbook(path=book_path(book))
    for sheet in book.sheets:
        name = sheet.name
        if normalize.fold_header(name) not in _INPUT_NAMES:
            raw.sheets[name] = []
            continue
        used = sheet.used_range
        raw.sheets[name] = _read_values(used)
        merged = _merged_areas(sheet, parse_rect(used.address))
        if merged:
            raw.merged[name] = merged
    return raw


def _merged_areas(sheet: Any, used: Rect) -> list[tuple[int, int, int, int]]:
    """Merged areas (0-based r0, c0, r1, c1), found by halving the used range: one call when there are none."""
    found: set[Rect] = set()

    def walk(rect: Rect) -> None:
        r1, c1, r2, c2 = rect
        state = sheet.range((r1, c1), (r2, c2)).merge_cells
        if state is False:
            return
        if state is True:
            area = parse_rect(sheet.range((r1, c1)).merge_area.address)
            if area[0] <= r1 and area[1] <= c1 and area[2] >= r2 and area[3] >= c2:
                found.add(area)
                return
        if r2 > r1:
            middle = (r1 + r2) // 2
            walk((r1, c1, middle, c2))
            walk((middle + 1, c1, r2, c2))
        elif c2 > c1:
            middle = (c1 + c2) // 2
            walk((r1, c1, r2, middle))
            walk((r1, middle + 1, r2, c2))

    try:
        walk(used)
    except NotImplementedError:  # the remote engine cannot tell synchronously
        log.debug("merged cells are not visible on this engine")
        return []
    return sorted((r1 - 1, c1 - 1, r2 - 1, c2 - 1) for r1, c1, r2, c2 in found)


def _read_values(used: Any) -> list[list[Any]]:
    values = used.options(ndim=2, err_to_str=True).value or []
    top, left = used.row, used.column
    width = left - 1 + max((len(row) for row in values), default=0)
    grid = [[""] * width for _ in range(top - 1)]
    grid += [[""] * (left - 1) + [_raw_value(v) for v in row] for row in values]
    while grid and all(v == "" for v in grid[-1]):
        grid.pop()
    return grid


def _raw_value(value: Any) -> Any:
    """A value as python-calamine gives it: '' for empty, floats, dates without a time as date."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.date() == dt.date(1899, 12, 30):
            return value.time()
        if value.time() == dt.time(0):
            return value.date()
    return value


def book_path(book: Any) -> Path:
    """The workbook's path; an unsaved book gives its bare name, a OneDrive/SharePoint URL its file name."""
    fullname = str(book.fullname or book.name or "工作簿")
    if "://" in fullname:
        return Path(unquote(PurePosixPath(urlparse(fullname).path).name) or book.name)
    return Path(fullname)
