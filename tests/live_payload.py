"""Drive xlwings' remote engine like an Excel client: build its request from a real .xlsx, replay its answer.

`payload_from_xlsx` reads a workbook with python-calamine and builds the JSON an Office.js client sends
(dates as ISO strings ending in Z). `Client` keeps what such a client would hold after applying the actions that
`book.json()` returns — sheets, values, names, notes and conditional-format rules — so that a second command can run
on the result, and so that tests can ask which cells end up highlighted.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")  # PolyForm Noncommercial: government use is permitted

import python_calamine
import xlwings as xw
from openpyxl.utils import column_index_from_string

if "remote" not in {engine.name for engine in xw.engines}:
    # xlwings registers its remote engine on import only if the key is set; it was imported earlier without it.
    from xlwings.pro import _xlremote

    xw.engines.add(xw.main.Engine(impl=_xlremote.engine))

Cell = tuple[int, int]


def iso(value: dt.date | dt.datetime | dt.time) -> str:
    """A date the way the Office.js client sends it: ISO 8601 with milliseconds and a trailing Z."""
    if isinstance(value, dt.time):
        value = dt.datetime.combine(dt.date(1899, 12, 30), value)
    elif not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0))
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def client_value(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return iso(value)
    return value


def sheet_payload(name: str, values: list[list[Any]], *, notes: bool = True) -> dict[str, Any]:
    sheet: dict[str, Any] = {"name": name, "values": values or [[]], "pictures": [], "tables": [], "shapes": [],
                             "charts": [], "visibility": "Visible", "show_gridlines": True, "pivot_tables": []}
    if notes:
        sheet["notes"] = []  # a client with ExcelApi 1.18 sends the addresses of the sheet's notes
    return sheet


def payload_from_xlsx(path: Path, *, notes: bool = True, name: str | None = None) -> dict[str, Any]:
    """The request an Office.js client would send for the workbook at `path`."""
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        sheets = []
        for sheet_name in book.sheet_names:
            grid = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
            sheets.append(sheet_payload(sheet_name, [[client_value(v) for v in row] for row in grid], notes=notes))
    finally:
        book.close()
    return {"client": "Office.js", "version": xw.__version__,
            "book": {"name": name or Path(path).name, "active_sheet_index": 0, "selection": "A1"},
            "names": [], "sheets": sheets}


@dataclass
class Rule:
    """A conditional-format rule as the client holds it: the cells it applies to and its formula."""

    cells: set[Cell]
    formula: str
    fill: str | None


@dataclass
class Applied:
    """One returned action and the name of the sheet it targeted when it was applied."""

    action: dict[str, Any]
    sheet: str | None

    @property
    def func(self) -> str:
        return self.action["func"]


@dataclass
class Client:
    """The state of a simulated Excel client across runs."""

    payload: dict[str, Any]
    rules: dict[str, list[Rule]] = field(default_factory=dict)
    note_texts: dict[tuple[str, str], str] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)

    def book(self) -> xw.Book:
        """A fresh remote-engine Book for the current state."""
        return xw.Book(json=copy.deepcopy(self.payload))

    def sheet(self, name: str) -> dict[str, Any]:
        return next(s for s in self.payload["sheets"] if s["name"] == name)

    def sheet_names(self) -> list[str]:
        return [s["name"] for s in self.payload["sheets"]]

    def add_note(self, sheet: str, address: str, text: str) -> None:
        """A note the clerk wrote."""
        self.sheet(sheet)["notes"].append({"address": absolute(address)})
        self.note_texts[(sheet, absolute(address))] = text

    def apply(self, actions: list[dict[str, Any]]) -> list[Applied]:
        """Apply the actions as a client would, in order; returns each with the sheet it targeted."""
        applied = []
        for action in actions:
            sheets = self.payload["sheets"]
            position = action.get("sheet_position")
            target = sheets[position]["name"] if position is not None and position < len(sheets) else None
            applied.append(Applied(action, target))
            handler = getattr(self, f"_do_{action['func']}", None)
            if handler is not None:
                handler(action, target)
        return applied

    def _do_addSheet(self, action: dict[str, Any], _target: str | None) -> None:
        index, name = action["args"]
        self.payload["sheets"].insert(index, sheet_payload(name, [[]], notes="notes" in self.payload["sheets"][0]))
        self.payload["book"]["active_sheet_index"] = index

    def _do_sheetDelete(self, action: dict[str, Any], target: str | None) -> None:
        del self.payload["sheets"][action["sheet_position"]]
        self.rules.pop(target, None)
        self.payload["book"]["active_sheet_index"] = 0

    def _do_activateSheet(self, action: dict[str, Any], _target: str | None) -> None:
        self.payload["book"]["active_sheet_index"] = action["args"][0]

    def _do_setValues(self, action: dict[str, Any], target: str | None) -> None:
        grid = self.sheet(target)["values"]
        top, left = action["start_row"], action["start_column"]
        for i, row in enumerate(action["values"]):
            while len(grid) <= top + i:
                grid.append([])
            line = grid[top + i]
            while len(line) < left + len(row):
                line.append("")
            line[left:left + len(row)] = ["" if v is None else v for v in row]
        width = max(len(r) for r in grid)
        for line in grid:
            line.extend([""] * (width - len(line)))

    def _do_namesAdd(self, action: dict[str, Any], _target: str | None) -> None:
        name, refers_to = action["args"]
        self.payload["names"].append({"name": name, "refers_to": refers_to, "sheet_index": None, "address": None,
                                      "book_scope": True, "scope_sheet_index": None, "scope_sheet_name": None})

    def _do_setNameRefersTo(self, action: dict[str, Any], _target: str | None) -> None:
        name, _, _, value = action["args"]
        next(n for n in self.payload["names"] if n["name"] == name)["refers_to"] = value

    def _do_nameDelete(self, action: dict[str, Any], _target: str | None) -> None:
        name = action["args"][2]
        self.payload["names"] = [n for n in self.payload["names"] if n["name"] != name]

    def _do_addNote(self, action: dict[str, Any], target: str | None) -> None:
        address, text = action["args"]
        notes = self.sheet(target)["notes"]
        assert all(n["address"] != address for n in notes), f"a second note on {target}!{address}"
        notes.append({"address": address})
        self.note_texts[(target, address)] = text

    def _do_deleteNote(self, action: dict[str, Any], target: str | None) -> None:
        address = action["args"][0]
        sheet = self.sheet(target)
        sheet["notes"] = [n for n in sheet["notes"] if n["address"] != address]
        self.note_texts.pop((target, address), None)

    def _do_addConditionalFormat(self, action: dict[str, Any], target: str | None) -> None:
        entry = action["args"][0]
        self.rules.setdefault(target, []).append(Rule(action_cells(action), entry["formula"], entry["fill_color"]))

    def _do_clearConditionalFormats(self, action: dict[str, Any], target: str | None) -> None:
        cleared = action_cells(action)
        kept = []
        for rule in self.rules.get(target, []):
            rule.cells -= cleared
            if rule.cells:
                kept.append(rule)
        self.rules[target] = kept

    def _do_alert(self, action: dict[str, Any], _target: str | None) -> None:
        self.alerts.append(action["args"][0])

    def highlighted(self, sheet: str) -> dict[Cell, str]:
        """Cell -> fill colour of the rules that apply to it (the last added rule is on top)."""
        colours: dict[Cell, str] = {}
        for rule in self.rules.get(sheet, []):
            for cell in rule_cells(rule):
                colours[cell] = rule.fill or ""
        return colours

    def notes(self, sheet: str) -> set[str]:
        return {n["address"] for n in self.sheet(sheet).get("notes", [])}


def action_cells(action: dict[str, Any]) -> set[Cell]:
    top, left = action["start_row"] + 1, action["start_column"] + 1
    return {(r, c) for r in range(top, top + action["row_count"]) for c in range(left, left + action["column_count"])}


def rule_cells(rule: Rule) -> set[Cell]:
    """The cells where a ducha highlight rule's formula is true (always-true marker or a list of rows)."""
    if re.fullmatch(r'="ducha:\w+"<>""', rule.formula):
        return set(rule.cells)
    found = re.fullmatch(r'=ISNUMBER\(FIND\("\|"&ROW\(\)&"\|",((?:"[^"]*"&?)+)\)\)', rule.formula)
    assert found, f"unexpected highlight formula {rule.formula[:80]}"
    text = "".join(re.findall(r'"([^"]*)"', found.group(1)))
    rows = {int(r) for r in text.split("|")[1:-1]}
    return {(r, c) for r, c in rule.cells if r in rows}


