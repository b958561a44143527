"""`ducha score`, `ducha flag` and `ducha run` end to end: real files in, real files out, LibreOffice as the judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image, ImageStat

from ducha.app.cli import main
from ducha.app.commands import COMMANDS
from ducha.app.demo import write_demo_workbook
from ducha.reading.workbook import read_workbook
from ducha.scoring.rubric import DEFAULT_RUBRIC
from libreoffice import convert, first_page_png
from markdown_workbook import set_cell, valid_sheets, write_workbook

INPUT_SHEETS = ("基本信息", "抽样", "农户调查", "村级核查", "县级核查", "访谈记录", "参数")


def _values(path: Path) -> dict[str, list[tuple]]:
    book = load_workbook(path)
    return {name: [tuple(c.value for c in row) for row in book[name].iter_rows()] for name in INPUT_SHEETS}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_demo_workbook(tmp_path_factory.mktemp("demo") / "清水县.xlsx")


def test_score_on_a_clean_workbook_gives_full_marks_and_exit_zero(tmp_path: Path, capsys) -> None:
    source = write_workbook(tmp_path / "clean.xlsx", valid_sheets())

    code = main(["score", str(source), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["score"]["total"] == 100
    assert report["flags"] == []
    out = load_workbook(report["output"])
    assert out.sheetnames[0] == "评分"
    assert {"判定明细", "村级明细"} <= set(out.sheetnames)
    assert "检查结果" not in out.sheetnames


def test_a_wrong_exit_household_loses_points_and_is_flagged_on_its_row(tmp_path: Path, capsys) -> None:
    sheets = valid_sheets()
    set_cell(sheets, "农户调查", "饮水安全有保障", 5, "否")  # the first 脱贫户 of 石门村, row 7

    code = main(["flag", str(write_workbook(tmp_path / "w.xlsx", sheets)), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["score"]["total"] < 100
    assert [(f["sheet"], f["row"]) for f in report["flags"] if f["level"] == "农户"] == [("households", 7)]
    out = load_workbook(report["output"])
    assert out.sheetnames[0] == "跟进清单"
    note = out["农户调查"]["A7"].comment
    assert note is not None and note.author == "ducha" and "错退" in note.text


def test_run_writes_score_check_and_follow_up_first_and_never_changes_input_values(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.xlsx"
    before = demo.read_bytes()

    code = main(["run", str(demo), "--out", str(out)])

    assert code == 1  # the demo has planted errors
    assert demo.read_bytes() == before
    book = load_workbook(out)
    assert book.sheetnames[:3] == ["评分", "检查结果", "跟进清单"]
    assert _values(out) == _values(demo)


def test_run_in_place_twice_leaves_one_set_of_generated_sheets(demo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.xlsx"
    copy.write_bytes(demo.read_bytes())

    main(["run", str(copy), "--in-place"])
    main(["run", str(copy), "--in-place"])

    names = load_workbook(copy).sheetnames
    assert [n for n in names if n in ("评分", "检查结果", "跟进清单", "判定明细", "村级明细")] == [
        "评分", "检查结果", "跟进清单", "判定明细", "村级明细"]
    assert len(names) == len(set(names))
    assert len(list((tmp_path / "ducha备份").iterdir())) == 2


def test_libreoffice_recalculates_the_demo_score_tab_to_pythons_values(demo: Path, tmp_path: Path) -> None:
    result = COMMANDS["run_all"](demo, read_workbook(demo), DEFAULT_RUBRIC)
    out = tmp_path / "scored.xlsx"
    main(["run", str(demo), "--out", str(out)])

    recalculated = load_workbook(convert(out, "xlsx", tmp_path / "lo"), data_only=True)

    assert result.score is not None and result.score.expected
    for (sheet, cell), want in result.score.expected.items():
        got = recalculated[sheet][cell].value
        if isinstance(want, str):
            assert (got or "") == want, (sheet, cell)
        else:
            assert got == pytest.approx(want, abs=1e-9), (sheet, cell)


def test_the_score_tab_renders_to_a_page_that_is_not_blank(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "scored.xlsx"
    main(["score", str(demo), "--out", str(out)])

    pdf = convert(out, "pdf", tmp_path / "pdf")  # 「评分」 is the first sheet, so the first page
    picture = first_page_png(pdf, tmp_path / "page")

    image = Image.open(picture).convert("L")
    assert image.width > 300 and image.height > 300
    assert ImageStat.Stat(image).stddev[0] > 10  # a blank page is one flat colour


def test_an_invalid_rubric_file_is_refused_with_the_row_named(tmp_path: Path, capsys) -> None:
    source = write_workbook(tmp_path / "clean.xlsx", valid_sheets())
    rubric = tmp_path / "rubric.json"
    data = DEFAULT_RUBRIC.model_dump(mode="json")
    data["items"][0]["rules"][0]["per_case"] = -1
    rubric.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    code = main(["score", str(source), "--rubric", str(rubric)])

    err = capsys.readouterr().err
    assert code == 2
    assert "评分细则有误" in err and "项目 1" in err
    assert "Traceback" not in err


def test_an_exported_rubric_edited_by_a_supervisor_is_the_one_used(tmp_path: Path, capsys) -> None:
    exported = tmp_path / "评分细则.xlsx"
    assert main(["rubric", "--out", str(exported)]) == 0
    book = load_workbook(exported)
    book["评分细则"]["B2"] = "2019.2-州督查办"
    book.save(exported)
    source = write_workbook(tmp_path / "clean.xlsx", valid_sheets())
    capsys.readouterr()

    code = main(["score", str(source), "--rubric", str(exported), "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["score"]["rubric_version"] == "2019.2-州督查办"
    assert load_workbook(report["output"])["评分"]["F3"].value.endswith("（版本 2019.2-州督查办）")
