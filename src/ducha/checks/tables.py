"""What the checks share: findings at a record's cell, village keys, numbers as float arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ducha.model.findings import Code, Finding
from ducha.reading.workbook import ParsedTable

VillageKey = tuple[str, str]


def at(code: Code, table: ParsedTable, key: str, i: int, **kwargs: Any) -> Finding:
    """A finding at record i, field `key`, of a table sheet."""
    return table.finding(code, key, i, **kwargs)


def village_keys(table: ParsedTable) -> list[VillageKey | None]:
    """(township, village) of each record, None where either is empty."""
    townships, villages = table.values["township"].tolist(), table.values["village"].tolist()
    return [(t, v) if t and v else None for t, v in zip(townships, villages, strict=True)]


def floats(values: np.ndarray) -> np.ndarray:
    """Numbers as a float array, NaN where empty."""
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
