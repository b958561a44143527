"""整改督办函: one .docx per county with every open problem of the month, readable by python-docx and LibreOffice."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from ducha.prefecture import ledger, letters
from ducha.prefecture.archive import Archive
from ducha.prefecture.settings import Settings, settings_path, write_settings_workbook
from libreoffice import convert, is_blank, page_pngs
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


# --- GB/T 9704 fields, numbering across runs, dates from --date, rendering --------------------------------------

SETTINGS = Settings(office="黔南州人民政府督查室", office_code="州督办函", contact="李明", phone="0854-8221234",
                    copy_to=("州扶贫开发领导小组办公室", "州纪委监委"), printer="黔南州人民政府督查室", period_days=20)
NUMBER = re.compile(r"^州督办函〔(\d{4})〕(\d+)号$")


def numbers(paths: list[Path]) -> list[str]:
    return [next(p.text for p in Document(str(path)).paragraphs if NUMBER.match(p.text)) for path in paths]


def test_letter_fields_follow_gbt_9704(archive: Archive, tmp_path: Path) -> None:
    (jia, _) = letters.write_letters(archive, "2019-11", tmp_path, issued=ISSUED, settings=SETTINGS)
    doc = Document(str(jia))
    texts = [p.text for p in doc.paragraphs]
    mark = doc.paragraphs[0]
    assert mark.text == "黔南州人民政府督查室" and mark.alignment == 1  # 发文机关标志, centred, red
    assert str(mark.runs[0].font.color.rgb) == "FF0000"
    assert NUMBER.match(texts[3]).groups() == ("2019", "1")  # 发文字号 after two blank lines
    assert "甲县人民政府：" in texts  # 主送机关 from the template {县}人民政府
    body = next(p for p in doc.paragraphs if p.text.startswith("根据"))
    fonts = body.runs[0].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312" and body.runs[0].font.size.pt == 16
    heading = next(p for p in doc.paragraphs if p.text == "一、存在的问题")
    assert heading.runs[0].element.rPr.rFonts.get(qn("w:eastAsia")) == "黑体"
    lead = next(p for p in doc.paragraphs if p.text.startswith("（一）"))
    assert lead.runs[0].element.rPr.rFonts.get(qn("w:eastAsia")) == "楷体_GB2312"
    assert "2019年12月5日" in texts and not any("二〇一九" in t for t in texts)  # 成文日期 in Arabic numerals
    assert "（联系人：李明，联系电话：0854-8221234）" in texts
    imprint = [c.text for c in doc.tables[-1].columns[0].cells]
    assert imprint == ["抄送：州扶贫开发领导小组办公室，州纪委监委。", "黔南州人民政府督查室\t2019年12月5日印发"]


def test_page_number_is_a_page_field_at_the_outer_edge(archive: Archive, tmp_path: Path) -> None:
    (jia, _) = letters.write_letters(archive, "2019-11", tmp_path, issued=ISSUED, settings=SETTINGS)
    doc = Document(str(jia))
    section = doc.sections[0]
    assert doc.settings.odd_and_even_pages_header_footer
    for footer, alignment in ((section.footer, 2), (section.even_page_footer, 0)):  # odd right, even left
        para = footer.paragraphs[0]
        xml = para._p.xml
        assert "<w:instrText" in xml and " PAGE " in xml and 'w:fldCharType="begin"' in xml
        assert para.text == "— 1 —" and para.alignment == alignment
        assert para.runs[0].font.size.pt == 14
        assert para.runs[0].element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"


def test_each_problem_once_with_unbroken_numbers(archive: Archive, tmp_path: Path) -> None:
    (jia, _) = letters.write_letters(archive, "2019-11", tmp_path, issued=ISSUED, settings=SETTINGS)
    text = text_of(jia)
    rows = ledger.entries(archive, county_code="520101", month="2019-11")
    assert len(rows) == 3
    doc = Document(str(jia))
    table = doc.tables[0]
    assert len(table.rows) == 1 + len(rows)
    stated = [row.cells[2].paragraphs[0].text for row in table.rows[1:]]
    assert stated == [r["problem"] for r in rows]  # once, in the table …
    paragraphs = "\n".join(p.text for p in doc.paragraphs)
    for entry in rows:
        assert text.count(entry["id"]) == 1 and f"“{entry['problem']}”" not in paragraphs  # … not again in 整改要求
    widths = [c.width.mm for c in table.columns]
    assert widths[1] >= 45 and round(sum(widths)) == 156  # a ledger number and a masked ID fit on one line
    assert "5201**********1234" in text  # masked: first 6... as stored, never a whole number


def test_county_level_requirement_is_its_own_sentence() -> None:
    county = {"requirement": "核实数据来源；未达目标的，督促县级部门制定整改措施，下月回访督查"}
    assert letters.requirement_text(county) == "核实数据来源；未达目标的，督促县级部门制定整改措施。"
    assert letters.requirement_text({"requirement": "为该户办理新农合参保"}) == "为该户办理新农合参保。"


def test_numbers_continue_across_runs_and_reopening(tmp_path: Path, archive: Archive) -> None:
    first = letters.write_letters(archive, "2019-11", tmp_path / "a", issued=ISSUED, settings=SETTINGS)
    assert numbers(first) == ["州督办函〔2019〕1号", "州督办函〔2019〕2号"]
    folder = archive.folder
    archive.close()
    with Archive(folder) as again:
        second = letters.write_letters(again, "2019-10", tmp_path / "b", issued=dt.date(2019, 12, 6),
                                       settings=SETTINGS)
        assert numbers(second) == ["州督办函〔2019〕3号"]
        same = letters.write_letters(again, "2019-11", tmp_path / "c", issued=ISSUED, settings=SETTINGS)
        assert numbers(same) == numbers(first)  # the same letter made again keeps its number
        new_year = letters.write_letters(again, "2019-10", tmp_path / "d", issued=dt.date(2020, 1, 3),
                                         settings=SETTINGS)
        assert numbers(new_year) == ["州督办函〔2020〕1号"]  # 文号 year = year of the issue date


def test_deadlines_are_the_issue_date_plus_the_period(archive: Archive, tmp_path: Path) -> None:
    ledger.add_manual(archive, county="甲县", county_code="520101", month="2019-11", problem="补助发放不及时",
                      evidence="媒体报道", deadline="2019-12-31", at=AT)
    (jia, _) = letters.write_letters(archive, "2019-11", tmp_path, issued=dt.date(2019, 12, 2), settings=SETTINGS)
    rows = {r["problem"]: r["deadline"] for r in ledger.entries(archive, county_code="520101", month="2019-11")}
    assert rows.pop("补助发放不及时") == "2019-12-31"  # a deadline set by hand stays
    assert set(rows.values()) == {"2019-12-22"}  # 2019-12-02 + 20 days
    text = text_of(jia)
    assert "上表所列问题请于2019年12月22日前整改到位" in text and "整改期限：2019年12月31日。" in text
    assert "2026" not in text and "2027" not in text


def test_the_issue_date_comes_from_the_work_not_the_clock(archive: Archive, tmp_path: Path) -> None:
    assert letters.issue_date("2019-11", None, today=dt.date(2019, 12, 2)) == dt.date(2019, 12, 2)
    assert letters.issue_date("2019-11", None, today=dt.date(2026, 12, 2)) == dt.date(2019, 12, 1)
    with pytest.raises(letters.LetterError, match="早于督查月份"):
        letters.issue_date("2019-11", dt.date(2019, 10, 31))
    (jia, _) = letters.write_letters(archive, "2019-11", tmp_path)  # the clock is years after 2019-11
    text = text_of(jia)
    assert "州督办函〔2019〕1号" in text and "2019年12月1日" in text and "2026" not in text and "2027" not in text


def test_letter_settings_come_from_the_archive_folder(archive: Archive, tmp_path: Path) -> None:
    write_settings_workbook(settings_path(archive.folder), SETTINGS.model_copy(update={"office_code": "黔督函"}))
    (jia, _) = letters.write_letters(archive, "2019-11", tmp_path, issued=ISSUED)
    assert "黔督函〔2019〕1号" in text_of(jia) and "李明" in text_of(jia)


def test_every_page_of_the_letter_renders(archive: Archive, tmp_path: Path) -> None:
    for i in range(14):  # enough problems for several pages
        ledger.add_manual(archive, county="甲县", county_code="520101", month="2019-11", problem=f"暗访问题{i}",
                          evidence="群众来电反映", township="龙场镇", village="新寨村", household=f"农户{i}",
                          masked_id=f"52010119800101{i:04d}", at=AT)
    (jia, _) = letters.write_letters(archive, "2019-11", tmp_path, issued=ISSUED, settings=SETTINGS)
    pdf = convert(jia, "pdf", tmp_path / "pdf")
    pages = page_pngs(pdf, tmp_path / "pdf" / "page")
    assert len(pages) >= 3
    assert not [page.name for page in pages if is_blank(page)]


def test_the_receipt_shows_no_local_paths(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from ducha.prefecture.outcome import Outcome
    from ducha.prefecture.receipt import write_receipt

    source = "邮件 D:\\州督查办\\收件\\2019-11\\甲县报送.eml 中的附件 甲县.xlsx"
    path = write_receipt(tmp_path, Outcome("甲县.xlsx", source, "accepted", county="甲县", month="2019-11"), [])
    cells = [str(c.value) for row in load_workbook(path).active.iter_rows() for c in row if c.value is not None]
    assert "邮件 甲县报送.eml 中的附件 甲县.xlsx" in cells
    assert not any("州督查办\\" in c or "D:" in c for c in cells)


def test_letters_and_ledger_add_take_their_date_from_the_command_line(archive: Archive, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from ducha.app.cli import main

    folder = str(archive.folder)
    assert main(["ledger", "add", "--archive", folder, "--county", "520101", "--county-name", "甲县",
                 "--month", "2019-11", "--problem", "低保评定不公开", "--date", "2019-11-25"]) == 0
    added = next(e for e in ledger.entries(archive) if e["problem"] == "低保评定不公开")
    assert added["deadline"] == "2019-12-25"  # registered 2019-11-25 + 30 days (the default period)
    assert main(["letters", "--month", "2019-11", "--archive", folder, "--out", str(tmp_path / "函"),
                 "--date", "2019-12-10"]) == 0
    jia = tmp_path / "函" / "整改督办函_甲县_2019-11.docx"
    text = text_of(jia)
    assert "州督办函〔2019〕1号" in text and "2019年12月10日" in text and "2020年1月9日前整改到位" in text
    assert main(["letters", "--month", "2019-11", "--archive", folder, "--date", "2019-12-32"]) == 2
    assert "日期「2019-12-32」无效" in capsys.readouterr().err


def test_the_ledger_dates_come_from_the_work(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    with Archive(tmp_path / "档案") as store:
        late = "2026-12-02T06:30:39+00:00"  # a 2019-11 workbook taken in years later
        ids = ledger.sync_from_flags(store, submit(store, [flag("错退")]), at=late)
        (entry,) = ledger.entries(store)
        assert entry["deadline"] == "2019-12-30"  # 2019-11-30 (the work's month) + 30 days, not 2027
        assert ledger.work_date(AT, "2019-11") == dt.date(2019, 11, 20)
        path = ledger.export_ledger(store, tmp_path / "问题台账.xlsx")
    ws = load_workbook(path)["问题台账"]
    headers = [c.value for c in ws[ledger.HEADER_ROW]]
    row = {h: c.value for h, c in zip(headers, ws[ledger.HEADER_ROW + 1], strict=True)}
    assert row["编号"] == ids[0] and row["整改期限"].date() == dt.date(2019, 12, 30)
    assert row["最后更新"] == "2026年12月2日 14:30"  # China Standard Time, Chinese form
    log = load_workbook(path)["状态变更记录"]
    assert log.cell(ledger.HEADER_ROW + 1, 2).value == "2026年12月2日 14:30"
