"""Results are written into the clerk's workbook without dropping anything it holds (adapters/package), and inputs
that cannot hold them (.xls, .xlsb, .ods) get a new results workbook beside them.

The rich workbook is the clean inspection workbook with one error, plus what openpyxl would drop or what must
survive: a picture, a chart and a text box (one drawing on 农户调查), the clerk's own note, an x14 cross-sheet
dropdown (Excel's extLst form, pointing at 参数), and a defined name.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from lxml import etree
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.workbook.defined_name import DefinedName
from PIL import Image as Picture

from ducha.adapters.files import BACKUP_FOLDER
from ducha.adapters.xlsx_writer import default_output
from ducha.app.cli import main
from ducha.model.schema import GENERATED_SHEETS
from libreoffice import convert
from markdown_workbook import set_cell, valid_sheets, write_workbook

HOUSEHOLDS = "农户调查"
CLERK = "县扶贫办"
CLERK_NOTE = "县里的备注：本列由村干部复核"
TEXT_BOX = "县里画的文本框"
X14_LIST = "参数!$A$2:$A$4"
DEFINED = "农户名单"
TEXT_BOX_ANCHOR = (
    '<xdr:twoCellAnchor xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><xdr:from><xdr:col>2</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>30</xdr:row>'
    '<xdr:rowOff>0</xdr:rowOff></xdr:from><xdr:to><xdr:col>6</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>34</xdr:row>'
    '<xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="99" name="文本框 1"/>'
    '<xdr:cNvSpPr txBox="1"/></xdr:nvSpPr><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="2400000" cy="600000"/>'
    '</a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill>'
    '<a:ln><a:solidFill><a:srgbClr val="000000"/></a:solidFill></a:ln></xdr:spPr><xdr:txBody>'
    '<a:bodyPr wrap="square" rtlCol="0" anchor="t"/><a:lstStyle/><a:p><a:r><a:rPr lang="zh-CN"/>'
    f'<a:t>{TEXT_BOX}</a:t></a:r></a:p></xdr:txBody></xdr:sp><xdr:clientData/></xdr:twoCellAnchor>')
X14_VALIDATION = (
    '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"><x14:dataValidations count="1" '
    'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x14:dataValidation type="list" allowBlank="1" '
    f'showInputMessage="1" showErrorMessage="1"><x14:formula1><xm:f>{X14_LIST}</xm:f></x14:formula1>'
    '<xm:sqref>BA2:BA20</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>')
KEPT_PARTS = ("xl/media/image1.png", "xl/charts/chart1.xml", "xl/drawings/drawing1.xml",
              "xl/drawings/_rels/drawing1.xml.rels")


def _sheet_part(archive: zipfile.ZipFile, name: str) -> str:
    from ducha.reading.error_cells import sheet_parts

    return sheet_parts(archive)[name]


def rich_workbook(path: Path) -> Path:
    """The inspection workbook with one error, a picture, a chart, a text box, a note, an x14 dropdown, a name."""
    sheets = valid_sheets()
    set_cell(sheets, HOUSEHOLDS, "家庭人口", 0, 0)
    plain = write_workbook(path.with_name("plain.xlsx"), sheets)
    wb = openpyxl.load_workbook(plain)
    ws = wb[HOUSEHOLDS]
    picture = io.BytesIO()
    Picture.new("RGB", (60, 30), (200, 30, 30)).save(picture, "PNG")
    ws.add_image(Image(picture), "C25")
    chart = BarChart()
    chart.title = "家庭人口"
    chart.add_data(Reference(ws, min_col=7, min_row=1, max_row=6), titles_from_data=True)
    ws.add_chart(chart, "H25")
    ws["B1"].comment = Comment(CLERK_NOTE, CLERK)
    wb.defined_names[DEFINED] = DefinedName(DEFINED, attr_text=f"{HOUSEHOLDS}!$B$2:$B$20")
    wb.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        sheet = _sheet_part(source, HOUSEHOLDS)
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/drawings/drawing1.xml":
                data = re.sub(rb"(</(?:xdr:)?wsDr>)", TEXT_BOX_ANCHOR.encode() + rb"\1", data)
            if item.filename == sheet:
                data = data.replace(b"</worksheet>", X14_VALIDATION.encode() + b"</worksheet>")
            out.writestr(item, data)
    plain.unlink()
    return path


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def sheet_xml(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(_sheet_part(archive, name))


def comments_of(path: Path, name: str) -> list[tuple[str, str, str]]:
    """(cell, author, text) of every note on the sheet."""
    ws = openpyxl.load_workbook(path)[name]
    return [(c.coordinate, c.comment.author, c.comment.text) for row in ws.iter_rows() for c in row if c.comment]


def x14_block(xml: bytes) -> bytes:
    return re.search(rb"<extLst>.*</extLst>", xml, re.S).group(0)


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return rich_workbook(tmp_path_factory.mktemp("rich") / "清水县-2019-11.xlsx")


def assert_kept(before: Path, after: Path) -> None:
    """Every part the clerk's workbook holds is still there: drawing, picture, chart, text box byte for byte; the
    x14 dropdown and the drawing reference in the sheet; the clerk's note; the defined name."""
    old, new = parts(before), parts(after)
    for name in KEPT_PARTS:
        assert new[name] == old[name], name
    assert TEXT_BOX.encode() in new["xl/drawings/drawing1.xml"]
    old_sheet, new_sheet = sheet_xml(before, HOUSEHOLDS), sheet_xml(after, HOUSEHOLDS)
    assert x14_block(new_sheet) == x14_block(old_sheet)
    assert re.search(rb'<drawing\b[^>]*r:id="[^"]+"', new_sheet)
    with zipfile.ZipFile(after) as archive:
        sheet = _sheet_part(archive, HOUSEHOLDS)
        rels = archive.read(sheet.replace("worksheets/", "worksheets/_rels/") + ".rels")
    assert b"drawing1.xml" in rels
    assert ("B1", CLERK, CLERK_NOTE) in comments_of(after, HOUSEHOLDS)
    workbook = etree.fromstring(new["xl/workbook.xml"])
    names = {n.get("name"): n.text for n in workbook.iter("{*}definedName")}
    assert names[DEFINED] == f"{HOUSEHOLDS}!$B$2:$B$20"
    for name in old:  # every part of the input is still there
        assert name in new or name == "xl/calcChain.xml", name


