"""The county roster (农户名册): the sampling frame of townships, villages, households and cadres.

The roster sheets are declared as `schema.Sheet`s and parsed by the inspection workbook's own reader
(`workbook.parse_table`: bulk conversion, ID checks, required fields, every problem at its cell), with the
duplicate-ID check of `checks`. `read_roster` returns a `Roster`: the eligible records in a canonical order
and a content hash that does not depend on row order, which is what a draw is reproducible from.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from openpyxl import Workbook

from ducha.adapters.writer import save_workbook
from ducha.checks.households import duplicate_households
from ducha.model.findings import Code, Finding, Severity
from ducha.model.schema import (
    HOUSEHOLD_TYPES,
    INSTRUCTIONS_SHEET,
    NO,
    YES,
    Field,
    FieldType,
    Layout,
    Sheet,
)
from ducha.reading import normalize, workbook
from ducha.reading.gate import admit
from ducha.reading.gc_pause import gc_paused
from ducha.reading.raw import read_admitted
from ducha.sheets import template

ROSTER_TITLE = "农户名册"
ROSTER_FILE_NAME = f"{ROSTER_TITLE}.xlsx"
REPOSITORY_ROSTER_TEMPLATE = Path(__file__).resolve().parents[3] / "workbook_templates" / ROSTER_FILE_NAME
CADRE, HELPER = "乡村干部", "帮扶干部"
CADRE_KINDS = (CADRE, HELPER)
HOUSEHOLD_HELPER_POSITION = "帮扶责任人"
_SEPARATOR = "\x1f"


def _county_code_field(required: bool = False) -> Field:
    return Field("county_code", "县级区划代码", FieldType.REGION_CODE, required=required, width=12,
                 aliases=("县代码", "区划代码"),
                 prompt="6 位数字；名册只有一个县，或乡镇名在各县间不重名时可不填")


ROSTER_TOWNSHIPS = Sheet(
    key="roster_townships",
    name="乡镇",
    layout=Layout.TABLE,
    min_rows=1,
    description="全县（或全州）每个乡镇一行，注明是否有脱贫任务：只从有脱贫任务的乡镇中抽样。",
    fields=(
        Field("county", "县", FieldType.TEXT, required=True, width=12, aliases=("被督查县", "县（市、区）")),
        _county_code_field(required=True),
        Field("township", "乡镇", FieldType.TEXT, required=True, width=14),
        Field("township_code", "乡镇区划代码", FieldType.TEXT, width=14, prompt="9 位统计用区划代码，可不填"),
        Field("has_task", "是否有脱贫任务", FieldType.YES_NO, required=True, choices=(YES, NO), width=12),
        Field("note", "备注", FieldType.TEXT, width=20),
    ),
)

ROSTER_VILLAGES = Sheet(
    key="roster_villages",
    name="村",
    layout=Layout.TABLE,
    min_rows=1,
    description="每个行政村一行。",
    fields=(
        _county_code_field(),
        Field("township", "乡镇", FieldType.TEXT, required=True, width=14),
        Field("village", "村", FieldType.TEXT, required=True, width=14),
        Field("village_code", "村级区划代码", FieldType.TEXT, width=16, prompt="12 位统计用区划代码，可不填"),
        Field("is_poor", "是否贫困村", FieldType.YES_NO, choices=(YES, NO), width=10),
        Field("note", "备注", FieldType.TEXT, width=20),
    ),
)

ROSTER_HOUSEHOLDS = Sheet(
    key="roster_households",
    name="农户",
    layout=Layout.TABLE,
    min_rows=1,
    description="每户一行：建档立卡贫困户、脱贫户和普通农户都要列入，抽中后这些信息预填到督查工作簿。",
    fields=(
        _county_code_field(),
        Field("township", "乡镇", FieldType.TEXT, required=True, width=12),
        Field("village", "村", FieldType.TEXT, required=True, width=12),
        Field("household_type", "户类型", FieldType.CHOICE, required=True, choices=HOUSEHOLD_TYPES, width=14,
              aliases=("农户类型",)),
        Field("head_name", "户主姓名", FieldType.TEXT, required=True, width=10, aliases=("户主",)),
        Field("id_number", "身份证号", FieldType.ID_NUMBER, required=True, width=21,
              prompt="户主 18 位公民身份号码，必须以文本格式输入", aliases=("户主身份证号", "公民身份号码")),
        Field("household_size", "家庭人口", FieldType.INTEGER, minimum=1, maximum=20, unit="人", width=9),
        Field("phone", "联系电话", FieldType.PHONE, width=14),
        Field("helper_name", "帮扶责任人", FieldType.TEXT, width=10),
        Field("helper_phone", "帮扶责任人电话", FieldType.PHONE, width=14),
        Field("exit_year", "脱贫年度", FieldType.YEAR, minimum=2014, maximum=2100, width=9, prompt="仅脱贫户填写"),
        Field("note", "备注", FieldType.TEXT, width=20),
    ),
)

ROSTER_CADRES = Sheet(
    key="roster_cadres",
    name="干部",
    layout=Layout.TABLE,
    min_rows=1,
    description="每个村的乡村干部和帮扶干部，每人一行；督查时随机抽取访谈和电话抽查对象。",
    fields=(
        _county_code_field(),
        Field("township", "乡镇", FieldType.TEXT, required=True, width=12),
        Field("village", "村", FieldType.TEXT, required=True, width=12),
        Field("kind", "类型", FieldType.CHOICE, required=True, choices=CADRE_KINDS, width=10),
        Field("name", "姓名", FieldType.TEXT, required=True, width=10),
        Field("position", "职务或单位", FieldType.TEXT, width=16),
        Field("phone", "联系电话", FieldType.PHONE, width=14, prompt="帮扶干部必须填写，用于电话抽查"),
    ),
)

ROSTER_SHEETS: tuple[Sheet, ...] = (ROSTER_TOWNSHIPS, ROSTER_VILLAGES, ROSTER_HOUSEHOLDS, ROSTER_CADRES)

@dataclass(frozen=True)
class Township:
    county: str
    county_code: str
    name: str
    code: str | None
    has_task: bool


@dataclass(frozen=True)
class Village:
    county_code: str
    township: str
    name: str
    code: str | None
    is_poor: bool | None  # None when the village is only known from 农户 rows


@dataclass(frozen=True)
class Household:
    """One household of the frame, with what an inspection visit needs pre-filled."""

    county_code: str
    township: str
    village: str
    household_type: str
    head_name: str
    id_number: str
    household_size: int | None
    phone: str | None
    helper_name: str | None
    helper_phone: str | None
    exit_year: int | None


HOUSEHOLD_COLUMNS = ("county_code", "township", "village", "household_type", "head_name", "id_number",
                     "household_size", "phone", "helper_name", "helper_phone", "exit_year")


@dataclass
class HouseholdFrame:
    """The eligible households as columns (a list per `HOUSEHOLD_COLUMNS` key), sorted by ID number, one per ID.

    Columns rather than objects: a county has 100,000+ households and a draw needs a few dozen of them."""

    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.columns["id_number"])

    def record(self, i: int) -> Household:
        return Household(*(self.columns[key][i] for key in HOUSEHOLD_COLUMNS))

    def records(self) -> list[Household]:
        return [self.record(i) for i in range(len(self))]


@dataclass(frozen=True)
class Person:
    """A 乡村干部 or 帮扶干部 of a village."""

    county_code: str
    township: str
    village: str
    kind: str
    name: str
    position: str | None
    phone: str | None

    def key(self) -> str:
        return _SEPARATOR.join("" if v is None else str(v) for v in (
            self.county_code, self.township, self.village, self.kind, self.name, self.position, self.phone))


VillageKey = tuple[str, str, str]  # county_code, township, village


@dataclass
class Roster:
    """The sampling frame, each list in canonical order, plus every finding of reading it."""

    townships: list[Township]
    villages: list[Village]
    households: HouseholdFrame
    people: list[Person]
    findings: list[Finding] = field(default_factory=list)
    excluded_households: int = 0  # rows left out of the frame (unreadable ID or type, unknown township, duplicates)
    file_sha256: str | None = None

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    @cached_property
    def sha256(self) -> str:
        """Hash of the frame's content, independent of row order and of sheets' layout."""
        digest = hashlib.sha256()
        parts: Iterable[str] = (
            *sorted(_SEPARATOR.join((t.county, t.county_code, t.name, t.code or "", YES if t.has_task else NO))
                    for t in self.townships),
            "",
            *sorted(_SEPARATOR.join((v.county_code, v.township, v.name, v.code or "", _yes_no_text(v.is_poor)))
                    for v in self.villages),
            "",
            *(json.dumps(self.households.columns[key], ensure_ascii=False) for key in HOUSEHOLD_COLUMNS),
            "",
            *sorted(p.key() for p in self.people),
        )
        digest.update("\n".join(parts).encode("utf-8"))
        return digest.hexdigest()

    def counties(self) -> dict[str, str]:
        """County code -> county name."""
        return {t.county_code: t.county for t in self.townships}

    @cached_property
    def households_by_stratum(self) -> dict[tuple[str, str, str, str], list[int]]:
        """(county_code, township, village, household type) -> indexes into `households`, in canonical order."""
        strata: dict[tuple[str, str, str, str], list[int]] = {}
        c = self.households.columns
        for i, key in enumerate(zip(c["county_code"], c["township"], c["village"], c["household_type"], strict=True)):
            strata.setdefault(key, []).append(i)
        return strata

    @cached_property
    def people_by_village(self) -> dict[tuple[str, str, str, str], list[Person]]:
        """(county_code, township, village, kind) -> people in canonical order."""
        groups: dict[tuple[str, str, str, str], list[Person]] = {}
        for p in sorted(self.people, key=Person.key):
            groups.setdefault((p.county_code, p.township, p.village, p.kind), []).append(p)
        return groups


def _yes_no_text(value: bool | None) -> str:
    return "" if value is None else (YES if value else NO)


def _yes(value: Any) -> bool | None:
    return None if value is None else value == YES


class _Resolver:
    """Fills a row's blank county code from its township name, and reports rows whose township is unknown."""

    def __init__(self, townships: dict[tuple[str, str], Township]) -> None:
        self.known = set(townships)
        by_name: dict[str, set[str]] = {}
        for code, name in townships:
            by_name.setdefault(name, set()).add(code)
        self.unique = {name: next(iter(codes)) for name, codes in by_name.items() if len(codes) == 1}

    def resolve(self, table: workbook.ParsedTable, out: list[Finding]) -> list[str | None]:
        """County code per row, None where the township cannot be placed (one finding per unknown township)."""
        codes, towns = table.values["county_code"].tolist(), table.values["township"].tolist()
        placed: dict[tuple[str | None, str | None], str | None] = {}
        for code, town in set(zip(codes, towns, strict=True)):  # once per distinct pair, not per row
            resolved = code if code is not None else self.unique.get(town)
            placed[(code, town)] = resolved if town is not None and (resolved, town) in self.known else None
        result = [placed[pair] for pair in zip(codes, towns, strict=True)]
        unknown: dict[tuple[str | None, str], list[int]] = {}
        missing = {pair for pair, resolved in placed.items() if resolved is None and pair[1] is not None}
        for i, pair in enumerate(zip(codes, towns, strict=True) if missing else ()):
            if pair in missing:
                unknown.setdefault(pair, []).append(i)
        for (_, town), rows in unknown.items():
            out.append(table.finding(Code.ROSTER_TOWNSHIP_UNKNOWN, "township", rows[0], value=town, count=len(rows)))
        return result


