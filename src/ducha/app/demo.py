"""A realistic filled inspection workbook for one county: seeded synthetic data plus a few planted problems.

Used for demonstrations, manual testing of the add-in and end-to-end tests (`python -m ducha.app.demo [path]`).
Everything is derived from the seed (`random.Random(seed)`); nothing reads the clock.
The planted problems are listed in `DEMO_PROBLEMS`.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ducha.adapters.writer import save_workbook
from ducha.model import schema
from ducha.model.findings import Code
from ducha.model.idnumber import check_character
from ducha.model.parameters import DEFAULT_PARAMETERS
from ducha.model.schema import (
    HOUSEHOLD_EXITED,
    HOUSEHOLD_ORDINARY,
    HOUSEHOLD_POOR,
    HOUSEHOLD_TYPES,
    NO,
    NOT_APPLICABLE,
    YES,
    Field,
    Sheet,
)
from ducha.sheets.template import (
    FORM_FIRST_ROW,
    FORM_SOURCE_COLUMN,
    FORM_VALUE_COLUMN,
    TABLE_FIRST_DATA_ROW,
    build_template,
    form_row,
    table_column,
)

COUNTY_NAME = "清水县"
COUNTY_CODE = "522631"
GROUP_NAME = "第二督查组"
VILLAGES_PER_TOWNSHIP = (2, 1)
HOUSEHOLDS_PER_TYPE = 5
HOUSEHOLDS_PER_VILLAGE = HOUSEHOLDS_PER_TYPE * len(HOUSEHOLD_TYPES)
VILLAGE_COUNT = sum(VILLAGES_PER_TOWNSHIP)


@dataclass(frozen=True)
class Slot:
    """A household's place in the sample: village index, household type, ordinal within the type (0-4)."""

    village: int
    household_type: str
    ordinal: int

    @property
    def row(self) -> int:
        """The Excel row of this household on 「农户调查」."""
        index = (self.village * HOUSEHOLDS_PER_VILLAGE + HOUSEHOLD_TYPES.index(self.household_type)
                 * HOUSEHOLDS_PER_TYPE + self.ordinal)
        return TABLE_FIRST_DATA_ROW + index


# Realistic cases (not errors): what the scoring and follow-up should pick up.
INCOMPLETE_FORM = (Slot(0, HOUSEHOLD_POOR, 1), Slot(2, HOUSEHOLD_POOR, 3))
WRONG_EXIT = (Slot(0, HOUSEHOLD_EXITED, 3), Slot(2, HOUSEHOLD_EXITED, 1))
MISSED = (Slot(1, HOUSEHOLD_ORDINARY, 2),)
DISSENT = {
    Slot(0, HOUSEHOLD_ORDINARY, 4): "认为村里低保评定不公开，评议时没有通知本户",
    Slot(1, HOUSEHOLD_EXITED, 0): "反映帮扶干部很少到家中，产业分红今年未兑现",
}

# Planted problems that the completeness checks must find.
BAD_CHECK_DIGIT = Slot(0, HOUSEHOLD_POOR, 2)
NO_EXIT_YEAR = Slot(1, HOUSEHOLD_EXITED, 1)
ID_AS_NUMBER = Slot(2, HOUSEHOLD_ORDINARY, 0)
DISSENT_WITHOUT_REASON = Slot(2, HOUSEHOLD_EXITED, 4)
INCOME_WITHOUT_COSTS = Slot(1, HOUSEHOLD_ORDINARY, 3)  # 年人均纯收入 computed without subtracting costs
SHORT_PHONE = Slot(0, HOUSEHOLD_ORDINARY, 1)
COUNTY_FIGURE_WITHOUT_SOURCE = "funds_integrated"
UNINSURED_BUT_MEDICAL_SECURED = Slot(2, HOUSEHOLD_ORDINARY, 2)  # 参加新农合 否 while 基本医疗有保障 是


def _household_cell(slot: Slot, key: str) -> str:
    return f"{get_column_letter(table_column(schema.HOUSEHOLDS, key))}{slot.row}"


def _county_source_cell(key: str) -> str:
    return f"{get_column_letter(FORM_SOURCE_COLUMN)}{form_row(schema.COUNTY, key)}"


