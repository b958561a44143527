"""Intake of emailed workbooks: each one found is stored unchanged, checked, scored and flagged by the same
pipeline as the ribbon, recorded in the archive in one transaction, and answered with a receipt.

One bad file never stops the batch: whatever goes wrong with one item becomes a rejection with its reason.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ducha.checks.pipeline import CheckResult, check_parsed
from ducha.model.findings import Finding, Severity
from ducha.prefecture import archive as store
from ducha.prefecture import ledger
from ducha.prefecture.archive import Archive, Stored, Submission, now_text, sha256_of
from ducha.prefecture.intake_sources import Ignored, Incoming, Limits, Rejected, admit_workbook, collect
from ducha.prefecture.outcome import Outcome
from ducha.prefecture.receipt import receipt_name, write_receipt
from ducha.reading.gate import DEFAULT_LIMITS, Admitted
from ducha.reading.gc_pause import gc_paused
from ducha.reading.raw import UnreadableWorkbook, read_admitted
from ducha.reading.workbook import ParsedWorkbook, parse_workbook, read_workbook
from ducha.scoring.rubric import DEFAULT_RUBRIC, Rubric
from ducha.sheets.score_sheet import Evaluation, evaluate

log = logging.getLogger("ducha.intake")
RECEIPTS = "回执"
WORKERS_ENV = "DUCHA_WORKERS"
MAX_WORKERS = 4
WINDOW = 8  # workbooks analysed ahead of the one being recorded
MONTH = re.compile(r"[12][0-9]{3}-(0[1-9]|1[0-2])")
NO_MONTH = "「基本信息」中没有有效的督查月份（格式 YYYY-MM，如 2019-11），无法归档。请填写督查月份后重新发送"


def _results(check: CheckResult, score: Evaluation) -> dict[str, list[dict]]:
    card = score.card
    return {
        "findings": [f.archived() for f in check.findings],
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


@dataclass
class Analysis:
    """What the pipeline found in one stored workbook (computed in a worker process, so plain data)."""

    basic: dict[str, Any]
    findings: list[Finding]
    results: dict[str, list[dict]]
    total: float
    max_total: float
    key_item: str | None
    revisit: list[dict[str, Any]]  # the 「回访」 rows: entry_id, result, note, revisit_date

    def submission(self, item: Incoming, sha: str, rubric: Rubric) -> Submission:
        errors = sum(1 for f in self.findings if f.severity is Severity.ERROR)
        warnings = sum(1 for f in self.findings if f.severity is Severity.WARNING)
        return Submission(
            sha256=sha, file_name=item.name, source=item.source, received_at=now_text(),
            county=self.basic.get("county"), county_code=self.basic.get("county_code"),
            month=self.basic.get("month"), inspection_group=self.basic.get("group"), sent_at=item.sent_at,
            sender=item.sender, subject=item.subject, errors=errors, warnings=warnings, total=self.total,
            max_total=self.max_total, key_item=self.key_item, rubric=f"{rubric.name} {rubric.version}",
            **self.results)


def analyse(stored: Path, rubric: Rubric, error_cells: bool = True, admitted: Admitted | None = None) -> Analysis:
    """Check, score and flag one stored original (the same pipeline as the ribbon). `admitted`: the bytes stored,
    as the input gate admitted them in collecting (they are read as they are; without it the file passes the gate)."""
    with gc_paused():
        if admitted is None:
            parsed = read_workbook(stored, error_cells=error_cells)
        else:
            parsed = parse_workbook(read_admitted(admitted, stored, error_cells=error_cells))
        check = check_parsed(stored, parsed)
        score = evaluate(parsed.data, rubric)
    return Analysis(basic=dict(parsed.basic.values), findings=check.findings, results=_results(check, score),
                    total=score.card.total, max_total=score.card.max_total, key_item=score.card.key_item,
                    revisit=_revisit_rows(parsed))


def _revisit_rows(parsed: ParsedWorkbook) -> list[dict[str, Any]]:
    table = parsed.tables["revisit"]
    rows = []
    for i, row in enumerate(table.rows):
        values = {key: table.values[key][i] for key in ("entry_id", "result", "note", "revisit_date")}
        if values["revisit_date"] is not None:
            values["revisit_date"] = values["revisit_date"].isoformat()
        rows.append({**values, "row": row})
    return rows


@dataclass
class Admission:
    """The gate's verdict on a workbook collected unchecked and, when admitted, its analysis (or why it could not be
    read); `admitted` without an analysis when the gate ran in this process."""

    refusal: str | None = None
    admitted: Admitted | None = None
    analysis: Analysis | None = None
    unreadable: str | None = None


def admit_and_analyse(content: bytes, name: str, limits: Limits, stored: Path, rubric: Rubric) -> Admission:
    """In a worker: the input gate on the bytes of a workbook collected with gate=False, then, when they are
    admitted, `analyse` of those bytes (`stored` is where the original will be kept once admitted)."""
    verdict = admit_workbook(content, limits, name)
    if isinstance(verdict, str):
        return Admission(refusal=verdict)
    try:
        return Admission(analysis=analyse(stored, rubric, verdict.error_cells, verdict))
    except UnreadableWorkbook as exc:
        return Admission(unreadable=str(exc))


@dataclass
class _Pending:
    """An item on its way through the batch: its stored original and, for a workbook, its analysis under way (for
    one collected unchecked, the gate's verdict and the analysis)."""

    item: Incoming | Rejected | Ignored
    sha: str | None = None
    stored: Path | None = None
    future: Future[Analysis] | Future[Admission] | None = None
    failure: str = ""


class _Workers:
    """Worker processes for the analysis and the receipts, started on first use; `DUCHA_WORKERS=1` keeps
    everything in this process."""

    def __init__(self) -> None:
        self.count = int(os.environ.get(WORKERS_ENV) or min(os.cpu_count() or 1, MAX_WORKERS))
        self.pool: ProcessPoolExecutor | None = None
        self.receipts: list[tuple[str, Future[Path]]] = []

    def submit(self, stored: Path, rubric: Rubric, item: Incoming) -> Future[Analysis] | None:
        if self.count <= 1:
            return None
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.count)
        return self.pool.submit(analyse, stored, rubric, item.error_cells, item.admitted())

    def admit(self, item: Incoming, limits: Limits, stored: Path, rubric: Rubric) -> Future[Admission]:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=self.count)
        return self.pool.submit(admit_and_analyse, item.content, item.name, limits, stored, rubric)

    def write_receipt(self, folder: Path, outcome: Outcome, findings: list[Finding] | None) -> None:
        assert self.pool is not None
        self.receipts.append((outcome.name, self.pool.submit(write_receipt, folder, outcome, findings)))

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for name, future in self.receipts:
            try:
                future.result()
            except Exception:  # a missing receipt must not undo what the archive recorded
                log.exception("could not write the receipt for %s", name)
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


