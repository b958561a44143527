"""Intake of emailed workbooks: each one found is stored unchanged, checked, scored and flagged by the same
pipeline as the ribbon, recorded in the archive in one transaction, and answered with a receipt.

One bad file never stops the batch: whatever goes wrong with one item becomes a rejection with its reason.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from . import archive as store
from .archive import Archive, Stored, Submission, now_text, sha256_of
from .findings import Severity
from .intake_sources import Ignored, Incoming, Limits, Rejected, collect
from .io.reading import UnreadableWorkbook
from .pipeline import CheckResult, check_parsed, gc_paused
from .receipt import write_receipt
from .rubric import DEFAULT_RUBRIC, Rubric
from .score_sheet import Evaluation, evaluate
from .workbook import read_workbook

log = logging.getLogger("ducha.intake")
RECEIPTS = "回执"


@dataclass
class Outcome:
    """What became of one item of the batch (for the summary table and the receipt)."""

    name: str
    source: str
    kind: str  # archive event kind: accepted / conflict / duplicate / rejected / ignored
    reason: str = ""
    county: str | None = None
    month: str | None = None
    group: str | None = None
    version: int | None = None
    total: float | None = None
    errors: int = 0
    submission_id: int | None = None
    superseded: int | None = None
    receipt: Path | None = None

    @property
    def status_text(self) -> str:
        if self.kind == store.ACCEPTED and self.superseded:
            return f"已接收（第 {self.version} 版，取代旧版）"
        return store.STATUS_NAMES.get(self.kind, self.kind)


def _results(check: CheckResult, score: Evaluation) -> dict[str, list[dict]]:
    card = score.card
    return {
        "findings": [{"code": f.code, "severity": f.severity.value, "sheet": f.sheet, "cell": f.cell, "field": f.field,
                      "value": f.value, "message": f.message} for f in check.findings],
        "indicators": [{"key": i.key, "item": i.item, "name": i.name, "formula": i.formula_zh,
                        "numerator": i.numerator, "denominator": i.denominator, "value": i.value,
                        "value_text": i.value_text, "red_flag": int(i.red_flag)} for i in score.indicators],
        "scores": [{"item": item.key, "name": item.name, "max_points": item.max_points, "points": item.points,
                    "deductions": "；".join(f"{d.reason}（−{round(d.points, 2):g}）" for d in item.deductions)}
                   for item in card.items],
        "flags": [{"level": f.level, "severity": f.severity.value, "sheet": f.sheet, "row": f.row, "cell": f.cell,
                   "township": f.township, "village": f.village, "household": f.household,
                   "masked_id": f.masked_id, "problem": f.problem,
                   "reasons": "；".join(r.text for r in f.reasons), "action": f.action} for f in score.flags],
    }


def _submission(item: Incoming, sha: str, check: CheckResult, score: Evaluation, rubric: Rubric) -> Submission:
    basic = check.parsed.basic
    card = score.card
    return Submission(
        sha256=sha, file_name=item.name, source=item.source, received_at=now_text(),
        county=basic.get("county"), county_code=basic.get("county_code"), month=basic.get("month"),
        inspection_group=basic.get("group"), sent_at=item.sent_at, sender=item.sender, subject=item.subject,
        errors=check.errors, warnings=sum(1 for f in check.findings if f.severity is Severity.WARNING),
        total=card.total, max_total=card.max_total, key_item=card.key_item,
        rubric=f"{rubric.name} {rubric.version}", **_results(check, score))


class Intake:
    """One intake run over an archive."""

    def __init__(self, archive: Archive, *, password: str | None = None, rubric: Rubric = DEFAULT_RUBRIC,
                 limits: Limits | None = None, receipts: bool = True) -> None:
        self.archive = archive
        self.password = password
        self.rubric = rubric
        self.limits = limits
        self.receipts = archive.folder / RECEIPTS if receipts else None

    def run(self, paths: Iterable[Path], progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        outcomes = []
        kwargs = {"password": self.password, "exclude": [self.archive.folder]}
        kwargs |= {"limits": self.limits} if self.limits else {}
        for item in collect([Path(p) for p in paths], **kwargs):
            outcome = self.take(item)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
        return outcomes

    def take(self, item: Incoming | Rejected | Ignored) -> Outcome:
        """Take one item in; never raises for a bad file."""
        if isinstance(item, Ignored):
            self.archive.add_event(store.IGNORED, item.name, item.source, reason=item.reason)
            return Outcome(item.name, item.source, store.IGNORED, item.reason)
        if isinstance(item, Rejected):
            return self._reject(item.name, item.source, item.reason)
        try:
            return self._take_workbook(item)
        except UnreadableWorkbook as exc:
            return self._reject(item.name, item.source, f"无法读取：{exc}", sha256_of(item.content))
        except Exception:
            log.exception("intake failed for %s", item.name)
            return self._reject(item.name, item.source, "处理时发生内部错误，已记入日志；请把文件和日志发给技术支持",
                                sha256_of(item.content))

    def _reject(self, name: str, source: str, reason: str, sha: str | None = None) -> Outcome:
        self.archive.add_event(store.REJECTED, name, source, sha256=sha, reason=reason)
        outcome = Outcome(name, source, store.REJECTED, reason)
        outcome.receipt = self._receipt(outcome, None)
        return outcome

    def _duplicate(self, item: Incoming, sha: str, row: sqlite3.Row) -> Outcome:
        reason = f"与已接收的「{row['file_name']}」（{row['received_at']}）内容完全相同，未重复保存"
        self.archive.add_event(store.DUPLICATE, item.name, item.source, sha256=sha, reason=reason,
                               submission_id=row["id"])
        outcome = Outcome(item.name, item.source, store.DUPLICATE, reason, county=row["county"], month=row["month"],
                          group=row["inspection_group"], version=row["version"], submission_id=row["id"])
        outcome.receipt = self._receipt(outcome, None)
        return outcome

    def _take_workbook(self, item: Incoming) -> Outcome:
        sha = sha256_of(item.content)
        known = self.archive.find_by_hash(sha)
        if known is not None:
            return self._duplicate(item, sha, known)
        stored = self.archive.store_original(item.content, Path(item.name).suffix or ".xlsx")
        with gc_paused():
            parsed = read_workbook(stored)
            check = check_parsed(stored, parsed)
            score = evaluate(parsed.data, self.rubric)
        submission = _submission(item, sha, check, score, self.rubric)
        try:
            result = self.archive.add_submission(submission, stored)
        except sqlite3.IntegrityError:  # another intake took the same content in meanwhile
            return self._duplicate(item, sha, self.archive.find_by_hash(sha))
        outcome = self._accepted(item, submission, result)
        outcome.receipt = self._receipt(outcome, check)
        return outcome

    @staticmethod
    def _accepted(item: Incoming, sub: Submission, result: Stored) -> Outcome:
        kind = store.CONFLICT if result.status == store.CONFLICT else store.ACCEPTED
        reason = ("同县同月已有其他督查组的工作簿，需州督查办裁定（ducha resolve 编号）" if result.conflicts_with
                  else "")
        return Outcome(item.name, item.source, kind, reason, county=sub.county, month=sub.month,
                       group=sub.inspection_group, version=result.version, total=sub.total, errors=sub.errors,
                       submission_id=result.submission_id, superseded=result.superseded)

    def _receipt(self, outcome: Outcome, check: CheckResult | None) -> Path | None:
        if self.receipts is None:
            return None
        try:
            return write_receipt(self.receipts, outcome, check)
        except OSError:
            log.exception("could not write the receipt for %s", outcome.name)
            return None


def summarise_folder(folder: Path, *, month: str | None = None, password: str | None = None
                     ) -> tuple[list[Outcome], Path | None]:
    """The 汇总 button: take in everything under `folder` into `folder/督查档案`, then write the month's report there.

    The month is the one most of the batch's workbooks are for (else the latest in the archive)."""
    from collections import Counter

    from .report import write_report

    with Archive(Path(folder) / store.DEFAULT_FOLDER) as archive:
        outcomes = Intake(archive, password=password).run([Path(folder)])
        months = Counter(o.month for o in outcomes if o.month)
        month = month or (months.most_common(1)[0][0] if months else None)
        if month is None:
            latest = archive.query("SELECT MAX(month) AS m FROM submissions")
            month = latest[0]["m"] if latest else None
        if month is None:
            return outcomes, None
        return outcomes, write_report(archive, month, archive.folder / f"督查评分汇总-{month}.xlsx")
