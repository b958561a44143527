"""From raw cell grids to typed records: find sheets, headers and labels, convert every cell, and
report each problem at its cell. Cell-level rules (types, choices, ranges, required / required-if)
come from the schema; cross-record rules live in `checks`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from ducha.model.findings import Code, Finding, Severity, make_finding
from ducha.model.parameters import (
    DEFAULT_PARAMETERS,
    LINE_CATEGORY,
    THRESHOLD_NAMES,
    Parameters,
    PovertyLine,
    Thresholds,
    settings_from_rows,
)
from ducha.model.records import ROW, FormValues, InspectionData
from ducha.model.schema import (
    BASIC,
    COUNTY,
    GENERATED_SHEETS,
    HOUSEHOLDS,
    INPUT_SHEETS,
    INSTRUCTIONS_SHEET,
    INTERVIEWS,
    PARAMETERS,
    REVISIT,
    SAMPLING,
    VILLAGES,
    Field,
    Sheet,
)
from ducha.reading import normalize
from ducha.reading.columns import Column, convert_column
from ducha.reading.gc_pause import gc_paused
from ducha.reading.raw import RawWorkbook, UnreadableWorkbook, read_raw_workbook

HEADER_SEARCH_ROWS = 10
MAX_ROWS = 1_048_576
MAX_CELLS = 20_000_000
_BRACKETED = re.compile(r"\([^()]*\)$")


def _letter(index: int) -> str:
    return get_column_letter(index + 1)


def _label_variants(f: Field) -> set[str]:
    names = {f.label(), f.header, f"{f.header}({f.unit})" if f.unit else f.header, *f.aliases}
    return {normalize.fold_header(n) for n in names}


def _label_index(sheet: Sheet) -> dict[str, str]:
    """Folded header variant -> field key."""
    index: dict[str, str] = {}
    for f in sheet.fields:
        for variant in _label_variants(f):
            index.setdefault(variant, f.key)
    return index


_LABELS: dict[int, tuple[Sheet, dict[str, str]]] = {}


def _labels(sheet: Sheet) -> dict[str, str]:
    """The sheet's label index, cached by identity: hashing a Sheet (every field, every call) cost more than the
    lookup itself."""
    hit = _LABELS.get(id(sheet))
    if hit is None or hit[0] is not sheet:
        hit = _LABELS[id(sheet)] = (sheet, _label_index(sheet))
    return hit[1]


def match_label(sheet: Sheet, text: Any) -> str | None:
    """The field key a header or label names, tolerant of spaces, full-width forms, stars and units.

    Works for any declared `Sheet` (the inspection workbook's, the roster's)."""
    folded = normalize.fold_header(text)
    if not folded:
        return None
    index = _labels(sheet)
    key = index.get(folded)
    if key is None and folded.endswith(")"):
        key = index.get(_BRACKETED.sub("", folded))
    return key


@dataclass
class ParsedTable:
    """One table sheet after conversion: typed columns plus where each value came from."""

    sheet: Sheet
    sheet_name: str
    header_row: int = 1
    columns: dict[str, int] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)
    values: dict[str, np.ndarray] = field(default_factory=dict)  # field key -> typed values (object array)
    invalid: dict[str, set[int]] = field(default_factory=dict)  # field key -> indexes filled but unreadable
    converted: dict[str, Column] = field(default_factory=dict)  # field key -> distinct values and codes
    required_total: list[int] = field(default_factory=list)
    required_answered: list[int] = field(default_factory=list)

    def letter(self, key: str) -> str:
        return _letter(self.columns[key]) if key in self.columns else ""

    def finding(self, code: Code, key: str, i: int, **kwargs: Any) -> Finding:
        """A finding at record i, field `key` (its value unless another is given), pointing at that cell."""
        row = self.rows[i]
        kwargs.setdefault("value", self.values[key][i] if key in self.values else "")
        return make_finding(code, sheet=self.sheet_name, cell=f"{self.letter(key) or 'A'}{row}", row=row,
                            column=self.columns.get(key, 0) + 1, field=self.sheet.field(key).header, **kwargs)

    def frame(self) -> pd.DataFrame:
        data: dict[str, Any] = {}
        n = len(self.rows)
        for f in self.sheet.fields:
            data[f.key] = self.values.get(f.key, np.full(n, None, dtype=object))
        data[ROW] = pd.Series(self.rows, dtype="int64")
        return pd.DataFrame(data)


@dataclass
class ParseContext:
    """What later sheets need from earlier ones (the month, the N item) and the findings so far."""

    findings: list[Finding] = field(default_factory=list)
    key_item: str | None = None
    month_end: dt.date | None = None
    too_large: set[str] = field(default_factory=set)  # sheets refused for their size: not parsed further

    def add(self, code: Code, **kwargs: Any) -> None:
        self.findings.append(make_finding(code, **kwargs))


def find_sheet(raw: RawWorkbook, sheet: Sheet) -> str | None:
    wanted = {normalize.fold_header(n) for n in (sheet.name, *sheet.aliases)}
    for name in raw.sheets:
        if normalize.fold_header(name) in wanted:
            return name
    return None


def _problem_finding(ctx: ParseContext, problem: tuple[Code, dict], *, sheet_name: str, f: Field, raw_value: Any,
                     row: int, column: int) -> None:
    code, details = problem
    ctx.add(code, sheet=sheet_name, cell=f"{_letter(column)}{row}", row=row, column=column + 1, field=f.header,
            value=raw_value, **details)


def _applies(table: ParsedTable, key: str, values: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(holds, known): whether field `key` is one of `values` per row, and whether it was filled at all."""
    column = table.converted.get(key)
    if column is None:
        empty = np.zeros(len(table.rows), dtype=bool)
        return empty, empty
    return column.where(values), column.present


