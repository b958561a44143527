"""The bad-input corpus: every kind of damaged, odd or hostile workbook a county may send, built by code.

Each `Case` builds its input file into a folder and states the exact outcome a user must get:
`Findings` (code, sheet, cell of what must be reported; with exact=True nothing else of severity 错误),
`Unreadable` (`run_check` refuses the file with a Chinese reason containing the text), or `RejectedByIntake`
(the intake refuses the container before anything loads it: zip bombs, XML bombs, XXE, encryption, old formats).

Zip-level cases rewrite the package of the clean workbook of `valid_sheets()`; openpyxl writes its sheets as
xl/worksheets/sheet1.xml … sheet7.xml in the order 基本信息, 抽样, 农户调查, 村级核查, 县级核查, 访谈记录, 参数.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils import get_column_letter

from ducha.adapters.protect import protect_copy
from ducha.adapters.writer import write_template
from ducha.model.idnumber import check_character
from ducha.model.schema import HOUSEHOLDS as HOUSEHOLDS_SHEET
from markdown_workbook import column_of, form_row, make_id, set_cell, set_value, valid_sheets, write_workbook

HOUSEHOLDS = "农户调查"
BASIC = "基本信息"
SAMPLING = "抽样"
SHEET_PART = {"基本信息": 1, "抽样": 2, "农户调查": 3, "村级核查": 4, "县级核查": 5, "访谈记录": 6, "参数": 7}
POOR, EXITED, ORDINARY = 0, 5, 10  # first record of each household type in 石门村 (Excel rows 2, 7, 12)


# --- expected outcomes ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Findings:
    """These (code, sheet, cell) findings must be reported; with exact=True no other finding of severity 错误."""

    expected: list[tuple[str, str, str]] = field(default_factory=list)
    exact: bool = True


@dataclass(frozen=True)
class Unreadable:
    """`run_check` raises UnreadableWorkbook whose Chinese message contains `reason`."""

    reason: str


@dataclass(frozen=True)
class RejectedByIntake:
    """`intake_sources.collect([path])` yields one Rejected whose reason contains `reason`."""

    reason: str


Expect = Findings | Unreadable | RejectedByIntake


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    expect: Expect
    # False only where `ducha check` itself is known not to finish in the test's time (see the report / bug list)
    cli: bool = True


# --- building blocks -----------------------------------------------------------------------------------------------

def _cell(sheets: dict[str, list[list[Any]]], sheet: str, header: str, record: int) -> str:
    return f"{get_column_letter(column_of(sheets, sheet, header) + 1)}{record + 2}"


def _form_cell(sheets: dict[str, list[list[Any]]], sheet: str, header: str) -> str:
    return f"B{form_row(sheets, sheet, header) + 1}"


CLEAN = valid_sheets()


def cell_of(header: str, record: int = POOR, sheet: str = HOUSEHOLDS) -> str:
    """A1 cell of a table field in the clean workbook."""
    return _cell(CLEAN, sheet, header, record)


def form_cell(header: str, sheet: str = BASIC) -> str:
    return _form_cell(CLEAN, sheet, header)


def sheets_case(spoil: Callable[[dict[str, list[list[Any]]]], Any]) -> Callable[[Path], Path]:
    """A builder writing the clean workbook after `spoil(sheets)` changed it."""
    def build(folder: Path) -> Path:
        sheets = valid_sheets()
        spoil(sheets)
        return write_workbook(folder / "督查工作簿.xlsx", sheets)
    return build


def household_case(header: str, value: Any, record: int = POOR) -> Callable[[Path], Path]:
    return sheets_case(lambda s: set_cell(s, HOUSEHOLDS, header, record, value))


def form_case(header: str, value: Any, sheet: str = BASIC) -> Callable[[Path], Path]:
    return sheets_case(lambda s: set_value(s, sheet, header, value))


def clean_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return write_workbook(Path(folder) / "clean.xlsx", valid_sheets()).read_bytes()


def parts_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_of(parts: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def package_case(change: Callable[[dict[str, bytes]], None], name: str = "督查工作簿.xlsx") -> Callable[[Path], Path]:
    """A builder rewriting the parts of the clean workbook's zip."""
    def build(folder: Path) -> Path:
        parts = parts_of(clean_bytes())
        change(parts)
        path = folder / name
        path.write_bytes(zip_of(parts))
        return path
    return build


def bytes_case(make: Callable[[bytes], bytes], name: str = "督查工作簿.xlsx") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(make(clean_bytes()))
        return path
    return build


