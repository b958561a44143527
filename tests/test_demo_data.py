"""The demo workbook: the plan's sample, valid IDs, consistent incomes, and exactly the planted problems."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils import column_index_from_string
from openpyxl.utils.cell import coordinate_from_string
from python_calamine import CalamineWorkbook

from ducha.adapters.writer import workbook_bytes
from ducha.app.demo import DEMO_PROBLEMS, build_demo_workbook, write_demo_workbook
from ducha.checks.registry import run_checks
from ducha.model import schema
from ducha.model.findings import Code
from ducha.model.schema import HOUSEHOLD_EXITED, HOUSEHOLD_ORDINARY, HOUSEHOLD_POOR, HOUSEHOLD_TYPES, Field, Sheet
from ducha.reading.workbook import read_workbook
from ducha.sheets.template import FORM_FIRST_ROW, FORM_SOURCE_COLUMN, FORM_VALUE_COLUMN
from libreoffice import convert

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
INCOME_PARTS = ("wage_income", "business_income", "transfer_income", "property_income")
LINE_2019 = 3218


def gb11643_valid(number: object) -> bool:
    """GB 11643-1999: 17 digits, then the check character of Σ aᵢ·Wᵢ mod 11 -> 1 0 X 9 8 7 6 5 4 3 2."""
    if not isinstance(number, str) or len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], WEIGHTS, strict=True))
    return number[17] == "10X98765432"[total % 11]


def test_check_character_helper_accepts_the_standards_examples() -> None:
    assert gb11643_valid("11010519491231002X") and gb11643_valid("440524188001010014")
    assert not gb11643_valid("110105194912310021")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_workbook(tmp_path_factory.mktemp("demo") / "清水县督查.xlsx")


@pytest.fixture(scope="module")
def book(demo: Path) -> CalamineWorkbook:
    return CalamineWorkbook.from_path(str(demo))


def _records(book: CalamineWorkbook, sheet: Sheet) -> list[dict[str, Any]]:
    """Table rows as field key -> value (calamine gives "" for an empty cell; here None), with `_row`."""
    grid = book.get_sheet_by_name(sheet.name).to_python()
    assert grid[0] == [f.label() for f in sheet.fields]
    return [{"_row": i, **{f.key: (v if v != "" else None) for f, v in zip(sheet.fields, row, strict=False)}}
            for i, row in enumerate(grid[1:], start=2) if any(v != "" for v in row)]


def _form(book: CalamineWorkbook, sheet: Sheet) -> dict[str, tuple[Any, Any]]:
    """Form rows as field key -> (value, source)."""
    grid = book.get_sheet_by_name(sheet.name).to_python()
    result = {}
    for i, f in enumerate(sheet.fields):
        row = grid[FORM_FIRST_ROW - 1 + i]
        assert row[0] == f.label()
        source = row[FORM_SOURCE_COLUMN - 1] if sheet.has_source_column else ""
        value = row[FORM_VALUE_COLUMN - 1]
        result[f.key] = (None if value == "" else value, source or None)
    return result


def _planted(code: Code) -> list[tuple[str, str]]:
    return [(sheet, cell) for sheet, cell, c in DEMO_PROBLEMS if c == code.code]


def _key_of(sheet: Sheet, cell: str) -> tuple[str, int]:
    letter, row = coordinate_from_string(cell)
    return sheet.fields[column_index_from_string(letter) - 1].key, row


def _expected_income(h: dict[str, Any]) -> float:
    return round((sum(h[k] or 0 for k in INCOME_PARTS) - (h["business_costs"] or 0)) / h["household_size"], 2)


def test_sample_is_two_townships_and_three_villages_with_poverty_tasks(book: CalamineWorkbook) -> None:
    sampling = _records(book, schema.SAMPLING)
    assert len(sampling) == 3
    assert sorted(Counter(r["township"] for r in sampling).values()) == [1, 2]
    assert {r["township_has_task"] for r in sampling} == {"是"}
    assert all(len(r["village_code"]) == 12 and r["village_code"].startswith("522631") for r in sampling)


def test_45_households_five_of_each_type_per_village(book: CalamineWorkbook) -> None:
    households = _records(book, schema.HOUSEHOLDS)
    sampled = {(r["township"], r["village"]) for r in _records(book, schema.SAMPLING)}
    assert len(households) == 45
    counts = Counter((h["township"], h["village"], h["household_type"]) for h in households)
    assert counts == {(t, v, kind): 5 for t, v in sampled for kind in HOUSEHOLD_TYPES}


def test_every_id_is_valid_except_the_planted_ones(book: CalamineWorkbook) -> None:
    households = _records(book, schema.HOUSEHOLDS)
    planted_rows = {_key_of(schema.HOUSEHOLDS, cell)[1] for _, cell in
                    _planted(Code.ID_CHECK_DIGIT) + _planted(Code.ID_STORED_AS_NUMBER)}
    good = [h["id_number"] for h in households if h["_row"] not in planted_rows]
    assert len(good) == 43 and all(gb11643_valid(number) for number in good)
    assert all(number.startswith("522631") and 1940 <= int(number[6:10]) <= 2000 for number in good)
    assert len(set(good)) == len(good)


def test_income_per_head_is_consistent_except_the_planted_one(book: CalamineWorkbook) -> None:
    households = _records(book, schema.HOUSEHOLDS)
    (planted,) = [_key_of(schema.HOUSEHOLDS, cell)[1] for _, cell in _planted(Code.INCOME_INCONSISTENT)]
    wrong = [h["_row"] for h in households if abs(h["income_per_head"] - _expected_income(h)) > 0.005]
    assert wrong == [planted]
    assert all(1 <= h["household_size"] <= 7 for h in households)


def test_income_mix_gives_wrong_exit_and_missed_candidates(book: CalamineWorkbook) -> None:
    households = _records(book, schema.HOUSEHOLDS)
    by_type = {kind: [h["income_per_head"] for h in households if h["household_type"] == kind]
               for kind in HOUSEHOLD_TYPES}
    assert 2 <= sum(v < LINE_2019 for v in by_type[HOUSEHOLD_EXITED]) <= 3
    assert sum(v < LINE_2019 for v in by_type[HOUSEHOLD_ORDINARY]) == 1
    assert sum(v < LINE_2019 * 1.1 for v in by_type[HOUSEHOLD_POOR]) == 15
    assert 2 <= sum(h["recognition"] == "不认可" for h in households) <= 4
    assert 1 <= sum(h["form_complete"] == "否" for h in households) <= 2


def _missing(sheet: Sheet, records: list[dict[str, Any]], key_item: str) -> list[tuple[str, str]]:
    """Cells of required, required-if and this month's N-item fields that are empty."""

    def needed(f: Field, r: dict[str, Any]) -> bool:
        applies = f.when is None or r.get(f.when.field) in f.when.values
        return applies and f.needed_for(key_item)

    letters = {f.key: openpyxl.utils.get_column_letter(i) for i, f in enumerate(sheet.fields, start=1)}
    return [(sheet.name, f"{letters[f.key]}{r['_row']}") for r in records for f in sheet.fields
            if needed(f, r) and r.get(f.key) is None]


