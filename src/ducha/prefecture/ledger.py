"""The problem ledger (问题台账): every problem found by the inspection or reported to the supervisors, its
整改要求, deadline and status, with a history of every status change.

Status rules (`TRANSITIONS`, for edits made at the desk in 问题台账.xlsx):

    待整改   → 整改中 / 已整改      (a problem fixed on the spot may be reported 已整改 directly)
    整改中   → 已整改
    已整改   → 整改中 / 回访通过 / 回访未通过   (a rectification reported too early may be reopened)
    回访未通过 → 整改中 / 已整改
    回访通过  : closed, no further change

A revisit on the ground (the 「回访」 sheet of next month's workbook, `apply_revisit`) outranks the paperwork: it may
set 回访通过 / 回访未通过 from any open status.

Entry ids are stable: ``TZ-<YYYY>-<MM>-<8 hex>``, the hex being the start of the SHA-256 of the entry's identity
(county code, month, level, township, village, household or masked id number, problem; manual entries add their
origin). Syncing a submission twice, or adding the same 暗访 report twice, never duplicates an entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from ducha.adapters.writer import write_generated_workbook
from ducha.model.privacy import mask_id
from ducha.model.schema import REVISIT, REVISIT_DONE, REVISIT_NOT_DONE, SHEETS_BY_KEY
from ducha.prefecture.archive import CST, CURRENT, Archive, now_text, shown_time
from ducha.prefecture.settings import SettingsError, load_settings
from ducha.reading.normalize import fold_header, is_empty
from ducha.reading.raw import read_raw_workbook
from ducha.sheets.outputplan import GeneratedSheet, ListValidation, Style, auto_row_heights

PENDING, IN_PROGRESS, RECTIFIED, PASSED, FAILED = "待整改", "整改中", "已整改", "回访通过", "回访未通过"
STATUSES = (PENDING, IN_PROGRESS, RECTIFIED, PASSED, FAILED)
OPEN_STATUSES = (PENDING, IN_PROGRESS, RECTIFIED, FAILED)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    PENDING: (IN_PROGRESS, RECTIFIED),
    IN_PROGRESS: (RECTIFIED,),
    RECTIFIED: (IN_PROGRESS, PASSED, FAILED),
    FAILED: (IN_PROGRESS, RECTIFIED),
    PASSED: (),
}
REVISIT_RESULTS = {REVISIT_DONE: PASSED, REVISIT_NOT_DONE: FAILED}

FLAG, MANUAL = "flag", "manual"
ORIGIN_NAMES = {FLAG: "督查发现", MANUAL: "暗访（群众、媒体反映）"}
LEDGER_SEVERITIES = ("错误", "警告")  # 提示 flags (could not be judged) ask for data, not for rectification
DEADLINE_DAYS = 30
LEDGER_SHEET, HISTORY_SHEET = "问题台账", "状态变更记录"
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
log = logging.getLogger(__name__)
SOURCE_SHEETS = {**{key: sheet.name for key, sheet in SHEETS_BY_KEY.items()}, "score": "评分"}

# 问题台账 columns: (key, header, width). `exported` (hidden) holds the status as exported, so that only the rows a
# supervisor actually changed count as edits.
COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("id", "编号", 22), ("county", "县", 10), ("month", "督查月份", 10), ("township", "乡镇", 10),
    ("village", "村", 10), ("household", "农户", 10), ("masked_id", "身份证号（脱敏）", 20), ("problem", "问题", 30),
    ("evidence", "证据", 36), ("requirement", "整改要求", 30), ("deadline", "整改期限", 12), ("status", "状态", 12),
    ("note", "状态说明（变更时填写）", 28), ("origin", "来源", 14), ("updated_at", "最后更新", 20),
    ("exported", "导出时状态", 12),
)
HEADER_ROW = 3
HISTORY_COLUMNS = (("entry_id", "编号", 22), ("at", "时间", 22), ("old_status", "原状态", 12),
                   ("new_status", "新状态", 12), ("note", "说明", 48), ("actor", "操作人", 14))


class LedgerError(ValueError):
    """A ledger operation that cannot be done; the message is Chinese and says why."""


@dataclass
class ImportResult:
    """What an import (or a revisit) did: entry ids changed, entry ids left as they were, refusals (Chinese)."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def refusal(entry_id: str, old: str, new: str, *, revisit: bool = False) -> str | None:
    """Why `entry_id` may not go from `old` to `new` (None: allowed). `revisit`: a result found on the ground."""
    if new not in STATUSES:
        return f"台账编号 {entry_id}：「{new}」不是台账状态（可选：{'、'.join(STATUSES)}）"
    if old == new:
        return None
    if revisit and old in OPEN_STATUSES and new in (PASSED, FAILED):
        return None
    allowed = TRANSITIONS.get(old, ())
    if new in allowed:
        return None
    if old == PASSED:
        rule = "回访通过的问题已销号，不能再变更状态"
    elif new in (PASSED, FAILED):
        rule = "回访结果只能在「已整改」之后登记（或由下月回访督查填报）"
    else:
        rule = f"可改为：{'、'.join(allowed)}"
    return f"台账编号 {entry_id} 的状态不能从「{old}」改为「{new}」：{rule}"