class Intake:
    """One intake run over an archive."""

    def __init__(self, archive: Archive, *, password: str | None = None, rubric: Rubric = DEFAULT_RUBRIC,
                 limits: Limits | None = None, receipts: bool = True) -> None:
        self.archive = archive
        self.password = password
        self.rubric = rubric
        self.limits = limits
        self.receipts = archive.folder / RECEIPTS if receipts else None
        self._workers: _Workers | None = None

    def run(self, paths: Iterable[Path], progress: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Take in everything under `paths`, in order. Workbooks are analysed in worker processes while the
        archive, which only this process writes, records the results in the order the items came."""
        kwargs = {"password": self.password, "exclude": [self.archive.folder]}
        kwargs |= {"limits": self.limits} if self.limits else {}
        outcomes: list[Outcome] = []
        window: deque[_Pending] = deque()
        with _Workers() as workers:
            self._workers = workers
            # with worker processes, the input gate runs there too, on each workbook's bytes before they are stored
            for item in collect([Path(p) for p in paths], gate=workers.count <= 1, **kwargs):
                window.append(self._start(item, workers, window))
                while len(window) > WINDOW:
                    outcomes.append(self._finish(window.popleft(), progress))
            while window:
                outcomes.append(self._finish(window.popleft(), progress))
        self._workers = None
        return outcomes

    def take(self, item: Incoming | Rejected | Ignored) -> Outcome:
        """Take one item in, in this process; never raises for a bad file."""
        return self._finish(self._start(item, None, ()), None)

    def _start(self, item: Incoming | Rejected | Ignored, workers: _Workers | None,
               in_flight: Iterable[_Pending]) -> _Pending:
        if not isinstance(item, Incoming):
            return _Pending(item)
        sha = sha256_of(item.content)
        if self.archive.find_by_hash(sha) is not None or any(p.sha == sha for p in in_flight):
            return _Pending(item, sha)  # a duplicate: decided when its turn comes
        if item.gate_pending:  # admitted, stored and analysed in a worker; stored here when its turn comes
            suffix = Path(item.name).suffix or ".xlsx"
            return _Pending(item, sha, future=workers.admit(item, self.limits or DEFAULT_LIMITS,
                                                            self.archive.original_path(sha, suffix), self.rubric)
                            if workers is not None and workers.count > 1 else None)
        try:
            stored = self.archive.store_original(item.content, Path(item.name).suffix or ".xlsx")
        except OSError as exc:
            return _Pending(item, sha, failure=f"无法保存原件：{exc.strerror or exc}")
        future = workers.submit(stored, self.rubric, item) if workers is not None else None
        return _Pending(item, sha, stored, future)

    def _finish(self, pending: _Pending, progress: Callable[[Outcome], None] | None) -> Outcome:
        outcome = self._outcome(pending)
        if progress:
            progress(outcome)
        return outcome

    def _outcome(self, p: _Pending) -> Outcome:
        """Exactly one outcome per item; nothing about one file (nor the ledger, nor its receipt) stops the batch."""
        try:
            return self._decide(p)
        except Exception:
            log.exception("intake could not record %s", p.item.name)
            reason = "处理时发生内部错误，已记入日志；请把文件和日志发给技术支持"
            try:
                self.archive.add_event(store.REJECTED, p.item.name, p.item.source, sha256=p.sha, reason=reason)
            except Exception:
                log.exception("could not record the rejection of %s", p.item.name)
            return Outcome(p.item.name, p.item.source, store.REJECTED, reason)

    def _decide(self, p: _Pending) -> Outcome:
        item = p.item
        if isinstance(item, Ignored):
            self.archive.add_event(store.IGNORED, item.name, item.source, reason=item.reason)
            return Outcome(item.name, item.source, store.IGNORED, item.reason)
        if isinstance(item, Rejected):
            return self._reject(item.name, item.source, item.reason)
        if p.failure:
            return self._reject(item.name, item.source, p.failure, p.sha)
        admission = self._admission(p) if item.gate_pending else None
        if admission is not None and admission.refusal is not None:
            return self._reject(item.name, item.source, admission.refusal)  # as collect would have rejected it
        known = self.archive.find_by_hash(p.sha)
        if known is not None:
            return self._duplicate(item, p.sha, known)
        try:
            stored = p.stored or self.archive.store_original(item.content, Path(item.name).suffix or ".xlsx")
        except OSError as exc:
            if admission is None:
                raise
            return self._reject(item.name, item.source, f"无法保存原件：{exc.strerror or exc}", p.sha)
        try:
            if admission is not None and admission.unreadable is not None:
                return self._reject(item.name, item.source, f"无法读取：{admission.unreadable}", p.sha)
            analysis = admission.analysis if admission is not None and admission.analysis else \
                self._analysis(p, stored, admission.admitted if admission is not None else p.item.admitted())
        except UnreadableWorkbook as exc:
            return self._reject(item.name, item.source, f"无法读取：{exc}", p.sha)
        try:
            if not MONTH.fullmatch(str(analysis.basic.get("month") or "")):
                return self._reject(item.name, item.source, NO_MONTH, p.sha)
            return self._record(item, p.sha, stored, analysis)
        except Exception:
            log.exception("intake failed for %s", item.name)
            return self._reject(item.name, item.source, "处理时发生内部错误，已记入日志；请把文件和日志发给技术支持",
                                p.sha)

    def _analysis(self, p: _Pending, stored: Path, admitted: Admitted | None) -> Analysis:
        if p.future is not None and not p.item.gate_pending:
            try:
                return p.future.result()
            except BrokenProcessPool:  # a worker died (out of memory, killed): analyse here instead
                log.warning("a worker process died; analysing %s in the main process", p.item.name)
        return analyse(stored, self.rubric, p.item.error_cells if admitted is None else admitted.error_cells,
                       admitted)

    def _admission(self, p: _Pending) -> Admission:
        """The worker's verdict on a workbook collected unchecked, or the gate's, here, when there is none."""
        if p.future is not None:
            try:
                return p.future.result()
            except BrokenProcessPool:  # a worker died (out of memory, killed): admit and analyse here instead
                log.warning("a worker process died; admitting %s in the main process", p.item.name)
        verdict = admit_workbook(p.item.content, self.limits or DEFAULT_LIMITS, p.item.name)
        return Admission(refusal=verdict) if isinstance(verdict, str) else Admission(admitted=verdict)

    def _reject(self, name: str, source: str, reason: str, sha: str | None = None) -> Outcome:
        self.archive.add_event(store.REJECTED, name, source, sha256=sha, reason=reason)
        outcome = Outcome(name, source, store.REJECTED, reason)
        outcome.receipt = self._receipt(outcome, None)
        return outcome

    def _duplicate(self, item: Incoming, sha: str, row: sqlite3.Row) -> Outcome:
        if row["status"] == store.CURRENT:
            self._update_ledger(row["id"], row["county_code"], [], item.name)
        reason = f"与已接收的「{row['file_name']}」（{row['received_at']}）内容完全相同，未重复保存"
        self.archive.add_event(store.DUPLICATE, item.name, item.source, sha256=sha, reason=reason,
                               submission_id=row["id"])
        outcome = Outcome(item.name, item.source, store.DUPLICATE, reason, county=row["county"], month=row["month"],
                          group=row["inspection_group"], version=row["version"], submission_id=row["id"])
        outcome.receipt = self._receipt(outcome, None)
        return outcome

    def _record(self, item: Incoming, sha: str, stored: Path, analysis: Analysis) -> Outcome:
        submission = analysis.submission(item, sha, self.rubric)
        try:
            result = self.archive.add_submission(submission, stored)
        except sqlite3.IntegrityError:  # another intake took the same content in meanwhile
            return self._duplicate(item, sha, self.archive.find_by_hash(sha))
        self._update_ledger(result.submission_id, submission.county_code, analysis.revisit, item.name)
        outcome = self._accepted(item, submission, result)
        outcome.receipt = self._receipt(outcome, analysis.findings)
        return outcome

    def _update_ledger(self, submission_id: int, county_code: str | None, revisit: list[dict[str, Any]],
                       name: str) -> None:
        """Problems flagged in the submission become ledger entries; its 「回访」 results update earlier ones.

        Both are idempotent, and a duplicate of an archived submission runs them again, so an intake killed
        between the archive write and this step is completed by the next one."""
        try:
            ledger.sync_from_flags(self.archive, submission_id)
            if revisit:
                result = ledger.apply_revisit(self.archive, revisit, actor=f"回访督查（{name}）",
                                              county_code=county_code)
                for message in result.refused:
                    log.warning("revisit row refused in %s: %s", name, message)
        except Exception:  # the ledger is rebuilt from the archive by the next intake; never stops the batch
            log.exception("ledger sync failed for submission %s (%s)", submission_id, name)

    @staticmethod
    def _accepted(item: Incoming, sub: Submission, result: Stored) -> Outcome:
        kind = store.CONFLICT if result.status == store.CONFLICT else store.ACCEPTED
        reason = ("同县同月已有其他督查组的工作簿，需州督查办裁定（ducha resolve 编号）" if result.conflicts_with
                  else "")
        return Outcome(item.name, item.source, kind, reason, county=sub.county, month=sub.month,
                       group=sub.inspection_group, version=result.version, total=sub.total, errors=sub.errors,
                       submission_id=result.submission_id, superseded=result.superseded)

    def _receipt(self, outcome: Outcome, findings: list[Finding] | None) -> Path | None:
        """Write the receipt: in a worker process when there are workers (the batch waits for it at the end)."""
        if self.receipts is None:
            return None
        if self._workers is not None and self._workers.pool is not None:
            self._workers.write_receipt(self.receipts, outcome, findings)
            return self.receipts / receipt_name(outcome)
        try:
            return write_receipt(self.receipts, outcome, findings)
        except Exception:
            log.exception("could not write the receipt for %s", outcome.name)
            return None


def summarise_folder(folder: Path, *, month: str | None = None, password: str | None = None
                     ) -> tuple[list[Outcome], Path | None]:
    """The 汇总 button: take in everything under `folder` into `folder/督查档案`, then write the month's report there.

    The month is the one most of the batch's workbooks are for (else the latest in the archive)."""
    from collections import Counter

    from ducha.prefecture.report import write_report

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
