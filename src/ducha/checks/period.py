"""Checks against the inspection's month and year: dates in the month, date order, exit years, the year's
parameters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np

from ducha.checks.registry import check
from ducha.checks.tables import at, floats
from ducha.model.findings import Code, Finding, make_finding
from ducha.model.schema import BASIC, HOUSEHOLD_EXITED
from ducha.reading.workbook import ParsedWorkbook


@check
def dates_in_month(parsed: ParsedWorkbook) -> Iterator[Finding]:
    """督查开始/结束日期 fall in the inspection month, and the end is not before the start."""
    basic = parsed.basic
    month = basic.get("month")
    sheet = parsed.sheet_names["basic"]
    start, end = basic.get("start_date"), basic.get("end_date")
    for key in ("start_date", "end_date"):
        day = basic.get(key)
        if month and isinstance(day, dt.date) and f"{day.year:04d}-{day.month:02d}" != month:
            yield make_finding(Code.DATE_OUTSIDE_MONTH, sheet=sheet, cell=basic.cells[key],
                               field=BASIC.field(key).header, value=day.isoformat(), month=month)
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        yield make_finding(Code.DATE_ORDER, sheet=sheet, cell=basic.cells["end_date"],
                           field=BASIC.field("end_date").header, value=end.isoformat(), start=start.isoformat())


@check
def exit_years(parsed: ParsedWorkbook) -> Iterator[Finding]:
    """An exited household's exit year is not after the inspection year."""
    year = parsed.year
    if year is None:
        return
    households = parsed.tables["households"]
    kinds, years = households.values["household_type"], floats(households.values["exit_year"])
    with np.errstate(invalid="ignore"):
        late = (kinds == HOUSEHOLD_EXITED) & (years > year)
    for i in np.flatnonzero(late):
        yield at(Code.EXIT_YEAR_FUTURE, households, "exit_year", i, year=year)


@check
def parameters_for_year(parsed: ParsedWorkbook) -> Iterator[Finding]:
    """「参数」 has a poverty line for the inspection year."""
    year = parsed.year
    if year is None:
        return
    line = parsed.parameters.line_for(year)
    if line is None or line.year != year:
        used = f"{line.year} 年标准 {line.yuan:g} 元" if line else "无可用标准"
        yield make_finding(Code.PARAMETER_MISSING, sheet=parsed.sheet_names["parameters"], cell="A1", year=year,
                           used=used)
