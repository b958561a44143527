"""The check registry: every cross-record check of an inspection workbook, run in one pass.

A check is a function of the parsed workbook returning (or yielding) its findings, in the module of its family
(`checks/period.py`, `checks/households.py`, `checks/sample.py`, `checks/county.py`, …), registered by `@check`.
`run_checks` imports every module of this package once, so a new family module needs nothing but its `@check`
functions and its `Code` members in `ducha.model.findings`. Cell-level findings (types, required fields, ID
numbers) come from reading; these checks compare records with each other and with the plan.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable

from ducha.model.findings import Finding
from ducha.reading.workbook import ParsedWorkbook

Check = Callable[[ParsedWorkbook], Iterable[Finding]]

CHECKS: list[Check] = []


def check(func: Check) -> Check:
    """Register `func` as a check of every workbook."""
    CHECKS.append(func)
    return func


def load_checks() -> list[Check]:
    """Import every check module of this package (once); the registered checks, in module then source order."""
    import ducha.checks as package

    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
        importlib.import_module(f"{package.__name__}.{module}")
    return CHECKS


def run_checks(parsed: ParsedWorkbook) -> list[Finding]:
    """Every registered check's findings for one workbook."""
    return [finding for run in load_checks() for finding in run(parsed)]
