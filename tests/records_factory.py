"""Build InspectionData inline from small lists of dicts: clean defaults, so a test states only what differs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ducha.model.parameters import DEFAULT_PARAMETERS, Parameters
from ducha.model.records import ROW, FormValues, InspectionData
from ducha.model.schema import (
    BASIC,
    COUNTY,
    HOUSEHOLD_EXITED,
    HOUSEHOLD_ORDINARY,
    HOUSEHOLD_POOR,
    HOUSEHOLDS,
    INTERVIEWS,
    N_STATIONED,
    SAMPLING,
    VILLAGES,
    Sheet,
)

FIRST_ROW = 2  # the header is row 1
ID = "11010519491231002X"

_SECURE = {"food_secure": "是", "clothing_secure": "是", "education_secured": "是", "medical_secured": "是",
           "housing_secured": "是", "water_secured": "是", "in_rural_coop_insurance": "是", "dilapidated_house": "否",
           "minimum_living_eligible": "否", "minimum_living_received": "否", "recognition": "认可"}
_REGISTERED = {"identification_standard": "国家", "poor_attribute": "一般贫困户", "poverty_cause": "因病",
               "has_industry": "是", "in_critical_illness_insurance": "是", "two_exemptions_one_subsidy": "是",
               "high_school_aid": "不涉及", "has_help_plan": "是", "help_plan_targets_cause": "是",
               "has_handbook": "是", "helper_name": "王帮", "helper_phone": "13800000000"}
_POOR = {"household_type": HOUSEHOLD_POOR, "income_per_head": 3000.0, "form_complete": "是",
         "publicity_records": "是", "meeting_minutes": "是", "category_matches": "是", "cause_matches": "是",
         **_REGISTERED}
_EXITED = {"household_type": HOUSEHOLD_EXITED, "income_per_head": 6000.0, "exit_year": 2018, **_REGISTERED}
_ORDINARY = {"household_type": HOUSEHOLD_ORDINARY, "income_per_head": 12000.0}
KINDS = {"poor": _POOR, "exited": _EXITED, "ordinary": _ORDINARY}


def household(kind: str = "poor", **values: Any) -> dict[str, Any]:
    """A clean household of kind poor / exited / ordinary (nothing wrong with it), with `values` on top."""
    return {"township": "甲镇", "village": "一村", "head_name": "张三", "id_number": ID, "household_size": 4,
            **_SECURE, **KINDS[kind], **values}


def village(**values: Any) -> dict[str, Any]:
    """A village that passes every check."""
    checks = {f.key: "是" for f in VILLAGES.fields if f.type.value == "yes_no"}
    return {"township": "甲镇", "village": "一村", "leading_industry": "茶叶", "team_months": 12,
            "natural_villages": 5, "natural_villages_powered": 5, **checks, **values}


def county(**values: Any) -> dict[str, Any]:
    """County figures that meet every default target."""
    clean = {
        "industry_poor_households": 1000, "industry_driven_households": 950, "poor_villages": 40,
        "poor_villages_with_coop": 40, "relocation_planned": 500, "relocation_done": 500, "loans_last_year": 1000.0,
        "loans_now": 1200.0, "risk_fund_due": 500.0, "risk_fund_in_place": 500.0, "microloan_poor_households": 300,
        "microloan_households": 300, "funds_available": 8000.0, "funds_integrated": 8000.0,
        "poor_population": 4000, "critical_illness_insured": 4000, "rural_coop_insured": 4000,
        "reimbursement_raise": 5.0, "admin_villages": 100, "admin_villages_with_clinic": 100,
        "admin_villages_with_doctor": 100, "compulsory_students": 800, "compulsory_students_aided": 800,
        "high_school_students": 200, "high_school_students_aided": 200, "new_labour": 100,
        "new_labour_trained": 100, "water_problem_population": 600, "water_solved_population": 600,
        "total_population": 50000, "broadband_population": 48000, "dilapidated_last_year": 120,
        "dilapidated_now": 0, "natural_villages": 300, "natural_villages_powered": 300, "admin_villages_road": 100,
        "admin_villages_bus_last_year": 100, "admin_villages_bus_now": 100, "minimum_living_eligible": 900,
        "minimum_living_covered": 900,
    }
    return {**clean, **values}


def letters(sheet: Sheet) -> dict[str, str]:
    """Field key -> column letter, in schema order from column A."""
    def letter(i: int) -> str:
        return (letter(i // 26 - 1) if i >= 26 else "") + chr(65 + i % 26)
    return {f.key: letter(i) for i, f in enumerate(sheet.fields)}


def frame(sheet: Sheet, records: list[dict[str, Any]]) -> pd.DataFrame:
    """A typed table: every schema column (None where absent) plus `_row` from FIRST_ROW."""
    rows = [{**{f.key: rec.get(f.key) for f in sheet.fields}, ROW: rec.get(ROW, FIRST_ROW + i)}
            for i, rec in enumerate(records)]
    return pd.DataFrame(rows, columns=[*(f.key for f in sheet.fields), ROW], dtype=object)


def make_data(households: Sequence[dict[str, Any]] = (), villages: Sequence[dict[str, Any]] = (),
              county_values: dict[str, Any] | None = None, *, sampling: Sequence[dict[str, Any]] = (),
              month: str | None = "2019-11",
              key_item: str | None = N_STATIONED, parameters: Parameters = DEFAULT_PARAMETERS,
              **basic: Any) -> InspectionData:
    """InspectionData with the given households, villages and county figures (clean county by default)."""
    county_values = county() if county_values is None else county_values
    return InspectionData(
        basic=FormValues({"month": month, "county": "某县", "key_item": key_item, **basic},
                         {f.key: f"B{i}" for i, f in enumerate(BASIC.fields, start=2)}),
        sampling=frame(SAMPLING, list(sampling)),
        households=frame(HOUSEHOLDS, list(households)),
        villages=frame(VILLAGES, list(villages)),
        county=FormValues(dict(county_values), {f.key: f"B{i}" for i, f in enumerate(COUNTY.fields, start=2)}),
        interviews=frame(INTERVIEWS, []),
        parameters=parameters,
        sheet_names={s.key: s.name for s in (BASIC, SAMPLING, HOUSEHOLDS, VILLAGES, COUNTY, INTERVIEWS)},
        column_letters={"households": letters(HOUSEHOLDS), "villages": letters(VILLAGES)},
    )


def clean_sample(villages: int = 2) -> InspectionData:
    """The plan's sample: per village 5 poor, 5 exited and 5 ordinary households, all clean."""
    names = [("甲镇", "一村"), ("乙乡", "二村"), ("丙镇", "三村")][:villages]
    hh = [household(kind, township=t, village=v) for t, v in names for kind in ("poor", "exited", "ordinary")
          for _ in range(5)]
    return make_data(hh, [village(township=t, village=v) for t, v in names])