def assert_results(path: Path) -> None:
    wb = openpyxl.load_workbook(path)
    assert {"检查结果", "评分", "跟进清单"} <= set(wb.sheetnames)
    assert wb.active.title == wb.sheetnames[0] in GENERATED_SHEETS
    notes = comments_of(path, HOUSEHOLDS)
    assert any(author == "ducha" and "家庭人口" in text for _, author, text in notes)
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert book.get_sheet_by_name("评分").to_python()[2][1] not in ("", None)  # the total's cached value
    book.close()


def assert_opens_in_libreoffice(path: Path, folder: Path) -> None:
    pdf = convert(path, "pdf", folder)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 5
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "检查结果" in text and "家庭人口" in text and TEXT_BOX in text


def test_run_writes_a_copy_that_keeps_every_part_of_the_clerks_workbook(rich: Path, tmp_path: Path) -> None:
    source = shutil.copy(rich, tmp_path / rich.name)
    before = Path(source).read_bytes()

    assert main(["run", str(source)]) == 1  # one error in the workbook

    result = default_output(Path(source))
    assert result.name == "清水县-2019-11.结果.xlsx"
    assert Path(source).read_bytes() == before
    assert_kept(Path(source), result)
    assert_results(result)
    assert_opens_in_libreoffice(result, tmp_path / "lo")


def test_run_in_place_keeps_a_backup_and_every_part(rich: Path, tmp_path: Path) -> None:
    source = Path(shutil.copy(rich, tmp_path / rich.name))

    assert main(["run", str(source), "--in-place"]) == 1
    assert main(["run", str(source), "--in-place"]) == 1  # again: the generated sheets are recreated, once

    backups = sorted((tmp_path / BACKUP_FOLDER).iterdir())
    assert backups and backups[0].read_bytes() == rich.read_bytes()
    assert_kept(rich, source)
    assert_results(source)
    wb = openpyxl.load_workbook(source)
    assert sorted(wb.sheetnames) == sorted(set(wb.sheetnames))
    ours = [cell for cell, author, _ in comments_of(source, HOUSEHOLDS) if author == "ducha"]
    assert ours and len(ours) == len(set(ours))
    assert_opens_in_libreoffice(source, tmp_path / "lo")