def entry_id(county_code: str | None, month: str, *parts: str | None) -> str:
    """The stable id: TZ-YYYY-MM-<8 hex of the identity>."""
    if not MONTH.match(month or ""):
        raise LedgerError(f"督查月份「{month}」无效，应为 YYYY-MM")
    identity = "\x1f".join(str(p or "").strip() for p in (county_code, month, *parts))
    return f"TZ-{month}-{hashlib.sha256(identity.encode()).hexdigest()[:8]}"


def flag_entry_id(county_code: str | None, month: str, flag: dict[str, Any]) -> str:
    return entry_id(county_code, month, flag.get("level"), flag.get("township"), flag.get("village"),
                    flag.get("masked_id") or flag.get("household"), flag.get("problem"))


def default_requirement(flag: dict[str, Any]) -> str:
    """The flag's own action, or a generic 整改要求."""
    action = (flag.get("action") or "").strip()
    return action or f"针对「{flag.get('problem')}」问题逐项核实，限期整改到位，并报送整改情况"


def flag_evidence(flag: dict[str, Any]) -> str:
    """The reasons of a flag and where they were found (sheet and row of the inspection workbook)."""
    where = SOURCE_SHEETS.get(flag.get("sheet") or "", flag.get("sheet") or "")
    if where and flag.get("row"):
        where = f"{where}第 {flag['row']} 行"
    elif where and flag.get("cell"):
        where = f"{where} {flag['cell']}"
    reasons = (flag.get("reasons") or "").strip()
    return f"{reasons}（督查工作簿「{where}」）" if where else reasons


MANUAL_DEADLINE = "manual"  # ledger.deadline_source of a deadline given by hand (a letter never moves it)