def sheet_part(sheet: str) -> str:
    return f"xl/worksheets/sheet{SHEET_PART[sheet]}.xml"


def replace_in(parts: dict[str, bytes], part: str, old: bytes, new: bytes, count: int = 1) -> None:
    assert old in parts[part], (part, old)
    parts[part] = parts[part].replace(old, new, count)


def openpyxl_case(change: Callable[[openpyxl.Workbook], None],
                  spoil: Callable[[dict[str, list[list[Any]]]], Any] | None = None) -> Callable[[Path], Path]:
    """A builder editing the clean workbook with openpyxl (merges, hidden rows, formulas, error cells)."""
    def build(folder: Path) -> Path:
        sheets = valid_sheets()
        if spoil:
            spoil(sheets)
        path = write_workbook(folder / "督查工作簿.xlsx", sheets)
        wb = openpyxl.load_workbook(path)
        change(wb)
        wb.save(path)
        return path
    return build


def _cell_xml(part: bytes, ref: str) -> bytes:
    match = re.search(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', part, re.DOTALL)
    assert match, ref
    return match.group(0)


# --- container and package cases ----------------------------------------------------------------------------------

def _prolog_end(xml: bytes) -> int:
    """Where a DOCTYPE goes: after the XML declaration, if any."""
    return xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0


def _xml_bomb(parts: dict[str, bytes]) -> None:
    part = sheet_part(HOUSEHOLDS)
    doctype = (b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
               + b"".join(b'<!ENTITY %c "%s">' % (ord("b") + i, (b"&%c;" % (ord("a") + i)) * 10) for i in range(9))
               + b"]>")
    xml = parts[part]
    end = _prolog_end(xml)
    parts[part] = xml[:end] + doctype + xml[end:]
    name = cell_of("户主姓名").encode()
    replace_in(parts, part, _cell_xml(parts[part], name.decode()),
               b'<c r="' + name + b'" t="inlineStr"><is><t>&j;</t></is></c>')


def _xxe(part_name: str) -> Callable[[dict[str, bytes]], None]:
    def change(parts: dict[str, bytes]) -> None:
        xml = parts[part_name]
        end = _prolog_end(xml)
        root = re.search(rb"<([A-Za-z:]+)[ >]", xml[end:]).group(1)
        parts[part_name] = (xml[:end] + b"<!DOCTYPE " + root + b' [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                            + xml[end:])
        if part_name.startswith("xl/worksheets/"):
            ref = cell_of("户主姓名")
            replace_in(parts, part_name, _cell_xml(parts[part_name], ref),
                       f'<c r="{ref}" t="inlineStr"><is><t>&xxe;</t></is></c>'.encode())
    return change


def _zip_bomb(parts: dict[str, bytes]) -> None:
    parts["xl/media/image1.bin"] = bytes(64 * 1024 * 1024)  # 64 MB of zeros, deflated to about 64 KB


def _lying_size(data: bytes) -> bytes:
    """An entry whose headers declare 1 KB but which inflates to 4 MB (a bomb that hides its size)."""
    parts = parts_of(data)
    parts["xl/media/image1.bin"] = bytes(4 * 1024 * 1024)
    out = bytearray(zip_of(parts))
    real = (4 * 1024 * 1024).to_bytes(4, "little")
    crc = zlib.crc32(bytes(1024)).to_bytes(4, "little")
    name = b"xl/media/image1.bin"
    for signature, size_at, crc_at in ((b"PK\x03\x04", 22, 14), (b"PK\x01\x02", 24, 16)):
        start = 0
        while (start := out.find(signature, start)) >= 0:
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if out[name_at:name_at + len(name)] == name:
                assert out[start + size_at:start + size_at + 4] == real
                out[start + size_at:start + size_at + 4] = (1024).to_bytes(4, "little")
                out[start + crc_at:start + crc_at + 4] = crc
            start += 4
    return bytes(out)


def _encrypted(folder: Path) -> Path:
    clean = folder / "明文.xlsx"
    clean.write_bytes(clean_bytes())
    path = protect_copy(clean, "secret", folder / "督查工作簿.xlsx")
    clean.unlink()
    return path


_CONVERTED: dict[str, bytes] = {}


def libreoffice_case(target: str, name: str) -> Callable[[Path], Path]:
    """A builder converting the clean workbook with headless LibreOffice (converted once per test session)."""
    def build(folder: Path) -> Path:
        if target not in _CONVERTED:
            from libreoffice import convert
            with tempfile.TemporaryDirectory() as work:
                source = write_workbook(Path(work) / "督查工作簿.xlsx", valid_sheets())
                _CONVERTED[target] = convert(source, target, Path(work) / "out").read_bytes()
        path = folder / name
        path.write_bytes(_CONVERTED[target])
        return path
    return build


def _xlsb_like(data: bytes) -> bytes:
    """What an .xlsb looks like from outside: a zip with a binary workbook part and no xl/workbook.xml."""
    return zip_of({"[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                          b'package/2006/content-types"/>',
                   "xl/workbook.bin": b"\x83\x01\x00", "xl/worksheets/sheet1.bin": b"\x81\x01\x00"})


def _empty_workbook(folder: Path) -> Path:
    path = folder / "督查工作簿.xlsx"
    openpyxl.Workbook().save(path)
    return path


def _template(folder: Path) -> Path:
    return write_template(folder / "督查工作簿.xlsx")


def _wps_style(parts: dict[str, bytes]) -> None:
    """As WPS 表格 saves: a shared-string table, an XML declaration on every part, its own application name and the
    KSOProductBuildVer custom property."""
    texts: list[bytes] = []
    index: dict[bytes, int] = {}

    def shared(match: re.Match[bytes]) -> bytes:
        text = match.group(3)
        if text not in index:
            index[text] = len(texts)
            texts.append(text)
        number = str(index[text]).encode()
        return b'<c r="' + match.group(1) + b'"' + match.group(2) + b' t="s"><v>' + number + b"</v></c>"

    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        parts[name] = re.sub(rb'<c r="([A-Z]+[0-9]+)"([^>]*?) t="inlineStr"><is><t[^>]*>(.*?)</t></is></c>', shared,
                             parts[name], flags=re.DOTALL)
    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    counts = b' count="%d" uniqueCount="%d">' % (len(texts), len(texts))
    parts["xl/sharedStrings.xml"] = (b'<sst xmlns="' + main + b'"' + counts
                                     + b"".join(b"<si><t>" + t + b"</t></si>" for t in texts) + b"</sst>")
    replace_in(parts, "[Content_Types].xml", b"</Types>",
               b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
               b'officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/docProps/custom.xml" '
               b'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/></Types>')
    replace_in(parts, "xl/_rels/workbook.xml.rels", b"</Relationships>",
               b'<Relationship Id="rIdWps1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
               b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    replace_in(parts, "_rels/.rels", b"</Relationships>",
               b'<Relationship Id="rIdWps2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
               b'relationships/custom-properties" Target="docProps/custom.xml"/></Relationships>')
    parts["docProps/custom.xml"] = (
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        b'<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="KSOProductBuildVer">'
        b"<vt:lpwstr>2052-11.1.0.9208</vt:lpwstr></property></Properties>")
    parts["docProps/app.xml"] = re.sub(rb"<Application>.*?</Application>", "<Application>WPS 表格</Application>"
                                       .encode(), parts["docProps/app.xml"])
    for name, xml in parts.items():
        if name.endswith((".xml", ".rels")) and not xml.startswith(b"<?xml"):
            parts[name] = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n' + xml


def _prefixed_namespace(parts: dict[str, bytes]) -> None:
    """As the Open XML SDK (and writers built on it) saves: every worksheet element under an `x:` prefix."""
    for name in [n for n in parts if n.startswith("xl/worksheets/sheet")]:
        xml = re.sub(rb"<(/?)([A-Za-z])", rb"<\1x:\2", parts[name])
        parts[name] = xml.replace(b'<x:worksheet xmlns="', b'<x:worksheet xmlns:x="', 1)


def _dimension(ref: bytes) -> Callable[[dict[str, bytes]], None]:
    def change(parts: dict[str, bytes]) -> None:
        part = sheet_part(HOUSEHOLDS)
        parts[part] = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="' + ref + b'"', parts[part])
    return change


def _far_cell(ref: str, row: int) -> Callable[[dict[str, bytes]], None]:
    """One more cell far away in 农户调查 (a stray mark at the very bottom or right edge of the sheet)."""
    def change(parts: dict[str, bytes]) -> None:
        part = sheet_part(HOUSEHOLDS)
        cell = f'<c r="{ref}" t="inlineStr"><is><t>x</t></is></c>'.encode()
        last = parts[part].rindex(b"</row>")
        if row == 1:
            first = parts[part].index(b"</row>")
            parts[part] = parts[part][:first] + cell + parts[part][first:]
        else:
            last += len(b"</row>")
            parts[part] = parts[part][:last] + f'<row r="{row}">'.encode() + cell + b"</row>" + parts[part][last:]
    return change


def _formula_with_cached_value(parts: dict[str, bytes]) -> None:
    """家庭人口 computed by a formula, saved with its cached value as Excel does."""
    ref = cell_of("家庭人口")
    part = sheet_part(HOUSEHOLDS)
    replace_in(parts, part, _cell_xml(parts[part], ref), f'<c r="{ref}"><f>2+2</f><v>4</v></c>'.encode())


def _error_cell(text: str, header: str = "户主姓名") -> Callable[[openpyxl.Workbook], None]:
    def change(wb: openpyxl.Workbook) -> None:
        wb[HOUSEHOLDS][cell_of(header)] = text  # openpyxl stores an error code as an error cell, as Excel does
    return change


def _merge(wb: openpyxl.Workbook) -> None:
    wb[HOUSEHOLDS].merge_cells(f"{cell_of('户主姓名', POOR)}:{cell_of('户主姓名', POOR + 1)}")


def _hide(wb: openpyxl.Workbook) -> None:
    ws = wb[HOUSEHOLDS]
    ws.row_dimensions[3].hidden = True
    ws.column_dimensions["D"].hidden = True
    wb[BASIC].row_dimensions[2].hidden = True


def _title_rows(sheets: dict[str, list[list[Any]]]) -> None:
    sheets[HOUSEHOLDS][:0] = [["清水县精准扶贫专题督查 农户调查表"], []]


def _reorder(sheets: dict[str, list[list[Any]]]) -> None:
    rows = sheets[HOUSEHOLDS]
    order = list(range(len(rows[0])))
    order[1], order[2], order[5] = order[5], order[1], order[2]
    rows[:] = [[row[i] for i in order] for row in rows]


def _drop_column(header: str) -> Callable[[dict[str, list[list[Any]]]], None]:
    def spoil(sheets: dict[str, list[list[Any]]]) -> None:
        index = column_of(sheets, HOUSEHOLDS, header)
        for row in sheets[HOUSEHOLDS]:
            del row[index]
    return spoil


def _duplicate_column(sheets: dict[str, list[list[Any]]]) -> None:
    index = column_of(sheets, HOUSEHOLDS, "户主姓名")
    for row in sheets[HOUSEHOLDS]:
        row.append(row[index])


def _extra_column(sheets: dict[str, list[list[Any]]]) -> None:
    rows = sheets[HOUSEHOLDS]
    rows[0].append("调查员备忘")
    for row in rows[1:]:
        row.append("已核")


def _rename_sheet(sheets: dict[str, list[list[Any]]]) -> None:
    sheets["Sheet3"] = sheets.pop(HOUSEHOLDS)


def _same_household_twice(sheets: dict[str, list[list[Any]]]) -> None:
    set_cell(sheets, HOUSEHOLDS, "身份证号", POOR + 3, make_id(1))


def _four_six_five(sheets: dict[str, list[list[Any]]]) -> None:
    households = sheets[HOUSEHOLDS]
    extra = list(households[1 + EXITED])
    extra[column_of(sheets, HOUSEHOLDS, "身份证号")] = make_id(900)
    del households[1 + POOR]
    households.append(extra)


def _wrong_check(seed: int) -> str:
    good = make_id(seed)
    return good[:-1] + ("0" if good[-1] != "0" else "1")


def _full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ"))


BIRTH_IMPOSSIBLE = "52263119990230001" + check_character("52263119990230001")  # 30 February 1999
ID_FIELD = cell_of("身份证号")
NAME_FIELD = cell_of("户主姓名")
APPENDED = f"{get_column_letter(len(HOUSEHOLDS_SHEET.fields) + 1)}1"  # where an appended column lands
SECOND_NAME = cell_of("户主姓名", POOR + 1)
START = form_cell("督查开始日期")
NOT_A_WORKBOOK = "不是 Excel 工作簿"
DAMAGED = "损坏"
XML_DECLARATION = "DTD 或实体"
BOMB = "压缩炸弹"

# 农户调查 not read: each village of 抽样 lacks all three kinds of household
NO_HOUSEHOLDS = [("sample-household-count", SAMPLING, cell) for cell in ("C2",) * 3 + ("C3",) * 3]
TEMPLATE_UNFILLED = (
    [("required-missing", BASIC, f"B{row}") for row in (2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13)]
    + [("sheet-empty", SAMPLING, "A2"), ("sheet-empty", HOUSEHOLDS, "A2"), ("sheet-empty", "村级核查", "A2")]
    + [("required-missing", "县级核查", f"B{row}") for row in range(2, 16)]
    + [("sheet-empty", "访谈记录", "A2")])

CASES: list[Case] = [
    # --- files that are not workbooks, and hostile containers ---
    Case("not-a-zip", bytes_case(lambda good: "这是一封邮件，不是表格".encode()), Unreadable(NOT_A_WORKBOOK)),
    Case("zero-bytes", bytes_case(lambda good: b""), Unreadable("空文件")),
    Case("truncated-zip", bytes_case(lambda good: good[: len(good) // 2]), Unreadable(DAMAGED)),
    Case("zip-without-workbook-part", bytes_case(lambda good: zip_of({"readme.txt": b"hello"})),
         Unreadable(NOT_A_WORKBOOK)),
    # .xls is read and its results go to a new .xlsx; the fake .xlsb below is damaged
    Case("old-xls-from-libreoffice", libreoffice_case("xls", "督查工作簿.xls"), Findings()),
    Case("xlsb", bytes_case(_xlsb_like, "督查工作簿.xlsb"), Unreadable(DAMAGED)),
    Case("xlsb-renamed-xlsx", bytes_case(_xlsb_like), Unreadable(DAMAGED)),
    Case("xlsb-checked-directly", bytes_case(_xlsb_like, "督查工作簿.xlsb"), Unreadable(DAMAGED)),
    Case("zip-bomb-ratio", package_case(_zip_bomb), RejectedByIntake(BOMB)),
    Case("zip-bomb-lying-size", bytes_case(_lying_size), RejectedByIntake(BOMB)),
    Case("xml-bomb-in-sheet", package_case(_xml_bomb), RejectedByIntake(XML_DECLARATION)),
    Case("xxe-in-sheet", package_case(_xxe(sheet_part(HOUSEHOLDS))), RejectedByIntake(XML_DECLARATION)),
    Case("xxe-in-workbook-part", package_case(_xxe("xl/workbook.xml")), RejectedByIntake(XML_DECLARATION)),
    Case("encrypted-without-password", _encrypted, RejectedByIntake("文件已加密")),
    Case("encrypted-checked-directly", _encrypted, Unreadable("密码")),
    # a declared <dimension> is not the extent: read, checked and written in time proportional to the values
    Case("rows-1048576-declared", package_case(_dimension(b"A1:AZ1048576")), Findings(exact=False)),
    Case("columns-16384-declared", package_case(_dimension(b"A1:XFD2000")), Findings(exact=False)),
    Case("rows-1048576-used-refused-by-intake", package_case(_far_cell("A1048576", 1048576)),
         RejectedByIntake("1,048,576 行"), cli=False),
    Case("rows-1048576-used-checked-directly", package_case(_far_cell("A1048576", 1048576)),
         Unreadable("有内容的区域")),
    Case("columns-16384-used", package_case(_far_cell("XFD1", 1)), Findings([("column-unknown", HOUSEHOLDS, "XFD1")])),
    # --- sheets ---
    Case("empty-workbook", _empty_workbook, Findings([("sheet-unknown", "Sheet", ""), *[
        ("sheet-missing", s, "") for s in ("基本信息", "抽样", "农户调查", "村级核查", "县级核查", "访谈记录")]])),
    Case("template-unfilled", _template, Findings(TEMPLATE_UNFILLED)),
    Case("missing-sheet", sheets_case(lambda s: s.pop(HOUSEHOLDS)),
         Findings([("sheet-missing", HOUSEHOLDS, ""), *NO_HOUSEHOLDS])),
    Case("renamed-sheet", sheets_case(_rename_sheet),
         Findings([("sheet-missing", HOUSEHOLDS, ""), ("sheet-unknown", "Sheet3", ""), *NO_HOUSEHOLDS])),
    # --- columns and layout ---
    Case("missing-column", sheets_case(_drop_column("户主姓名")), Findings([("column-missing", HOUSEHOLDS, "A1")])),
    Case("duplicated-column", sheets_case(_duplicate_column), Findings([("column-duplicate", HOUSEHOLDS, APPENDED)])),
    Case("extra-column", sheets_case(_extra_column), Findings([("column-unknown", HOUSEHOLDS, APPENDED)])),
    Case("reordered-columns", sheets_case(_reorder), Findings()),
    Case("merged-cells-in-data-rows", openpyxl_case(_merge),
         Findings([("merged-cells", HOUSEHOLDS, NAME_FIELD), ("required-missing", HOUSEHOLDS, SECOND_NAME)])),
    Case("hidden-rows-and-columns", openpyxl_case(_hide), Findings()),
    Case("header-row-moved-down", sheets_case(_title_rows), Findings()),
    Case("libreoffice-made", libreoffice_case("xlsx", "督查工作簿.xlsx"), Findings()),
    Case("wps-style-writer", package_case(_wps_style), Findings()),
    Case("open-xml-sdk-prefixed-namespace", package_case(_prefixed_namespace), Findings()),
    # --- formulas ---
    Case("formula-error-ref", openpyxl_case(_error_cell("#REF!")),
         Findings([("formula-error", HOUSEHOLDS, NAME_FIELD)])),
    Case("formula-error-div0", openpyxl_case(_error_cell("#DIV/0!", "家庭人口")),
         Findings([("formula-error", HOUSEHOLDS, cell_of("家庭人口"))])),
    Case("formula-error-na", openpyxl_case(_error_cell("#N/A", "主要致贫原因")),
         Findings([("formula-error", HOUSEHOLDS, cell_of("主要致贫原因"))])),
    Case("formula-with-cached-value", package_case(_formula_with_cached_value), Findings()),
    # --- values typed oddly ---
    Case("numbers-as-text", sheets_case(lambda s: [set_cell(s, HOUSEHOLDS, "家庭人口", POOR, "4"),
                                                   set_cell(s, HOUSEHOLDS, "工资性收入", POOR, "8000")]), Findings()),
    Case("full-width-digits-and-letters", household_case("身份证号", _full_width(make_id(1))), Findings()),
    Case("full-width-number", household_case("家庭人口", "４"), Findings()),
    Case("spaces-and-nbsp", sheets_case(lambda s: [set_cell(s, HOUSEHOLDS, "户类型", POOR, "\u00a0建档立卡贫困户 "),
                                                   set_cell(s, HOUSEHOLDS, "不愁吃", POOR, " 是\u00a0"),
                                                   set_cell(s, HOUSEHOLDS, "身份证号", POOR, f" {make_id(1)}\u00a0")]),
         Findings()),
    # --- ID numbers ---
    Case("id-as-float", household_case("身份证号", 5.22631197001010011e17),
         Findings([("id-stored-as-number", HOUSEHOLDS, ID_FIELD)])),
    Case("id-lower-case-x", household_case("身份证号", make_id(1).lower()), Findings()),
    Case("id-wrong-check-character", household_case("身份证号", _wrong_check(2)),
         Findings([("id-check-digit", HOUSEHOLDS, ID_FIELD)])),
    Case("id-impossible-birth-date", household_case("身份证号", BIRTH_IMPOSSIBLE),
         Findings([("id-birth-date", HOUSEHOLDS, ID_FIELD)])),
    # --- dates ---
    Case("date-text-slashes", form_case("督查开始日期", "2019/11/05"), Findings()),
    Case("date-text-chinese", form_case("督查开始日期", "2019年11月5日"), Findings()),
    Case("date-text-dots", form_case("督查开始日期", "2019.11.05"), Findings()),
    Case("date-text-compact", form_case("督查开始日期", "20191105"), Findings()),
    Case("date-1900-02-29", form_case("督查开始日期", "1900-02-29"), Findings([("date-invalid", BASIC, START)])),
    Case("date-negative-serial", form_case("督查开始日期", -5), Findings([("date-invalid", BASIC, START)])),
    # --- text ---
    Case("very-long-text", household_case("备注", "长" * 40_000), Findings([("text-too-long", HOUSEHOLDS,
                                                                            cell_of("备注"))])),
    Case("control-characters", household_case("户主姓名", "张_x0001_三"),
         Findings([("control-characters", HOUSEHOLDS, NAME_FIELD)])),
    Case("emoji-and-extension-b", household_case("户主姓名", "𠀀𪚥😀"), Findings()),
    # --- the sample ---
    Case("same-household-twice", sheets_case(_same_household_twice),
         Findings([("duplicate-household", HOUSEHOLDS, cell_of("身份证号", POOR + 3))])),
    Case("sample-4-6-5", sheets_case(_four_six_five), Findings([("sample-household-count", SAMPLING, "C2")] * 2)),
    Case("county-code-nonexistent", form_case("县级区划代码", "992631"),
         Findings([("region-code-invalid", BASIC, form_cell("县级区划代码"))])),
]


__all__ = ["CASES", "Case", "Expect", "Findings", "RejectedByIntake", "Unreadable"]
