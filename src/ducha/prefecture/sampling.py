"""The monthly random draw (随机暗访督查): county → 2 townships with poverty tasks → villages → 5 + 5 + 5 households,
cadres to interview and 帮扶干部 to phone; the pre-filled inspection workbook; the draw's record in the archive.

`draw` is pure and reproducible. Its random generator is seeded with the text
``ducha-sampling-1:{seed}:{roster sha256}:{month}`` to pick the county (when none is given), then
``ducha-sampling-1:{seed}:{roster sha256}:{month}:{county code}`` for everything within the county; Python's
`random.Random` seeds from such text through SHA-512, the same on every machine. Candidates are put in a canonical
order (townships and villages by name, households by ID number, people by their record) before each
`Random.sample`, so the rows' order in the roster does not matter, only their content (`Roster.sha256`).
An auditor re-running the draw with the recorded seed on the same roster gets the same sample.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import random
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from ducha.adapters.writer import save_workbook
from ducha.adapters.xlsx_writer import put_value
from ducha.model import schema
from ducha.model.privacy import Audience, mask_id, mask_phone, redact
from ducha.model.schema import HOUSEHOLD_EXITED, HOUSEHOLD_ORDINARY, HOUSEHOLD_TYPES, INTERVIEW_KINDS, NO, YES, Sheet
from ducha.prefecture.archive import Archive, now_text, shown_time
from ducha.prefecture.roster import CADRE, HELPER, HOUSEHOLD_HELPER_POSITION, Household, Person, Roster, read_roster
from ducha.sheets.outputplan import LINE_HEIGHT, text_lines
from ducha.sheets.template import (
    FORM_VALUE_COLUMN,
    TABLE_FIRST_DATA_ROW,
    WRAP,
    build_template,
    form_row,
    table_column,
)

ALGORITHM = "ducha-sampling-1"
TOWNSHIPS = 2
VILLAGES_PER_TOWNSHIP = 1
PER_TYPE = 5
CADRES = 2
HELPERS = 2
MODE = "随机暗访"
DRAW_METHOD = "随机抽取"
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# Where the draw is documented on 「抽样」: label and value columns right of the table, from row 2 down
# (nothing in the header row, so the reader sees no extra column).
RECORD_LABEL_COLUMN = len(schema.SAMPLING.fields) + 2
RECORD_FIRST_ROW = 2


class SamplingError(ValueError):
    """The draw cannot be made from this roster; the message is Chinese and says why."""


@dataclass(frozen=True)
class ShortStratum:
    """A stratum with fewer candidates than the plan asks for: all were taken."""

    township: str
    village: str
    stratum: str
    wanted: int
    available: int

    @property
    def unit(self) -> str:
        if self.stratum in HOUSEHOLD_TYPES:
            return "户"
        return "人" if self.stratum in (CADRE, HELPER) else "个"

    @property
    def note(self) -> str:
        where = self.village or self.township or "本县"
        return (f"{where}{self.stratum}仅 {self.available} {self.unit}，少于方案要求的 {self.wanted} {self.unit}，"
                f"已全部抽取")


@dataclass(frozen=True)
class DrawnVillage:
    """A sampled village with its households (by type, in draw order), cadres and helpers."""

    township: str
    village: str
    code: str | None
    is_poor: bool | None
    households: tuple[Household, ...]
    cadres: tuple[Person, ...]
    helpers: tuple[Person, ...]


@dataclass(frozen=True)
class Draw:
    """One month's draw for one county: what was chosen, from what, and how to repeat it."""

    month: str
    seed: int
    roster_sha256: str
    county: str
    county_code: str
    county_drawn: bool  # True when the county itself was drawn at random
    parameters: Mapping[str, Any]
    townships: tuple[str, ...]
    villages: tuple[DrawnVillage, ...]
    short_strata: tuple[ShortStratum, ...] = ()

    def notes(self, township: str, village: str | None = None) -> list[str]:
        """Short-strata notes of a village (with `village`) or of the township level."""
        return [s.note for s in self.short_strata if s.township == township and s.village == (village or "")]

    def sample(self) -> dict[str, Any]:
        """The chosen units as plain data (for the archive)."""
        return {
            "county": self.county, "county_code": self.county_code, "county_drawn": self.county_drawn,
            "townships": list(self.townships),
            "villages": [asdict(v) for v in self.villages],
            "short_strata": [{**asdict(s), "note": s.note} for s in self.short_strata],
        }


