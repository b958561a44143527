"""The check pipeline over one workbook: read, parse, check, and describe what to write."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ducha.checks.rules import Completeness, check_workbook, completeness
from ducha.model.findings import Finding, Severity, sort_key
from ducha.reading.raw import read_raw_workbook
from ducha.reading.workbook import ParsedWorkbook, parse_workbook
from ducha.sheets.check_sheet import check_plan
from ducha.sheets.outputplan import OutputPlan


@dataclass
class CheckResult:
    """Findings and completeness of one workbook."""

    path: Path
    parsed: ParsedWorkbook
    findings: list[Finding]
    per_sheet: list[Completeness]
    per_village: list[Completeness]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)

    def title(self) -> str:
        basic = self.parsed.basic
        county = basic.get("county") or self.path.stem
        month = basic.get("month") or ""
        return f"{county} {month} 精准扶贫专题督查工作簿检查结果".replace("  ", " ")

    def plan(self) -> OutputPlan:
        return check_plan(self.findings, self.per_sheet, self.per_village, self.title())


def check_parsed(path: Path, parsed: ParsedWorkbook) -> CheckResult:
    findings = parsed.findings + check_workbook(parsed)
    findings.sort(key=lambda f: sort_key(f, parsed.sheet_order))
    per_sheet, per_village = completeness(parsed)
    return CheckResult(path=Path(path), parsed=parsed, findings=findings, per_sheet=per_sheet,
                       per_village=per_village)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: reading a sheet creates millions of objects and no cycles, and the
    collector's passes over them cost about a fifth of the read+check time of a 100,000-household sheet."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_check(path: Path) -> CheckResult:
    """Read and check one workbook file. Raises io.reading.UnreadableWorkbook when it cannot be read."""
    with gc_paused():
        return check_parsed(path, parse_workbook(read_raw_workbook(Path(path))))