def work_date(at: str, month: str | None) -> dt.date:
    """The date a problem was found, from the work and not the clock: the day it was recorded (in CST), but no later
    than the last day of its inspection month (a 2019-11 workbook taken in years later was still 2019-11's work)."""
    moment = dt.datetime.fromisoformat(at)
    day = (moment.astimezone(CST) if moment.tzinfo else moment).date()
    if not MONTH.match(month or ""):
        return day
    year, number = int(month[:4]), int(month[5:7])
    month_end = dt.date(year + number // 12, number % 12 + 1, 1) - dt.timedelta(days=1)
    return min(day, month_end)


def period_days(archive: Archive) -> int:
    """整改期限（天） from the archive's 设置.xlsx (the default when it is missing or invalid: the letters command
    reports an invalid file; taking in workbooks must not stop over it)."""
    try:
        return load_settings(archive.folder).period_days
    except SettingsError as exc:
        log.warning("settings not used for the ledger deadline: %s", exc)
        return DEADLINE_DAYS


def deadline_from(issued: dt.date, days: int) -> str:
    """整改期限 = issue date + period."""
    return (issued + dt.timedelta(days=days)).isoformat()


def _history(db: sqlite3.Connection, entry: str, at: str, old: str | None, new: str, note: str, actor: str) -> None:
    db.execute("INSERT INTO ledger_history (entry_id, at, old_status, new_status, note, actor)"
               " VALUES (?, ?, ?, ?, ?, ?)", (entry, at, old, new, note, actor))


def sync_from_flags(archive: Archive, submission_id: int, *, deadline_days: int | None = None,
                    requirement_for: Callable[[dict[str, Any]], str] = default_requirement,
                    actor: str = "ducha", at: str | None = None, issued: dt.date | None = None) -> list[str]:
    """Make ledger entries from a current submission's 错误/警告 flags; returns their ids in flag order.

    An entry that already exists keeps its status, requirement and deadline; it now points at this submission and
    carries its evidence. Entries of an earlier version of the same county and month that this version no longer
    flags are removed while still untouched (待整改, never changed): the clerk corrected the workbook. Entries someone
    has already worked on are kept. A submission that is not current (superseded, or in conflict) adds nothing.

    The deadline counts from `issued` (else the work date, `work_date`) plus `deadline_days` (else the settings'
    整改期限); a letter later sets it from its own issue date.
    """
    at = at or now_text()
    days = deadline_days if deadline_days is not None else period_days(archive)
    with archive.transaction() as db:
        sub = db.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        if sub is None:
            raise LedgerError(f"档案中没有编号为 {submission_id} 的提交")
        deadline = deadline_from(issued or work_date(at, sub["month"]), days)
        if sub["status"] != CURRENT:
            return []
        flags = db.execute("SELECT * FROM flags WHERE submission_id = ? ORDER BY rowid", (submission_id,)).fetchall()
        ids: list[str] = []
        for flag in map(dict, flags):
            if flag["severity"] not in LEDGER_SEVERITIES:
                continue
            entry = flag_entry_id(sub["county_code"], sub["month"], flag)
            if entry in ids:
                continue
            ids.append(entry)
            evidence = flag_evidence(flag)
            if db.execute("SELECT 1 FROM ledger WHERE id = ?", (entry,)).fetchone():
                db.execute("UPDATE ledger SET submission_id = ?, evidence = ? WHERE id = ?",
                           (submission_id, evidence, entry))
                continue
            db.execute(
                "INSERT INTO ledger (id, county, county_code, month, origin, township, village, household, masked_id,"
                " problem, evidence, requirement, deadline, status, submission_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry, sub["county"], sub["county_code"], sub["month"], FLAG, flag["township"], flag["village"],
                 flag["household"], flag["masked_id"] or None, flag["problem"], evidence, requirement_for(flag),
                 deadline, PENDING, submission_id, at, at))
            _history(db, entry, at, None, PENDING, f"督查发现（{sub['file_name']}，第 {sub['version']} 版）", actor)
        _drop_withdrawn(db, sub["county_code"], sub["month"], ids)
    return ids


def _drop_withdrawn(db: sqlite3.Connection, county_code: str | None, month: str, keep: list[str]) -> None:
    rows = db.execute("SELECT id FROM ledger WHERE county_code IS ? AND month = ? AND origin = ? AND status = ?",
                      (county_code, month, FLAG, PENDING)).fetchall()
    for (entry,) in rows:
        if entry in keep:
            continue
        changes = db.execute("SELECT COUNT(*) FROM ledger_history WHERE entry_id = ?", (entry,)).fetchone()[0]
        if changes <= 1:
            db.execute("DELETE FROM ledger_history WHERE entry_id = ?", (entry,))
            db.execute("DELETE FROM ledger WHERE id = ?", (entry,))


