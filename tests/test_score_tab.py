"""The score tab at a glance, on the demo: the total is the sum of the items as shown, in every place a score is
shown; item cells coloured by their share of the maximum; labels that fit; the share chart beside the items; two
A4 landscape pages with the title rows repeated, looked at through LibreOffice."""

from __future__ import annotations

import contextlib
import io
import json
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageStat

from ducha.app.cli import main
from ducha.prefecture.report import FIRST, SUMMARY_SHEET
from ducha.scoring.rubric import DEFAULT_RUBRIC
from ducha.sheets.outputplan import FILLS, Style, text_width
from ducha.sheets.score_sheet import SCORE_WIDTHS, SHARE_BANDS, SUMMARY_FIRST_ROW, share_style
from libreoffice import convert

ITEMS = range(SUMMARY_FIRST_ROW, SUMMARY_FIRST_ROW + 7)  # 1-6 and the N item
ITEM_LINE = re.compile(r"^\s+([0-9.]+)/([0-9.]+)\s", re.M)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The whole demo (workbook, run, intake, receipts, report) and what it printed."""
    folder = tmp_path_factory.mktemp("demo")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["demo", "--out", str(folder)]) == 0
    return folder, printed.getvalue()


@pytest.fixture(scope="module")
def result(demo: tuple[Path, str]) -> Path:
    (found,) = demo[0].glob("*-2019-11-*.结果.xlsx")
    return found


@pytest.fixture(scope="module")
def pdf(result: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert(result, "pdf", tmp_path_factory.mktemp("pdf"))


def _shown(value: float) -> float:
    """A number as the tab, the receipt and the report show it (0.00)."""
    return float(f"{value:.2f}")


def _sums_up(total: float, items: list[float]) -> bool:
    return f"{total:.2f}" == f"{sum(_shown(v) for v in items):.2f}"


def test_the_total_is_the_sum_of_the_shown_items_on_the_tab(result: Path) -> None:
    ws = load_workbook(result, data_only=True)["评分"]
    items = [ws[f"D{r}"].value for r in ITEMS]
    assert all(ws[f"D{r}"].number_format == "0.00" for r in ITEMS) and ws["B3"].number_format == "0.00"
    assert [_shown(v) for v in items] == items  # each item is kept as shown
    assert _sums_up(ws["B3"].value, items)
    assert ws["B3"].value != pytest.approx(65.286677, abs=1e-6)  # the unrounded total of issue 13


def test_the_total_is_the_sum_of_the_shown_items_in_the_console_and_json(demo: tuple[Path, str], result: Path,
                                                                         capsys) -> None:
    console = demo[1]
    total = float(re.search(r"评分：([0-9.]+)/100", console).group(1))
    items = [float(points) for points, _ in ITEM_LINE.findall(console)]
    assert len(items) == 7 and _sums_up(total, items)

    (workbook,) = demo[0].glob("*-2019-11-督查工作簿.xlsx")
    main(["score", str(workbook), "--json", "--out", str(result.with_name("json.xlsx"))])
    score = json.loads(capsys.readouterr().out)["score"]
    assert _sums_up(score["total"], [i["points"] for i in score["items"]])
    assert score["total"] == total and [_shown(i["points"]) for i in score["items"]] == items


def test_the_total_is_the_sum_of_the_shown_items_in_the_archive_receipt_and_report(demo: tuple[Path, str]) -> None:
    folder = demo[0]
    with sqlite3.connect(folder / "督查档案" / "ducha.sqlite3") as db:
        ((sub_id, total),) = db.execute("SELECT id, total FROM submissions WHERE status = 'current'").fetchall()
        points = [p for (p,) in db.execute("SELECT points FROM scores WHERE submission_id = ?", (sub_id,))]
    assert len(points) == 7 and _sums_up(total, points)

    (receipt,) = (folder / "督查档案" / "回执").glob("*.xlsx")
    facts = {row[0].value: row[1] for row in load_workbook(receipt)["回执"].iter_rows(max_col=2) if row[0].value}
    assert facts["总分"].value == total and facts["总分"].number_format == "0.00"

    (report,) = folder.glob("督查评分汇总-*.xlsx")
    row = next(load_workbook(report, data_only=True)[SUMMARY_SHEET].iter_rows(min_row=FIRST, max_row=FIRST))
    assert row[4].value == total and _sums_up(row[4].value, [c.value for c in row[5:12]])


def test_item_cells_are_coloured_by_their_share_of_the_maximum(result: Path) -> None:
    ws = load_workbook(result)["评分"]
    values = load_workbook(result, data_only=True)["评分"]
    seen = set()
    for r in ITEMS:
        points, maximum = values[f"D{r}"].value, values[f"C{r}"].value
        want = FILLS[share_style(points, maximum)]
        for column in "DE":
            assert ws[f"{column}{r}"].fill.fgColor.rgb[-6:] == want, (r, column, points, maximum)
        seen.add(want)
    assert len(seen) >= 2  # the demo has items in more than one band: not all pink
    assert values[f"E{SUMMARY_FIRST_ROW + 1}"].value == pytest.approx(
        values[f"D{SUMMARY_FIRST_ROW + 1}"].value / values[f"C{SUMMARY_FIRST_ROW + 1}"].value)


def test_share_bands_are_green_amber_red() -> None:
    assert [share_style(p, 10) for p in (10, 9, 8.99, 6, 5.99, 0)] == [
        Style.GOOD, Style.GOOD, Style.WARNING, Style.WARNING, Style.BAD, Style.BAD]
    assert [floor for floor, _ in SHARE_BANDS] == [0.9, 0.6, 0.0]


def test_item_names_fit_their_column_and_heading_numbers_stand_clear_of_the_next_label(result: Path) -> None:
    names = [item.name for item in DEFAULT_RUBRIC.items]
    assert max(text_width(n) for n in names) + 1 <= SCORE_WIDTHS[1]  # "脱贫人口错退率、贫困人口漏评率、群众认可度"
    ws = load_workbook(result)["评分"]
    assert ws["D3"].value == 100 and ws["D3"].alignment.horizontal == "left"  # "100" next to 「评分细则」
    assert ws["B3"].alignment.horizontal == "left"


def test_the_chart_shows_each_item_as_a_share_on_one_axis_beside_the_items(result: Path) -> None:
    ws = load_workbook(result)["评分"]
    (chart,) = ws._charts
    assert (chart.y_axis.scaling.min, chart.y_axis.scaling.max) == (0.0, 1.0)
    assert chart.y_axis.numFmt.formatCode == "0%"
    assert len(chart.series) == 1 and chart.series[0].val.numRef.f.endswith(f"$E${SUMMARY_FIRST_ROW}:$E${ITEMS[-1]}")
    anchor = chart.anchor._from
    assert anchor.row + 1 < SUMMARY_FIRST_ROW + 8 and anchor.col == 5  # F, beside section 一


def test_the_tab_prints_on_two_a4_landscape_pages_with_the_title_rows_repeated(result: Path, pdf: Path) -> None:
    ws = load_workbook(result)["评分"]
    assert ws.print_title_rows == "$1:$2"
    setup = ws.page_setup
    assert (setup.fitToWidth, setup.fitToHeight, setup.orientation) == (1, 2, "landscape")
    assert int(setup.paperSize) == int(ws.PAPERSIZE_A4) and ws.sheet_properties.pageSetUpPr.fitToPage

    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout.split("\f")
    pages = [page for page in text if "评分 第" in page]
    assert len(pages) == 2
    assert all("精准扶贫专题督查评分表" in page and "被督查县" in page for page in pages)  # the title rows, again
    assert "各项得分率" in pages[0]  # the chart is on the first page
    assert "一、各项得分" in pages[0] and "五、评分依据" in pages[1]


def test_the_tab_renders_to_pages_that_are_not_blank(pdf: Path, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True)
    pictures = sorted(tmp_path.glob("page-*.png"))
    assert len(pictures) == 2
    for picture in pictures:
        image = Image.open(picture).convert("L")
        assert ImageStat.Stat(image).stddev[0] > 10, picture.name  # a blank page is one flat colour


def test_the_deductions_add_up_to_what_the_items_lost_and_one_rules_cases_share_a_row(result: Path) -> None:
    ws = load_workbook(result, data_only=True)["评分"]
    rows = [[c.value for c in row] for row in ws.iter_rows(max_col=6)]
    start = next(i for i, r in enumerate(rows) if r[0] == "三、扣分明细") + 2
    end = next(i for i, r in enumerate(rows) if isinstance(r[0], str) and r[0].startswith("四、")) - 1
    deductions = [r for r in rows[start:end] if r[0]]
    lost = sum(ws[f"C{r}"].value - ws[f"D{r}"].value for r in ITEMS)
    assert f"{sum(r[2] for r in deductions):.2f}" == f"{lost:.2f}"
    (inaccurate,) = [r for r in deductions if r[0] == "1"]  # the demo's 7 识别不准确户, one row
    assert inaccurate[5].startswith("识别不准确户 7 例") and inaccurate[3].endswith("等 7 处")