def _required_code(f: Field, ctx: ParseContext) -> Code | None:
    if not f.required and f.needed_for(ctx.key_item):
        return Code.KEY_ITEM_FIELD_MISSING
    if f.required:
        return Code.REQUIRED_IF_MISSING if f.when else Code.REQUIRED_MISSING
    return None


def parse_table(raw: RawWorkbook, sheet: Sheet, sheet_name: str, ctx: ParseContext) -> ParsedTable:
    grid = raw.sheets[sheet_name]
    table = empty_table(sheet, sheet_name)
    header_row = _find_header_row(sheet, grid)
    if header_row is None:
        ctx.add(Code.HEADER_NOT_FOUND, sheet=sheet_name, cell="A1", row=1, column=1, rows=HEADER_SEARCH_ROWS,
                example="」「".join(f.label() for f in sheet.fields[:3]))
        return table
    table.header_row = header_row + 1
    _map_columns(sheet, sheet_name, grid[header_row], table, ctx)
    data_rows = _data_rows(grid, header_row, table.columns)
    table.rows = [i + 1 for i in data_rows]
    _flag_merged(raw.merged.get(sheet_name, []), header_row, sheet_name, ctx)
    headers = sheet.headers()
    width = max(table.columns.values(), default=-1) + 1
    matrix = _matrix(grid, data_rows, width)
    for f in sheet.fields:
        column = table.columns.get(f.key)
        if column is None:
            table.values[f.key] = np.full(len(data_rows), None, dtype=object)
            continue
        raws = np.ascontiguousarray(matrix[:, column])
        converted = convert_column(raws, f, ctx.month_end)
        values = converted.values
        table.converted[f.key] = converted
        invalid: set[int] = set()
        for i, problem in converted.problem_cells():
            if values[i] is None:
                invalid.add(i)
            _problem_finding(ctx, problem, sheet_name=sheet_name, f=f, raw_value=raws[i], row=table.rows[i],
                             column=column)
        table.values[f.key] = values
        table.invalid[f.key] = invalid
    _check_required(table, headers, ctx)
    return table


def _flag_merged(merged: list[tuple[int, int, int, int]], header_row: int, sheet_name: str,
                 ctx: ParseContext) -> None:
    """Merged cells below the header: only their top-left cell holds a value, the rest read as empty."""
    for r0, c0, r1, c1 in merged:
        if r1 > header_row:
            top_left = f"{_letter(c0)}{r0 + 1}"
            ctx.add(Code.MERGED_CELLS, sheet=sheet_name, cell=top_left, row=r0 + 1, column=c0 + 1,
                    value=f"{top_left}:{_letter(c1)}{r1 + 1}")


def empty_table(sheet: Sheet, sheet_name: str) -> ParsedTable:
    """A table with every field and no records (a missing sheet, or one whose header was not found)."""
    return ParsedTable(sheet=sheet, sheet_name=sheet_name,
                       values={f.key: np.empty(0, dtype=object) for f in sheet.fields})