def _rng(seed: int, roster_sha256: str, month: str, county_code: str | None = None) -> random.Random:
    text = f"{ALGORITHM}:{seed}:{roster_sha256}:{month}"
    return random.Random(text if county_code is None else f"{text}:{county_code}")


def _take(rng: random.Random, candidates: list, wanted: int, short: list[ShortStratum], township: str,
          village: str, stratum: str) -> list:
    """`wanted` of the (canonically ordered) candidates at random; all of them, noted as short, if too few."""
    if len(candidates) < wanted:
        short.append(ShortStratum(township, village, stratum, wanted, len(candidates)))
        return list(candidates)
    return rng.sample(candidates, wanted)


def _helpers(roster: Roster, key: tuple[str, str, str]) -> list[Person]:
    """The village's 帮扶干部 from 「干部」, plus 帮扶责任人 named on its households and not listed there."""
    listed = roster.people_by_village.get((*key, HELPER), [])
    names = {p.name for p in listed}
    extra: dict[str, Person] = {}
    helper_names, helper_phones = (roster.households.columns[k] for k in ("helper_name", "helper_phone"))
    for kind in HOUSEHOLD_TYPES:
        for i in roster.households_by_stratum.get((*key, kind), []):
            name = helper_names[i]
            if name and name not in names and name not in extra:
                extra[name] = Person(*key, HELPER, name, HOUSEHOLD_HELPER_POSITION, helper_phones[i])
    return listed + sorted(extra.values(), key=Person.key)


def draw(roster: Roster, month: str, *, county_code: str | None = None, seed: int, townships: int = TOWNSHIPS,
         villages_per_township: int = VILLAGES_PER_TOWNSHIP, per_type: int = PER_TYPE, cadres: int = CADRES,
         helpers: int = HELPERS) -> Draw:
    """Draw one county's sample as the plan prescribes; pure and deterministic (see the module docstring)."""
    if not _MONTH.match(month):
        raise SamplingError(f"月份「{month}」格式不对，应为 YYYY-MM，如 2019-11。")
    if min(townships, villages_per_township, per_type, cadres, helpers) < 1:
        raise SamplingError("抽样数量都必须至少为 1。")
    with_task = [t for t in roster.townships if t.has_task]
    counties = roster.counties()
    eligible = sorted({t.county_code for t in with_task})
    county_drawn = county_code is None
    if county_code is None:
        if not eligible:
            raise SamplingError("名册中没有有脱贫任务的乡镇，无法抽样。请检查「乡镇」表的「是否有脱贫任务」。")
        county_code = _rng(seed, roster.sha256, month).choice(eligible)
    elif county_code not in counties:
        raise SamplingError(f"名册「乡镇」表中没有县级区划代码为 {county_code} 的县。")
    elif county_code not in eligible:
        raise SamplingError(f"{counties[county_code]}（{county_code}）在名册中没有有脱贫任务的乡镇，不能抽样。")
    rng = _rng(seed, roster.sha256, month, county_code)
    short: list[ShortStratum] = []
    town_names = sorted(t.name for t in with_task if t.county_code == county_code)
    chosen_towns = sorted(_take(rng, town_names, townships, short, "", "", "有脱贫任务的乡镇"))
    villages_of: dict[str, list] = {}
    for v in roster.villages:
        if v.county_code == county_code:
            villages_of.setdefault(v.township, []).append(v)
    drawn: list[DrawnVillage] = []
    for town in chosen_towns:
        candidates = sorted(villages_of.get(town, []), key=lambda v: v.name)
        for village in sorted(_take(rng, candidates, villages_per_township, short, town, "", "村"),
                              key=lambda v: v.name):
            key = (county_code, town, village.name)
            households: list[Household] = []
            for kind in HOUSEHOLD_TYPES:
                stratum = roster.households_by_stratum.get((*key, kind), [])
                chosen = _take(rng, stratum, per_type, short, town, village.name, kind)
                households += [roster.households.record(i) for i in chosen]
            cadre_pool = roster.people_by_village.get((*key, CADRE), [])
            chosen_cadres = _take(rng, cadre_pool, cadres, short, town, village.name, CADRE)
            chosen_helpers = _take(rng, _helpers(roster, key), helpers, short, town, village.name, HELPER)
            drawn.append(DrawnVillage(town, village.name, village.code, village.is_poor, tuple(households),
                                      tuple(chosen_cadres), tuple(chosen_helpers)))
    parameters = {"algorithm": ALGORITHM, "townships": townships, "villages_per_township": villages_per_township,
                  "per_type": per_type, "cadres": cadres, "helpers": helpers}
    return Draw(month=month, seed=seed, roster_sha256=roster.sha256, county=counties[county_code],
                county_code=county_code, county_drawn=county_drawn, parameters=parameters,
                townships=tuple(chosen_towns), villages=tuple(drawn), short_strata=tuple(short))


