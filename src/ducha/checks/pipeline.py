"""The check pipeline over one workbook: read, parse, run every registered check, measure completeness."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ducha.checks.completeness import Completeness, completeness
from ducha.checks.consistency import apply_inspection_mode
from ducha.checks.registry import run_checks
from ducha.model.findings import Finding, Severity, sort_key
from ducha.reading.gc_pause import gc_paused
from ducha.reading.raw import read_raw_workbook
from ducha.reading.workbook import ParsedWorkbook, parse_workbook


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


def check_parsed(path: Path, parsed: ParsedWorkbook) -> CheckResult:
    findings = apply_inspection_mode(parsed, parsed.findings + run_checks(parsed))
    findings.sort(key=lambda f: sort_key(f, parsed.sheet_order))
    per_sheet, per_village = completeness(parsed)
    return CheckResult(path=Path(path), parsed=parsed, findings=findings, per_sheet=per_sheet,
                       per_village=per_village)


def run_check(path: Path) -> CheckResult:
    """Read and check one workbook file. Raises io.reading.UnreadableWorkbook when it cannot be read."""
    with gc_paused():
        return check_parsed(path, parse_workbook(read_raw_workbook(Path(path))))
