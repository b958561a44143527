"""From raw cell grids to typed records: find sheets, headers and labels, convert every cell, and
report each problem at its cell. Cell-level rules (types, choices, ranges, required / required-if)
come from the schema; cross-record rules live in `checks`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter

from . import normalize
from .findings import Code, Finding, Severity, make_finding
from .io.reading import RawWorkbook, UnreadableWorkbook, read_raw_workbook
from .parameters import DEFAULT_PARAMETERS, LINE_CATEGORY, THRESHOLD_NAMES, Parameters, PovertyLine, Thresholds
from .records import ROW, FormValues, InspectionData
from .schema import (
    BASIC,
    COUNTY,
    GENERATED_SHEETS,
    HOUSEHOLDS,
    INPUT_SHEETS,
    INSTRUCTIONS_SHEET,
    INTERVIEWS,
    PARAMETERS,
    SAMPLING,
    VILLAGES,
    Field,
    FieldType,
    Sheet,
)

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


_LABELS = {s.key: _label_index(s) for s in INPUT_SHEETS}


def match_label(sheet: Sheet, text: Any) -> str | None:
    """The field key a header or label names, tolerant of spaces, full-width forms, stars and units."""
    folded = normalize.fold_header(text)
    if not folded:
        return None
    index = _LABELS[sheet.key]
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
    values: dict[str, list[Any]] = field(default_factory=dict)
    invalid: dict[str, set[int]] = field(default_factory=dict)  # field key -> indexes filled but unreadable
    required_total: list[int] = field(default_factory=list)
    required_answered: list[int] = field(default_factory=list)

    def letter(self, key: str) -> str:
        return _letter(self.columns[key]) if key in self.columns else ""

    def frame(self) -> pd.DataFrame:
        data: dict[str, Any] = {}
        n = len(self.rows)
        for f in self.sheet.fields:
            data[f.key] = pd.Series(self.values.get(f.key, [None] * n), dtype=object)
        data[ROW] = pd.Series(self.rows, dtype="int64")
        return pd.DataFrame(data)


@dataclass
class ParseContext:
    """What later sheets need from earlier ones (the month, the N item) and the findings so far."""

    findings: list[Finding] = field(default_factory=list)
    key_item: str | None = None
    month_end: dt.date | None = None

    def add(self, code: Code, **kwargs: Any) -> None:
        self.findings.append(make_finding(code, **kwargs))


def _find_sheet(raw: RawWorkbook, sheet: Sheet) -> str | None:
    wanted = {normalize.fold_header(n) for n in (sheet.name, *sheet.aliases)}
    for name in raw.sheets:
        if normalize.fold_header(name) in wanted:
            return name
    return None


def _converted(raw_value: Any, f: Field, ctx: ParseContext, cache: dict[Any, normalize.Converted] | None):
    if cache is not None and isinstance(raw_value, str):
        hit = cache.get(raw_value)
        if hit is None:
            hit = cache[raw_value] = normalize.convert(raw_value, f)
        return hit
    if f.type is FieldType.ID_NUMBER and not normalize.formula_error(raw_value):
        return normalize.to_id_number(raw_value, f, ctx.month_end)
    return normalize.convert(raw_value, f)


def _problem_finding(ctx: ParseContext, problem: tuple[Code, dict], *, sheet_name: str, f: Field, raw_value: Any,
                     row: int, column: int) -> None:
    code, details = problem
    ctx.add(code, sheet=sheet_name, cell=f"{_letter(column)}{row}", row=row, column=column + 1, field=f.header,
            value=raw_value, **details)


def _condition_mask(when_values: tuple[str, ...], condition: list[Any]) -> list[bool | None]:
    """True/False per row whether the condition holds; None where the condition's own field is empty."""
    return [None if v is None else v in when_values for v in condition]


def _required_code(f: Field, ctx: ParseContext) -> Code | None:
    if f.key_item and ctx.key_item == f.key_item and not f.required:
        return Code.KEY_ITEM_FIELD_MISSING
    if f.required:
        return Code.REQUIRED_IF_MISSING if f.when else Code.REQUIRED_MISSING
    return None