def _townships(table: workbook.ParsedTable, out: list[Finding]) -> dict[tuple[str, str], Township]:
    v = table.values
    found: dict[tuple[str, str], Township] = {}
    first_row: dict[tuple[str, str], int] = {}
    for i in range(len(table.rows)):
        code, name = v["county_code"][i], v["township"][i]
        if code is None or name is None or v["county"][i] is None or v["has_task"][i] is None:
            continue
        if (code, name) in found:
            j = first_row[(code, name)]
            out.append(table.finding(Code.ROSTER_TOWNSHIP_DUPLICATE, "township", i, value=name,
                                     other=f"第 {table.rows[j]} 行"))
            continue
        first_row[(code, name)] = i
        found[(code, name)] = Township(v["county"][i], code, name, v["township_code"][i], v["has_task"][i] == YES)
    return found


def _villages(table: workbook.ParsedTable, counties: list[str | None], out: list[Finding]) -> dict[VillageKey, Village]:
    v = table.values
    found: dict[VillageKey, Village] = {}
    first_row: dict[VillageKey, int] = {}
    for i in range(len(table.rows)):
        code, town, name = counties[i], v["township"][i], v["village"][i]
        if code is None or name is None:
            continue
        key = (code, town, name)
        if key in found:
            out.append(table.finding(Code.ROSTER_VILLAGE_DUPLICATE, "village", i, value=name,
                                     other=f"第 {table.rows[first_row[key]]} 行"))
            continue
        first_row[key] = i
        found[key] = Village(code, town, name, v["village_code"][i], _yes(v["is_poor"][i]))
    return found