DEMO_PROBLEMS: list[tuple[str, str, str]] = [
    (schema.HOUSEHOLDS.name, _household_cell(BAD_CHECK_DIGIT, "id_number"), Code.ID_CHECK_DIGIT.code),
    (schema.HOUSEHOLDS.name, _household_cell(NO_EXIT_YEAR, "exit_year"), Code.REQUIRED_IF_MISSING.code),
    (schema.HOUSEHOLDS.name, _household_cell(ID_AS_NUMBER, "id_number"), Code.ID_STORED_AS_NUMBER.code),
    (schema.HOUSEHOLDS.name, _household_cell(DISSENT_WITHOUT_REASON, "non_recognition_reason"),
     Code.REQUIRED_IF_MISSING.code),
    (schema.HOUSEHOLDS.name, _household_cell(INCOME_WITHOUT_COSTS, "income_per_head"), Code.INCOME_INCONSISTENT.code),
    (schema.HOUSEHOLDS.name, _household_cell(SHORT_PHONE, "phone"), Code.PHONE_INVALID.code),
    (schema.COUNTY.name, _county_source_cell(COUNTY_FIGURE_WITHOUT_SOURCE), Code.SOURCE_MISSING.code),
    (schema.HOUSEHOLDS.name, _household_cell(UNINSURED_BUT_MEDICAL_SECURED, "medical_secured"),
     Code.ANSWER_CONFLICT_MEDICAL.code),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗龙潘石欧姚蒋"
MALE_NAME_CHARACTERS = "国建明华军文志平永成德光正海林勇富贵金福学忠强才云安发荣昌顺"
FEMALE_NAME_CHARACTERS = "秀英兰芳梅珍玉桂凤琴艳丽春花霞娟敏燕红菊"
TOWNSHIPS = (("高桥镇", 101), ("平寨镇", 102), ("龙溪镇", 103), ("青山乡", 201), ("水口乡", 202), ("岩洞乡", 203))
VILLAGES = ("新寨村", "龙塘村", "板坡村", "岩脚村", "坪上村", "高坡村", "大坝村", "石门村", "冷水村", "上寨村")
INDUSTRIES = ("精品水果", "生态茶叶", "林下养鸡", "食用菌", "中药材", "油茶", "稻田养鱼", "高山蔬菜")
HELPER_UNITS = ("县农业农村局", "县教育局", "县人社局", "县交通运输局", "县卫生健康局", "镇人民政府", "县林业局")
POVERTY_CAUSE_WEIGHTS = {
    "因病": 25, "缺技术": 15, "缺资金": 15, "缺劳力": 12, "因学": 8, "因残": 8, "交通条件落后": 5,
    "缺土地": 4, "自身发展动力不足": 4, "因灾": 2, "缺水": 1, "其他": 1,
}
# County figure key prefix -> the office that reports it (first match wins).
COUNTY_SOURCES = {
    "industry": "县扶贫办", "poor_villages": "县扶贫办", "relocation": "县生态移民局", "loans": "人行县支行",
    "risk_fund": "县财政局", "microloan": "县扶贫办", "funds": "县财政局", "poor_population": "县扶贫办",
    "critical_illness": "县医疗保障局", "rural_coop": "县医疗保障局", "reimbursement": "县医疗保障局",
    "admin_villages_with": "县卫生健康局", "compulsory": "县教育局", "high_school": "县教育局",
    "new_labour": "县人社局", "water": "县水务局", "total_population": "县统计局", "broadband": "县工信局",
    "dilapidated": "县住建局", "natural_villages": "县供电局", "admin_villages_road": "县交通运输局",
    "admin_villages_bus": "县交通运输局", "admin_villages": "县民政局", "minimum_living": "县民政局",
}
MOBILE_PREFIXES = ("130", "131", "132", "135", "136", "138", "139", "150", "151", "152", "158", "180", "187", "189")


@dataclass(frozen=True)
class Village:
    """A sampled village, with the cadres who help its registered households."""

    township: str
    township_code: int
    name: str
    code: str
    is_poor: bool
    industry: str
    helpers: tuple[tuple[str, str, str], ...]  # (name, unit, phone)


class _Generator:
    """Draws the synthetic county, in a fixed order from one seeded random generator."""

    def __init__(self, seed: int, month: str) -> None:
        self.rng = random.Random(seed)
        self.year, self.month_number = (int(part) for part in month.split("-"))
        line = DEFAULT_PARAMETERS.line_for(self.year)
        self.line = line.yuan if line else 3218.0
        self.ids: list[str] = []

    # --- people ---
    def name(self, male: bool = True) -> str:
        pool = MALE_NAME_CHARACTERS if male else FEMALE_NAME_CHARACTERS
        given = "".join(self.rng.sample(pool, self.rng.choice((1, 2, 2, 2))))
        return self.rng.choice(SURNAMES) + given

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + "".join(str(self.rng.randrange(10)) for _ in range(8))

    def id_number(self, male: bool, *, digit_check: bool = False) -> str:
        """A valid, unique 18-character ID number with the county's address code, born 1940-2000."""
        first, last = dt.date(1940, 1, 1).toordinal(), dt.date(2000, 12, 31).toordinal()
        while True:
            birth = dt.date.fromordinal(self.rng.randint(first, last))
            sequence = self.rng.randrange(1 if male else 2, 1000, 2)
            first17 = f"{COUNTY_CODE}{birth:%Y%m%d}{sequence:03d}"
            number = first17 + check_character(first17)
            if number not in self.ids and not (digit_check and number.endswith("X")):
                self.ids.append(number)
                return number

    # --- places ---
    def villages(self) -> list[Village]:
        townships = self.rng.sample(TOWNSHIPS, len(VILLAGES_PER_TOWNSHIP))
        names = self.rng.sample(VILLAGES, VILLAGE_COUNT)
        result = []
        for (township, township_code), count in zip(townships, VILLAGES_PER_TOWNSHIP, strict=True):
            for number in sorted(self.rng.sample(range(200, 260), count)):  # 村委会 codes are 200-399
                name = names[len(result)]
                code = f"{COUNTY_CODE}{township_code:03d}{number:03d}"
                helpers = tuple((self.name(self.rng.random() < 0.7), self.rng.choice(HELPER_UNITS), self.mobile())
                                for _ in range(3))
                result.append(Village(township, township_code, name, code, is_poor=self.rng.random() < 0.8,
                                      industry=self.rng.choice(INDUSTRIES), helpers=helpers))
        return result

    # --- households ---
    def household(self, village: Village, slot: Slot) -> dict[str, Any]:
        rng = self.rng
        kind = slot.household_type
        registered = kind != HOUSEHOLD_ORDINARY
        male = rng.random() < 0.8
        size = rng.choices(range(1, 8), weights=(2, 3, 4, 5, 4, 3, 2))[0]
        if kind == HOUSEHOLD_POOR:
            share = rng.uniform(0.55, 1.1)
        elif kind == HOUSEHOLD_EXITED:
            share = rng.uniform(0.78, 0.95) if slot in WRONG_EXIT else rng.uniform(1.15, 2.8)
        else:
            share = rng.uniform(0.7, 0.9) if slot in MISSED else rng.uniform(1.7, 5.0)
        net = round(share * self.line * size)
        transfer_share = {HOUSEHOLD_POOR: (0.25, 0.5), HOUSEHOLD_EXITED: (0.1, 0.3)}.get(kind, (0.0, 0.1))
        transfer = round(net * rng.uniform(*transfer_share))
        property_income = 0 if rng.random() < 0.6 else round(net * rng.uniform(0.0, 0.03))
        costs = round(rng.uniform(300, 3000)) if rng.random() < 0.7 else 0
        if slot == INCOME_WITHOUT_COSTS:
            costs = round(net * 0.08)
        earned = net - transfer - property_income + costs
        business = round(earned * rng.uniform(0.2, 0.6))
        wage = earned - business
        net = wage + business + transfer + property_income - costs
        children = rng.choices((0, 1, 2, 3), weights=(5, 4, 3, 1))[0]
        attribute = rng.choices(schema.POOR_ATTRIBUTES, weights=(70, 25, 5))[0]
        on_minimum_living = registered and attribute != "一般贫困户"
        helper = rng.choice(village.helpers)
        record: dict[str, Any] = {
            "township": village.township,
            "village": village.name,
            "household_type": kind,
            "head_name": self.name(male),
            "id_number": self.id_number(male, digit_check=slot == ID_AS_NUMBER),
            "phone": self.mobile() if rng.random() < 0.85 or slot == SHORT_PHONE else None,
            "household_size": size,
            "wage_income": wage,
            "business_income": business,
            "transfer_income": transfer,
            "property_income": property_income,
            "business_costs": costs,
            "income_per_head": round(net / size, 2),
            "identification_standard": rng.choices(schema.IDENTIFICATION_STANDARDS, weights=(85, 15, 0))[0],
            "poor_attribute": attribute,
            "poverty_cause": rng.choices(list(POVERTY_CAUSE_WEIGHTS), weights=list(POVERTY_CAUSE_WEIGHTS.values()))[0],
            "exit_year": rng.randint(2015, max(2015, self.year - 1)),
            "form_complete": NO if slot in INCOMPLETE_FORM else YES,
            "publicity_records": NO if slot == INCOMPLETE_FORM[-1] else YES,
            "meeting_minutes": YES,
            "category_matches": YES,
            "cause_matches": YES if rng.random() < 0.9 else NO,
            "food_secure": YES,
            "clothing_secure": YES,
            "education_secured": YES if children else NOT_APPLICABLE,
            "medical_secured": YES,
            "housing_secured": NO if slot in MISSED or slot == WRONG_EXIT[0] else YES,
            "water_secured": YES,
            "has_industry": YES if rng.random() < 0.9 else NO,
            "in_rural_coop_insurance": _planted(slot == UNINSURED_BUT_MEDICAL_SECURED, NO,
                                                YES if registered or rng.random() < 0.95 else NO),
            "in_critical_illness_insurance": YES,
            "school_children": children,
            "two_exemptions_one_subsidy": YES if children else NOT_APPLICABLE,
            "high_school_aid": YES if rng.random() < 0.2 else NOT_APPLICABLE,
            "dilapidated_house": YES if slot in MISSED else NO,
            "minimum_living_eligible": YES if on_minimum_living or slot in MISSED else NO,
            "minimum_living_received": YES if on_minimum_living else NO,
            "has_help_plan": YES,
            "help_plan_targets_cause": YES,
            "has_handbook": YES if rng.random() < 0.9 else NO,
            "helper_name": helper[0],
            "helper_phone": helper[2],
            "recognition": "不认可" if slot in DISSENT else "认可",
            "non_recognition_reason": DISSENT.get(slot),
            "note": _household_note(slot),
        }
        return record

    # --- checklists ---
    def village_check(self, village: Village, index: int) -> dict[str, Any]:
        rng = self.rng
        natural = rng.randint(4, 12)
        return {
            "township": village.township,
            "village": village.name,
            "has_leading_industry": YES,
            "leading_industry": village.industry,
            "has_cooperative": NO if index == VILLAGE_COUNT - 1 else YES,
            "has_village_plan": YES,
            "team_resident": YES,
            "team_months": rng.randint(8, 30),
            "team_ledger": YES,
            "plan_projects_done": YES if rng.random() < 0.8 else NO,
            "policy_publicised": YES,
            "has_clinic": YES,
            "has_doctor": NO if index == 1 else YES,
            "has_broadband": YES,
            "has_culture_facility": YES if rng.random() < 0.8 else NO,
            "natural_villages": natural,
            "natural_villages_powered": natural - rng.choice((0, 0, 1)),
            "road_hardened": YES,
            "road_maintained": YES if rng.random() < 0.8 else NO,
            "has_bus": YES if rng.random() < 0.7 else NO,
            "note": None,
        }

    def county_figures(self) -> dict[str, float | int]:
        """Every county figure, with each part no larger than its whole."""
        rng = self.rng

        def part(whole: int, low: float, high: float) -> int:
            return round(whole * rng.uniform(low, high))

        poor_households = rng.randint(9000, 15000)
        poor_villages = rng.randint(60, 120)
        relocation = rng.randint(1500, 3500)
        loans_last = round(rng.uniform(40000, 60000), 2)
        risk_due = float(rng.choice((3000, 4000, 5000)))
        microloan_need = part(poor_households, 0.4, 0.6)
        funds = round(rng.uniform(60000, 100000), 2)
        population = rng.randint(2, 4) * poor_households
        admin_villages = rng.randint(150, 260)
        students = part(population, 0.12, 0.18)
        high_school = part(population, 0.03, 0.05)
        labour = part(population, 0.02, 0.04)
        water = part(population, 0.05, 0.1)
        rural = rng.randint(250000, 400000)
        dilapidated = part(poor_households, 0.05, 0.1)
        natural = rng.randint(900, 1600)
        buses = part(admin_villages, 0.85, 0.95)
        eligible = part(population, 0.3, 0.4)
        return {
            "industry_poor_households": poor_households,
            "industry_driven_households": part(poor_households, 0.6, 0.8),
            "poor_villages": poor_villages,
            "poor_villages_with_coop": part(poor_villages, 0.8, 0.95),
            "relocation_planned": relocation,
            "relocation_done": part(relocation, 0.8, 0.98),
            "loans_last_year": loans_last,
            "loans_now": round(loans_last * rng.uniform(1.05, 1.25), 2),
            "risk_fund_due": risk_due,
            "risk_fund_in_place": risk_due,
            "microloan_poor_households": microloan_need,
            "microloan_households": part(microloan_need, 0.75, 0.95),
            "funds_available": funds,
            "funds_integrated": round(funds * rng.uniform(0.85, 0.98), 2),
            "poor_population": population,
            "critical_illness_insured": part(population, 0.97, 1.0),
            "rural_coop_insured": part(population, 0.98, 1.0),
            "reimbursement_raise": float(rng.choice((5, 10))),
            "admin_villages": admin_villages,
            "admin_villages_with_clinic": part(admin_villages, 0.92, 1.0),
            "admin_villages_with_doctor": part(admin_villages, 0.88, 0.98),
            "compulsory_students": students,
            "compulsory_students_aided": part(students, 0.97, 1.0),
            "high_school_students": high_school,
            "high_school_students_aided": part(high_school, 0.9, 1.0),
            "new_labour": labour,
            "new_labour_trained": part(labour, 0.6, 0.85),
            "water_problem_population": water,
            "water_solved_population": part(water, 0.7, 0.95),
            "total_population": rural,
            "broadband_population": part(rural, 0.7, 0.9),
            "dilapidated_last_year": dilapidated,
            "dilapidated_now": part(dilapidated, 0.2, 0.5),
            "natural_villages": natural,
            "natural_villages_powered": part(natural, 0.95, 1.0),
            "admin_villages_road": part(admin_villages, 0.9, 1.0),
            "admin_villages_bus_last_year": buses,
            "admin_villages_bus_now": min(admin_villages, buses + rng.randint(0, 5)),
            "minimum_living_eligible": eligible,
            "minimum_living_covered": part(eligible, 0.95, 1.0),
        }

    def interviews(self, village: Village) -> list[dict[str, Any]]:
        rng = self.rng
        officials = (("村党支部书记", True), ("村委会主任", True), ("驻村第一书记", rng.random() < 0.5))
        results = (
            "熟悉本村贫困户底数和帮扶措施，能说清今年脱贫户收入来源",
            f"介绍{village.industry}产业覆盖情况，贫困户均已参加合作社分红",
            "反映部分脱贫户收入不稳定，计划纳入监测",
            "村卫生室已标准化建设，贫困户家庭医生签约全覆盖",
        )
        rows: list[dict[str, Any]] = []
        for (position, male), result in zip(rng.sample(officials, 2), rng.sample(results, 2), strict=True):
            rows.append({
                "township": village.township, "village": village.name, "kind": schema.INTERVIEW_KINDS[0],
                "name": self.name(male), "position": position, "phone": self.mobile(), "reached": None,
                "knows_households": YES, "result": result,
            })
        for number, (name, unit, phone) in enumerate(village.helpers[:2]):
            knows = YES if number == 0 or rng.random() < 0.7 else NO
            rows.append({
                "township": village.township, "village": village.name, "kind": schema.INTERVIEW_KINDS[1],
                "name": name, "position": f"{unit}干部", "phone": phone, "reached": YES,
                "knows_households": knows,
                "result": ("能准确说出帮扶户家庭人口、收入来源和帮扶措施" if knows == YES
                           else "说不清帮扶户家庭人口和今年收入，入户次数少"),
            })
        return rows


def _planted(here: bool, planted: Any, drawn: Any) -> Any:
    """`planted` where a problem is planted, else `drawn` (drawn either way, so the random sequence is unchanged)."""
    return planted if here else drawn


def _household_note(slot: Slot) -> str | None:
    if slot in WRONG_EXIT:
        return "家中主要劳动力今年患病，务工中断，收入下降"
    if slot in MISSED:
        return "家庭无稳定收入，住房为 D 级危房，未建档立卡"
    if slot in INCOMPLETE_FORM:
        return "登记表家庭成员和收入栏有空项"
    return None


def _applies(field: Field, record: dict[str, Any], key_item: str) -> bool:
    """A field is filled when its condition holds and it is not another month's N item."""
    if field.key_items and key_item not in field.key_items and not field.required:
        return False
    return field.when is None or record.get(field.when.field) in field.when.values


def _write_table(ws: Worksheet, sheet: Sheet, records: list[dict[str, Any]], key_item: str) -> None:
    for row, record in enumerate(records, start=TABLE_FIRST_DATA_ROW):
        for col, field in enumerate(sheet.fields, start=1):
            if _applies(field, record, key_item):
                ws.cell(row, col).value = record.get(field.key)


def _write_form(ws: Worksheet, sheet: Sheet, values: dict[str, Any], key_item: str,
                sources: dict[str, str] | None = None) -> None:
    for row, field in enumerate(sheet.fields, start=FORM_FIRST_ROW):
        if not _applies(field, values, key_item):
            continue
        ws.cell(row, FORM_VALUE_COLUMN).value = values.get(field.key)
        if sources is not None:
            ws.cell(row, FORM_SOURCE_COLUMN).value = sources.get(field.key)


def _source(key: str, report: str) -> str:
    agency = next(agency for prefix, agency in COUNTY_SOURCES.items() if key.startswith(prefix))
    return f"{agency} {report}报表"


def build_demo_workbook(*, seed: int = 2019, month: str = "2019-11", key_item: str = schema.N_HEALTH) -> Workbook:
    """The template filled with one county's synthetic inspection, including the planted `DEMO_PROBLEMS`."""
    if key_item not in schema.KEY_ITEMS:
        raise ValueError(f"unknown key item {key_item}")
    gen = _Generator(seed, month)
    rng = gen.rng
    wb = build_template()
    villages = gen.villages()
    start = dt.date(gen.year, gen.month_number, rng.randint(5, 12))
    basic = {
        "month": month, "group": GROUP_NAME, "leader": gen.name(), "members": "、".join(gen.name() for _ in range(3)),
        "county": COUNTY_NAME, "county_code": COUNTY_CODE, "start_date": start,
        "end_date": start + dt.timedelta(days=rng.randint(2, 4)), "mode": "随机暗访", "key_item": key_item,
        "filled_by": gen.name(rng.random() < 0.5), "phone": gen.mobile(),
    }
    _write_form(wb[schema.BASIC.name], schema.BASIC, basic, key_item)

    sampling = [{"township": v.township, "township_has_task": YES, "village": v.name,
                 "village_is_poor": YES if v.is_poor else NO, "village_code": v.code, "draw_method": "随机抽取"}
                for v in villages]
    _write_table(wb[schema.SAMPLING.name], schema.SAMPLING, sampling, key_item)

    households = [gen.household(village, Slot(v, kind, k))
                  for v, village in enumerate(villages) for kind in HOUSEHOLD_TYPES for k in range(HOUSEHOLDS_PER_TYPE)]
    _write_table(wb[schema.HOUSEHOLDS.name], schema.HOUSEHOLDS, households, key_item)

    checks = [gen.village_check(village, i) for i, village in enumerate(villages)]
    _write_table(wb[schema.VILLAGES.name], schema.VILLAGES, checks, key_item)

    previous = dt.date(gen.year, gen.month_number, 1) - dt.timedelta(days=1)
    report = f"{previous.year} 年 {previous.month} 月"
    figures = gen.county_figures()
    _write_form(wb[schema.COUNTY.name], schema.COUNTY, figures, key_item,
                {key: _source(key, report) for key in figures})

    interviews = [row for village in villages for row in gen.interviews(village)]
    _write_table(wb[schema.INTERVIEWS.name], schema.INTERVIEWS, interviews, key_item)

    _plant_problems(wb)
    return wb


def _plant_problems(wb: Workbook) -> None:
    """Introduce the mistakes listed in `DEMO_PROBLEMS` into an otherwise clean workbook."""
    ws = wb[schema.HOUSEHOLDS.name]

    def cell(slot: Slot, key: str):
        return ws.cell(slot.row, table_column(schema.HOUSEHOLDS, key))

    number = cell(BAD_CHECK_DIGIT, "id_number")
    number.value = number.value[:17] + ("0" if number.value[17] != "0" else "1")
    cell(NO_EXIT_YEAR, "exit_year").value = None
    stored = cell(ID_AS_NUMBER, "id_number")
    stored.value = float(stored.value[:15] + "000")  # what Excel keeps of an 18-digit number typed as a number
    cell(DISSENT_WITHOUT_REASON, "recognition").value = "不认可"
    cell(DISSENT_WITHOUT_REASON, "non_recognition_reason").value = None
    income = [cell(INCOME_WITHOUT_COSTS, key).value for key in
              ("wage_income", "business_income", "transfer_income", "property_income", "household_size")]
    cell(INCOME_WITHOUT_COSTS, "income_per_head").value = round(sum(income[:4]) / income[4], 2)
    phone = cell(SHORT_PHONE, "phone")
    phone.value = phone.value[:-1]
    wb[schema.COUNTY.name].cell(form_row(schema.COUNTY, COUNTY_FIGURE_WITHOUT_SOURCE), FORM_SOURCE_COLUMN).value = None


def write_demo_workbook(path: Path, *, seed: int = 2019, month: str = "2019-11",
                        key_item: str = schema.N_HEALTH) -> Path:
    """Write the demo workbook to `path` (atomically) and return the path."""
    return save_workbook(build_demo_workbook(seed=seed, month=month, key_item=key_item), path)


if __name__ == "__main__":
    print(write_demo_workbook(Path(sys.argv[1] if len(sys.argv) > 1 else "督查工作簿示例.xlsx")))


DEMO_ROSTER_TOWNSHIPS = (("高桥镇", 101, True), ("平寨镇", 102, True), ("青山乡", 201, True), ("水口乡", 202, False))
ROSTER_VILLAGES_PER_TOWNSHIP = 3
ROSTER_HOUSEHOLDS_PER_VILLAGE = 250
ROSTER_SHORT_VILLAGE = ("青山乡", 2, 3)  # township, village index, 脱贫户 count: a short stratum to see in the demo
ROSTER_CADRE_POSITIONS = ("村党支部书记", "村委会主任", "村委会副主任", "村监委会主任", "村文书")


def build_demo_roster(seed: int = 2019) -> Workbook:
    """A synthetic roster of 清水县: 4 townships (3 with poverty tasks), 12 villages, 3,000 households, cadres."""
    from ducha.prefecture.roster import (
        CADRE,
        HELPER,
        ROSTER_CADRES,
        ROSTER_HOUSEHOLDS,
        ROSTER_TOWNSHIPS,
        ROSTER_VILLAGES,
        build_roster_template,
    )

    gen = _Generator(seed, "2019-11")
    rng = gen.rng
    wb = build_roster_template()
    names = iter(rng.sample((*VILLAGES, "长坡村", "白岩村"), len(DEMO_ROSTER_TOWNSHIPS) * ROSTER_VILLAGES_PER_TOWNSHIP))
    townships, villages, households, people = [], [], [], []
    for township, code, has_task in DEMO_ROSTER_TOWNSHIPS:
        townships.append({"county": COUNTY_NAME, "county_code": COUNTY_CODE, "township": township,
                          "township_code": f"{COUNTY_CODE}{code:03d}", "has_task": YES if has_task else NO})
        for index in range(ROSTER_VILLAGES_PER_TOWNSHIP):
            village = next(names)
            villages.append({"township": township, "village": village,
                             "village_code": f"{COUNTY_CODE}{code:03d}{200 + index:03d}",
                             "is_poor": YES if rng.random() < 0.7 else NO})
            helpers = [(gen.name(rng.random() < 0.7), rng.choice(HELPER_UNITS), gen.mobile()) for _ in range(4)]
            for position in rng.sample(ROSTER_CADRE_POSITIONS, 3):
                people.append({"township": township, "village": village, "kind": CADRE, "name": gen.name(),
                               "position": position, "phone": gen.mobile()})
            people += [{"township": township, "village": village, "kind": HELPER, "name": name, "position": unit,
                        "phone": phone} for name, unit, phone in helpers]
            exited_left = 3 if ROSTER_SHORT_VILLAGE[:2] == (township, index) else None
            for _ in range(ROSTER_HOUSEHOLDS_PER_VILLAGE):
                kind = rng.choices(HOUSEHOLD_TYPES, weights=(15, 30, 55))[0]
                if kind == HOUSEHOLD_EXITED and exited_left is not None:
                    if exited_left == 0:
                        kind = HOUSEHOLD_ORDINARY
                    exited_left = max(0, exited_left - 1)
                male = rng.random() < 0.8
                helper = rng.choice(helpers) if kind != HOUSEHOLD_ORDINARY else (None, None, None)
                households.append({
                    "township": township, "village": village, "household_type": kind, "head_name": gen.name(male),
                    "id_number": gen.id_number(male), "household_size": rng.randint(1, 7),
                    "phone": gen.mobile() if rng.random() < 0.85 else None, "helper_name": helper[0],
                    "helper_phone": helper[2],
                    "exit_year": rng.randint(2015, 2018) if kind == HOUSEHOLD_EXITED else None,
                })
    for sheet, records in ((ROSTER_TOWNSHIPS, townships), (ROSTER_VILLAGES, villages),
                           (ROSTER_HOUSEHOLDS, households), (ROSTER_CADRES, people)):
        ws = wb[sheet.name]
        for row, record in enumerate(records, start=TABLE_FIRST_DATA_ROW):
            for col, field in enumerate(sheet.fields, start=1):
                if record.get(field.key) is not None:
                    ws.cell(row, col).value = record[field.key]
    return wb


def write_demo_roster(path: Path, seed: int = 2019) -> Path:
    """Write the synthetic 清水县 roster to `path` (atomically) and return the path."""
    return save_workbook(build_demo_roster(seed), path)


def run_demo_prefecture(folder: Path, workbook: Path) -> list[tuple[str, str]]:
    """The prefecture's side of the cycle on the demo workbook: intake, report, ledger, letters and next month's
    sample with its 「回访」. Returns what was written as (Chinese label, path) pairs."""
    from ducha.prefecture import ledger
    from ducha.prefecture.archive import Archive
    from ducha.prefecture.intake import Intake
    from ducha.prefecture.letters import write_letters
    from ducha.prefecture.report import write_report
    from ducha.prefecture.sampling import sample_with_revisits

    with Archive(folder / "督查档案") as archive:
        Intake(archive).run([workbook])
        report = write_report(archive, "2019-11", folder / "督查评分汇总-2019-11.xlsx")
        # the letters first: their issue date sets the deadlines the ledger and 「回访」 show
        letters = write_letters(archive, "2019-11", folder / "整改督办函", issued=dt.date(2019, 12, 5))
        table = ledger.export_ledger(archive, folder / "问题台账.xlsx")
        roster = write_demo_roster(folder / "农户名册-清水县.xlsx")
        _, sample = sample_with_revisits(roster, "2019-12", archive, folder / "清水县-2019-12-督查工作簿.xlsx",
                                         county_code="522631", seed=2019, drawn_by="示例",
                                         drawn_at="2019-11-28T09:30:00+08:00")
    return [("档案（原件、回执、数据库）", str(folder / "督查档案")), ("督查评分汇总", str(report)),
            ("问题台账", str(table)), ("整改督办函", "、".join(str(p) for p in letters)), ("农户名册", str(roster)),
            ("下月（2019-12）抽样生成的督查工作簿，含「回访」", str(sample))]
