"""Bulk conversion of a whole column: each distinct raw value is converted once (normalize), and the
column is rebuilt by index with numpy, so a 100,000-row sheet costs little more than reading it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ducha.model.findings import Code
from ducha.model.idnumber import CHECK_CHARACTERS, WEIGHTS
from ducha.model.schema import Field, FieldType
from ducha.reading.normalize import TEXT_LIMIT, Converted, convert

Problem = tuple[Code, dict[str, Any]]
WEIGHTS_ARRAY = np.array(WEIGHTS, dtype=np.int64)
BULK_MINIMUM = 1000  # below this many distinct values, one by one is as fast


@dataclass
class Column:
    """A converted column: `typed[codes]` are the values; `problems` maps a distinct value's index to its problem."""

    codes: np.ndarray
    typed: np.ndarray
    problems: dict[int, Problem]

    @property
    def values(self) -> np.ndarray:
        return self.typed[self.codes] if len(self.codes) else np.empty(0, dtype=object)

    @property
    def present(self) -> np.ndarray:
        """True where the cell holds a valid value."""
        filled = ~pd.isna(self.typed)
        return filled[self.codes] if len(self.codes) else np.zeros(0, dtype=bool)

    def where(self, values: tuple[Any, ...]) -> np.ndarray:
        """True where the typed value is one of `values` (compared once per distinct value)."""
        hits = np.fromiter((v in values for v in self.typed), dtype=bool, count=len(self.typed))
        return hits[self.codes] if len(self.codes) else np.zeros(0, dtype=bool)

    def problem_cells(self) -> list[tuple[int, Problem]]:
        if not self.problems:
            return []
        bad = np.zeros(len(self.typed), dtype=bool)
        bad[list(self.problems)] = True
        return [(int(i), self.problems[self.codes[i]]) for i in np.flatnonzero(bad[self.codes])]


def convert_column(raws: np.ndarray, f: Field, today: dt.date | None = None) -> Column:
    """Convert an object array of raw cell values for field `f`."""
    codes, uniques = pd.factorize(raws, use_na_sentinel=False)
    if _mixes_booleans_and_numbers(raws, uniques):
        # True == 1 and False == 0, so factorising merged them: convert such a column cell by cell.
        return _cell_by_cell(raws, f, today)
    if f.type is FieldType.ID_NUMBER and len(uniques) >= BULK_MINIMUM:
        typed, problems = _convert_ids(uniques, f, today)
    elif f.type in (FieldType.TEXT, FieldType.PHONE) and len(uniques) >= BULK_MINIMUM:
        typed, problems = _convert_plain(uniques, f, today)
    else:
        typed, problems = _convert_each(uniques, f, today, range(len(uniques)))
    return Column(codes=codes, typed=typed, problems=problems)


def _mixes_booleans_and_numbers(raws: np.ndarray, uniques: np.ndarray) -> bool:
    """True when a boolean and a number equal to it (0/1) both occur, whichever came first."""
    if not {bool, int, float} & set(map(type, uniques)):  # text-only columns: nothing to merge
        return False
    if not any(type(u) in (bool, int, float) and u in (0, 1) for u in uniques):
        return False
    types = set(map(type, raws))
    return bool in types and bool(types & {int, float})


def _cell_by_cell(raws: np.ndarray, f: Field, today: dt.date | None) -> Column:
    converted: list[Converted] = [convert(raw, f, today) for raw in raws]
    typed = np.empty(len(converted), dtype=object)
    typed[:] = [value for value, _ in converted]
    problems = {i: p for i, (_, p) in enumerate(converted) if p is not None}
    return Column(codes=np.arange(len(converted)), typed=typed, problems=problems)


