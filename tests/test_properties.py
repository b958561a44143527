"""Properties: GB 11643 gives every 17 digits exactly one check character, and reading never raises on whatever
a clerk (or a broken export) puts into a cell.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ducha.checks.pipeline import CheckResult, run_check
from ducha.model.idnumber import check_character, validate
from ducha.model.schema import BASIC, COUNTY, HOUSEHOLDS
from ducha.reading.columns import convert_column
from ducha.reading.normalize import convert
from markdown_workbook import make_id, valid_sheets, write_workbook

CANDIDATES = "0123456789X"
FAST = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def reference_check_character(first17: str) -> str:
    """GB 11643-1999 written out independently: ISO 7064 MOD 11-2 over weights 2^(i) mod 11."""
    total = sum(int(digit) * pow(2, 17 - i, 11) for i, digit in enumerate(first17))
    return "10X98765432"[total % 11]


@FAST
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_character_agrees_with_an_independent_implementation(first17: str) -> None:
    assert check_character(first17) == reference_check_character(first17)


@FAST
@given(address=st.from_regex(r"[1-6][0-9]{5}", fullmatch=True),
       born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2019, 11, 30)),
       sequence=st.integers(min_value=0, max_value=999))
def test_any_17_digits_with_a_real_birth_date_have_exactly_one_valid_check_character(address: str, born: dt.date,
                                                                                     sequence: int) -> None:
    first17 = f"{address}{born:%Y%m%d}{sequence:03d}"

    valid = [c for c in CANDIDATES if validate(first17 + c, today=dt.date(2019, 11, 30)) is None]

    assert valid == [reference_check_character(first17)]


# --- reading never raises -------------------------------------------------------------------------------------------

_ILLEGAL_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def as_cell(value: Any) -> Any:
    """Control characters the way Excel stores them in a file (_xHHHH_); openpyxl refuses them raw."""
    if isinstance(value, str):
        return _ILLEGAL_IN_XLSX.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value


TEXTS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"), max_size=30)
SPECIAL_TEXTS = st.sampled_from([
    "#REF!", "#DIV/0!", "#N/A", "#VALUE!", "NaN", "nan", "inf", "-inf", "1e309", "-0", "１２３", "4人", "1,200",
    "\x00\x01\x1f", "\t\n\r", "😀👨‍👩‍👧", "\U00020000\U0002a6d6", "𠀀" * 300, "长" * 40_000, "x" * 600, "是\u200b",
    "\u3000", "=1/0", "=SUM(A1:A2)", "'", "19991231", "2019-02-30", "2019年13月", "52263119700101001x", " ",
    "不涉及", "/", "√", "×", "TRUE", "2019-11",
])
VALUES = st.one_of(
    TEXTS,
    SPECIAL_TEXTS,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.none(),
)

_SHEET_SIZES = {HOUSEHOLDS.name: (30, len(HOUSEHOLDS.fields)), BASIC.name: (len(BASIC.fields), 2),
                COUNTY.name: (len(COUNTY.fields), 3)}
POSITIONS = st.sampled_from(sorted(_SHEET_SIZES)).flatmap(
    lambda sheet: st.tuples(st.just(sheet), st.integers(1, _SHEET_SIZES[sheet][0]),
                            st.integers(0 if sheet == HOUSEHOLDS.name else 1, _SHEET_SIZES[sheet][1] - 1)))


@FAST
@given(st.lists(st.tuples(POSITIONS, VALUES), min_size=1, max_size=12))
def test_reading_random_cell_content_gives_findings_never_an_exception(changes: list[tuple[tuple, Any]]) -> None:
    sheets = valid_sheets()
    for (sheet, row, column), value in changes:
        sheets[sheet][row][column] = as_cell(value)

    with tempfile.TemporaryDirectory() as folder:
        result = run_check(write_workbook(Path(folder) / "随机.xlsx", sheets))

    assert isinstance(result, CheckResult)
    assert all(f.sheet and f.message for f in result.findings)
    assert len(result.per_sheet) == 6


# --- a large column is converted in bulk; it must come out exactly as converting each cell ---------------------------

INSPECTION_DAY = dt.date(2019, 11, 30)
ID_LIKE = st.one_of(
    st.from_regex(r"[0-9]{17}[0-9Xx]", fullmatch=True),
    st.builds(lambda seed, born, tail: make_id(seed, birth=f"{born:%Y%m%d}")[:17] + tail,
              st.integers(0, 999), st.dates(min_value=dt.date(1850, 1, 1), max_value=dt.date(2030, 12, 31)),
              st.sampled_from(list(CANDIDATES + "x"))),
    st.from_regex(r"1[0-9]{10}", fullmatch=True),
    SPECIAL_TEXTS,
    TEXTS,
    st.integers(min_value=-(10**18), max_value=10**18),
    st.floats(),
    st.booleans(),
    st.just(""),
)  # no None: both readers give "" for an empty cell, as python-calamine does
FILLERS = {"id_number": [make_id(n) for n in range(1000)],
           "head_name": [f"张{n}" for n in range(1000)],
           "helper_phone": [f"139{n:08d}" for n in range(1000)]}


@FAST
@given(st.sampled_from(sorted(FILLERS)), st.lists(ID_LIKE, min_size=1, max_size=30))
def test_converting_a_large_column_in_bulk_equals_converting_each_cell(key: str, cells: list[Any]) -> None:
    f = HOUSEHOLDS.field(key)
    raws = np.empty(len(FILLERS[key]) + len(cells), dtype=object)
    raws[:] = FILLERS[key] + cells

    column = convert_column(raws, f, INSPECTION_DAY)

    one_by_one = [convert(raw, f, INSPECTION_DAY) for raw in raws]
    assert column.values.tolist() == [value for value, _ in one_by_one]
    assert {i: problem[0] for i, problem in column.problem_cells()} == {
        i: problem[0] for i, (_, problem) in enumerate(one_by_one) if problem is not None}