def _households(table: workbook.ParsedTable, counties: list[str | None],
                villages: dict[VillageKey, Village], out: list[Finding]) -> tuple[HouseholdFrame, int]:
    """The eligible households sorted by ID number, one per ID number, and how many rows were left out.

    Of rows sharing an ID number (reported by the duplicate check) the frame keeps the one whose record sorts
    first, so the frame does not depend on row order."""
    arrays = {key: table.values[key] for key in HOUSEHOLD_COLUMNS if key != "county_code"}
    arrays["county_code"] = np.array(counties, dtype=object)
    filled = np.ones(len(arrays["id_number"]), dtype=bool)
    for key in ("county_code", "village", "household_type", "head_name", "id_number"):
        filled &= np.not_equal(arrays[key], None)  # a row missing any of these is left out
    keep = np.flatnonzero(filled)
    ids = arrays["id_number"][keep].astype(str)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    repeated = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1]) + 1 if len(ids) > 1 else np.empty(0, dtype=int)
    rows = keep[order].tolist()
    if len(repeated):
        drop: set[int] = set()
        for start in np.unique(np.concatenate([repeated - 1, repeated])).tolist():
            drop.add(start)
        groups: dict[str, list[int]] = {}
        for n in sorted(drop):
            groups.setdefault(sorted_ids[n], []).append(rows[n])
        first = {min(members, key=lambda i: [str(arrays[k][i]) for k in HOUSEHOLD_COLUMNS])
                 for members in groups.values()}
        rows = [r for n, r in enumerate(rows) if n not in drop or r in first]
    picked = np.array(rows, dtype=np.int64)
    columns = {key: arrays[key][picked].tolist() for key in HOUSEHOLD_COLUMNS}
    unlisted: dict[VillageKey, int] = {}
    counts: dict[VillageKey, int] = {}
    for i, key in enumerate(zip(columns["county_code"], columns["township"], columns["village"], strict=True)):
        if key not in villages:
            unlisted.setdefault(key, rows[i])
            counts[key] = counts.get(key, 0) + 1
    for key, row_index in unlisted.items():
        out.append(table.finding(Code.ROSTER_VILLAGE_UNLISTED, "village", row_index, value=key[2],
                                 count=counts[key]))
        villages[key] = Village(*key, code=None, is_poor=None)
    return HouseholdFrame(columns), len(table.rows) - len(rows)