def absolute(address: str) -> str:
    """'E5' -> '$E$5' (how xlwings addresses notes)."""
    letters, digits = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", address).groups()
    return f"${letters}${digits}"


def cell(address: str) -> Cell:
    letters, digits = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", address).groups()
    return int(digits), column_index_from_string(letters)


PROBLEMS = ({"户主姓名": None}, {"家庭人口": "四口"}, {"登记表填写完整": "是"})


def inspection_sheets(villages: int, problem_every: int = 15) -> dict[str, list[list[Any]]]:
    """A filled workbook with `villages` × 15 households in two townships; one household in `problem_every` has a
    planted problem (in turn an empty 户主姓名, an unreadable 家庭人口 and a 登记表 answer for a 脱贫户, which is a
    warning) and does not recognise the result (a follow-up flag), so problems scale with size."""
    from ducha.model.schema import HOUSEHOLDS, INTERVIEWS, SAMPLING, VILLAGES
    from markdown_workbook import household, make_id, valid_sheets

    sheets = valid_sheets()
    headers = {s.name: sheets[s.name][0] for s in (SAMPLING, HOUSEHOLDS, VILLAGES, INTERVIEWS)}
    examples = {s.name: dict(zip(headers[s.name], sheets[s.name][1], strict=True)) for s in (VILLAGES, INTERVIEWS)}
    tables: dict[str, list[list[Any]]] = {name: [header] for name, header in headers.items()}
    n = 0
    for v in range(villages):
        township, village = ("青山镇", "白云乡")[v % 2], f"第{v + 1}村"
        tables[SAMPLING.name].append([township, "是", village, "是", None, None, None])
        for kind in ("建档立卡贫困户", "脱贫户", "普通农户"):
            for _ in range(5):
                birth = (dt.date(1940, 1, 1) + dt.timedelta(days=n)).strftime("%Y%m%d")
                record = household(kind, n, township, village, 身份证号=make_id(0, birth=birth))
                if n % problem_every == problem_every // 2:
                    record.update(PROBLEMS[(n // problem_every) % len(PROBLEMS)], 群众认可="不认可")
                tables[HOUSEHOLDS.name].append([record.get(f.header) for f in HOUSEHOLDS.fields])
                n += 1
        for name in (VILLAGES.name, INTERVIEWS.name):
            count = 1 if name == VILLAGES.name else len(sheets[INTERVIEWS.name]) - 1
            for row in sheets[name][1:1 + count]:
                values = dict(zip(headers[name], row, strict=True)) if name == INTERVIEWS.name else examples[name]
                label = {h: h for h in headers[name]}
                tables[name].append([township if _plain(label[h]) == "乡镇" else village if _plain(label[h]) == "村"
                                     else values[h] for h in headers[name]])
    sheets.update(tables)
    return sheets


def _plain(header: Any) -> str:
    return str(header).rstrip("*").split("(")[0]
