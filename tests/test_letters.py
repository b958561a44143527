"""整改督办函: one .docx per county with every open problem of the month, readable by python-docx and LibreOffice."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from ducha.prefecture import ledger, letters
from ducha.prefecture.archive import Archive
from libreoffice import convert
from test_ledger import AT, flag, submit

ISSUED = dt.date(2019, 12, 5)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    with Archive(tmp_path / "档案") as store:
        jia = submit(store, [flag("错退"), flag("漏评", household="王五", masked_id="")])
        yi = submit(store, [flag("识别不准确", household="钱七")], county="乙县", code="520102")
        ledger.sync_from_flags(store, jia, at=AT)
        ledger.sync_from_flags(store, yi, at=AT)
        ledger.add_manual(store, county="甲县", county_code="520101", month="2019-11", problem="危房改造补助被截留",
                          evidence="群众来电反映，村委会未公示补助名单", township="龙场镇", at=AT)
        ledger.add_manual(store, county="甲县", county_code="520101", month="2019-10", problem="上月的问题",
                          evidence="媒体报道", at=AT)
        yield store


def text_of(path: Path) -> str:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_one_letter_per_county_with_every_problem_of_that_county(archive: Archive, tmp_path: Path) -> None:
    paths = letters.write_letters(archive, "2019-11", tmp_path / "函", issued=ISSUED)
    assert [p.name for p in paths] == ["整改督办函_甲县_2019-11.docx", "整改督办函_乙县_2019-11.docx"]
    jia, yi = (text_of(p) for p in paths)
    for entry in ledger.entries(archive, month="2019-11"):
        mine, other = (jia, yi) if entry["county"] == "甲县" else (yi, jia)
        assert entry["id"] in mine and entry["problem"] in mine and entry["evidence"] in mine
        assert entry["requirement"] in mine and entry["id"] not in other
    assert "上月的问题" not in jia
    assert "关于甲县2019年11月精准扶贫专题督查发现问题整改的督办函" in jia
    assert "州督办函〔2019〕1号" in jia and "州督办函〔2019〕2号" in yi
    assert "甲县人民政府：" in jia and "州人民政府督查室" in jia and "2019年12月5日" in jia
    assert "下月督查时对整改情况进行回访" in jia and "2020年1月4日前整改到位" in jia  # 2019-12-05 + 30 days


def test_closed_entries_are_left_out(archive: Archive, tmp_path: Path) -> None:
    (entry,) = [e["id"] for e in ledger.entries(archive, county_code="520102")]
    ledger.apply_revisit(archive, [{"entry_id": entry, "result": "整改到位", "row": 4}], actor="第二组", at=AT)
    paths = letters.write_letters(archive, "2019-11", tmp_path, issued=ISSUED)
    assert [p.name for p in paths] == ["整改督办函_甲县_2019-11.docx"]


def test_letter_layout_fonts_and_page(archive: Archive, tmp_path: Path) -> None:
    (path, _) = letters.write_letters(archive, "2019-11", tmp_path, issued=ISSUED)
    doc = Document(str(path))
    section = doc.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    assert round(section.top_margin.cm, 1) == 3.7 and round(section.left_margin.cm, 1) == 2.8
    title = next(p for p in doc.paragraphs if p.text.startswith("关于"))
    run = title.runs[0]
    assert run.element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体" and run.font.size.pt == 22
    body = next(p for p in doc.paragraphs if p.text.startswith("根据"))
    assert body.runs[0].element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312" and body.runs[0].font.size.pt == 16
    signature = [p for p in doc.paragraphs if p.text in ("州人民政府督查室", "2019年12月5日")][-2:]
    assert [p.text for p in signature] == ["州人民政府督查室", "2019年12月5日"]
    assert all(p.alignment == 2 for p in signature)  # right
    fonts = zipfile.ZipFile(path).read("word/fontTable.xml").decode()
    assert 'w:name="方正小标宋简体"' in fonts and 'w:val="宋体"' in fonts and 'w:val="仿宋"' in fonts


def test_same_archive_gives_the_same_letter_text(archive: Archive, tmp_path: Path) -> None:
    first = letters.write_letters(archive, "2019-11", tmp_path / "a", issued=ISSUED)
    second = letters.write_letters(archive, "2019-11", tmp_path / "b", issued=ISSUED)
    assert [text_of(p) for p in first] == [text_of(p) for p in second]
    with pytest.raises(ValueError, match="督查月份"):
        letters.write_letters(archive, "2019-13", tmp_path, issued=ISSUED)


def test_letters_convert_to_pdf_in_libreoffice(archive: Archive, tmp_path: Path) -> None:
    path = letters.write_letters(archive, "2019-11", tmp_path, issued=ISSUED)[0]
    pdf = convert(path, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000


def test_write_letters_can_make_the_pdf_itself(archive: Archive, tmp_path: Path) -> None:
    paths = letters.write_letters(archive, "2019-11", tmp_path, issued=ISSUED, pdf=True)
    assert [p.suffix for p in paths] == [".docx", ".pdf", ".docx", ".pdf"]
    assert all(p.read_bytes().startswith(b"%PDF") for p in paths if p.suffix == ".pdf")