def add_manual(archive: Archive, *, county: str, county_code: str, month: str, problem: str, evidence: str,
               township: str | None = None, village: str | None = None, household: str | None = None,
               masked_id: str | None = None, requirement: str = "", deadline: str | dt.date | None = None,
               actor: str = "", at: str | None = None, issued: dt.date | None = None) -> str:
    """Record a 暗访 report (from the public or the media, with or without a household); returns its id.

    The same report (county, month, place, household, problem) added again returns the existing id unchanged.
    Without a `deadline`, it is `issued` (the day it was registered; else the work date) plus the settings' period;
    a given deadline is kept even by later letters."""
    if is_empty(problem):
        raise LedgerError("暗访问题必须写明「问题」")
    at = at or now_text()
    entry = entry_id(county_code, month, MANUAL, township, village, masked_id or household, problem.strip())
    source = MANUAL_DEADLINE if deadline else None
    if isinstance(deadline, str) and deadline:
        try:
            deadline = dt.date.fromisoformat(deadline.strip())
        except ValueError:
            raise LedgerError(f"整改期限「{deadline}」无效，应为 YYYY-MM-DD，如 2019-12-31") from None
    if isinstance(deadline, dt.date):
        deadline = deadline.isoformat()
    deadline = deadline or deadline_from(issued or work_date(at, month), period_days(archive))
    requirement = requirement or f"针对「{problem.strip()}」问题逐项核实，限期整改到位，并报送整改情况"
    with archive.transaction() as db:
        if db.execute("SELECT 1 FROM ledger WHERE id = ?", (entry,)).fetchone():
            return entry
        db.execute(
            "INSERT INTO ledger (id, county, county_code, month, origin, township, village, household, masked_id,"
            " problem, evidence, requirement, deadline, status, submission_id, created_at, updated_at,"
            " deadline_source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            (entry, county, county_code, month, MANUAL, township, village, household, masked_id, problem.strip(),
             evidence, requirement, deadline, PENDING, at, at, source))
        _history(db, entry, at, None, PENDING, "暗访督查登记", actor)
    return entry


def entries(archive: Archive, *, county_code: str | None = None, month: str | None = None,
            statuses: Iterable[str] = STATUSES) -> list[dict[str, Any]]:
    """Ledger entries as dicts, ordered by county code, month and creation."""
    wanted = tuple(statuses)
    sql = f"SELECT * FROM ledger WHERE status IN ({', '.join('?' for _ in wanted)})"
    parameters: list[Any] = list(wanted)
    if county_code is not None:
        sql += " AND county_code = ?"
        parameters.append(county_code)
    if month is not None:
        sql += " AND month = ?"
        parameters.append(month)
    return [dict(r) for r in archive.query(sql + " ORDER BY county_code, month, created_at, rowid", tuple(parameters))]


def open_entries(archive: Archive, county_code: str, *, before: str | None = None) -> list[dict[str, Any]]:
    """A county's entries not yet closed (status other than 回访通过), for the 「回访」 sheet; `before` (YYYY-MM):
    only entries of earlier months. Each dict has the 回访 sheet's keys (entry_id, township, …) and the ledger's."""
    rows = entries(archive, county_code=county_code, statuses=OPEN_STATUSES)
    return [{**r, "entry_id": r["id"]} for r in rows if before is None or r["month"] < before]


def history(archive: Archive, entry: str | None = None) -> list[dict[str, Any]]:
    if entry is None:
        return [dict(r) for r in archive.query("SELECT * FROM ledger_history ORDER BY entry_id, rowid")]
    return [dict(r) for r in archive.query("SELECT * FROM ledger_history WHERE entry_id = ? ORDER BY rowid",
                                           (entry,))]


def _change(db: sqlite3.Connection, entry: str, old: str, new: str, note: str, actor: str, at: str) -> None:
    db.execute("UPDATE ledger SET status = ?, updated_at = ? WHERE id = ?", (new, at, entry))
    _history(db, entry, at, old, new, note, actor)


