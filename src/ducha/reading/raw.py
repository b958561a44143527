"""Fast reading of a workbook file into raw cell grids with python-calamine.

Rows keep their true Excel numbers (row i of a grid is Excel row i + 1). Nothing here interprets values.
"""

from __future__ import annotations

import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import python_calamine

from ducha.reading.error_cells import ErrorCell, formula_error_cells

ZIP_MAGIC = b"PK\x03\x04"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_FILE_BYTES = 200 * 1024 * 1024
BINARY_WORKBOOK = "这是 .xlsb 二进制格式的工作簿。请在 Excel 中“另存为”Excel 工作簿（*.xlsx）后重新发送"


class UnreadableWorkbook(Exception):
    """The file is not a workbook ducha can read; the message is Chinese and says what to do."""


@dataclass
class RawWorkbook:
    """Sheet name -> grid of raw values (list of rows, from A1), in workbook order."""

    path: Path
    sheets: dict[str, list[list[Any]]] = field(default_factory=dict)
    merged: dict[str, list[tuple[int, int, int, int]]] = field(default_factory=dict)  # 0-based r0, c0, r1, c1


def _check_container(path: Path) -> None:
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise UnreadableWorkbook(f"文件打不开（{exc.strerror or exc}）") from None
    if size > MAX_FILE_BYTES:
        raise UnreadableWorkbook(f"文件有 {size // 1024 // 1024} MB，超过 {MAX_FILE_BYTES // 1024 // 1024} MB 上限")
    if head.startswith(CFB_MAGIC):
        if _is_encrypted(path):
            raise UnreadableWorkbook("文件已加密。请在 Excel 中取消密码，并“另存为”.xlsx 格式")
        return  # an old .xls: python-calamine reads it
    if not head.startswith(ZIP_MAGIC):
        raise UnreadableWorkbook("这不是 Excel 工作簿（.xlsx/.xlsm）文件")
    if not zipfile.is_zipfile(path):
        raise UnreadableWorkbook("文件不完整或已损坏（压缩结构无效），请重新保存或重新发送")


def _is_encrypted(path: Path) -> bool:
    """A compound file that is an encrypted Office file (or not an Office file at all)."""
    import msoffcrypto

    try:
        with path.open("rb") as handle:
            return bool(msoffcrypto.OfficeFile(handle).is_encrypted())
    except Exception:  # msoffcrypto raises several types for files it does not know
        return True


def _is_binary_workbook(path: Path) -> bool:
    """An .xlsb: a zip with xl/workbook.bin and no xl/workbook.xml."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = {n.lower() for n in archive.namelist()}
    except (zipfile.BadZipFile, OSError):
        return False
    return "xl/workbook.bin" in names and "xl/workbook.xml" not in names


def read_raw_workbook(path: Path, sheet_names: list[str] | None = None, *, error_cells: bool = True) -> RawWorkbook:
    """Read every sheet (or the named ones) as raw grids. Raises UnreadableWorkbook with a Chinese reason.

    `error_cells=False` skips looking for formula-error cells (when the caller already knows there are none)."""
    path = Path(path)
    _check_container(path)
    if not error_cells:
        return _read_grids(path, sheet_names)
    with ThreadPoolExecutor(max_workers=1) as pool:
        errors = pool.submit(formula_error_cells, path)
        raw = _read_grids(path, sheet_names)
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


def _read_grids(path: Path, sheet_names: list[str] | None) -> RawWorkbook:
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine raises several unrelated types for damaged files, and panics
        if _is_binary_workbook(path):
            raise UnreadableWorkbook(BINARY_WORKBOOK) from None
        raise UnreadableWorkbook(f"文件内容已损坏，无法解析（{type(exc).__name__}）") from None
    raw = RawWorkbook(path=path)
    try:
        for name in book.sheet_names:
            if sheet_names is not None and name not in sheet_names:
                continue
            sheet = book.get_sheet_by_name(name)
            raw.sheets[name] = sheet.to_python(skip_empty_area=False)
            ranges = sheet.merged_cell_ranges
            if ranges:
                raw.merged[name] = [(a[0], a[1], b[0], b[1]) for a, b in ranges]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a panic inside calamine too
        raise UnreadableWorkbook(f"工作表内容已损坏，无法解析（{type(exc).__name__}）") from None
    finally:
        book.close()
    return raw


def sheet_names(path: Path) -> list[str]:
    """The sheet names of a workbook, in order."""
    _check_container(Path(path))
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise UnreadableWorkbook(f"文件内容已损坏，无法解析（{type(exc).__name__}）") from None
    try:
        return list(book.sheet_names)
    finally:
        book.close()
