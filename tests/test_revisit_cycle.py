"""A revisit cycle end to end: month 1 problems → letters → month 2 workbook with 「回访」 → intake → ledger."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from ducha.app.cli import main
from ducha.app.demo import write_demo_roster, write_demo_workbook
from ducha.prefecture.archive import Archive


def _header_columns(ws) -> dict[str, int]:
    return {str(c.value).rstrip("*"): c.column for c in ws[1] if c.value}


def test_problems_found_in_november_are_revisited_in_december_and_the_ledger_follows(tmp_path: Path) -> None:
    archive = tmp_path / "档案"
    november = write_demo_workbook(tmp_path / "清水县-2019-11.xlsx")
    assert main(["intake", str(november), "--archive", str(archive)]) == 0
    with Archive(archive) as a:
        opened = [r["id"] for r in a.query("SELECT id FROM ledger WHERE status = '待整改' ORDER BY id")]
    assert len(opened) >= 2
    assert main(["letters", "--month", "2019-11", "--archive", str(archive), "--out", str(tmp_path / "函")]) == 0
    assert list((tmp_path / "函").glob("*.docx"))

    roster = write_demo_roster(tmp_path / "名册.xlsx")
    december = tmp_path / "清水县-2019-12.xlsx"
    assert main(["sample", str(roster), "--month", "2019-12", "--county", "522631", "--seed", "7",
                 "--archive", str(archive), "--out", str(december)]) == 0

    book = load_workbook(december)
    ws = book["回访"]
    columns = _header_columns(ws)
    listed = [ws.cell(r, columns["台账编号"]).value for r in range(2, ws.max_row + 1)
              if ws.cell(r, columns["台账编号"]).value]
    assert sorted(listed) == opened
    ws.cell(2, columns["回访结果"]).value = "整改到位"
    ws.cell(3, columns["回访结果"]).value = "未整改到位"
    ws.cell(3, columns["回访说明"]).value = "入户核实，饮水问题仍未解决"
    book.save(december)

    main(["intake", str(december), "--archive", str(archive)])

    with Archive(archive) as a:
        status = {r["id"]: r["status"] for r in a.query("SELECT id, status FROM ledger")}
        history = a.query("SELECT entry_id, new_status FROM ledger_history WHERE entry_id = ?", (listed[1],))
        draws = a.query("SELECT seed, month FROM draws")
    assert status[listed[0]] == "回访通过"
    assert status[listed[1]] == "回访未通过"
    assert all(status[e] == "待整改" for e in listed[2:])
    assert history[-1]["new_status"] == "回访未通过"
    assert [(d["seed"], d["month"]) for d in draws] == [(7, "2019-12")]


def test_the_sample_button_draws_from_a_chosen_roster_and_opens_the_workbook(tmp_path: Path) -> None:
    from ducha.app import excel

    roster = write_demo_roster(tmp_path / "名册.xlsx")
    opened: list[str] = []

    class Book:  # stands in for Excel's Workbooks.Open only
        class app:
            class books:
                open = staticmethod(opened.append)

    message = excel.sample_from_roster(Book(), lambda text: None, pick_roster=lambda b: str(roster),
                                       ask_month=lambda b: "2019-12")

    assert "2019-12" in message and len(opened) == 1 and Path(opened[0]).exists()
    assert load_workbook(opened[0])["基本信息"]["B2"].value == "2019-12"
    with Archive(tmp_path / "督查档案") as a:
        assert len(a.query("SELECT id FROM draws")) == 1
    cancelled = excel.sample_from_roster(Book(), lambda t: None, pick_roster=lambda b: None)
    assert cancelled == "没有选择农户名册，抽样已取消。"
