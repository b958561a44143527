"""Checks of the county figures (「县级核查」): every figure has its source, and no part exceeds its whole."""

from __future__ import annotations

from collections.abc import Iterator

from ducha.checks.registry import check
from ducha.model.findings import Code, Finding, make_finding
from ducha.model.schema import COUNTY
from ducha.reading.workbook import ParsedWorkbook

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


@check
def county_sources(parsed: ParsedWorkbook) -> Iterator[Finding]:
    """Every county figure given names its source."""
    county, sources = parsed.county, parsed.sources
    sheet = parsed.sheet_names["county"]
    for f in COUNTY.fields:
        if county.get(f.key) is not None and not sources.get(f.key) and f.key in sources.cells:
            yield make_finding(Code.SOURCE_MISSING, sheet=sheet, cell=sources.cells[f.key], field=f.header)


@check
def county_parts_within_wholes(parsed: ParsedWorkbook) -> Iterator[Finding]:
    county = parsed.county
    sheet = parsed.sheet_names["county"]
    for part, whole in COUNTY_PARTS:
        a, b = county.get(part), county.get(whole)
        if a is not None and b is not None and a > b:
            yield make_finding(Code.PART_EXCEEDS_WHOLE, sheet=sheet, cell=county.cells[part],
                               field=COUNTY.field(part).header, value=a, whole=COUNTY.field(whole).header, total=b)