def _people(table: workbook.ParsedTable, counties: list[str | None]) -> list[Person]:
    v = {key: table.values[key].tolist() for key in ("township", "village", "kind", "name", "position", "phone")}
    people = []
    for i, code in enumerate(counties):
        if code is None or v["village"][i] is None or v["kind"][i] is None or v["name"][i] is None:
            continue
        people.append(Person(code, v["township"][i], v["village"][i], v["kind"][i], v["name"][i],
                             v["position"][i], v["phone"][i]))
    return people


def parse_roster(raw: Any) -> Roster:
    """Raw grids (io.reading.RawWorkbook) -> Roster; never raises on cell content."""
    ctx = workbook.ParseContext()
    workbook.check_size(raw, ctx)
    found = {s.key: workbook.find_sheet(raw, s) for s in ROSTER_SHEETS}
    known = {normalize.fold_header(n) for n in (*filter(None, found.values()), INSTRUCTIONS_SHEET)}
    for name in raw.sheets:
        if normalize.fold_header(name) not in known:
            ctx.add(Code.SHEET_UNKNOWN, sheet=name)
    tables: dict[str, workbook.ParsedTable] = {}
    for s in ROSTER_SHEETS:
        name = found[s.key]
        if name is None:
            ctx.add(Code.SHEET_MISSING, sheet=s.name)
            tables[s.key] = workbook.empty_table(s, s.name)
            continue
        table = tables[s.key] = workbook.parse_table(raw, s, name, ctx)
        if not table.rows and table.columns:
            ctx.add(Code.SHEET_EMPTY, sheet=name, cell=f"A{table.header_row + 1}", row=table.header_row + 1,
                    column=1, hint=s.description)
    out = ctx.findings + list(duplicate_households(tables[ROSTER_HOUSEHOLDS.key]))
    townships = _townships(tables[ROSTER_TOWNSHIPS.key], out)
    resolver = _Resolver(townships)
    village_table = tables[ROSTER_VILLAGES.key]
    villages = _villages(village_table, resolver.resolve(village_table, out), out)
    household_table = tables[ROSTER_HOUSEHOLDS.key]
    households, excluded = _households(household_table, resolver.resolve(household_table, out), villages, out)
    cadre_table = tables[ROSTER_CADRES.key]
    people = _people(cadre_table, resolver.resolve(cadre_table, out))
    return Roster(townships=list(townships.values()), villages=list(villages.values()), households=households,
                  people=people, findings=out, excluded_households=excluded)


