"""Fuzzing: mutated valid workbooks give findings or a clean rejection, never an unhandled exception or a hang.

Two kinds of mutation of one valid inspection workbook (written once per module):

* content: cell values and types in random sheets (text with control characters, emoji, huge strings; floats,
  inf/nan text, big ints, bools, dates, Excel error strings), sheet names (renamed, deleted, near-duplicates) and
  header names;
* container: the .xlsx zip itself (a part dropped, truncated or with flipped bytes, duplicate entry names, junk
  entries, the whole file truncated or with flipped bytes).

Each example must finish within TIME_LIMIT seconds, and `run_check` may only return a CheckResult or raise
UnreadableWorkbook; `intake_sources.collect` (on the file and on a .zip holding it) yields only
Incoming/Rejected/Ignored.

CI runs a bounded number of examples per test (30 by default, about a minute for the whole file). To fuzz longer:

    DUCHA_FUZZ_EXAMPLES=5000 /tmp/venv/bin/pytest tests/test_fuzz.py

Examples are derandomized (the same run every time) unless DUCHA_FUZZ_RANDOM=1, which explores new inputs:

    DUCHA_FUZZ_RANDOM=1 DUCHA_FUZZ_EXAMPLES=5000 /tmp/venv/bin/pytest tests/test_fuzz.py -x
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import os
import re
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ducha.checks.pipeline import CheckResult, run_check
from ducha.prefecture.intake_sources import Ignored, Incoming, Rejected, collect
from ducha.reading.raw import UnreadableWorkbook
from markdown_workbook import valid_sheets, write_workbook

TIME_LIMIT = 20.0  # seconds for one example: one check and two collects
EXAMPLES = int(os.environ.get("DUCHA_FUZZ_EXAMPLES", 30))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=os.environ.get("DUCHA_FUZZ_RANDOM") != "1",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

_ILLEGAL_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def as_cell(value: Any) -> Any:
    """Control characters the way Excel stores them in a file (_xHHHH_); openpyxl refuses them raw."""
    if isinstance(value, str):
        return _ILLEGAL_IN_XLSX.sub(lambda m: f"_x{ord(m.group()):04X}_", value)[:32_767]
    return value


# --- strategies -----------------------------------------------------------------------------------------------------

SHEETS = valid_sheets()
SHEET_NAMES = sorted(SHEETS)

TEXTS = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff"), max_size=40)
SPECIAL_TEXTS = st.sampled_from([
    "#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA", "NaN", "nan", "inf", "-inf",
    "Infinity", "1e309", "-1e309", "-0", "１２３", "4人", "1,200", "\x00\x01\x1f", "\t\n\r", "😀👨‍👩‍👧",
    "\U00020000\U0002a6d6", "𠀀" * 300, "长" * 32_000, "x" * 600, "是\u200b", "\u202e是", "\u3000", "=1/0",
    "=SUM(A1:A2)", "'", "19991231", "2019-02-30", "2019年13月", "52263119700101001x", " ", "不涉及", "/", "√",
    "×", "TRUE", "FALSE", "2019-11", "0x1F", "1_000", "١٢٣", "<script>", "]]>", "&amp;", "_x0000_",
])
VALUES = st.one_of(
    TEXTS,
    SPECIAL_TEXTS,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.times(),
    st.none(),
)
SHEET_NAME_TEXT = st.one_of(
    st.sampled_from([f"{n} " for n in SHEET_NAMES] + [f" {n}" for n in SHEET_NAMES] + [n + "(2)" for n in SHEET_NAMES]
                    + [n[:-1] for n in SHEET_NAMES] + ["Sheet1", "农户调查 ", "农户調查", "'", "x" * 31]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="[]:*?/\\'\ufffe\uffff"),
            min_size=1, max_size=31),
)


@st.composite
def cell_change(draw) -> tuple:
    sheet = draw(st.sampled_from(SHEET_NAMES))
    rows = SHEETS[sheet]
    row = draw(st.integers(0, len(rows) + 2))  # row 0 is the header; past the end adds rows
    column = draw(st.integers(0, max(len(r) for r in rows) + 1))
    return ("cell", sheet, row, column, draw(VALUES))


CONTENT_CHANGES = st.one_of(
    cell_change(),
    st.tuples(st.just("header"), st.sampled_from(SHEET_NAMES), st.integers(0, 40), st.one_of(VALUES, SPECIAL_TEXTS)),
    st.tuples(st.just("rename"), st.sampled_from(SHEET_NAMES), SHEET_NAME_TEXT),
    st.tuples(st.just("delete"), st.sampled_from(SHEET_NAMES)),
    st.tuples(st.just("copy"), st.sampled_from(SHEET_NAMES), SHEET_NAME_TEXT),
    st.tuples(st.just("truncate_rows"), st.sampled_from(SHEET_NAMES), st.integers(0, 20)),
    st.tuples(st.just("empty"), st.sampled_from(SHEET_NAMES)),
)


def apply_content(changes: list[tuple]) -> dict[str, list[list[Any]]]:
    sheets = copy.deepcopy(SHEETS)
    for change in changes:
        kind, name = change[0], change[1]
        if name not in sheets:
            continue
        rows = sheets[name]
        if kind == "cell":
            _, _, row, column, value = change
            while len(rows) <= row:
                rows.append([])
            while len(rows[row]) <= column:
                rows[row].append(None)
            rows[row][column] = as_cell(value)
        elif kind == "header":
            _, _, column, value = change
            if rows and rows[0]:
                rows[0][column % len(rows[0])] = as_cell(value)
        elif kind in ("rename", "copy"):
            new = change[2]
            if any(new.lower() == other.lower() for other in sheets):
                continue  # openpyxl would rename it "…1"; a real duplicate name cannot be saved
            sheets[new] = rows if kind == "rename" else copy.deepcopy(rows)
            if kind == "rename":
                del sheets[name]
        elif kind == "delete":
            del sheets[name]
        elif kind == "truncate_rows":
            del rows[change[2]:]
        elif kind == "empty":
            sheets[name] = []
    return sheets


@pytest.fixture(scope="module")
def valid_bytes(tmp_path_factory) -> bytes:
    return write_workbook(tmp_path_factory.mktemp("fuzz") / "valid.xlsx", SHEETS).read_bytes()


def _entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(info.filename, z.read(info)) for info in z.infolist()]


ZIP_CHANGES = st.one_of(
    st.tuples(st.just("drop"), st.integers(0, 100)),
    st.tuples(st.just("truncate_part"), st.integers(0, 100), st.floats(0, 1)),
    st.tuples(st.just("flip_part"), st.integers(0, 100), st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)),
                                                                    min_size=1, max_size=8)),
    st.tuples(st.just("duplicate"), st.integers(0, 100), st.booleans()),
    st.tuples(st.just("junk"), st.sampled_from(["junk.bin", "xl/worksheets/sheet99.xml", "../evil.xml",
                                                "xl/sharedStrings.xml", "[Content_Types].xml", "/abs.xml",
                                                "xl/worksheets/_rels/x.rels", "长名" * 40]),
              st.binary(max_size=200)),
    st.tuples(st.just("xml_text"), st.integers(0, 100), st.sampled_from([
        (b"<c ", b"<c t=\"e\" "), (b"t=\"s\"", b"t=\"n\""), (b"t=\"s\"", b"t=\"str\""), (b"<v>", b"<v>x"),
        (b"<v>", b"<v>99999999"), (b"r=\"", b"r=\"ZZZ"), (b"<sheetData>", b"<sheetData><row r=\"1048577\"/>"),
        (b"<dimension ref=\"", b"<dimension ref=\"A1:XFD1048576 "), (b"encoding=\"UTF-8\"", b"encoding=\"GBK\""),
        (b"name=\"", b"name=\"&#0;"), (b"<si><t>", b"<si><t>\xff\xfe"), (b"</worksheet>", b""),
    ])),
)
FILE_CHANGES = st.one_of(
    st.tuples(st.just("truncate_file"), st.floats(0, 1)),
    st.tuples(st.just("flip_file"), st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)), min_size=1, max_size=8)),
)


def _flip(data: bytes, flips: list[tuple[float, int]]) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for where, mask in flips:
        i = min(int(where * len(out)), len(out) - 1)
        out[i] ^= mask
    return bytes(out)


def apply_zip(data: bytes, changes: list[tuple], whole: tuple | None) -> bytes:
    entries = _entries(data)
    for change in changes:
        kind = change[0]
        index = change[1] % len(entries) if entries and isinstance(change[1], int) else 0
        if kind == "drop" and entries:
            del entries[index]
        elif kind == "truncate_part" and entries:
            name, content = entries[index]
            entries[index] = (name, content[:int(change[2] * len(content))])
        elif kind == "flip_part" and entries:
            name, content = entries[index]
            entries[index] = (name, _flip(content, change[2]))
        elif kind == "duplicate" and entries:
            name, content = entries[index]
            entries.insert(index if change[2] else len(entries), (name, content[: len(content) // 2]))
        elif kind == "junk":
            entries.append((change[1], change[2]))
        elif kind == "xml_text" and entries:
            name, content = entries[index]
            old, new = change[2]
            entries[index] = (name, content.replace(old, new, 1))
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name" is the point
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
            for name, content in entries:
                z.writestr(name, content)
    out = buffer.getvalue()
    if whole is not None and whole[0] == "truncate_file":
        out = out[:int(whole[1] * len(out))]
    elif whole is not None:
        out = _flip(out, whole[1])
    return out


# --- the harness ----------------------------------------------------------------------------------------------------

def assert_handled(path: Path) -> None:
    """Check and collect `path` (and a .zip holding it): findings or a clean rejection, in time."""
    started = time.perf_counter()
    try:
        result = run_check(path)
    except UnreadableWorkbook as exc:
        assert str(exc), "a rejection must say why"
    else:
        assert isinstance(result, CheckResult)
        assert all(f.sheet and f.message for f in result.findings)
    items = list(collect([path]))
    assert items and all(isinstance(i, Incoming | Rejected | Ignored) for i in items)
    container = path.with_suffix(".zip")
    with zipfile.ZipFile(container, "w") as z:
        z.write(path, path.name)
    items = list(collect([container]))
    assert items and all(isinstance(i, Incoming | Rejected | Ignored) for i in items)
    seconds = time.perf_counter() - started
    assert seconds < TIME_LIMIT, f"took {seconds:.1f} s (limit {TIME_LIMIT} s)"


@FUZZ
@given(st.lists(CONTENT_CHANGES, min_size=1, max_size=10))
def test_mutated_cells_sheet_names_and_headers_give_findings_or_a_rejection(changes: list[tuple]) -> None:
    sheets = apply_content(changes)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "变异.xlsx"
        if sheets:
            write_workbook(path, sheets)
        else:  # every sheet deleted: openpyxl cannot save a workbook without sheets; use an empty one
            write_workbook(path, {"Sheet1": []})
        assert_handled(path)


@FUZZ
@given(st.lists(ZIP_CHANGES, min_size=1, max_size=4), st.one_of(st.none(), FILE_CHANGES))
def test_mutated_zip_entries_give_findings_or_a_rejection(valid_bytes: bytes, changes: list[tuple],
                                                          whole: tuple | None) -> None:
    data = apply_zip(valid_bytes, changes, whole)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "损坏.xlsx"
        path.write_bytes(data)
        assert_handled(path)


@FUZZ
@given(st.lists(CONTENT_CHANGES, min_size=1, max_size=6), st.lists(ZIP_CHANGES, min_size=1, max_size=3))
def test_mutated_content_inside_a_damaged_container(valid_bytes: bytes, content: list[tuple],
                                                    changes: list[tuple]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "两者.xlsx"
        sheets = apply_content(content) or {"Sheet1": []}
        write_workbook(path, sheets)
        path.write_bytes(apply_zip(path.read_bytes(), changes, None))
        assert_handled(path)


def test_the_unmutated_workbook_is_clean(valid_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "原样.xlsx"
    path.write_bytes(apply_zip(valid_bytes, [], None))
    result = run_check(path)
    assert isinstance(result, CheckResult)
    assert [type(i) for i in collect([path])] == [Incoming]
