"""Fast reading of a workbook file into raw cell grids with python-calamine.

Rows keep their true Excel numbers (row i of a grid is Excel row i + 1). Nothing here interprets values.
"""

from __future__ import annotations

import io
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine

from ducha.model.refusals import Refusal, Refused
from ducha.reading.error_cells import ErrorCell, formula_error_cells
from ducha.reading.gate import CFB_MAGIC, LOCAL_LIMITS, ZIP_MAGIC, Admitted, Limits, admit, is_panic

log = logging.getLogger("ducha.reading")

UnreadableWorkbook = Refused  # the name callers catch; every refusal carries a code (model.refusals)
__all__ = ["CFB_MAGIC", "ZIP_MAGIC", "RawWorkbook", "UnreadableWorkbook", "read_admitted", "read_raw_workbook",
           "sheet_names"]


@dataclass
class RawWorkbook:
    """Sheet name -> grid of raw values (list of rows, from A1), in workbook order."""

    path: Path
    sheets: dict[str, list[list[Any]]] = field(default_factory=dict)
    merged: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)  # 0-based r0, c0, r1, c1


def read_raw_workbook(path: Path, sheet_names: list[str] | None = None, *, error_cells: bool = True,
                      limits: Limits = LOCAL_LIMITS) -> RawWorkbook:
    """Read every sheet (or the named ones) as raw grids, through the gate. Raises Refused (coded, Chinese).

    `error_cells=False` skips looking for formula-error cells (when the caller already knows there are none)."""
    path = Path(path)
    admitted = admit(path, limits)
    return read_admitted(admitted, path, sheet_names, error_cells=error_cells)


def read_admitted(admitted: Admitted, path: Path, sheet_names: list[str] | None = None, *,
                  error_cells: bool = True) -> RawWorkbook:
    """Read the bytes the gate admitted (nothing re-opens the path)."""
    if not (error_cells and admitted.error_cells):
        return _read_grids(admitted, Path(path), sheet_names)
    with ThreadPoolExecutor(max_workers=1) as pool:
        errors = pool.submit(formula_error_cells, io.BytesIO(admitted.data))
        raw = _read_grids(admitted, Path(path), sheet_names)
        _restore_errors(raw, errors.result())
    return raw


def _restore_errors(raw: RawWorkbook, errors: dict[str, list[ErrorCell]]) -> None:
    """Put formula errors back where calamine left the cells empty."""
    for name, cells in errors.items():
        grid = raw.sheets.get(name)
        if grid is None:
            continue
        for row, column, text in cells:
            while len(grid) < row:
                grid.append([""] * (len(grid[0]) if grid else 0))
            line = grid[row - 1]
            if len(line) < column:
                line.extend([""] * (column - len(line)))
            if line[column - 1] == "":
                line[column - 1] = text


def _refused_by_reader(exc: BaseException, admitted: Admitted) -> Refused:
    """What python-calamine raised (an error, or a Rust panic) as a coded refusal; the details go to the log."""
    log.warning("calamine could not read %s (%s): %s", admitted.name, type(exc).__name__, str(exc)[:300])
    if type(exc).__name__ == "PasswordError" or "password" in str(exc).lower() or "encrypt" in str(exc).lower():
        return Refused(Refusal.ENCRYPTED, name=admitted.name)
    detail = "读取程序无法处理其中的内容" if is_panic(exc) else "内部结构无法解析"
    return Refused(Refusal.DAMAGED, name=admitted.name, detail=detail)


def _open(admitted: Admitted) -> python_calamine.CalamineWorkbook:
    try:
        return python_calamine.CalamineWorkbook.from_filelike(admitted.stream())
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise _refused_by_reader(exc, admitted) from None
    except BaseException as exc:
        if is_panic(exc):
            raise _refused_by_reader(exc, admitted) from None
        raise


def _read_grids(admitted: Admitted, path: Path, sheet_names: list[str] | None) -> RawWorkbook:
    book = _open(admitted)
    raw = RawWorkbook(path=path)
    try:
        for meta in book.sheets_metadata:
            name = meta.name
            if (sheet_names is not None and name not in sheet_names) or \
                    meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue  # chart and dialog sheets hold no cells
            sheet = book.get_sheet_by_name(name)
            raw.sheets[name] = _grid(sheet)
            ranges = sheet.merged_cell_ranges
            if ranges:
                raw.merged[name] = [(a[0], a[1], b[0], b[1]) for a, b in ranges]
    except Exception as exc:
        raise _refused_by_reader(exc, admitted) from None
    except BaseException as exc:
        if is_panic(exc):
            raise _refused_by_reader(exc, admitted) from None
        raise
    finally:
        book.close()
    return raw


DENSE_CELLS = 1_000_000  # in a larger range, empty rows are dropped to []


def _grid(sheet: python_calamine.CalamineSheet) -> list[list[Any]]:
    """The sheet's cells from A1. In a large range each empty row becomes [], so a few values far apart (a value at
    IV65536 of an .xls, say) cost what their rows hold, not the range, in every later pass."""
    grid = sheet.to_python(skip_empty_area=False)
    if sheet.height * sheet.width > DENSE_CELLS:
        empty = [""] * len(grid[0])
        grid = [[] if row == empty else row for row in grid]
    return grid


def sheet_names(path: Path, limits: Limits = LOCAL_LIMITS) -> list[str]:
    """The sheet names of a workbook, in order (through the gate)."""
    admitted = admit(Path(path), limits)
    book = _open(admitted)
    try:
        return list(book.sheet_names)
    finally:
        book.close()