def read_roster(path: Path) -> Roster:
    """Read and parse a roster workbook. Raises io.reading.UnreadableWorkbook when it is not one."""
    path = Path(path)
    admitted = admit(path)  # the input gate; the bytes are read once
    with gc_paused():
        roster = parse_roster(read_admitted(admitted, path))
    roster.file_sha256 = hashlib.sha256(admitted.data).hexdigest()
    return roster


def instruction_rows() -> list[tuple[str, str]]:
    """The roster's 「说明」 sheet: (left, right) rows."""
    rows = [
        (f"{ROSTER_TITLE} 填写说明", ""),
        ("", "农户名册是随机暗访督查的抽样框：ducha 从中随机抽取有脱贫任务的乡镇、村、农户和干部，"
             "并生成预填好的督查工作簿。表头带 * 的为必填项，第 1 行为表头，从第 2 行起每条记录一行。"),
    ]
    rows += [(s.name, s.description) for s in ROSTER_SHEETS]
    rows += [
        ("身份证号", "请以文本格式输入完整的 18 位号码；号码有误或重复的户会在检查中列出，号码无效的户不参加抽样。"),
        ("县级区划代码", "名册可包含一个县，也可包含全州各县；「乡镇」表必须填写县和县级区划代码。"),
        ("个人信息保护", "名册含农户姓名、身份证号和电话，仅用于督查抽样，请妥善保管，不要转发无关人员。"),
    ]
    return rows


def build_roster_template() -> Workbook:
    """The blank roster workbook: 「说明」 then the four roster sheets, styled like the inspection template."""
    wb = Workbook()
    ws = wb.active
    ws.title = INSTRUCTIONS_SHEET
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 100
    for row, (left, right) in enumerate(instruction_rows(), start=1):
        a, b = ws.cell(row, 1, left or None), ws.cell(row, 2, right or None)
        a.alignment = b.alignment = template.WRAP
        a.font = template.TITLE_FONT if row == 1 else template.HEADER_FONT
    template.protect_sheet(ws)
    for sheet in ROSTER_SHEETS:
        table = wb.create_sheet(sheet.name)
        table.sheet_properties.tabColor = template.INPUT_TAB_COLOR
        template.build_table(table, sheet)
        table.oddHeader.left.text = ROSTER_TITLE
    props = wb.properties
    props.creator = props.lastModifiedBy = "ducha"
    props.title = ROSTER_TITLE
    props.created = props.modified = template.FIXED_TIME
    return wb


def write_roster_template(path: Path) -> Path:
    """Write the blank roster workbook to `path` (atomically, deterministic bytes) and return the path."""
    return save_workbook(build_roster_template(), path)


if __name__ == "__main__":
    print(write_roster_template(Path(sys.argv[1]) if len(sys.argv) > 1 else REPOSITORY_ROSTER_TEMPLATE))