def _last_history(db: sqlite3.Connection, entry: str) -> sqlite3.Row | None:
    return db.execute("SELECT * FROM ledger_history WHERE entry_id = ? ORDER BY rowid DESC LIMIT 1",
                      (entry,)).fetchone()


def set_status(archive: Archive, entry: str, new: str, *, note: str = "", actor: str = "",
               at: str | None = None) -> None:
    """Change one entry's status at the desk (raises LedgerError if the rule forbids it)."""
    at = at or now_text()
    with archive.transaction() as db:
        row = db.execute("SELECT status FROM ledger WHERE id = ?", (entry,)).fetchone()
        if row is None:
            raise LedgerError(f"台账中没有编号 {entry}")
        reason = refusal(entry, row["status"], new)
        if reason:
            raise LedgerError(reason)
        if row["status"] != new:
            _change(db, entry, row["status"], new, note, actor, at)


def apply_revisit(archive: Archive, rows: Iterable[dict[str, Any]], *, actor: str, at: str | None = None,
                  county_code: str | None = None) -> ImportResult:
    """Record the results of a 「回访」 sheet: 整改到位 → 回访通过, 未整改到位 → 回访未通过, from any open status.

    `rows` are dicts with entry_id, result, note, revisit_date and row (the sheet row). Rows without a result are
    left alone; unknown ids, ids of another county (when `county_code` is given), closed entries and unknown results
    are refused with a message naming the row. The same result taken in again (a resubmitted workbook) changes
    nothing. All valid rows are applied in one transaction."""
    at = at or now_text()
    result = ImportResult()
    with archive.transaction() as db:
        for row in rows:
            where = f"「{REVISIT.name}」第 {row['row']} 行" if row.get("row") else f"「{REVISIT.name}」"
            entry = str(row.get("entry_id") or "").strip()
            outcome = str(row.get("result") or "").strip()
            if not entry:
                if outcome:
                    result.refused.append(f"{where}：缺少台账编号，无法登记回访结果")
                continue
            current = db.execute("SELECT status, county_code FROM ledger WHERE id = ?", (entry,)).fetchone()
            if current is None:
                result.refused.append(f"{where}：台账中没有编号 {entry}（编号由 ducha 生成，请勿修改）")
                continue
            if county_code is not None and current["county_code"] != county_code:
                result.refused.append(f"{where}：台账编号 {entry} 不属于本县")
                continue
            if not outcome:
                result.unchanged.append(entry)
                continue
            new = REVISIT_RESULTS.get(outcome)
            if new is None:
                result.refused.append(f"{where}：回访结果「{outcome}」无效，应为{REVISIT_DONE}或{REVISIT_NOT_DONE}")
                continue
            reason = refusal(entry, current["status"], new, revisit=True)
            if reason:
                result.refused.append(f"{where}：{reason}")
                continue
            date = row.get("revisit_date") or ""
            note = f"回访{f'（{date}）' if date else ''}：{outcome}" + (f"；{row['note']}" if row.get("note") else "")
            last = _last_history(db, entry)
            if current["status"] == new and last is not None and last["note"] == note:
                result.unchanged.append(entry)
                continue
            _change(db, entry, current["status"], new, note, actor, at)
            result.changed.append(entry)
    return result


# --- 问题台账.xlsx --------------------------------------------------------------------------------------------------

def _place(entry: dict[str, Any]) -> str:
    return "".join(p for p in (entry.get("township"), entry.get("village")) if p)


def _cell(entry: dict[str, Any], key: str) -> Any:
    if key == "origin":
        return ORIGIN_NAMES.get(entry["origin"], entry["origin"])
    if key == "exported":
        return entry["status"]
    if key == "masked_id":
        return mask_id(entry[key]) if entry[key] else None
    if key == "deadline":
        return dt.date.fromisoformat(entry[key]) if entry.get(key) else None
    if key == "updated_at":
        return shown_time(entry[key])
    return entry.get(key)