# --- the pre-filled inspection workbook --------------------------------------------------------------------------


def _write_rows(ws: Worksheet, sheet: Sheet, records: Iterable[Mapping[str, Any]]) -> None:
    """Pre-fill the rows; a row whose text needs more lines than one is made as high as that, every cell of it
    top-aligned and wrapped (so that the row reads straight across)."""
    columns = {f.key: table_column(sheet, f.key) for f in sheet.fields}
    widths = {f.key: f.width for f in sheet.fields}
    for row, record in enumerate(records, start=TABLE_FIRST_DATA_ROW):
        lines = 1
        for key, value in record.items():
            if value is not None and value != "":
                put_value(ws, row, columns[key], value)
                lines = max(lines, text_lines(value, widths[key]) if isinstance(value, str) else 1)
        if lines > 1:
            ws.row_dimensions[row].height = lines * LINE_HEIGHT
            for column in range(1, len(sheet.fields) + 1):
                ws.cell(row, column).alignment = WRAP


def _household_row(h: Household, audience: Audience) -> dict[str, Any]:
    registered = h.household_type != HOUSEHOLD_ORDINARY
    return {
        "township": h.township, "village": h.village, "household_type": h.household_type, "head_name": h.head_name,
        "id_number": mask_id(h.id_number, audience) if h.id_number else None,
        "phone": mask_phone(h.phone, audience) if h.phone else None, "household_size": h.household_size,
        "exit_year": h.exit_year if h.household_type == HOUSEHOLD_EXITED else None,
        "helper_name": h.helper_name if registered else None,
        "helper_phone": mask_phone(h.helper_phone, audience) if registered and h.helper_phone else None,
    }


def _interview_row(p: Person, kind: str, audience: Audience) -> dict[str, Any]:
    """Phone numbers only for the 帮扶干部 phone checks (the sheet's 联系电话 applies to them alone)."""
    return {"township": p.township, "village": p.village, "kind": kind, "name": p.name, "position": p.position,
            "phone": mask_phone(p.phone, audience) if kind == INTERVIEW_KINDS[1] and p.phone else None}