def _parse_table(raw: RawWorkbook, sheet: Sheet, sheet_name: str, ctx: ParseContext) -> ParsedTable:
    grid = raw.sheets[sheet_name]
    table = ParsedTable(sheet=sheet, sheet_name=sheet_name)
    header_row = _find_header_row(sheet, grid)
    if header_row is None:
        ctx.add(Code.HEADER_NOT_FOUND, sheet=sheet_name, cell="A1", row=1, column=1, rows=HEADER_SEARCH_ROWS,
                example="」「".join(f.label() for f in sheet.fields[:3]))
        return table
    table.header_row = header_row + 1
    _map_columns(sheet, sheet_name, grid[header_row], table, ctx)
    data_rows = _data_rows(grid, header_row, table.columns)
    table.rows = [i + 1 for i in data_rows]
    headers = sheet.headers()
    for f in sheet.fields:
        column = table.columns.get(f.key)
        if column is None:
            table.values[f.key] = [None] * len(data_rows)
            continue
        raws = [grid[i][column] if column < len(grid[i]) else "" for i in data_rows]
        cache: dict[Any, normalize.Converted] | None = {} if f.type in normalize.MEMOISABLE else None
        values: list[Any] = []
        invalid: set[int] = set()
        append = values.append
        for i, (raw_value, row) in enumerate(zip(raws, table.rows, strict=True)):
            if raw_value == "" or raw_value is None or (isinstance(raw_value, str) and normalize.is_empty(raw_value)):
                append(None)
                continue
            value, problem = _converted(raw_value, f, ctx, cache)
            append(value)
            if problem is not None:
                if value is None:
                    invalid.add(i)
                _problem_finding(ctx, problem, sheet_name=sheet_name, f=f, raw_value=raw_value, row=row,
                                 column=column)
        table.values[f.key] = values
        table.invalid[f.key] = invalid
    _check_required(table, headers, ctx)
    return table


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
            severity = Severity.ERROR if (f.required or f.key_item == ctx.key_item) else Severity.INFO
            ctx.add(Code.COLUMN_MISSING, sheet=sheet_name, cell=f"A{row}", row=row, field=f.header,
                    header=f.label(), severity=severity)


def _data_rows(grid: list[list[Any]], header_row: int, columns: dict[str, int]) -> list[int]:
    """Indexes of the rows below the header with anything in a known column."""
    wanted = sorted(columns.values())
    rows = []
    for i in range(header_row + 1, len(grid)):
        row = grid[i]
        for c in wanted:
            if c < len(row):
                value = row[c]
                if value != "" and value is not None and not (isinstance(value, str) and normalize.is_empty(value)):
                    rows.append(i)
                    break
    return rows


def _check_required(table: ParsedTable, headers: dict[str, str], ctx: ParseContext) -> None:
    n = len(table.rows)
    total = [0] * n
    answered = [0] * n
    for f in table.sheet.fields:
        code = _required_code(f, ctx)
        column = table.columns.get(f.key)
        values = table.values[f.key]
        mask: list[bool | None] | None = None
        if f.when is not None:
            mask = _condition_mask(f.when.values, table.values[f.when.field])
            if column is not None:
                _flag_not_applicable(table, f, mask, headers, ctx)
        if code is None:
            continue
        condition = f.when.describe(headers) if f.when else ""
        invalid = table.invalid.get(f.key, set())
        for i in range(n):
            if mask is not None and not mask[i]:
                continue
            total[i] += 1
            if values[i] is not None:
                answered[i] += 1
            elif column is not None and i not in invalid:
                row = table.rows[i]
                ctx.add(code, sheet=table.sheet_name, cell=f"{_letter(column)}{row}", row=row, column=column + 1,
                        field=f.header, condition=condition, key_item=ctx.key_item)
    table.required_total, table.required_answered = total, answered


def _flag_not_applicable(table: ParsedTable, f: Field, mask: list[bool | None], headers: dict[str, str],
                         ctx: ParseContext) -> None:
    column = table.columns[f.key]
    values = table.values[f.key]
    condition = f.when.describe(headers) if f.when else ""
    for i, applies in enumerate(mask):
        if applies is False and values[i] is not None and values[i] != normalize.NOT_APPLICABLE:
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
            if f.required or (f.key_item and f.key_item == ctx.key_item):
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
        converted, problem = _converted(value, f, ctx, None)
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
    for i in range(len(table.rows)):
        category, name, value = values["category"][i], values["name"][i], values["value"][i]
        if value is None:
            continue
        if category == LINE_CATEGORY and values["year"][i] is not None and value > 0:
            lines.append(PovertyLine(year=values["year"][i], yuan=value, scope=values["scope"][i] or "国家",
                                     source=values["source"][i] or ""))
        elif name is not None and (key := by_name.get(normalize.fold_header(name))):
            thresholds[key] = value
    try:
        parsed_thresholds = Thresholds(**thresholds)
    except ValueError:
        parsed_thresholds = DEFAULT_PARAMETERS.thresholds
    return Parameters(lines=tuple(lines) or DEFAULT_PARAMETERS.lines, thresholds=parsed_thresholds)