def test_every_needed_field_is_filled_except_the_planted_gaps(book: CalamineWorkbook) -> None:
    key_item = _form(book, schema.BASIC)["key_item"][0]
    assert key_item == schema.N_HEALTH
    missing = []
    for sheet in (schema.SAMPLING, schema.HOUSEHOLDS, schema.VILLAGES, schema.INTERVIEWS):
        missing += _missing(sheet, _records(book, sheet), key_item)
    for sheet in (schema.BASIC, schema.COUNTY):
        form = _form(book, sheet)
        missing += [(sheet.name, f"B{FORM_FIRST_ROW + i}") for i, f in enumerate(sheet.fields)
                    if f.needed_for(key_item) and form[f.key][0] is None]
    assert sorted(missing) == sorted(_planted(Code.REQUIRED_IF_MISSING))


def test_county_figures_have_sources_except_the_planted_one(book: CalamineWorkbook) -> None:
    form = _form(book, schema.COUNTY)
    unsourced = [f"C{FORM_FIRST_ROW + i}" for i, f in enumerate(schema.COUNTY.fields)
                 if form[f.key][0] is not None and form[f.key][1] is None]
    assert [(schema.COUNTY.name, cell) for cell in unsourced] == _planted(Code.SOURCE_MISSING)


def test_each_village_has_one_check_row_and_two_plus_two_interviews(book: CalamineWorkbook) -> None:
    sampled = sorted((r["township"], r["village"]) for r in _records(book, schema.SAMPLING))
    assert sorted((r["township"], r["village"]) for r in _records(book, schema.VILLAGES)) == sampled
    kinds = Counter((r["township"], r["village"], r["kind"]) for r in _records(book, schema.INTERVIEWS))
    assert kinds == {(t, v, kind): 2 for t, v in sampled for kind in schema.INTERVIEW_KINDS}


def test_basic_information_is_complete_and_inside_the_month(book: CalamineWorkbook) -> None:
    basic = {key: value for key, (value, _) in _form(book, schema.BASIC).items()}
    assert basic["group"] == "第二督查组" and basic["mode"] == "随机暗访" and basic["month"] == "2019-11"
    assert basic["county_code"] == "522631"
    assert basic["start_date"].strftime("%Y-%m") == basic["end_date"].strftime("%Y-%m") == "2019-11"
    assert basic["start_date"] <= basic["end_date"]