def _deadline(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def draw_record_rows(d: Draw, drawn_by: str, drawn_at: str) -> list[tuple[str, str]]:
    """The draw as (label, value) rows, written next to the 「抽样」 table."""
    p = d.parameters
    county_arg = "" if d.county_drawn else f" --county {d.county_code}"
    township_notes = [s.note for s in d.short_strata if not s.village]
    return [
        ("抽样记录", "由 ducha 随机抽取生成，请勿修改"),
        ("随机种子", str(d.seed)),
        ("名册哈希(SHA-256)", d.roster_sha256),
        ("抽取时间", shown_time(drawn_at)),  # China Standard Time; the archive keeps the ISO time
        ("抽取人", drawn_by),
        ("县的产生", "随机抽取" if d.county_drawn else "指定"),
        ("抽样规则", f"{p['townships']} 个有脱贫任务的乡镇，每乡镇 {p['villages_per_township']} 个村，"
                 f"每村建档立卡贫困户、脱贫户、普通农户各 {p['per_type']} 户，乡村干部 {p['cadres']} 人，"
                 f"帮扶干部 {p['helpers']} 人（{p['algorithm']}）"),
        ("不足额情况", "；".join(s.note for s in d.short_strata) or "无"),
        ("乡镇层面", "；".join(township_notes) or "无"),
        ("复核方法", f"ducha sample 名册.xlsx --month {d.month}{county_arg} --seed {d.seed}"
                 "（名册内容不变时结果相同）"),
    ]


def build_sample_workbook(d: Draw, *, drawn_by: str, drawn_at: str,
                          revisit_entries: Iterable[Mapping[str, Any]] = (), full_ids: bool = False):
    """The inspection template pre-filled from a draw (openpyxl Workbook). ID and phone numbers are masked unless
    `full_ids` (a sample for field work, where the team must find the households and call the helpers)."""
    audience = Audience.FIELD_WORK if full_ids else Audience.OUTSIDE
    wb = build_template()
    basic = wb[schema.BASIC.name]
    for key, value in (("month", d.month), ("county", d.county), ("county_code", d.county_code), ("mode", MODE)):
        put_value(basic, form_row(schema.BASIC, key), FORM_VALUE_COLUMN, value)
    sampling = [{
        "township": v.township, "township_has_task": YES, "village": v.village,
        "village_is_poor": None if v.is_poor is None else (YES if v.is_poor else NO), "village_code": v.code,
        "draw_method": DRAW_METHOD, "note": "；".join(d.notes(v.township, v.village)) or None,
    } for v in d.villages]
    ws = wb[schema.SAMPLING.name]
    _write_rows(ws, schema.SAMPLING, sampling)
    for offset, (label, value) in enumerate(draw_record_rows(d, drawn_by, drawn_at)):
        ws.cell(RECORD_FIRST_ROW + offset, RECORD_LABEL_COLUMN, label).font = Font(bold=True)
        put_value(ws, RECORD_FIRST_ROW + offset, RECORD_LABEL_COLUMN + 1, value)
    ws.column_dimensions[ws.cell(1, RECORD_LABEL_COLUMN).column_letter].width = 18
    ws.column_dimensions[ws.cell(1, RECORD_LABEL_COLUMN + 1).column_letter].width = 70
    _write_rows(wb[schema.HOUSEHOLDS.name], schema.HOUSEHOLDS,
                [_household_row(h, audience) for v in d.villages for h in v.households])
    _write_rows(wb[schema.VILLAGES.name], schema.VILLAGES,
                [{"township": v.township, "village": v.village} for v in d.villages])
    interviews = [_interview_row(p, INTERVIEW_KINDS[0], audience) for v in d.villages for p in v.cadres]
    interviews += [_interview_row(p, INTERVIEW_KINDS[1], audience) for v in d.villages for p in v.helpers]
    interviews.sort(key=lambda r: (r["township"], r["village"], INTERVIEW_KINDS.index(r["kind"])))
    _write_rows(wb[schema.INTERVIEWS.name], schema.INTERVIEWS, interviews)
    keys = ("entry_id", "township", "village", "household", "problem", "requirement", "deadline")
    _write_rows(wb[schema.REVISIT.name], schema.REVISIT,
                [{k: _deadline(e.get(k)) if k == "deadline" else e.get(k) for k in keys} for e in revisit_entries])
    return wb


def write_sample_workbook(d: Draw, out: Path, *, drawn_by: str, drawn_at: str,
                          revisit_entries: Iterable[Mapping[str, Any]] = (), full_ids: bool = False) -> Path:
    """Write the pre-filled inspection workbook atomically and return its path."""
    wb = build_sample_workbook(d, drawn_by=drawn_by, drawn_at=drawn_at, revisit_entries=revisit_entries,
                               full_ids=full_ids)
    return save_workbook(wb, Path(out))


# --- the archive and the command ---------------------------------------------------------------------------------


def record_draw(archive: Archive, d: Draw, drawn_by: str | None, drawn_at: str,
                roster_file_sha256: str | None = None) -> int:
    """Insert the draw into the archive's `draws` table (one transaction); returns its id. ID and phone numbers are
    stored masked: the roster's hash and the seed repeat the draw."""
    parameters = {**d.parameters, "roster_file_sha256": roster_file_sha256}
    with archive.transaction() as db:
        cursor = db.execute(
            "INSERT INTO draws (month, county, county_code, seed, roster_sha256, drawn_at, drawn_by, parameters,"
            " sample) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (d.month, d.county, d.county_code, d.seed, d.roster_sha256, drawn_at, drawn_by,
             json.dumps(parameters, ensure_ascii=False, sort_keys=True),
             redact(json.dumps(d.sample(), ensure_ascii=False, sort_keys=True))))
        return int(cursor.lastrowid or 0)


