"""Typed records of one inspection workbook, as the pure core sees them.

Every table is a pandas DataFrame whose columns are the schema's field keys plus `_row`
(the 1-based Excel row the record came from). Values are Python objects (dtype object):
YES_NO and CHOICE as their Chinese strings, INTEGER/YEAR as int, NUMBER as float, DATE as
datetime.date, MONTH as "YYYY-MM", ID_NUMBER as the normalised 18-character string; an empty or
invalid cell is None (its problem is a finding, not a value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ducha.model.parameters import DEFAULT_PARAMETERS, Parameters
from ducha.model.schema import Sheet

ROW = "_row"


def records(frame: pd.DataFrame, *, none_for_missing: bool = False) -> list[dict[str, Any]]:
    """The frame's rows as dicts of Python objects, as `frame.astype(object).to_dict("records")` gives them,
    without pandas' per-row indexing (which cost more than the scoring itself on a 45-household workbook) nor a
    Series per column (one object array for the whole frame). `none_for_missing`: NaN and NaT become None."""
    names = list(frame.columns)
    if not names:
        return [{} for _ in range(len(frame))]
    values = frame.to_numpy(dtype=object)
    if none_for_missing:
        missing = frame.isna().to_numpy()
        if missing.any():
            values = values.copy()  # the array may be the frame's own
            values[missing] = None
    return [dict(zip(names, row, strict=True)) for row in values.tolist()]


@dataclass
class FormValues:
    """A form sheet: field key -> typed value, and field key -> the A1 cell it came from."""

    values: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> Any:
        return self.values.get(key)


@dataclass
class InspectionData:
    """One county's inspection workbook for one month, parsed."""

    basic: FormValues
    sampling: pd.DataFrame
    households: pd.DataFrame
    villages: pd.DataFrame
    county: FormValues
    interviews: pd.DataFrame
    parameters: Parameters = DEFAULT_PARAMETERS
    sheet_names: dict[str, str] = field(default_factory=dict)  # schema key -> actual sheet name in the file
    column_letters: dict[str, dict[str, str]] = field(default_factory=dict)  # sheet key -> field key -> letter

    def cell(self, sheet_key: str, field_key: str, row: int) -> str:
        """A1 address of a table field in a given Excel row ("" if the column is absent)."""
        letter = self.column_letters.get(sheet_key, {}).get(field_key)
        return f"{letter}{row}" if letter else ""

    @property
    def month(self) -> str | None:
        return self.basic.get("month")

    @property
    def year(self) -> int | None:
        month = self.month
        return int(month[:4]) if month else None


def empty_frame(sheet: Sheet) -> pd.DataFrame:
    """A table with the sheet's columns and no rows."""
    return pd.DataFrame({**{f.key: pd.Series(dtype=object) for f in sheet.fields}, ROW: pd.Series(dtype=int)})