def _convert_each(uniques: np.ndarray, f: Field, today: dt.date | None, indexes,
                  typed: np.ndarray | None = None, problems: dict[int, Problem] | None = None
                  ) -> tuple[np.ndarray, dict[int, Problem]]:
    typed = np.empty(len(uniques), dtype=object) if typed is None else typed
    problems = {} if problems is None else problems
    for n in indexes:
        typed[n], problem = convert(uniques[n], f, today)
        if problem is not None:
            problems[n] = problem
    return typed, problems


def _is_plain_text(value: Any) -> bool:
    return (type(value) is str and value != "" and value[0] != "#" and value.isprintable()
            and len(value) <= TEXT_LIMIT and value == value.strip())


def _is_plain_mobile(value: Any) -> bool:
    return type(value) is str and len(value) == 11 and value.isascii() and value.isdigit() and value[0] == "1"


_SEPARATOR = "\x1f"
_UNCLEAN_TEXT = re.compile(r"(?:^|\x1f)(?:\s|#|\x1f|$)|\s(?:\x1f|$)")
_MOBILES = re.compile(r"1[0-9]{10}(?:\x1f1[0-9]{10})*")


def _all_plain(uniques: np.ndarray, f: Field) -> bool:
    """One pass in C over all distinct values: True when every one is already clean (the common case)."""
    if set(map(type, uniques)) != {str}:
        return False
    joined = _SEPARATOR.join(uniques)
    if f.type is FieldType.PHONE:
        return joined.isascii() and _MOBILES.fullmatch(joined) is not None
    return (joined.replace(_SEPARATOR, "").isprintable() and max(map(len, uniques)) <= TEXT_LIMIT
            and _UNCLEAN_TEXT.search(joined) is None)


def _convert_plain(uniques: np.ndarray, f: Field, today: dt.date | None) -> tuple[np.ndarray, dict[int, Problem]]:
    """Text and phone columns with many distinct values: values already clean are kept as they are."""
    if _all_plain(uniques, f):
        return uniques.copy(), {}
    plain = _is_plain_text if f.type is FieldType.TEXT else _is_plain_mobile
    typed = np.empty(len(uniques), dtype=object)
    rest = []
    for n, value in enumerate(uniques):
        if plain(value):
            typed[n] = value
        else:
            rest.append(n)
    return _convert_each(uniques, f, today, rest, typed)


def _convert_ids(uniques: np.ndarray, f: Field, today: dt.date | None) -> tuple[np.ndarray, dict[int, Problem]]:
    """ID numbers: the common case (18 ASCII letters and digits) is validated in bulk, the rest one by one."""
    plain = [n for n, u in enumerate(uniques) if type(u) is str and len(u) == 18 and u.isascii() and u.isalnum()]
    typed = np.empty(len(uniques), dtype=object)
    numbers = [uniques[n].upper() for n in plain]
    rest = sorted(set(range(len(uniques))) - set(plain))
    if numbers:
        for n, number, ok in zip(plain, numbers, valid_ids(numbers, today).tolist(), strict=True):
            if ok:
                typed[n] = number
            else:
                rest.append(n)
    return _convert_each(uniques, f, today, rest, typed)


def valid_ids(numbers: list[str], today: dt.date | None) -> np.ndarray:
    """Bulk GB 11643 check of upper-case 18-character ASCII strings: True where fully valid."""
    chars = np.frombuffer("".join(numbers).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    digits = chars[:, :17].astype(np.int64) - 48
    ok = np.all((digits >= 0) & (digits <= 9), axis=1)
    expected = np.frombuffer(CHECK_CHARACTERS.encode("ascii"), dtype=np.uint8)[(np.clip(digits, 0, 9) @ WEIGHTS_ARRAY)
                                                                               % 11]
    ok &= chars[:, 17] == expected
    births = pd.to_datetime(pd.Series([n[6:14] for n in numbers]), format="%Y%m%d", errors="coerce")
    ok &= births.notna().to_numpy() & (births.dt.year >= 1890).fillna(False).to_numpy(dtype=bool)
    if today is not None:
        ok &= (births <= pd.Timestamp(today)).to_numpy(dtype=bool)
    return ok
