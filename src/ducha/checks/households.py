"""Checks across household records: one row per household, and income that adds up."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from ducha.checks.registry import check
from ducha.checks.tables import at, floats
from ducha.model.findings import Code, Finding
from ducha.reading.workbook import ParsedTable, ParsedWorkbook

INCOME_TOLERANCE_YUAN = 1.0
INCOME_TOLERANCE_SHARE = 0.01
INCOME_PARTS = ("wage_income", "business_income", "transfer_income", "property_income")


def duplicate_households(households: ParsedTable) -> Iterator[Finding]:
    """Every repeat of an ID number after its first row (also used for the roster)."""
    ids = pd.Series(households.values["id_number"], dtype=object)
    repeated = np.flatnonzero((ids.duplicated(keep=False) & ids.notna()).to_numpy())
    first_seen: dict[str, int] = {}
    for i in repeated:
        j = first_seen.setdefault(ids.iat[i], i)
        if j != i:
            yield at(Code.DUPLICATE_HOUSEHOLD, households, "id_number", i,
                     other=f"第 {households.rows[j]} 行（{households.letter('id_number')}{households.rows[j]}）")


@check
def households_once(parsed: ParsedWorkbook) -> Iterator[Finding]:
    return duplicate_households(parsed.tables["households"])


@check
def income_adds_up(parsed: ParsedWorkbook) -> Iterator[Finding]:
    """年人均纯收入 = (wages + business + transfers + property − business costs) ÷ household size, within 1 % or
    1 yuan."""
    households = parsed.tables["households"]
    v = households.values
    size, per_head, costs = floats(v["household_size"]), floats(v["income_per_head"]), floats(v["business_costs"])
    parts = np.vstack([floats(v[k]) for k in INCOME_PARTS]) if len(size) else np.zeros((len(INCOME_PARTS), 0))
    any_part = ~np.all(np.isnan(parts), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = (np.nansum(parts, axis=0) - np.nan_to_num(costs)) / size
        tolerance = np.maximum(INCOME_TOLERANCE_YUAN, INCOME_TOLERANCE_SHARE * np.abs(expected))
        wrong = any_part & (size > 0) & ~np.isnan(per_head) & (np.abs(expected - per_head) > tolerance)
    for i in np.flatnonzero(wrong):
        yield at(Code.INCOME_INCONSISTENT, households, "income_per_head", i, expected=f"{expected[i]:.2f}")