@dataclass
class ParsedWorkbook:
    """Everything read from one workbook: typed data, parsed tables (for cells and completeness), findings."""

    data: InspectionData
    tables: dict[str, ParsedTable]
    sources: FormValues
    findings: list[Finding]
    sheet_order: dict[str, int]


def _month_end(month: str | None) -> dt.date | None:
    if not month:
        return None
    year, mon = int(month[:4]), int(month[5:7])
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])


def _check_size(raw: RawWorkbook, ctx: ParseContext) -> None:
    for name, grid in list(raw.sheets.items()):
        width = max((len(r) for r in grid[:HEADER_SEARCH_ROWS]), default=0)
        if len(grid) * max(width, 1) > MAX_CELLS:
            ctx.add(Code.TOO_LARGE, sheet=name, rows=len(grid), columns=width,
                    limit=f"不超过 {MAX_CELLS // 1_000_000} 百万个单元格")
            raw.sheets[name] = []


def parse_workbook(raw: RawWorkbook) -> ParsedWorkbook:
    """Turn raw grids into InspectionData and findings; never raises on cell content."""
    ctx = ParseContext()
    _check_size(raw, ctx)
    found = {s.key: _find_sheet(raw, s) for s in INPUT_SHEETS}
    known = {n for n in found.values() if n} | set(GENERATED_SHEETS) | {INSTRUCTIONS_SHEET}
    for name in raw.sheets:
        if name not in known and normalize.fold_header(name) not in {normalize.fold_header(k) for k in known}:
            ctx.add(Code.SHEET_UNKNOWN, sheet=name)
    for s in INPUT_SHEETS:
        if found[s.key] is None and s is not PARAMETERS:
            ctx.add(Code.SHEET_MISSING, sheet=s.name)

    basic, _ = _parse_form(raw, BASIC, found["basic"], ctx) if found["basic"] else (FormValues(), FormValues())
    ctx.key_item = basic.get("key_item")
    ctx.month_end = _month_end(basic.get("month"))
    county, sources = (_parse_form(raw, COUNTY, found["county"], ctx) if found["county"]
                       else (FormValues(), FormValues()))
    tables: dict[str, ParsedTable] = {}
    for s in (SAMPLING, HOUSEHOLDS, VILLAGES, INTERVIEWS, PARAMETERS):
        name = found[s.key]
        if name is None:
            tables[s.key] = ParsedTable(sheet=s, sheet_name=s.name, values={f.key: [] for f in s.fields})
            continue
        tables[s.key] = _parse_table(raw, s, name, ctx)
        if not tables[s.key].rows and s.min_rows and tables[s.key].columns:
            ctx.add(Code.SHEET_EMPTY, sheet=name, cell=f"A{tables[s.key].header_row + 1}",
                    row=tables[s.key].header_row + 1, column=1, hint=s.description)

    data = InspectionData(
        basic=basic,
        sampling=tables["sampling"].frame(),
        households=tables["households"].frame(),
        villages=tables["villages"].frame(),
        county=county,
        interviews=tables["interviews"].frame(),
        parameters=_parameters(tables.get("parameters")),
        sheet_names={s.key: found[s.key] or s.name for s in INPUT_SHEETS},
        column_letters={k: {key: t.letter(key) for key in t.columns} for k, t in tables.items()},
    )
    order = {name: i for i, name in enumerate(raw.sheets)}
    return ParsedWorkbook(data=data, tables=tables, sources=sources, findings=ctx.findings, sheet_order=order)


def read_workbook(path: Path) -> ParsedWorkbook:
    """Read and parse a workbook file. Raises UnreadableWorkbook (Chinese reason) when it is not one."""
    return parse_workbook(read_raw_workbook(Path(path)))


__all__ = ["ParsedTable", "ParsedWorkbook", "UnreadableWorkbook", "match_label", "parse_workbook", "read_workbook"]
