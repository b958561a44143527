"""Bulk conversion of a whole column: each distinct raw value is converted once (normalize), and the
column is rebuilt by index with numpy, so a 100,000-row sheet costs little more than reading it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
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

    @cached_property
    def present(self) -> np.ndarray:
        """True where the cell holds a valid value (computed once: every conditional field asks again)."""
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
    if f.type in _BULK_TYPES and _looks_unique(raws):
        # names, ID and phone numbers: nearly every value distinct, so factorising would only cost a hash pass
        codes, uniques = np.arange(len(raws)), raws
    elif len(raws) <= SMALL_COLUMN:
        codes, uniques = _factorize_small(raws)
    else:
        codes, uniques = _factorize(raws)
    if uniques is not raws and _mixes_booleans_and_numbers(raws, uniques):
        # True == 1 and False == 0, so factorising merged them: convert such a column cell by cell.
        return _cell_by_cell(raws, f, today)
    if f.type is FieldType.ID_NUMBER and len(uniques) >= BULK_MINIMUM:
        typed, problems = _convert_ids(uniques, f, today)
    elif f.type in (FieldType.TEXT, FieldType.PHONE) and len(uniques) >= BULK_MINIMUM:
        typed, problems = _convert_plain(uniques, f, today)
    else:
        typed, problems = _convert_each(uniques, f, today, range(len(uniques)))
    return Column(codes=codes, typed=typed, problems=problems)


_BULK_TYPES = frozenset({FieldType.ID_NUMBER, FieldType.TEXT, FieldType.PHONE})
PROBE = 2000  # values looked at to tell a column of distinct values


SMALL_COLUMN = 512  # up to this many cells a dict factorises faster than pandas' call overhead


def _factorize_small(raws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize(raws, use_na_sentinel=False) for a short column (the same equality: Python's)."""
    index: dict[Any, int] = {}
    values = raws.tolist()
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.intp, count=len(values))
    uniques = np.empty(len(index), dtype=object)
    for value, n in index.items():
        uniques[n] = value
    return codes, uniques


def _factorize(raws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize with empty cells (None, NaN) as one more distinct value, None; pandas' own way of keeping them
    (use_na_sentinel=False) copies and scans the column once more."""
    codes, uniques = pd.factorize(raws)
    missing = codes < 0
    if missing.any():
        codes[missing] = len(uniques)
        uniques = np.append(uniques.astype(object), None)
    return codes, np.asarray(uniques, dtype=object)


def _looks_unique(raws: np.ndarray) -> bool:
    """A long column whose first values are all distinct text."""
    if len(raws) < 4 * PROBE:
        return False
    head = raws[:PROBE].tolist()
    return set(map(type, head)) == {str} and len(set(head)) == PROBE


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
_MOBILES = re.compile(r"1[0-9]{10}(?:\x1f1[0-9]{10})*")


def _all_plain(values: list[Any], f: Field) -> bool:
    """A few passes in C over all distinct values: True when every one is already clean (the common case):
    text that is not empty, printable, within the limit, not starting with # and not padded with white space."""
    try:
        joined = _SEPARATOR.join(values)  # raises for anything but text
    except TypeError:
        return False
    if f.type is FieldType.PHONE:
        return joined.isascii() and _MOBILES.fullmatch(joined) is not None
    bare = "".join(values)
    if not joined or not bare.isprintable() or max(map(len, values)) > TEXT_LIMIT:
        return False
    ends = (joined[0], joined[-1])
    # printable text holds no white space but the plain space, so padding is a space beside a separator
    return (_SEPARATOR * 2 not in joined and _SEPARATOR not in ends and " " not in ends and ends[0] != "#"
            and f"{_SEPARATOR}#" not in joined
            and (" " not in bare or (f"{_SEPARATOR} " not in joined and f" {_SEPARATOR}" not in joined)))


def _convert_plain(uniques: np.ndarray, f: Field, today: dt.date | None) -> tuple[np.ndarray, dict[int, Problem]]:
    """Text and phone columns with many distinct values: values already clean are kept as they are; an empty cell
    (None or "", each at most once among distinct values) converts to None without a problem."""
    values = uniques.tolist()
    blanks = [n for n in (_position(values, None), _position(values, "")) if n is not None]
    rest = values.copy()
    for n in sorted(blanks, reverse=True):
        del rest[n]
    if _all_plain(rest, f):
        typed = uniques.copy()
        typed[blanks] = None
        return typed, {}
    plain = _is_plain_text if f.type is FieldType.TEXT else _is_plain_mobile
    typed = np.empty(len(uniques), dtype=object)
    rest = []
    for n, value in enumerate(uniques):
        if plain(value):
            typed[n] = value
        else:
            rest.append(n)
    return _convert_each(uniques, f, today, rest, typed)


def _position(values: list[Any], wanted: Any) -> int | None:
    """Where `wanted` is among distinct values (compared as list.index compares), if it is."""
    try:
        return values.index(wanted)
    except ValueError:
        return None


def _convert_ids(uniques: np.ndarray, f: Field, today: dt.date | None) -> tuple[np.ndarray, dict[int, Problem]]:
    """ID numbers: the common case (18 ASCII letters and digits) is validated in bulk, the rest one by one."""
    values = uniques.tolist()
    joined = "".join(values) if set(map(type, values)) == {str} else ""
    if joined and len(joined) == 18 * len(values) and set(map(len, values)) == {18} and joined.isascii() \
            and joined.isalnum():
        plain = np.arange(len(values))  # every value is 18 letters and digits (the common case): no loop
        upper = joined.upper()
        numbers = [upper[i: i + 18] for i in range(0, len(upper), 18)]
    else:
        plain = np.array([n for n, u in enumerate(values) if type(u) is str and len(u) == 18 and u.isascii()
                          and u.isalnum()], dtype=np.int64)
        numbers = [values[n].upper() for n in plain.tolist()]
    typed = np.empty(len(values), dtype=object)
    ok = valid_ids(numbers, today) if numbers else np.zeros(0, dtype=bool)
    good = plain[ok]
    if len(good):
        picked = np.empty(len(numbers), dtype=object)
        picked[:] = numbers
        typed[good] = picked[ok]
    rest = np.ones(len(values), dtype=bool)
    rest[good] = False
    return _convert_each(uniques, f, today, np.flatnonzero(rest).tolist(), typed)


_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def valid_ids(numbers: list[str], today: dt.date | None) -> np.ndarray:
    """Bulk GB 11643 check of upper-case 18-character ASCII strings: True where fully valid."""
    chars = np.frombuffer("".join(numbers).encode("ascii"), dtype=np.uint8).reshape(-1, 18)
    digits = chars[:, :17].astype(np.int64) - 48
    ok = np.all((digits >= 0) & (digits <= 9), axis=1)  # rows with letters fail here; their sums below are moot
    expected = np.frombuffer(CHECK_CHARACTERS.encode("ascii"), dtype=np.uint8)[(digits @ WEIGHTS_ARRAY) % 11]
    ok &= chars[:, 17] == expected
    # the birth date (digits 7 to 14) must be a real date from 1890 on (and not after `today`)
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10] * 10 + digits[:, 11]
    day = digits[:, 12] * 10 + digits[:, 13]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last_day = _DAYS_IN_MONTH[np.clip(month - 1, 0, 11)] + (leap & (month == 2))
    ok &= (year >= 1890) & (year < 2262) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= last_day)
    if today is not None:
        ok &= year * 10000 + month * 100 + day <= today.year * 10000 + today.month * 100 + today.day
    return ok