def ledger_sheets(archive: Archive, *, county_code: str | None = None, month: str | None = None
                  ) -> tuple[GeneratedSheet, GeneratedSheet]:
    """The 「问题台账」 and 「状态变更记录」 sheets as plain data."""
    rows = entries(archive, county_code=county_code, month=month)
    county = (rows[0]["county"] or county_code) if county_code and rows else county_code
    scope = "、".join(p for p in (county, month) if p) or "全部"
    headers = [h for _, h, _ in COLUMNS]
    body = [[_cell(r, key) for key, _, _ in COLUMNS] for r in rows]
    last = HEADER_ROW + max(len(body), 1)
    end, status = get_column_letter(len(COLUMNS)), get_column_letter(_column("status"))
    sheet = GeneratedSheet(
        name=LEDGER_SHEET,
        rows=[[f"精准扶贫专题督查问题台账（{scope}）"],
              [f"共 {len(rows)} 条。请只修改「状态」（下拉选择）和「状态说明」；其他列由 ducha 维护。"
               "状态规则：待整改→整改中→已整改→回访通过/回访未通过；回访未通过的重新整改。"
               "改好后用「ducha ledger import」导入。"],
              headers, *body],
        column_widths=[w for _, _, w in COLUMNS], freeze=f"B{HEADER_ROW + 1}",
        styles=[("A1", Style.TITLE), (f"A{HEADER_ROW}:{end}{HEADER_ROW}", Style.HEADER),
                *([(f"G{HEADER_ROW + 1}:J{last}", Style.NOTE)] if body else [])],
        merges=[f"A1:{end}1", f"A2:{get_column_letter(len(COLUMNS) - 1)}2"], auto_filter=f"A{HEADER_ROW}:{end}{last}",
        print_title_rows=f"{HEADER_ROW}:{HEADER_ROW}", tab_color="1F4E78",
        hidden_columns=[get_column_letter(_column("exported"))],
        validations=[ListValidation(f"{status}{HEADER_ROW + 1}:{status}{last}", STATUSES, "状态无效",
                                    f"请从下拉列表选择：{'、'.join(STATUSES)}")])
    sheet.row_heights = {2: 30.0, **auto_row_heights(sheet)}
    ids = {r["id"] for r in rows}
    changes = [h for h in history(archive) if h["entry_id"] in ids]
    log = GeneratedSheet(
        name=HISTORY_SHEET,
        rows=[["问题台账状态变更记录"], ["每次状态变更一行，由 ducha 记录，只读。"],
              [h for _, h, _ in HISTORY_COLUMNS],
              *[[shown_time(h[k]) if k == "at" else h[k] for k, _, _ in HISTORY_COLUMNS] for h in changes]],
        column_widths=[w for _, _, w in HISTORY_COLUMNS], freeze=f"A{HEADER_ROW + 1}",
        styles=[("A1", Style.TITLE), (f"A{HEADER_ROW}:F{HEADER_ROW}", Style.HEADER)], merges=["A1:F1", "A2:F2"],
        auto_filter=f"A{HEADER_ROW}:F{HEADER_ROW + max(len(changes), 1)}", tab_color="7F7F7F")
    log.row_heights = auto_row_heights(log)
    return sheet, log


def export_ledger(archive: Archive, out: Path, *, county_code: str | None = None, month: str | None = None) -> Path:
    """Write 问题台账.xlsx (「问题台账」 with a status drop-down, and 「状态变更记录」) atomically."""
    return write_generated_workbook(list(ledger_sheets(archive, county_code=county_code, month=month)), Path(out),
                                    title="精准扶贫专题督查问题台账")


def _column(key: str) -> int:
    return next(i for i, (k, _, _) in enumerate(COLUMNS, start=1) if k == key)


def _text(value: Any) -> str:
    return "" if is_empty(value) else str(value).strip()