def test_planted_problems_are_really_in_their_cells(demo: Path) -> None:
    wb = openpyxl.load_workbook(demo)
    households = schema.HOUSEHOLDS
    for sheet_name, cell, code in DEMO_PROBLEMS:
        ws = wb[sheet_name]
        value = ws[cell].value
        if code == Code.ID_CHECK_DIGIT.code:
            assert isinstance(value, str) and len(value) == 18 and value[:17].isdigit() and not gb11643_valid(value)
        elif code == Code.ID_STORED_AS_NUMBER.code:
            assert isinstance(value, float) and value > 1e17
        elif code == Code.PHONE_INVALID.code:
            assert isinstance(value, str) and value.isdigit() and len(value) == 10
        elif code == Code.SOURCE_MISSING.code:
            assert value is None and ws.cell(ws[cell].row, FORM_VALUE_COLUMN).value is not None
        elif code == Code.INCOME_INCONSISTENT.code:
            _, row = _key_of(households, cell)
            h = {f.key: ws.cell(row, i).value for i, f in enumerate(households.fields, start=1)}
            assert abs(value - _expected_income(h)) > max(1.0, 0.01 * _expected_income(h))
        elif code == Code.ANSWER_CONFLICT_MEDICAL.code:
            _, row = _key_of(households, cell)
            insured = ws.cell(row, households.fields.index(households.field("in_rural_coop_insurance")) + 1).value
            assert (value, insured) == ("是", "否")
        elif code == Code.REQUIRED_IF_MISSING.code:
            key, row = _key_of(households, cell)
            field = households.field(key)
            condition = ws.cell(row, households.fields.index(households.field(field.when.field)) + 1).value
            assert value is None and field.required and condition in field.when.values
        else:
            pytest.fail(f"no check for planted code {code}")


def test_checker_finds_exactly_the_planted_problems(demo: Path) -> None:
    parsed = read_workbook(demo)
    findings = [*parsed.findings, *run_checks(parsed)]
    assert sorted((f.sheet, f.cell, f.code) for f in findings) == sorted(DEMO_PROBLEMS)


def test_same_seed_same_bytes_other_seed_other_people() -> None:
    assert workbook_bytes(build_demo_workbook(seed=7)) == workbook_bytes(build_demo_workbook(seed=7))
    names = [build_demo_workbook(seed=s)[schema.HOUSEHOLDS.name]["D2"].value for s in (7, 8)]
    assert names[0] != names[1]


@pytest.mark.parametrize("key_item", schema.KEY_ITEMS)
def test_other_key_items_fill_their_fields(key_item: str, tmp_path: Path) -> None:
    path = write_demo_workbook(tmp_path / "demo.xlsx", seed=3, month="2020-06", key_item=key_item)
    book = CalamineWorkbook.from_path(str(path))
    county = _form(book, schema.COUNTY)
    assert all(county[f.key][0] is not None for f in schema.COUNTY.fields if key_item in f.key_items)
    assert all(county[f.key][0] is None for f in schema.COUNTY.fields if f.key_items and key_item not in f.key_items)
    assert _missing(schema.VILLAGES, _records(book, schema.VILLAGES), key_item) == []


def test_libreoffice_opens_the_demo(demo: Path, tmp_path: Path) -> None:
    assert convert(demo, "pdf", tmp_path).stat().st_size > 1000


@pytest.fixture(scope="module")
def evaluation(demo: Path):
    from ducha.sheets.score_sheet import evaluate

    return evaluate(read_workbook(demo).data)


def test_demo_wrong_exit_rate_is_eight_of_fifty_eight_people(evaluation) -> None:
    # 12 脱贫户 with a known 脱贫年度 plus 朱英 (row 23), whose blank 脱贫年度 cannot matter: 5,904 yuan is above
    # 2019's 3,218, the highest line up to the inspection year. All 15 脱贫户 weigh 58 people; rows 10 and 38 are
    # the planted wrong exits (8 people).
    wrong_exit = next(i for i in evaluation.indicators if i.key == "wrong_exit_rate")
    assert (wrong_exit.numerator, wrong_exit.denominator, wrong_exit.cases, wrong_exit.missing) == (8, 58, (10, 38), ())
    zhu = next(j for j in evaluation.judgments if j.row == 23)
    assert (zhu.head_name, zhu.wrong_exit.value) == ("朱英", False)
    assert [n.code for n in zhu.wrong_exit.notes] == ["exit-year-blank-decided"]


def test_demo_score_rests_on_the_national_line_with_nothing_left_out(evaluation) -> None:
    basis = evaluation.card.basis
    assert basis.line.startswith("2019 年国家扶贫标准 3,218 元")
    assert (basis.parameters_version, basis.settings, basis.missing) == ("2019.2", (), ())


def test_demo_conflicting_answers_are_noted_on_the_judgment(evaluation) -> None:
    row = _key_of(schema.HOUSEHOLDS, _planted(Code.ANSWER_CONFLICT_MEDICAL)[0][1])[1]
    household = next(j for j in evaluation.judgments if j.row == row)
    assert household.missed.notes[0].text.endswith("判定采用「基本医疗有保障」的回答")