def default_output(roster_path: Path, d: Draw) -> Path:
    return Path(roster_path).parent / f"{d.county}-{d.month}-督查工作簿.xlsx"


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def sample_command(roster_path: Path, month: str, out: Path | Callable[[Path], Path] | None = None,
                   county_code: str | None = None, seed: int | None = None, archive: Archive | None = None,
                   drawn_by: str | None = None, *,
                   revisit_entries: Iterable[Mapping[str, Any]] | Callable[[str], Iterable[Mapping[str, Any]]] = (),
                   villages_per_township: int = 1, drawn_at: str | None = None,
                   full_ids: bool = False) -> tuple[Draw, Path]:
    """`ducha sample`: read the roster, draw (a fresh seed from `secrets` when none is given), write the
    pre-filled workbook and record the draw in the archive when one is given.

    `revisit_entries` may be a function of the drawn county's code (its open ledger entries, for 「回访」).
    `full_ids`: write whole ID and phone numbers (field work needs them); masked otherwise.
    `out` may be a function of the default path (the county is known only after the draw).
    Raises io.reading.UnreadableWorkbook (unreadable roster) or SamplingError (no draw possible)."""
    roster = read_roster(Path(roster_path))
    if seed is None:
        seed = secrets.randbelow(2**31)
    d = draw(roster, month, county_code=county_code, seed=seed, villages_per_township=villages_per_township)
    drawn_by = drawn_by if drawn_by is not None else _user()
    drawn_at = drawn_at or now_text()
    entries = revisit_entries(d.county_code) if callable(revisit_entries) else revisit_entries
    default = default_output(Path(roster_path), d)
    target = out(default) if callable(out) else Path(out) if out else default
    path = write_sample_workbook(d, target, drawn_by=drawn_by,
                                 drawn_at=drawn_at, revisit_entries=entries, full_ids=full_ids)
    if archive is not None:
        record_draw(archive, d, drawn_by, drawn_at, roster.file_sha256)
    return d, path


def sample_with_revisits(roster_path: Path, month: str, archive: Archive,
                         out: Path | Callable[[Path], Path] | None = None,
                         **options: Any) -> tuple[Draw, Path]:
    """`sample_command` with the county's open ledger entries of earlier months as its 「回访」 sheet."""
    from ducha.prefecture import ledger

    return sample_command(roster_path, month, out, archive=archive,
                          revisit_entries=lambda code: ledger.open_entries(archive, code, before=month), **options)
