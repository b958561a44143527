"""The bad-input corpus (tests/corpus/cases.py): every kind gets its exact outcome, nothing raises unhandled,
nothing is written outside the output folder, and the input file is byte-identical after every run."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from corpus.cases import CASES, Case, Findings, RejectedByIntake, Unreadable
from ducha.app.cli import main
from ducha.checks.pipeline import run_check
from ducha.model.findings import Code, Severity
from ducha.prefecture import intake_sources
from ducha.reading.raw import UnreadableWorkbook

SEVERITY = {code.code: code.severity for code in Code}


def test_the_corpus_has_at_least_forty_kinds_with_distinct_names() -> None:
    names = [case.name for case in CASES]
    assert len(names) >= 40
    assert len(set(names)) == len(names)


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_outcome(case: Case, path: Path) -> int:
    """Assert run_check's / the intake's outcome; returns the exit code `ducha check` must give."""
    expect = case.expect
    if isinstance(expect, Unreadable):
        with pytest.raises(UnreadableWorkbook) as caught:
            run_check(path)
        assert expect.reason in str(caught.value)
        return 2
    if isinstance(expect, RejectedByIntake):
        items = list(intake_sources.collect([path]))
        assert [type(item).__name__ for item in items] == ["Rejected"]
        assert expect.reason in items[0].reason
        return -1  # `ducha check` does not use the intake's limits: any orderly exit code will do
    assert isinstance(expect, Findings)
    result = run_check(path)
    found = [(f.code, f.sheet, f.cell) for f in result.findings]
    missing = list(expect.expected)
    for finding in found:
        if finding in missing:
            missing.remove(finding)
    assert missing == [], f"expected findings not reported; reported: {found}"
    if expect.exact:
        unexpected = list(found)
        for finding in expect.expected:
            if finding in unexpected:
                unexpected.remove(finding)
        errors = [f for f in unexpected if SEVERITY[f[0]] is Severity.ERROR]
        assert errors == [], f"errors beyond the expected ones: {errors}"
    return 1 if result.errors else 0


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_kind_of_bad_input_gets_its_exact_outcome_and_leaves_the_input_untouched(
        case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, out, logs, cwd = (tmp_path / name for name in ("in", "out", "logs", "cwd"))
    for folder in (inbox, out, cwd):
        folder.mkdir()
    path = case.build(inbox)
    assert path.parent == inbox
    digest = _digest(path)
    before = _listing(inbox)
    monkeypatch.setenv("DUCHA_LOG_DIR", str(logs))
    monkeypatch.chdir(cwd)

    code = _check_outcome(case, path)
    if not isinstance(case.expect, RejectedByIntake):
        list(intake_sources.collect([path]))  # the intake never raises either
    if case.cli:
        exit_code = main(["check", str(path), "--out", str(out / "结果.xlsx")])
        assert exit_code in (0, 1, 2)
        if code >= 0:
            assert exit_code == code
    assert _digest(path) == digest
    assert _listing(inbox) == before
    assert _listing(cwd) == set()
    assert {p.name for p in tmp_path.iterdir()} <= {"in", "out", "logs", "cwd"}
    assert _listing(out) <= {"结果.xlsx"}
    assert not any(name.startswith(".") or name.endswith(".tmp") for name in os.listdir(out))
