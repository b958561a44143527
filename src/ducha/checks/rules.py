"""Cross-record checks: dates against the month, duplicates, income arithmetic, the sample the plan
prescribes (2 townships with tasks, ≥ 1 village each, 5 + 5 + 5 households, ≥ 2 + 2 interviews),
county figures, and completeness as answered ÷ required-and-relevant fields.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ducha.model.findings import Code, Finding, make_finding
from ducha.model.schema import (
    BASIC,
    COUNTY,
    HOUSEHOLD_EXITED,
    HOUSEHOLD_TYPES,
    INTERVIEW_KINDS,
    NO,
    Sheet,
)
from ducha.reading.workbook import ParsedTable, ParsedWorkbook

TOWNSHIPS_PER_SAMPLE = 2
HOUSEHOLDS_PER_TYPE = 5
INTERVIEWS_PER_KIND = 2
INCOME_TOLERANCE_YUAN = 1.0
INCOME_TOLERANCE_SHARE = 0.01
INCOME_PARTS = ("wage_income", "business_income", "transfer_income", "property_income")

# (part, whole) pairs of county figures where the part should not exceed the whole.
COUNTY_PARTS = (
    ("industry_driven_households", "industry_poor_households"),
    ("poor_villages_with_coop", "poor_villages"),
    ("microloan_households", "microloan_poor_households"),
    ("funds_integrated", "funds_available"),
    ("critical_illness_insured", "poor_population"),
    ("rural_coop_insured", "poor_population"),
    ("admin_villages_with_clinic", "admin_villages"),
    ("admin_villages_with_doctor", "admin_villages"),
    ("compulsory_students_aided", "compulsory_students"),
    ("high_school_students_aided", "high_school_students"),
    ("new_labour_trained", "new_labour"),
    ("water_solved_population", "water_problem_population"),
    ("broadband_population", "total_population"),
    ("natural_villages_powered", "natural_villages"),
    ("admin_villages_road", "admin_villages"),
    ("minimum_living_covered", "minimum_living_eligible"),
)

VillageKey = tuple[str, str]


class Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, code: Code, **kwargs: Any) -> None:
        self.findings.append(make_finding(code, **kwargs))

    def at(self, code: Code, table: ParsedTable, key: str, i: int, **kwargs: Any) -> None:
        """A finding at record i, field `key`, of a table sheet."""
        self.findings.append(table.finding(code, key, i, **kwargs))


def check_workbook(parsed: ParsedWorkbook) -> list[Finding]:
    """Every cross-record finding of one workbook (cell-level findings come from parsing)."""
    out = Collector()
    _check_dates(parsed, out)
    households = parsed.tables["households"]
    check_duplicates(households, out)
    _check_income(households, out)
    _check_exit_years(parsed, households, out)
    sampled = _check_sampling(parsed.tables["sampling"], out)
    if sampled:
        for key in ("households", "villages", "interviews"):
            _check_in_sample(parsed.tables[key], sampled, out)
        _check_household_counts(households, sampled, parsed.tables["sampling"], out)
        _check_interviews(parsed.tables["interviews"], sampled, parsed.tables["sampling"], out)
        _check_village_rows(parsed.tables["villages"], sampled, parsed.tables["sampling"], out)
    _check_county(parsed, out)
    _check_parameters(parsed, out)
    return out.findings


def _village_keys(table: ParsedTable) -> list[VillageKey | None]:
    townships, villages = table.values["township"].tolist(), table.values["village"].tolist()
    return [(t, v) if t and v else None for t, v in zip(townships, villages, strict=True)]


def _floats(values: np.ndarray) -> np.ndarray:
    """Numbers as a float array, NaN where empty."""
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)


def _check_dates(parsed: ParsedWorkbook, out: Collector) -> None:
    basic = parsed.basic
    month = basic.get("month")
    sheet = parsed.sheet_names["basic"]
    start, end = basic.get("start_date"), basic.get("end_date")
    for key in ("start_date", "end_date"):
        day = basic.get(key)
        if month and isinstance(day, dt.date) and f"{day.year:04d}-{day.month:02d}" != month:
            out.add(Code.DATE_OUTSIDE_MONTH, sheet=sheet, cell=basic.cells[key], field=BASIC.field(key).header,
                    value=day.isoformat(), month=month)
    if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
        out.add(Code.DATE_ORDER, sheet=sheet, cell=basic.cells["end_date"], field=BASIC.field("end_date").header,
                value=end.isoformat(), start=start.isoformat())


def check_duplicates(households: ParsedTable, out: Collector) -> None:
    ids = pd.Series(households.values["id_number"], dtype=object)
    repeated = np.flatnonzero((ids.duplicated(keep=False) & ids.notna()).to_numpy())
    first_seen: dict[str, int] = {}
    for i in repeated:
        j = first_seen.setdefault(ids.iat[i], i)
        if j != i:
            out.at(Code.DUPLICATE_HOUSEHOLD, households, "id_number", i,
                   other=f"第 {households.rows[j]} 行（{households.letter('id_number')}{households.rows[j]}）")


def _check_income(households: ParsedTable, out: Collector) -> None:
    v = households.values
    size, per_head, costs = _floats(v["household_size"]), _floats(v["income_per_head"]), _floats(v["business_costs"])
    parts = np.vstack([_floats(v[k]) for k in INCOME_PARTS]) if len(size) else np.zeros((len(INCOME_PARTS), 0))
    any_part = ~np.all(np.isnan(parts), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = (np.nansum(parts, axis=0) - np.nan_to_num(costs)) / size
        tolerance = np.maximum(INCOME_TOLERANCE_YUAN, INCOME_TOLERANCE_SHARE * np.abs(expected))
        wrong = any_part & (size > 0) & ~np.isnan(per_head) & (np.abs(expected - per_head) > tolerance)
    for i in np.flatnonzero(wrong):
        out.at(Code.INCOME_INCONSISTENT, households, "income_per_head", i, expected=f"{expected[i]:.2f}")


def _check_exit_years(parsed: ParsedWorkbook, households: ParsedTable, out: Collector) -> None:
    year = parsed.year
    if year is None:
        return
    kinds, exit_years = households.values["household_type"], _floats(households.values["exit_year"])
    with np.errstate(invalid="ignore"):
        late = (kinds == HOUSEHOLD_EXITED) & (exit_years > year)
    for i in np.flatnonzero(late):
        out.at(Code.EXIT_YEAR_FUTURE, households, "exit_year", i, year=year)


def _check_sampling(sampling: ParsedTable, out: Collector) -> dict[VillageKey, int]:
    """Sampled village -> its record index in 「抽样」, after checking the townships."""
    sampled: dict[VillageKey, int] = {}
    townships: dict[str, int] = {}
    for i, key in enumerate(_village_keys(sampling)):
        township = sampling.values["township"][i]
        if township:
            townships.setdefault(township, i)
        if key is None:
            continue
        if key in sampled:
            out.at(Code.SAMPLE_VILLAGE_DUPLICATE, sampling, "village", i, value="".join(key),
                   other=f"第 {sampling.rows[sampled[key]]} 行")
            continue
        sampled[key] = i
    if sampling.rows and len(townships) != TOWNSHIPS_PER_SAMPLE:
        out.at(Code.SAMPLE_TOWNSHIP_COUNT, sampling, "township", 0, value=len(townships))
    for township, i in townships.items():
        if sampling.values["township_has_task"][i] == NO:
            out.at(Code.SAMPLE_TOWNSHIP_NO_TASK, sampling, "township_has_task", i, value=township)
    return sampled


def _check_in_sample(table: ParsedTable, sampled: dict[VillageKey, int], out: Collector) -> None:
    keys = _village_keys(table)
    strangers = set(keys) - set(sampled) - {None}
    if not strangers:
        return
    for i, key in enumerate(keys):
        if key in strangers:
            out.at(Code.VILLAGE_NOT_SAMPLED, table, "village", i, value=f"{key[0]}{key[1]}")


def _check_household_counts(households: ParsedTable, sampled: dict[VillageKey, int], sampling: ParsedTable,
                            out: Collector) -> None:
    counts = Counter(zip(_village_keys(households), households.values["household_type"].tolist(), strict=True))
    for key, i in sampled.items():
        for kind in HOUSEHOLD_TYPES:
            count = counts[(key, kind)]
            if count != HOUSEHOLDS_PER_TYPE:
                out.at(Code.SAMPLE_HOUSEHOLD_COUNT, sampling, "village", i, value=f"{key[0]}{key[1]}",
                       household_type=kind, count=count, expected=HOUSEHOLDS_PER_TYPE)


def _check_interviews(interviews: ParsedTable, sampled: dict[VillageKey, int], sampling: ParsedTable,
                      out: Collector) -> None:
    counts = Counter(zip(_village_keys(interviews), interviews.values["kind"].tolist(), strict=True))
    for key, i in sampled.items():
        for kind in INTERVIEW_KINDS:
            if counts[(key, kind)] < INTERVIEWS_PER_KIND:
                out.at(Code.SAMPLE_INTERVIEW_COUNT, sampling, "village", i, value=f"{key[0]}{key[1]}", kind=kind,
                       count=counts[(key, kind)], expected=INTERVIEWS_PER_KIND)


def _check_village_rows(villages: ParsedTable, sampled: dict[VillageKey, int], sampling: ParsedTable,
                        out: Collector) -> None:
    seen: dict[VillageKey, int] = {}
    for i, key in enumerate(_village_keys(villages)):
        if key is None:
            continue
        if key in seen:
            out.at(Code.VILLAGE_CHECK_DUPLICATE, villages, "village", i, value=f"{key[0]}{key[1]}",
                   other=f"第 {villages.rows[seen[key]]} 行")
        seen.setdefault(key, i)
    for key, i in sampled.items():
        if key not in seen:
            out.at(Code.VILLAGE_CHECK_MISSING, sampling, "village", i, value=f"{key[0]}{key[1]}")


def _check_county(parsed: ParsedWorkbook, out: Collector) -> None:
    county, sources = parsed.county, parsed.sources
    sheet = parsed.sheet_names["county"]
    for f in COUNTY.fields:
        if county.get(f.key) is not None and not sources.get(f.key) and f.key in sources.cells:
            out.add(Code.SOURCE_MISSING, sheet=sheet, cell=sources.cells[f.key], field=f.header)
    for part, whole in COUNTY_PARTS:
        a, b = county.get(part), county.get(whole)
        if a is not None and b is not None and a > b:
            out.add(Code.PART_EXCEEDS_WHOLE, sheet=sheet, cell=county.cells[part], field=COUNTY.field(part).header,
                    value=a, whole=COUNTY.field(whole).header, total=b)


def _check_parameters(parsed: ParsedWorkbook, out: Collector) -> None:
    year = parsed.year
    if year is None:
        return
    line = parsed.parameters.line_for(year)
    if line is None or line.year != year:
        used = f"{line.year} 年标准 {line.yuan:g} 元" if line else "无可用标准"
        sheet = parsed.sheet_names["parameters"]
        out.add(Code.PARAMETER_MISSING, sheet=sheet, cell="A1", year=year, used=used)


# --- completeness ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completeness:
    """Answered ÷ required-and-relevant fields for one scope (a sheet or a village)."""

    scope: str
    answered: int
    required: int

    @property
    def ratio(self) -> float | None:
        return self.answered / self.required if self.required else None

    def text(self) -> str:
        if not self.required:
            return "无应填项"
        return f"{self.answered}/{self.required}（{self.answered / self.required:.1%}）"


def _form_completeness(sheet: Sheet, values: dict[str, Any], cells: dict[str, str], key_item: str | None,
                       name: str) -> Completeness:
    required = [f for f in sheet.fields if f.needed_for(key_item)]
    answered = sum(1 for f in required if values.get(f.key) is not None)
    return Completeness(name, answered, len(required))


def completeness(parsed: ParsedWorkbook) -> tuple[list[Completeness], list[Completeness]]:
    """(per sheet, per village) completeness."""
    key_item = parsed.basic.get("key_item")
    per_sheet = [
        _form_completeness(BASIC, parsed.basic.values, parsed.basic.cells, key_item, parsed.sheet_names["basic"]),
    ]
    per_village: dict[VillageKey, list[int]] = defaultdict(lambda: [0, 0])
    for key in ("sampling", "households", "villages", "interviews"):
        table = parsed.tables[key]
        per_sheet.append(Completeness(table.sheet_name, sum(table.required_answered), sum(table.required_total)))
        if key == "sampling":
            continue
        for village, answered, total in zip(_village_keys(table), table.required_answered, table.required_total,
                                            strict=True):
            if village is not None:
                per_village[village][0] += answered
                per_village[village][1] += total
    per_sheet.append(_form_completeness(COUNTY, parsed.county.values, parsed.county.cells, key_item,
                                        parsed.sheet_names["county"]))
    villages = [Completeness(f"{t}{v}", a, r) for (t, v), (a, r) in sorted(per_village.items())]
    return per_sheet, villages