def _matrix(grid: list[list[Any]], data_rows: list[int], width: int) -> np.ndarray:
    """The data rows as a 2-D object array at least `width` columns wide."""
    matrix = np.full((len(data_rows), width), "", dtype=object)
    if not data_rows:
        return matrix
    records = [grid[i] for i in data_rows]
    if len(set(map(len, records))) == 1 and len(records[0]) >= width:
        block = np.empty((len(records), len(records[0])), dtype=object)
        block[:] = records
        return block
    for n, record in enumerate(records):
        cut = record[:width]
        matrix[n, : len(cut)] = cut
    return matrix


def _find_header_row(sheet: Sheet, grid: list[list[Any]]) -> int | None:
    best, best_hits = None, 0
    for i, row in enumerate(grid[:HEADER_SEARCH_ROWS]):
        hits = len({key for cell in row if (key := match_label(sheet, cell))})
        if hits > best_hits:
            best, best_hits = i, hits
    needed = min(2, len(sheet.fields))
    return best if best_hits >= needed else None


def _map_columns(sheet: Sheet, sheet_name: str, header: list[Any], table: ParsedTable, ctx: ParseContext) -> None:
    row = table.header_row
    for column, cell in enumerate(header):
        key = match_label(sheet, cell)
        if key is None:
            if not normalize.is_empty(cell):
                ctx.add(Code.COLUMN_UNKNOWN, sheet=sheet_name, cell=f"{_letter(column)}{row}", row=row,
                        column=column + 1, value=cell)
            continue
        if key in table.columns:
            first = f"{_letter(table.columns[key])}{row}"
            ctx.add(Code.COLUMN_DUPLICATE, sheet=sheet_name, cell=f"{_letter(column)}{row}", row=row,
                    column=column + 1, field=sheet.field(key).header, value=cell, header=cell, first=first)
            continue
        table.columns[key] = column
    for f in sheet.fields:
        if f.key not in table.columns:
            severity = Severity.ERROR if f.needed_for(ctx.key_item) else Severity.INFO
            ctx.add(Code.COLUMN_MISSING, sheet=sheet_name, cell=f"A{row}", row=row, field=f.header,
                    header=f.label(), severity=severity)


def _data_rows(grid: list[list[Any]], header_row: int, columns: dict[str, int]) -> list[int]:
    """Indexes of the rows below the header with anything in a known column."""
    wanted = sorted(columns.values())
    if not wanted:
        return []
    top = grid[header_row + 1] if len(grid) > header_row + 1 else []
    first = next((c for c in wanted if c < len(top) and top[c] not in ("", None)), wanted[0])
    body = grid[header_row + 1:]
    if body and min(map(len, body)) > first:
        # the common sheet: every row has plain text or a number in that column (checked in C, no row loop)
        column = [row[first] for row in body]
        if "" not in column and None not in column:
            texts = [v for v in column if type(v) is str]
            if len("".join(map(str.strip, texts))) == len("".join(texts)):
                return list(range(header_row + 1, len(grid)))
    rows = []
    is_empty = normalize.is_empty
    for i in range(header_row + 1, len(grid)):
        row = grid[i]
        for c in wanted:
            if c < len(row):
                value = row[c]
                if value == "" or value is None:
                    continue
                if type(value) is not str or not (value[0].isspace() or value[-1].isspace()) or not is_empty(value):
                    rows.append(i)
                    break
    return rows


def _check_required(table: ParsedTable, headers: dict[str, str], ctx: ParseContext) -> None:
    """Required / required-if findings, not-applicable warnings, and per-row completeness counts."""
    n = len(table.rows)
    total = np.zeros(n, dtype=np.int64)
    answered = np.zeros(n, dtype=np.int64)
    conditions: dict[tuple[str, tuple[str, ...]], tuple[np.ndarray, np.ndarray]] = {}
    for f in table.sheet.fields:
        code = _required_code(f, ctx)
        column = table.columns.get(f.key)
        present = table.converted[f.key].present if f.key in table.converted else np.zeros(n, dtype=bool)
        relevant = np.ones(n, dtype=bool)
        if f.when is not None:
            cache_key = (f.when.field, f.when.values)
            if cache_key not in conditions:
                conditions[cache_key] = _applies(table, f.when.field, f.when.values)
            relevant, known = conditions[cache_key]
            if column is not None:
                _flag_not_applicable(table, f, present & known & ~relevant, headers, ctx)
        if code is None:
            continue
        total += relevant
        answered += relevant & present
        if column is None:
            continue
        invalid = table.invalid.get(f.key, set())
        condition = f.when.describe(headers) if f.when else ""
        for i in np.flatnonzero(relevant & ~present):
            if i in invalid:
                continue
            row = table.rows[i]
            ctx.add(code, sheet=table.sheet_name, cell=f"{_letter(column)}{row}", row=row, column=column + 1,
                    field=f.header, condition=condition, key_item=ctx.key_item)
    table.required_total, table.required_answered = total.tolist(), answered.tolist()


