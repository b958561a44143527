"""The file adapter: apply an OutputPlan to a workbook file.

An .xlsx/.xlsm gets the results inside its own package (adapters/package): generated sheets recreated, ducha's
previous highlights and notes replaced, input cells and every other part kept byte for byte. An input that cannot
hold them (.xls, .xlsb, .ods, an .xlsx whose package cannot be edited safely) gets a new .xlsx beside it: the
generated sheets plus a marked copy of its sheets' values. Always written atomically; `in_place` backs up first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange

from ducha.adapters.files import backup, write_bytes_atomically
from ducha.adapters.package import PackageError, SheetMarks, add_results
from ducha.adapters.sheet_writer import printable, put_value, stream_rows, write_sheet
from ducha.adapters.writer import build_generated_workbook, pack_zip, workbook_bytes
from ducha.model.schema import GENERATED_SHEETS
from ducha.reading.gc_pause import gc_paused
from ducha.sheets.outputplan import (
    MARK_LOOKS,
    MARK_PREFIX,
    NOTE_AUTHOR,
    Mark,
    OutputPlan,
    formula_values,
    mark_layers,
    mark_notes,
    text_width,
)
from ducha.sheets.template import fit_pages

__all__ = ["MARK_FORMULA", "RESULT_SUFFIX", "Written", "apply_plan", "default_output", "put_value",
           "write_results", "write_sheet"]

MARK_FORMULA = '"' + MARK_PREFIX + '{kind}"<>""'  # always true; identifies ducha's own highlight rules
NOTE_SIZE = (360, 160)
RESULT_SUFFIX = ".结果"  # every command's result file: <name>.结果.xlsx
OLD_RESULT_SUFFIXES = (RESULT_SUFFIX, ".checked")
IN_PACKAGE = (".xlsx", ".xlsm")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Written:
    """Where the results went and, when they could not go into the input's own kind of file, why (Chinese)."""

    path: Path
    reason: str = ""


def default_output(source: Path) -> Path:
    """<name>.结果.xlsx (or .xlsm) next to the input; a result file's own name when the input is one (its suffix
    replaced, never repeated). An input that cannot hold results gets <name>.xls.结果.xlsx (.xlsb, .ods): its format
    stays in the name, so 清水县.xls and 清水县.xlsx side by side never write over each other's results."""
    source = Path(source)
    stem = source.stem
    for suffix in OLD_RESULT_SUFFIXES:
        if stem.endswith(suffix) and stem != suffix:
            stem = stem.removesuffix(suffix)
            break
    if source.suffix.lower() in IN_PACKAGE:
        return source.with_name(f"{stem}{RESULT_SUFFIX}{source.suffix.lower()}")
    return source.with_name(f"{stem}{source.suffix.lower()}{RESULT_SUFFIX}.xlsx")


def _sheet_marks(marks: list[Mark], sheets: set[str]) -> dict[str, SheetMarks]:
    """ducha's marks grouped per input sheet: one rule per kind of mark (in MARK_PRECEDENCE), one note per anchor
    cell (every mark's note on it)."""
    grouped: dict[str, SheetMarks] = {}
    marks = [m for m in marks if m.sheet in sheets]
    for sheet, layers in mark_layers(marks).items():
        grouped[sheet] = SheetMarks(rules=[(sorted(refs), MARK_LOOKS[kind], MARK_FORMULA.format(kind=kind.value))
                                           for kind, refs in layers])
    for (sheet, anchor), note in mark_notes(marks).items():
        grouped[sheet].notes[anchor] = printable(note)
    return grouped


def _scratch(plan: OutputPlan) -> bytes:
    """The generated sheets written by the one output layer (cached formula values included)."""
    wb = build_generated_workbook(plan.sheets, title="ducha")
    return workbook_bytes(wb, formulas={s.name: formula_values(s) for s in plan.sheets})


def _with_results(data: bytes, plan: OutputPlan, scratch: bytes | None, input_sheets: set[str]) -> bytes:
    generated = set(GENERATED_SHEETS) | {s.name for s in plan.sheets}
    parts = add_results(data, scratch, [(s.name, s.position) for s in plan.sheets], generated,
                        _sheet_marks(plan.marks, input_sheets - generated), marker=MARK_PREFIX, author=NOTE_AUTHOR,
                        note_size=NOTE_SIZE)
    return pack_zip(parts)


