"""The one writer of every workbook ducha generates: deterministic bytes, cached formula values, atomic write.

A generated workbook is a list of `GeneratedSheet`s (the output plan): `write_generated_workbook` builds it with the
file adapter's `write_sheet`, and `save_workbook` turns any openpyxl workbook into .xlsx bytes whose zip entries all
carry one fixed time (equal content gives equal bytes), with every formula ducha composed carrying its cached value,
and moves them into place in one rename.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from ducha.adapters.cached_values import FormulaValues, with_formula_values
from ducha.adapters.files import write_bytes_atomically
from ducha.adapters.sheet_writer import write_sheet
from ducha.reading.error_cells import sheet_parts
from ducha.sheets.outputplan import NOTE_AUTHOR, GeneratedSheet, formula_values
from ducha.sheets.template import FIXED_TIME, REPOSITORY_TEMPLATE, build_template

ZIP_TIME = FIXED_TIME.timetuple()[:6]
PRIVATE = 0o600 << 16  # zip entries' unix permissions


def pack_zip(parts: Iterable[tuple[str, bytes]], *, date_time: tuple[int, ...] = ZIP_TIME,
             compression: int = zipfile.ZIP_DEFLATED, external_attr: int = PRIVATE,
             create_system: int | None = None) -> bytes:
    """Zip `parts` in the order given, every entry with the same time and attributes: equal parts give equal bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression, allowZip64=True) as package:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=tuple(date_time))  # type: ignore[arg-type]
            info.compress_type = compression
            info.external_attr = external_attr
            if create_system is not None:
                info.create_system = create_system
            package.writestr(info, data)
    return buffer.getvalue()


def workbook_bytes(wb: Workbook, *, formulas: Mapping[str, FormulaValues] | None = None,
                   date_time: tuple[int, ...] = ZIP_TIME) -> bytes:
    """The .xlsx bytes of `wb` with fixed zip times; `formulas` (sheet -> cell -> value) become the cached values of
    those formula cells. The workbook's own properties (created, modified) are written as they are."""
    raw = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    with zipfile.ZipFile(raw) as saved:
        targets = {part: formulas[name] for name, part in sheet_parts(saved).items() if formulas and name in formulas}
        parts = [(info.filename, saved.read(info.filename)) for info in saved.infolist()]
    parts = [(name, with_formula_values(data, targets[name]) if name in targets else data) for name, data in parts]
    return pack_zip(parts, date_time=date_time)


def save_workbook(wb: Workbook, path: Path, *, formulas: Mapping[str, FormulaValues] | None = None,
                  date_time: tuple[int, ...] = ZIP_TIME) -> Path:
    """Save `wb` atomically with deterministic bytes (see `workbook_bytes`)."""
    return write_bytes_atomically(Path(path), workbook_bytes(wb, formulas=formulas, date_time=date_time))


def build_generated_workbook(sheets: list[GeneratedSheet], *, title: str, stamp: dt.datetime = FIXED_TIME) -> Workbook:
    """A new workbook holding only `sheets`, in order, the first one selected."""
    wb = Workbook()
    wb.remove(wb.active)
    for spec in sheets:
        write_sheet(wb, spec)
    wb.active = 0
    for index, ws in enumerate(wb.worksheets):
        ws.sheet_view.tabSelected = index == 0
    props = wb.properties
    props.creator = props.lastModifiedBy = NOTE_AUTHOR
    props.title = title
    props.created = props.modified = stamp
    return wb


def write_generated_workbook(sheets: list[GeneratedSheet], path: Path, *, title: str,
                             stamp: dt.datetime = FIXED_TIME) -> Path:
    """Write a workbook of generated sheets to `path`: deterministic, cached formula values, atomic."""
    wb = build_generated_workbook(sheets, title=title, stamp=stamp)
    return save_workbook(wb, path, formulas={s.name: formula_values(s) for s in sheets},
                         date_time=stamp.timetuple()[:6])


def write_template(path: Path) -> Path:
    """Write the blank inspection workbook to `path` (atomically, deterministic bytes) and return the path."""
    return save_workbook(build_template(), path)


if __name__ == "__main__":
    print(write_template(Path(sys.argv[1]) if len(sys.argv) > 1 else REPOSITORY_TEMPLATE))