def _read_ledger_rows(source: Path | Mapping[str, list[list[Any]]]) -> list[tuple[int, dict[str, str]]]:
    """(Excel row, {key: text}) of the 「问题台账」 sheet, found by its headers wherever they are. `source`: a
    workbook file, or the open workbook's sheets as grids from A1 (sheet name → rows)."""
    sheets = read_raw_workbook(Path(source), error_cells=False).sheets if isinstance(source, Path | str) else source
    name = next((n for n in sheets if fold_header(n) == fold_header(LEDGER_SHEET)), None)
    if name is None:
        raise LedgerError(f"工作簿中没有「{LEDGER_SHEET}」工作表，请使用 ducha 导出的问题台账")
    grid = sheets[name]
    wanted = {fold_header(h): k for k, h, _ in COLUMNS}
    wanted[fold_header("状态说明")] = wanted[fold_header("备注")] = "note"
    header = next((i for i, line in enumerate(grid)
                   if {"id", "status"} <= {wanted.get(fold_header(c)) for c in line}), None)
    if header is None:
        raise LedgerError(f"「{LEDGER_SHEET}」中找不到「编号」和「状态」两列的表头")
    found = {wanted[fold_header(c)]: col for col, c in enumerate(grid[header]) if fold_header(c) in wanted}
    rows = []
    for offset, line in enumerate(grid[header + 1:], start=header + 2):
        values = {k: _text(line[col]) if col < len(line) else "" for k, col in found.items()}
        if any(values.values()):
            rows.append((offset, values))
    return rows


def import_ledger(archive: Archive, path: Path | Mapping[str, list[list[Any]]], *, actor: str,
                  at: str | None = None, strict: bool = False) -> ImportResult:
    """Take the status edits of a 问题台账.xlsx back into the archive.

    A row is an edit when its 状态 differs from the status it was exported with (or, without that hidden column,
    from the archive's). Each edit is checked against the status rules; refused rows (unknown id, unknown status,
    a forbidden change, an id twice) are reported with their row and change nothing. A 状态说明 on an unchanged row
    is recorded as a note. Valid edits are applied in one transaction; `strict`: nothing is applied if any is
    refused. `path` may also be the open workbook's sheets as grids (the ribbon reads the unsaved edits)."""
    at = at or now_text()
    rows = _read_ledger_rows(path)
    result = ImportResult()
    try:
        with archive.transaction() as db:
            _import_rows(db, rows, result, actor, at)
            if strict and result.refused:
                raise _Refused
    except _Refused:
        result.unchanged.extend(result.changed)
        result.changed.clear()
    return result


class _Refused(Exception):
    """Raised inside the transaction to roll back a strict import."""


def _import_rows(db: sqlite3.Connection, rows: list[tuple[int, dict[str, str]]], result: ImportResult, actor: str,
                 at: str) -> None:
    seen: set[str] = set()
    for number, values in rows:
        where = f"「{LEDGER_SHEET}」第 {number} 行"
        entry, new, note = values.get("id", ""), values.get("status", ""), values.get("note", "")
        if not entry:
            result.refused.append(f"{where}：缺少编号，无法对应台账条目")
            continue
        if entry in seen:
            result.refused.append(f"{where}：编号 {entry} 重复出现，只认第一次")
            continue
        seen.add(entry)
        current = db.execute("SELECT status FROM ledger WHERE id = ?", (entry,)).fetchone()
        if current is None:
            result.refused.append(f"{where}：台账中没有编号 {entry}（编号由 ducha 生成，请勿修改）")
            continue
        if not new:
            result.refused.append(f"{where}：台账编号 {entry} 的状态为空（可选：{'、'.join(STATUSES)}）")
            continue
        old = current["status"]
        if new in (old, values.get("exported") or old):
            last = _last_history(db, entry)
            if note and last is not None and last["note"] != note:
                _history(db, entry, at, old, old, note, actor)
                result.changed.append(entry)
            else:
                result.unchanged.append(entry)
            continue
        reason = refusal(entry, old, new)
        if reason:
            result.refused.append(f"{where}：{reason}")
            continue
        _change(db, entry, old, new, note, actor, at)
        result.changed.append(entry)