def _flag_not_applicable(table: ParsedTable, f: Field, filled_elsewhere: np.ndarray, headers: dict[str, str],
                         ctx: ParseContext) -> None:
    column = table.columns[f.key]
    values = table.values[f.key]
    condition = f.when.describe(headers) if f.when else ""
    for i in np.flatnonzero(filled_elsewhere):
        if values[i] == normalize.NOT_APPLICABLE:
            continue
        row = table.rows[i]
        ctx.add(Code.NOT_APPLICABLE, sheet=table.sheet_name, cell=f"{_letter(column)}{row}", row=row,
                column=column + 1, field=f.header, value=values[i], condition=condition)


def _parse_form(raw: RawWorkbook, sheet: Sheet, sheet_name: str, ctx: ParseContext) -> tuple[FormValues, FormValues]:
    """Values (column right of the label) and, for sheets with a source column, the sources."""
    grid = raw.sheets[sheet_name]
    form, sources = FormValues(), FormValues()
    raw_cells: dict[str, tuple[Any, int, int]] = {}
    for i, row in enumerate(grid):
        for column, cell in enumerate(row):
            if normalize.is_empty(cell):
                continue
            key = match_label(sheet, cell)
            if key is not None and key not in raw_cells:
                value = row[column + 1] if column + 1 < len(row) else ""
                raw_cells[key] = (value, i + 1, column + 1)
                if sheet.has_source_column:
                    source = row[column + 2] if column + 2 < len(row) else ""
                    sources.values[key] = None if normalize.is_empty(source) else str(source).strip()
                    sources.cells[key] = f"{_letter(column + 2)}{i + 1}"
            break  # only the first non-empty cell of a row can be a label
    for f in sheet.fields:
        if f.key not in raw_cells:
            if f.needed_for(ctx.key_item):
                ctx.add(Code.LABEL_MISSING, sheet=sheet_name, cell="A1", row=1, column=1, field=f.header,
                        header=f.label())
            continue
        value, row, column = raw_cells[f.key]
        form.cells[f.key] = f"{_letter(column)}{row}"
        if normalize.is_empty(value):
            form.values[f.key] = None
            code = _required_code(f, ctx)
            if code is not None:
                ctx.add(code, sheet=sheet_name, cell=form.cells[f.key], row=row, column=column + 1, field=f.header,
                        key_item=ctx.key_item)
            continue
        converted, problem = normalize.convert(value, f, ctx.month_end)
        form.values[f.key] = converted
        if problem is not None:
            _problem_finding(ctx, problem, sheet_name=sheet_name, f=f, raw_value=value, row=row, column=column)
    return form, sources


def _parameters(table: ParsedTable | None) -> Parameters:
    """Poverty lines and thresholds from the 「参数」 sheet; defaults for whatever it lacks."""
    if table is None or not table.rows:
        return DEFAULT_PARAMETERS
    values = table.values
    lines: list[PovertyLine] = []
    thresholds: dict[str, float] = {}
    by_name = {normalize.fold_header(name): key for key, name in THRESHOLD_NAMES.items()}
    options = values.get("option", [None] * len(table.rows))  # workbooks made before the 选项 column
    settings = settings_from_rows(zip(values["category"], values["name"], options, strict=True))
    for i in range(len(table.rows)):
        category, name, value = values["category"][i], values["name"][i], values["value"][i]
        if value is None:
            continue
        if category == LINE_CATEGORY and values["year"][i] is not None and value > 0:
            try:
                lines.append(PovertyLine(year=values["year"][i], yuan=value, scope=values["scope"][i] or "国家",
                                         source=values["source"][i] or ""))
            except ValueError:  # out of range: already reported as a finding on the cell
                continue
        elif name is not None and (key := by_name.get(normalize.fold_header(name))):
            thresholds[key] = value
    try:
        parsed_thresholds = Thresholds(**thresholds)
    except ValueError:
        parsed_thresholds = DEFAULT_PARAMETERS.thresholds
    return Parameters(lines=tuple(lines) or DEFAULT_PARAMETERS.lines, thresholds=parsed_thresholds, settings=settings)