def test_checking_a_result_file_writes_the_same_name_and_the_same_bytes(rich: Path, tmp_path: Path) -> None:
    source = Path(shutil.copy(rich, tmp_path / rich.name))
    main(["run", str(source)])
    result = default_output(source)
    first = result.read_bytes()

    assert main(["run", str(result)]) == 1

    assert default_output(result) == result
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == sorted([source.name, result.name])
    assert result.read_bytes() == first  # generated sheets recreated, marks replaced, nothing added twice


@pytest.mark.parametrize("kind", ["xls", "ods", "xlsb"])
def test_inputs_that_cannot_hold_results_get_a_new_results_workbook(kind: str, rich: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    if kind == "xlsb":  # LibreOffice does not write .xlsb: a file Excel wrote (Apache POI's test data)
        source = Path(shutil.copy(Path(__file__).parent / "fixtures" / "poi-sample.xlsb", tmp_path / "样例.xlsb"))
    else:
        source = convert(rich, kind, tmp_path)
    before = source.read_bytes()

    code = main(["run", str(source)])

    out = capsys.readouterr()
    assert code in (0, 1), out.err
    assert "程序内部错误" not in out.out + out.err
    result = source.with_name(f"{source.stem}.{kind}.结果.xlsx")  # never the name of an .xlsx's results
    assert result.exists() and source.read_bytes() == before and default_output(source) == result
    assert default_output(result) == result  # checking the results again writes them again, not .结果.结果
    assert f".{kind} 格式" in out.out and result.name in out.out.replace("\n", "")
    wb = openpyxl.load_workbook(result)
    assert {"检查结果", "评分"} <= set(wb.sheetnames)
    assert set(python_calamine.CalamineWorkbook.from_path(str(source)).sheet_names) <= set(wb.sheetnames)
    if kind != "xlsb":
        ws = wb[HOUSEHOLDS]
        assert ws["G2"].value == 0  # the values copy holds the input's values, and the error is marked
        assert any(c.comment and c.comment.author == "ducha" for row in ws.iter_rows() for c in row)



def test_a_workbook_openpyxl_cannot_load_still_gets_its_results_in_place(tmp_path: Path) -> None:
    """Apache POI's picture.xlsx has cell styles openpyxl refuses (TypeError on load): the old openpyxl round trip
    ended in 程序内部错误; the package edit writes the results and keeps every other part byte for byte."""
    source = Path(shutil.copy(Path(__file__).parent / "fixtures" / "poi-picture.xlsx", tmp_path / "图片.xlsx"))
    with pytest.raises(TypeError):
        openpyxl.load_workbook(source)

    assert main(["run", str(source)]) == 1

    result = default_output(source)
    old, new = parts(source), parts(result)
    edited = {"[Content_Types].xml", "xl/_rels/workbook.xml.rels", "xl/workbook.xml", "xl/styles.xml",
              "docProps/app.xml", "xl/worksheets/sheet1.xml"}
    assert {name for name in old if old[name] != new.get(name)} <= edited
    assert any(name.startswith("xl/media/") for name in old)
    book = python_calamine.CalamineWorkbook.from_path(str(result))
    assert book.sheet_names[:3] == ["评分", "检查结果", "跟进清单"]
    assert book.get_sheet_by_name("评分").to_python()[2][1] not in ("", None)


def test_the_values_copy_of_an_ods_wraps_long_text_in_rows_that_read_straight_across(tmp_path: Path) -> None:
    """The demo workbook saved as .ods by LibreOffice: in its values copy, 说明's long texts wrap in their column, their
    rows are as high as they need with every value at the top, and each copied sheet prints as wide as the page."""
    from ducha.app.demo import write_demo_workbook

    source = convert(write_demo_workbook(tmp_path / "示例.xlsx"), "ods", tmp_path)
    assert main(["check", str(source)]) == 1
    wb = openpyxl.load_workbook(default_output(source))
    copies = [wb[name] for name in python_calamine.CalamineWorkbook.from_path(str(source)).sheet_names]
    guide = wb["说明"]
    long = [c for row in guide.iter_rows() for c in row if isinstance(c.value, str) and len(c.value) > 60]
    assert long and all(c.alignment.wrap_text and guide.row_dimensions[c.row].height > 15 for c in long)
    assert all(c.alignment.vertical == "top" for c in guide[long[0].row] if c.value is not None)
    assert all(s.page_setup.fitToWidth == 1 and s.sheet_properties.pageSetUpPr.fitToPage for s in copies)