def _input_sheet_names(data: bytes) -> set[str]:
    import io
    import zipfile

    from ducha.reading.error_cells import sheet_parts

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return set(sheet_parts(archive))
    except Exception as exc:  # any damage: the package path is refused below
        raise PackageError(str(exc)) from None


def _values_copy(source: Path, plan: OutputPlan) -> bytes:
    """A plain workbook holding the values of the input's sheets (never as formulas), merged ranges kept; written
    row by row (openpyxl's write-only mode), so a large input costs its rows in memory, not a cell object each."""
    from ducha.reading.raw import read_raw_workbook

    raw = read_raw_workbook(source)
    generated = set(GENERATED_SHEETS) | {s.name for s in plan.sheets}
    wb = Workbook(write_only=True)
    for name, grid in raw.sheets.items():
        if name in generated:
            continue
        ws = wb.create_sheet(name[:31])
        widths = _fitting_widths(grid)
        for column, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(column)].width = width
        for r0, c0, r1, c1 in raw.merged.get(name, []):
            ws.merged_cells.add(CellRange(min_row=r0 + 1, min_col=c0 + 1, max_row=r1 + 1, max_col=c1 + 1))
        fit_pages(ws, landscape=True)  # printed as wide as the page
        stream_rows(ws, grid, widths)
        raw.sheets[name] = []  # written: its rows can go
    if not wb.worksheets:
        wb.create_sheet("原表")
    return workbook_bytes(wb)


def _fitting_widths(grid: list[list[object]], most: int = 40) -> list[float]:
    """Column widths that show each column's longest value (up to `most` characters), so ID numbers are not cut."""
    widths: list[int] = []
    for row in grid:
        for column, value in enumerate(row):
            if column >= len(widths):
                widths.append(8)
            if value not in ("", None):
                widths[column] = max(widths[column], min(text_width(str(value)), most))
    return [w + 2 for w in widths]


def write_results(source: Path, plan: OutputPlan, dest: Path | None = None, *, in_place: bool = False) -> Written:
    """Write `plan` into a copy of `source` at `dest` (default: `default_output`), or into `source` itself after a
    backup; an input that cannot hold the results gets a new .xlsx (see the module's note) and the reason."""
    with gc_paused():  # many short-lived objects and no cycles, as in reading
        return _write_results(Path(source), plan, dest, in_place)


def _write_results(source: Path, plan: OutputPlan, dest: Path | None, in_place: bool) -> Written:
    scratch = _scratch(plan) if plan.sheets else None
    data = source.read_bytes()
    reason = ""
    if source.suffix.lower() in IN_PACKAGE:
        try:
            result = _with_results(data, plan, scratch, _input_sheet_names(data))
        except PackageError as exc:
            log.warning("results cannot go into %s itself: %s", source.name, exc)
            reason = f"「{source.name}」的文件结构无法原样保留地写入结果，原文件未改动"
        else:
            target = source if in_place else Path(dest) if dest else default_output(source)
            if in_place:
                backup(source)
            write_bytes_atomically(target, result)
            return Written(target)
    else:
        kind = source.suffix.lower().lstrip(".") or "未知"
        reason = f"「{source.name}」是 .{kind} 格式，无法在其中写入结果，原文件未改动"
    target = default_output(source) if in_place or not dest else Path(dest)
    if target.suffix.lower() not in IN_PACKAGE:
        target = target.with_suffix(".xlsx")
    values = _values_copy(source, plan)
    result = _with_results(values, plan, scratch, _input_sheet_names(values))
    write_bytes_atomically(target, result)
    return Written(target, reason + "；结果另存为新工作簿（生成的表加上原表数值的标记副本）：" + str(target))


def apply_plan(source: Path, plan: OutputPlan, dest: Path | None = None, *, in_place: bool = False) -> Path:
    """Write `plan` (see `write_results`) and return the path written."""
    return write_results(source, plan, dest, in_place=in_place).path