@dataclass
class ParsedWorkbook:
    """Everything read from one workbook: parsed tables and forms (with their cells), and the findings so far.

    `data` (the typed records as DataFrames, for scoring) is built on first use, so checking alone does not
    pay for it.
    """

    tables: dict[str, ParsedTable]
    basic: FormValues
    county: FormValues
    sources: FormValues
    parameters: Parameters
    sheet_names: dict[str, str]
    findings: list[Finding]
    sheet_order: dict[str, int]

    @property
    def month(self) -> str | None:
        return self.basic.get("month")

    @property
    def year(self) -> int | None:
        return int(self.month[:4]) if self.month else None

    @cached_property
    def data(self) -> InspectionData:
        t = self.tables
        return InspectionData(
            basic=self.basic,
            sampling=t["sampling"].frame(),
            households=t["households"].frame(),
            villages=t["villages"].frame(),
            county=self.county,
            interviews=t["interviews"].frame(),
            parameters=self.parameters,
            sheet_names=self.sheet_names,
            column_letters={k: {key: table.letter(key) for key in table.columns} for k, table in t.items()},
        )


def _month_end(month: str | None) -> dt.date | None:
    if not month:
        return None
    year, mon = int(month[:4]), int(month[5:7])
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])


def check_size(raw: RawWorkbook, ctx: ParseContext) -> None:
    for name, grid in list(raw.sheets.items()):
        width = max((len(r) for r in grid[:HEADER_SEARCH_ROWS]), default=0)
        if len(grid) * max(width, 1) > MAX_CELLS:
            ctx.add(Code.TOO_LARGE, sheet=name, rows=len(grid), columns=width,
                    limit=f"不超过 {MAX_CELLS // 1_000_000} 百万个单元格")
            raw.sheets[name] = []
            ctx.too_large.add(name)


def parse_workbook(raw: RawWorkbook) -> ParsedWorkbook:
    """Turn raw grids into InspectionData and findings; never raises on cell content."""
    ctx = ParseContext()
    check_size(raw, ctx)
    found = {s.key: find_sheet(raw, s) for s in INPUT_SHEETS}
    known = {n for n in found.values() if n} | set(GENERATED_SHEETS) | {INSTRUCTIONS_SHEET}
    for name in raw.sheets:
        if name not in known and normalize.fold_header(name) not in {normalize.fold_header(k) for k in known}:
            ctx.add(Code.SHEET_UNKNOWN, sheet=name)
    for s in INPUT_SHEETS:
        if found[s.key] is None and not s.optional:
            ctx.add(Code.SHEET_MISSING, sheet=s.name)

    usable = {key: name if name not in ctx.too_large else None for key, name in found.items()}
    basic, _ = _parse_form(raw, BASIC, usable["basic"], ctx) if usable["basic"] else (FormValues(), FormValues())
    ctx.key_item = basic.get("key_item")
    ctx.month_end = _month_end(basic.get("month"))
    county, sources = (_parse_form(raw, COUNTY, usable["county"], ctx) if usable["county"]
                       else (FormValues(), FormValues()))
    tables: dict[str, ParsedTable] = {}
    for s in (SAMPLING, HOUSEHOLDS, VILLAGES, INTERVIEWS, PARAMETERS, REVISIT):
        name = found[s.key]
        if name is None or name in ctx.too_large:
            tables[s.key] = empty_table(s, name or s.name)
            continue
        tables[s.key] = parse_table(raw, s, name, ctx)
        if not tables[s.key].rows and s.min_rows and tables[s.key].columns:
            ctx.add(Code.SHEET_EMPTY, sheet=name, cell=f"A{tables[s.key].header_row + 1}",
                    row=tables[s.key].header_row + 1, column=1, hint=s.description)

    return ParsedWorkbook(
        tables=tables,
        basic=basic,
        county=county,
        sources=sources,
        parameters=_parameters(tables.get("parameters")),
        sheet_names={s.key: found[s.key] or s.name for s in INPUT_SHEETS},
        findings=ctx.findings,
        sheet_order={name: i for i, name in enumerate(raw.sheets)},
    )


def read_workbook(path: Path, *, error_cells: bool = True) -> ParsedWorkbook:
    """Read and parse a workbook file. Raises UnreadableWorkbook (Chinese reason) when it is not one."""
    with gc_paused():
        return parse_workbook(read_raw_workbook(Path(path), error_cells=error_cells))


__all__ = ["ParsedTable", "ParsedWorkbook", "UnreadableWorkbook", "match_label", "parse_workbook", "read_workbook"]
