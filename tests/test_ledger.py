"""The problem ledger: entries from flags and 暗访 reports, export → edit → import, and revisit results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from ducha.prefecture import ledger
from ducha.prefecture.archive import Archive, Submission, sha256_of
from ducha.prefecture.ledger import FAILED, IN_PROGRESS, PASSED, PENDING, RECTIFIED

AT = "2019-11-20T10:00:00+08:00"


def flag(problem: str, *, household: str = "张三", masked_id: str = "5201**********1234", level: str = "农户",
         severity: str = "错误", row: int = 7) -> dict[str, Any]:
    return {"level": level, "severity": severity, "sheet": "households", "row": row, "cell": "", "township": "龙场镇",
            "village": "新寨村", "household": household, "masked_id": masked_id, "problem": problem,
            "reasons": f"{problem}：户年人均纯收入低于标准", "action": f"核实并纠正{problem}"}


def submit(archive: Archive, flags: list[dict[str, Any]], *, county: str = "甲县", code: str = "520101",
           month: str = "2019-11", group: str = "第一组", tag: str = "") -> int:
    content = f"{county}|{month}|{group}|{tag}".encode()
    path = archive.store_original(content, ".xlsx")
    sub = Submission(sha256=sha256_of(content), file_name=f"{county}{month}{tag}.xlsx", source="邮件", received_at=AT,
                     county=county, county_code=code, month=month, inspection_group=group, flags=flags)
    return archive.add_submission(sub, path).submission_id


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    with Archive(tmp_path / "档案") as store:
        yield store


def statuses(archive: Archive) -> dict[str, str]:
    return {r["id"]: r["status"] for r in ledger.entries(archive)}


def test_sync_makes_one_entry_per_error_or_warning_flag_and_never_duplicates(archive: Archive) -> None:
    sub = submit(archive, [flag("错退"), flag("不认可", household="李四", masked_id="", severity="警告"),
                           flag("错退无法判定", severity="提示")])
    first = ledger.sync_from_flags(archive, sub, at=AT)
    second = ledger.sync_from_flags(archive, sub, at=AT)
    assert first == second and len(first) == 2
    assert all(i.startswith("TZ-2019-11-") and len(i) == len("TZ-2019-11-") + 8 for i in first)
    rows = ledger.entries(archive)
    assert len(rows) == 2 and {r["status"] for r in rows} == {PENDING}
    assert rows[0]["deadline"] == "2019-12-20" and "农户调查第 7 行" in rows[0]["evidence"]
    assert rows[0]["requirement"] == "核实并纠正错退"
    assert len(ledger.history(archive)) == 2


def test_a_new_version_keeps_worked_entries_and_drops_untouched_withdrawn_ones(archive: Archive) -> None:
    old = submit(archive, [flag("错退"), flag("漏评", household="王五", masked_id=""),
                           flag("不认可", household="赵六")])
    kept, dropped, worked = ledger.sync_from_flags(archive, old, at=AT)
    ledger.set_status(archive, worked, IN_PROGRESS, actor="督查办", at=AT)
    new = submit(archive, [flag("错退")], tag="v2")
    assert ledger.sync_from_flags(archive, new, at=AT) == [kept]
    assert set(statuses(archive)) == {kept, worked}
    assert ledger.entries(archive)[0]["submission_id"] == new
    assert ledger.sync_from_flags(archive, old, at=AT) == []  # superseded: adds nothing
    assert ledger.history(archive, dropped) == []


def test_manual_reports_get_stable_ids(archive: Archive) -> None:
    report = {"county": "甲县", "county_code": "520101", "month": "2019-11", "problem": "危房改造补助被截留",
              "township": "龙场镇", "actor": "督查办", "at": AT}
    first = ledger.add_manual(archive, evidence="群众来信反映", **report)
    again = ledger.add_manual(archive, evidence="另一封来信", **report)
    assert first == again and len(ledger.entries(archive)) == 1
    row = ledger.entries(archive)[0]
    assert row["origin"] == "manual" and row["household"] is None and row["status"] == PENDING


def test_transition_rules() -> None:
    assert ledger.refusal("X", PENDING, IN_PROGRESS) is None
    assert ledger.refusal("X", PENDING, RECTIFIED) is None
    assert ledger.refusal("X", FAILED, IN_PROGRESS) is None
    assert "只能在「已整改」之后" in ledger.refusal("X", PENDING, PASSED)
    assert "已销号" in ledger.refusal("X", PASSED, IN_PROGRESS)
    assert ledger.refusal("X", PENDING, PASSED, revisit=True) is None
    assert "不是台账状态" in ledger.refusal("X", PENDING, "已完成")


def export_and_edit(archive: Archive, tmp_path: Path, edits: dict[str, tuple[str, str]]) -> Path:
    out = ledger.export_ledger(archive, tmp_path / "问题台账.xlsx")
    wb = load_workbook(out)
    ws = wb["问题台账"]
    for row in ws.iter_rows(min_row=ledger.HEADER_ROW + 1):
        if row[0].value in edits:
            row[ledger._column("status") - 1].value, row[ledger._column("note") - 1].value = edits[row[0].value]
    for entry, (status, note) in edits.items():
        if entry.startswith("新增"):
            ws.append([entry, *[None] * 10, status, note])
    wb.save(out)
    return out


def test_export_has_dropdown_frozen_header_filter_and_history(archive: Archive, tmp_path: Path) -> None:
    ids = ledger.sync_from_flags(archive, submit(archive, [flag("错退"), flag("漏评", household="王五")]), at=AT)
    out = ledger.export_ledger(archive, tmp_path / "问题台账.xlsx")
    wb = load_workbook(out)
    ws = wb["问题台账"]
    assert [c.value for c in ws[ledger.HEADER_ROW]][:3] == ["编号", "县", "督查月份"]
    assert ws.freeze_panes == "B4" and ws.auto_filter.ref.startswith("A3:")
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    (validation,) = ws.data_validations.dataValidation
    assert "回访未通过" in validation.formula1 and "L4" in str(validation.sqref)
    assert {ws.cell(r, 1).value for r in (4, 5)} == set(ids)
    assert wb["状态变更记录"].max_row == ledger.HEADER_ROW + 2


def test_import_applies_valid_edits_with_history(archive: Archive, tmp_path: Path) -> None:
    a, b = ledger.sync_from_flags(archive, submit(archive, [flag("错退"), flag("漏评", household="王五")]), at=AT)
    path = export_and_edit(archive, tmp_path, {a: (IN_PROGRESS, "已召开村民评议会")})
    result = ledger.import_ledger(archive, path, actor="督查办", at="2019-12-01T09:00:00+08:00")
    assert result.changed == [a] and result.unchanged == [b] and result.refused == []
    assert statuses(archive) == {a: IN_PROGRESS, b: PENDING}
    last = ledger.history(archive, a)[-1]
    assert (last["old_status"], last["new_status"], last["note"], last["actor"]) == (
        PENDING, IN_PROGRESS, "已召开村民评议会", "督查办")
    again = ledger.import_ledger(archive, path, actor="督查办", at="2019-12-02T09:00:00+08:00")
    assert again.changed == [] and len(ledger.history(archive, a)) == 2  # re-import is a no-op


def test_import_refuses_impossible_transitions_unknown_status_and_unknown_ids(archive: Archive,
                                                                             tmp_path: Path) -> None:
    a, b, c = ledger.sync_from_flags(archive, submit(archive, [flag("错退"), flag("漏评", household="王五"),
                                                               flag("不认可", household="赵六")]), at=AT)
    path = export_and_edit(archive, tmp_path, {a: (PASSED, ""), b: ("已完成", ""), c: (RECTIFIED, "已纠正"),
                                               "新增-TZ-1": (IN_PROGRESS, "")})
    strict = ledger.import_ledger(archive, path, actor="督查办", at=AT, strict=True)
    assert len(strict.refused) == 3 and strict.changed == []
    assert set(statuses(archive).values()) == {PENDING} and len(ledger.history(archive)) == 3
    result = ledger.import_ledger(archive, path, actor="督查办", at=AT)
    rows = {r: i for i, r in enumerate((a, b, c), start=ledger.HEADER_ROW + 1)}
    assert result.changed == [c]
    refused = "\n".join(result.refused)
    assert f"「问题台账」第 {rows[a]} 行" in refused and "不能从「待整改」改为「回访通过」" in refused
    assert f"第 {rows[b]} 行" in refused and "「已完成」不是台账状态" in refused
    assert "第 7 行" in refused and "台账中没有编号 新增-TZ-1" in refused
    assert statuses(archive) == {a: PENDING, b: PENDING, c: RECTIFIED}


def test_apply_revisit_closes_or_reopens_entries(archive: Archive) -> None:
    a, b, c = ledger.sync_from_flags(archive, submit(archive, [flag("错退"), flag("漏评", household="王五"),
                                                               flag("不认可", household="赵六")]), at=AT)
    ledger.add_manual(archive, county="乙县", county_code="520102", month="2019-11", problem="其他县的问题",
                      evidence="媒体报道", at=AT)
    assert [e["entry_id"] for e in ledger.open_entries(archive, "520101", before="2019-12")] == [a, b, c]
    assert ledger.open_entries(archive, "520101", before="2019-11") == []
    other = ledger.entries(archive, county_code="520102")[0]["id"]
    rows = [{"entry_id": a, "result": "整改到位", "note": None, "revisit_date": "2019-12-10", "row": 4},
            {"entry_id": b, "result": "未整改到位", "note": "仍未纳入", "revisit_date": "2019-12-10", "row": 5},
            {"entry_id": "TZ-2019-11-00000000", "result": "整改到位", "note": None, "revisit_date": None, "row": 6},
            {"entry_id": other, "result": "整改到位", "note": None, "revisit_date": None, "row": 7},
            {"entry_id": c, "result": None, "note": None, "revisit_date": None, "row": 8}]
    result = ledger.apply_revisit(archive, rows, actor="第一组", at=AT, county_code="520101")
    assert result.changed == [a, b] and result.unchanged == [c]
    assert "「回访」第 6 行" in result.refused[0] and "不属于本县" in result.refused[1]
    assert statuses(archive)[a] == PASSED and statuses(archive)[b] == FAILED
    assert ledger.history(archive, b)[-1]["note"] == "回访（2019-12-10）：未整改到位；仍未纳入"
    assert ledger.apply_revisit(archive, rows[:2], actor="第一组", at=AT).changed == []  # resubmitted workbook
    assert [e["entry_id"] for e in ledger.open_entries(archive, "520101")] == [b, c]
    ledger.set_status(archive, b, IN_PROGRESS, actor="督查办", at=AT)
    with pytest.raises(ledger.LedgerError, match="已销号"):
        ledger.set_status(archive, a, IN_PROGRESS, actor="督查办", at=AT)
