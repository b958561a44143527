"""Receipts (回执): a small workbook per item of an intake, for the county to receive back — accepted, rejected,
superseded or duplicate, the score, and every problem with its sheet and cell so the county can fix and resend.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path, PureWindowsPath

from ducha.adapters.writer import write_generated_workbook
from ducha.model.findings import Finding, archived_finding
from ducha.prefecture import archive as store
from ducha.prefecture.archive import Archive
from ducha.prefecture.outcome import Outcome
from ducha.sheets.check_sheet import add_findings
from ducha.sheets.outputplan import GeneratedSheet, Style
from ducha.sheets.toolkit import SheetBuilder

RECEIPT_SHEET = "回执"
RECEIPT_TITLE = "精准扶贫专题督查工作簿回执"
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_PLACE = re.compile(r"(文件|压缩包|邮件) (.+?)(?= 中的|$)")


def public_source(source: str) -> str:
    """Where a workbook came from, without the prefecture's local folders: 「文件 D:\\收件\\甲县.xlsx」 becomes
    「文件 甲县.xlsx」 (the receipt goes back to the county)."""
    return _PLACE.sub(lambda m: f"{m.group(1)} {PureWindowsPath(m.group(2)).name or m.group(2)}", source)


def receipt_sheet(outcome: Outcome, findings: list[Finding] | None) -> GeneratedSheet:
    """The receipt: what was received and what became of it, then the problems found."""
    s = SheetBuilder(RECEIPT_SHEET, [12, 10, 12, 9, 18, 22, 70])
    s.banner(RECEIPT_TITLE, Style.TITLE)
    s.add([])
    facts = [("文件", outcome.name), ("来源", public_source(outcome.source)), ("处理结果", outcome.status_text),
             ("说明", outcome.reason or "—"), ("被督查县", outcome.county), ("督查月份", outcome.month),
             ("督查组", outcome.group), ("版本", outcome.version), ("总分", outcome.total),
             ("错误数", outcome.errors if findings is not None else None)]
    for label, value in facts:
        shown = value if value not in (None, "") else "—"
        row = s.add([label, shown])
        s.styles.extend([(f"A{row}", Style.HEADER), (f"B{row}", Style.LEFT)])  # numbers beside their label, as text is
        if label == "总分":  # as the score tab shows it: 2 decimals
            s.style(f"B{row}", Style.NUMBER)
        if isinstance(shown, str):  # a file name or a source reads on one line
            s.merges.append(f"B{row}:{s.last}{row}")
    s.style("B5", Style.BAD if outcome.kind in ("rejected", "conflict") else Style.GOOD)  # 处理结果
    if findings is not None:
        s.add([])
        s.banner("需要修改的问题（改正后请重新发送整个工作簿）", Style.TITLE)
        add_findings(s, findings, columns=7, links=False)  # the receipt travels alone: no links into the workbook
    return s.build(landscape=True, tab_color="4472C4", position=0)


def receipt_name(outcome: Outcome) -> str:
    """回执-<county or file>-<month>-<result>-<short hash>.xlsx, safe on every file system."""
    who = outcome.county or Path(outcome.name).stem
    tag = hashlib.sha256(f"{outcome.name}|{outcome.source}|{outcome.submission_id}".encode()).hexdigest()[:8]
    parts = ["回执", who, outcome.month or "", outcome.status_text.split("（")[0], tag]
    return _UNSAFE.sub("_", "-".join(p for p in parts if p))[:150] + ".xlsx"


def write_receipt(folder: Path, outcome: Outcome, findings: list[Finding] | None) -> Path:
    return write_generated_workbook([receipt_sheet(outcome, findings)], Path(folder) / receipt_name(outcome),
                                    title=RECEIPT_TITLE)


def reissue_receipts(archive: Archive, month: str, folder: Path) -> list[Path]:
    """Write again, from the archive, the receipt of every submission of `month` that still counts (current or in
    conflict): after a ruling, a lost file, or a change of wording. Returns the written paths."""
    written = []
    for row in archive.submissions(month):
        if row["status"] not in (store.CURRENT, store.CONFLICT):
            continue
        conflict = row["status"] == store.CONFLICT
        outcome = Outcome(row["file_name"], row["source"], store.CONFLICT if conflict else store.ACCEPTED,
                          "同县同月已有其他督查组的工作簿，需州督查办裁定" if conflict else "",
                          county=row["county"], month=row["month"], group=row["inspection_group"],
                          version=row["version"], total=row["total"], errors=row["errors"], submission_id=row["id"],
                          superseded=_previous_version(archive, row))
        findings = [archived_finding(f) for f in archive.results("findings", row["id"])]
        written.append(write_receipt(folder, outcome, findings))
    return written


def _previous_version(archive: Archive, row: sqlite3.Row) -> int | None:
    """The id of the version this submission replaced (same county, month and group), if any."""
    earlier = archive.query("SELECT id FROM submissions WHERE county_code IS ? AND month IS ? "
                            "AND inspection_group IS ? AND id < ? ORDER BY id DESC LIMIT 1",
                            (row["county_code"], row["month"], row["inspection_group"], row["id"]))
    return earlier[0]["id"] if earlier else None
