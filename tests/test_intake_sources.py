"""Intake sources: real workbooks, folders, .eml emails built with the standard library, Outlook .msg files, zip
archives, damaged, hostile and encrypted files, each turned into Incoming / Rejected / Ignored with a Chinese reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import olefile
import openpyxl
import pytest
import python_calamine
from extract_msg.ole_writer import OleWriter
from hypothesis import given
from hypothesis import strategies as st

from ducha.adapters.protect import protect_copy
from ducha.prefecture import intake_sources
from ducha.prefecture.intake_sources import Ignored, Incoming, Limits, Rejected, collect, safe_name
from markdown_workbook import valid_sheets, write_workbook

FIXTURES = Path(__file__).parent / "fixtures"
OUTLOOK_MSG = FIXTURES / "outlook-two-text-attachments.msg"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
CHINA = dt.timezone(dt.timedelta(hours=8))


def workbook_bytes(value: str = "清水县", rows: int = 1) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "基本情况"
    for row in range(1, rows + 1):
        ws.cell(row, 1, value)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def first_cell(content: bytes) -> object:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    return book.get_sheet_by_index(0).to_python()[0][0]


def run(*paths: Path, **kwargs: object) -> list[Incoming | Rejected | Ignored]:
    return list(collect(list(paths), **kwargs))


def only(items: list, kind: type) -> list:
    return [item for item in items if isinstance(item, kind)]


def zip_bytes(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def rewrite_part(content: bytes, part: str, change) -> bytes:
    """The same workbook with one package part changed."""
    source = zipfile.ZipFile(io.BytesIO(content))
    return zip_bytes({n: change(source.read(n)) if n == part else source.read(n) for n in source.namelist()})


# --- plain files and folders --------------------------------------------------------------------------------------

def test_a_workbook_file_comes_in_unchanged_with_its_path_as_source(tmp_path: Path) -> None:
    path = tmp_path / "清水县-2019-11.xlsx"
    path.write_bytes(workbook_bytes())
    [item] = run(path)
    assert isinstance(item, Incoming)
    assert (item.name, item.content, item.source) == ("清水县-2019-11.xlsx", path.read_bytes(), f"文件 {path}")
    assert (item.sender, item.subject, item.sent_at, item.was_encrypted) == (None, None, None, False)


def test_a_complete_inspection_workbook_passes_every_limit(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "清水县.xlsx", valid_sheets())
    [item] = run(path)
    assert isinstance(item, Incoming)


def test_a_missing_path_is_rejected_and_the_batch_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(workbook_bytes())
    missing, item = run(tmp_path / "没有这个文件.xlsx", good)
    assert isinstance(missing, Rejected) and "不存在" in missing.reason
    assert isinstance(item, Incoming)


def test_folders_are_walked_in_a_stable_order_skipping_lock_and_hidden_files(tmp_path: Path) -> None:
    content = workbook_bytes()
    for relative in ("b县/乙.xlsx", "a.xlsx", "~$a.xlsx", ".隐藏.xlsx", "B.xlsx", "说明.pdf", "a县/甲.xlsm",
                     "Thumbs.db"):
        path = tmp_path / "收件" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4" if relative.endswith(".pdf") else content)
    first = run(tmp_path / "收件")
    assert [(type(i).__name__, i.name) for i in first] == [
        ("Incoming", "a.xlsx"), ("Incoming", "甲.xlsm"), ("Incoming", "B.xlsx"), ("Incoming", "乙.xlsx"),
        ("Ignored", "说明.pdf")]
    assert first == run(tmp_path / "收件")


def test_one_unexpected_failure_rejects_that_file_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a.xlsx", "b.xlsx"):
        (tmp_path / name).write_bytes(workbook_bytes(name))
    real = intake_sources._workbook

    def flaky(name: str, *args: object) -> object:
        if name == "a.xlsx":
            raise RuntimeError("boom")
        return real(name, *args)

    monkeypatch.setattr(intake_sources, "_workbook", flaky)
    failed, good = run(tmp_path)
    assert isinstance(failed, Rejected) and "处理时出错" in failed.reason and failed.name == "a.xlsx"
    assert "RuntimeError" not in failed.reason  # no English class name in front of a user
    assert isinstance(good, Incoming) and good.name == "b.xlsx"


def test_a_workbook_without_its_extension_is_recognised_by_content(tmp_path: Path) -> None:
    path = tmp_path / "清水县报表"
    path.write_bytes(workbook_bytes())
    renamed = tmp_path / "黔东县.zip"
    renamed.write_bytes(workbook_bytes())
    items = run(path, renamed)
    assert [(type(i), i.name) for i in items] == [(Incoming, "清水县报表.xlsx"), (Incoming, "黔东县.xlsx")]


def test_a_macro_workbook_is_taken_as_data_only(tmp_path: Path) -> None:
    content = zip_bytes({**{n: zipfile.ZipFile(io.BytesIO(workbook_bytes())).read(n)
                            for n in zipfile.ZipFile(io.BytesIO(workbook_bytes())).namelist()},
                         "xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 pretend macro project"})
    path = tmp_path / "清水县.xlsm"
    path.write_bytes(content)
    [item] = run(path)
    assert isinstance(item, Incoming) and item.content == content


# --- formats that are refused -------------------------------------------------------------------------------------

def cfb_bytes(streams: dict[str, bytes]) -> bytes:
    writer = OleWriter()
    for name, content in streams.items():
        writer.addEntry(name, content)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_xls_and_xlsb_are_taken_in_and_wps_et_is_told_to_save_as_xlsx(tmp_path: Path) -> None:
    xls = tmp_path / "清水县.xls"
    xls.write_bytes(cfb_bytes({"Workbook": b"\x09\x08" + b"\0" * 4096}))
    disguised = tmp_path / "黔东县.xlsx"
    disguised.write_bytes(xls.read_bytes())
    xlsb = tmp_path / "白云县.xlsb"
    xlsb.write_bytes(zip_bytes({"xl/workbook.bin": b"\0" * 100, "[Content_Types].xml": b"<Types/>"}))
    wps = tmp_path / "石门县.et"
    wps.write_bytes(xls.read_bytes())
    *readable, et = run(xls, disguised, xlsb, wps)
    assert all(isinstance(i, Incoming) for i in readable), readable
    assert isinstance(et, Rejected) and "另存为" in et.reason and ".xlsx" in et.reason
    assert olefile.isOleFile(io.BytesIO(xls.read_bytes()))


def test_corrupt_workbooks_are_rejected(tmp_path: Path) -> None:
    good = workbook_bytes("x" * 2000, rows=50)
    truncated = tmp_path / "截断.xlsx"
    truncated.write_bytes(good[: len(good) // 2])
    garbage = tmp_path / "乱码.xlsx"
    garbage.write_bytes(b"this is not a workbook at all")
    flipped = bytearray(good)
    start = good.index(b"xl/worksheets/sheet1.xml") + 40  # inside that entry's compressed data
    flipped[start] ^= 0xFF
    damaged = tmp_path / "损坏.xlsx"
    damaged.write_bytes(bytes(flipped))
    items = run(truncated, garbage, damaged)
    assert [type(i) for i in items] == [Rejected] * 3
    assert "损坏" in items[0].reason and "不是 Excel 工作簿" in items[1].reason
    assert "损坏" in items[2].reason


def test_a_rar_archive_is_rejected_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "清水县.rar"
    path.write_bytes(b"Rar!\x1a\x07\x00")
    [item] = run(path)
    assert isinstance(item, Rejected) and "解压" in item.reason


# --- limits -------------------------------------------------------------------------------------------------------

def test_a_declared_sheet_dimension_is_not_the_extent(tmp_path: Path) -> None:
    """Gnumeric declares A1:XFD1048576; the extent is judged from the cells that hold values."""
    content = rewrite_part(workbook_bytes(), "xl/worksheets/sheet1.xml",
                           lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', xml))
    path = tmp_path / "清水县.xlsx"
    path.write_bytes(content)
    [item] = run(path)
    assert isinstance(item, Incoming)


@pytest.mark.parametrize(("ref", "accepted"), [("A1:S1048576", True), ("A1:U1048576", True)])
def test_a_million_rows_are_fine_while_rows_times_columns_stay_under_the_limit(tmp_path: Path, ref: str,
                                                                               accepted: bool) -> None:
    content = rewrite_part(workbook_bytes(), "xl/worksheets/sheet1.xml",
                           lambda xml: re.sub(rb'<dimension ref="[^"]*"/>', f'<dimension ref="{ref}"/>'.encode(), xml))
    path = tmp_path / "清水县.xlsx"
    path.write_bytes(content)
    [item] = run(path)
    assert isinstance(item, Incoming if accepted else Rejected)


def test_two_far_apart_cells_that_would_make_a_huge_grid_are_rejected(tmp_path: Path) -> None:
    def far_cell(xml: bytes) -> bytes:
        xml = re.sub(rb'<dimension ref="[^"]*"/>', b"", xml)
        return xml.replace(b"</sheetData>", b'<row r="300000"><c r="CV300000" t="n"><v>2</v></c></row></sheetData>')

    path = tmp_path / "清水县.xlsx"
    path.write_bytes(rewrite_part(workbook_bytes(), "xl/worksheets/sheet1.xml", far_cell))
    assert path.stat().st_size < 10_000
    [item] = run(path)
    assert isinstance(item, Rejected) and "有内容的区域" in item.reason and "300,000 行 × 100 列" in item.reason
    [allowed] = run(path, limits=Limits(max_sheet_cells=40_000_000))
    assert isinstance(allowed, Incoming)


def test_a_highly_compressible_entry_is_rejected_as_a_zip_bomb(tmp_path: Path) -> None:
    path = tmp_path / "炸弹.zip"
    path.write_bytes(zip_bytes({"清水县.xlsx": workbook_bytes(), "zeros.xlsx": b"\0" * (20 * 1024 * 1024)}))
    assert path.stat().st_size < 100_000
    [item] = run(path)
    assert isinstance(item, Rejected) and "压缩比" in item.reason and "压缩炸弹" in item.reason


def declare_size(content: bytes, entry: str, size: int) -> bytes:
    """Rewrite the uncompressed size the central directory declares for one entry."""
    data = bytearray(content)
    name = entry.encode()
    position = data.index(b"PK\x01\x02" + b"")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46: position + 46 + name_length] == name:
            struct.pack_into("<L", data, position + 24, size)
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def test_a_huge_declared_size_is_rejected_before_anything_is_extracted(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "声明过大.zip"
    path.write_bytes(declare_size(zip_bytes({"清水县.xlsx": workbook_bytes()}, zipfile.ZIP_STORED), "清水县.xlsx",
                                  600 * 1024 * 1024))

    def no_extraction(*args: object, **kwargs: object) -> None:
        raise AssertionError("an entry was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_extraction)
    [item] = run(path)
    assert isinstance(item, Rejected) and "600 MB" in item.reason and "500 MB" in item.reason
    assert "压缩炸弹" in item.reason


def test_an_entry_that_inflates_past_its_declared_size_is_rejected(tmp_path: Path) -> None:
    honest = workbook_bytes("清水县" * 500, rows=200)
    sheet = zipfile.ZipFile(io.BytesIO(honest)).getinfo("xl/worksheets/sheet1.xml")
    lying = declare_size(honest, "xl/worksheets/sheet1.xml", sheet.file_size // 10)
    path = tmp_path / "清水县.xlsx"
    path.write_bytes(lying)
    [item] = run(path)
    assert isinstance(item, Rejected) and "比声明的大" in item.reason


def test_too_many_entries_are_rejected_for_zips_and_workbooks(tmp_path: Path) -> None:
    archive = tmp_path / "多.zip"
    archive.write_bytes(zip_bytes({f"{i}.txt": b"x" for i in range(12)}))
    book = tmp_path / "清水县.xlsx"
    book.write_bytes(workbook_bytes())
    limits = Limits(max_zip_entries=8)
    items = run(archive, book, limits=limits)
    assert [type(i) for i in items] == [Rejected, Rejected]
    assert all("8 个的上限" in i.reason for i in items)


def test_oversized_files_are_rejected_without_being_read(tmp_path: Path) -> None:
    path = tmp_path / "清水县.xlsx"
    path.write_bytes(workbook_bytes("x" * 3000, rows=100))
    [item] = run(path, limits=Limits(max_file_bytes=1000))
    assert isinstance(item, Rejected) and "上限" in item.reason


def test_a_doctype_in_a_workbook_part_is_refused(tmp_path: Path) -> None:
    def with_entity(xml: bytes) -> bytes:
        declaration, rest = xml.split(b"?>", 1) if xml.startswith(b"<?xml") else (None, xml)
        doctype = b'<!DOCTYPE Types [<!ENTITY a "aaaa">]>'
        return (declaration + b"?>" if declaration else b"") + doctype + rest

    path = tmp_path / "清水县.xlsx"
    path.write_bytes(rewrite_part(workbook_bytes(), "[Content_Types].xml", with_entity))
    [item] = run(path)
    assert isinstance(item, Rejected) and "DTD" in item.reason


# --- zip archives -------------------------------------------------------------------------------------------------

def gbk_named_zip(entries: dict[str, bytes]) -> bytes:
    """A zip as Windows' "send to compressed folder" writes it on a Chinese system: GBK names, no UTF-8 flag."""
    placeholders = {f"name{i:02d}".encode() + b"_" * (len(n.encode("gbk")) - 6): n for i, n in enumerate(entries)}
    content = zip_bytes({p.decode(): entries[n] for p, n in placeholders.items()})
    for placeholder, name in placeholders.items():
        assert content.count(placeholder) == 2  # local header and central directory
        content = content.replace(placeholder, name.encode("gbk"))
    return content


def test_a_zip_with_gbk_names_utf8_names_and_a_nested_zip(tmp_path: Path) -> None:
    inner = zip_bytes({"黔东县.xlsx": workbook_bytes("黔东县"), "更深/太深.zip": zip_bytes({"a.xlsx": b"x"})})
    outer = gbk_named_zip({"督查/清水县.xlsx": workbook_bytes("清水县"), "白云县.xlsx": workbook_bytes("白云县"),
                           "说明.txt": "请查收".encode("gbk"), "分组.zip": inner})
    archive = zipfile.ZipFile(io.BytesIO(outer))
    assert not any(info.flag_bits & 0x800 for info in archive.infolist())
    path = tmp_path / "十一月.zip"
    path.write_bytes(outer)
    items = run(path)
    summary = [(type(i).__name__, i.name) for i in items]
    assert summary == [("Incoming", "清水县.xlsx"), ("Incoming", "白云县.xlsx"), ("Ignored", "说明.txt"),
                       ("Incoming", "黔东县.xlsx"), ("Rejected", "太深.zip")]
    assert items[0].source == f"压缩包 {path} 中的 督查/清水县.xlsx"
    assert items[3].source == f"压缩包 {path} 中的 分组.zip 中的 黔东县.xlsx"
    assert [first_cell(i.content) for i in items if isinstance(i, Incoming)] == ["清水县", "白云县", "黔东县"]
    assert "嵌套" in items[4].reason


def test_zip_entry_names_cannot_escape_or_name_devices(tmp_path: Path) -> None:
    content = workbook_bytes()
    path = tmp_path / "恶意.zip"
    path.write_bytes(zip_bytes({"../../x.xlsx": content, "/etc/清水县.xlsx": content, "C:\\Windows\\con.xlsx": content,
                                "__MACOSX/._x.xlsx": b"junk", "无扩展名": content}))
    items = run(path)
    assert [(type(i).__name__, i.name) for i in items] == [
        ("Incoming", "x.xlsx"), ("Incoming", "清水县.xlsx"), ("Incoming", "_con.xlsx"), ("Incoming", "无扩展名.xlsx")]


def test_the_info_zip_unicode_path_field_names_an_entry(tmp_path: Path) -> None:
    raw = b"qsx.xlsx"
    unicode_path = "清水县.xlsx".encode()
    info = zipfile.ZipInfo(raw.decode())
    info.extra = struct.pack("<HHBL", 0x7075, 5 + len(unicode_path), 1, zlib.crc32(raw)) + unicode_path
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, workbook_bytes())
    path = tmp_path / "打包.zip"
    path.write_bytes(buffer.getvalue())
    [item] = run(path)
    assert isinstance(item, Incoming) and item.name == "清水县.xlsx"


def test_a_zip_without_workbooks_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "照片.zip"
    path.write_bytes(zip_bytes({"a.jpg": b"\xff\xd8\xff", "b.txt": b"hello"}))
    items = run(path)
    assert [type(i) for i in items] == [Ignored, Ignored, Ignored]
    assert items[-1].name == "照片.zip" and "没有 Excel 工作簿" in items[-1].reason


# --- emails (.eml) ------------------------------------------------------------------------------------------------

def county_email() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "清水县扶贫办 <qsx@example.cn>"
    message["To"] = "州督查办 <dcb@example.cn>"
    message["Subject"] = "清水县2019年11月督查工作簿"
    message["Date"] = format_datetime(dt.datetime(2019, 11, 28, 9, 30, tzinfo=CHINA))
    message.set_content("附件是本月督查工作簿，请查收。")
    return message


def test_an_eml_with_chinese_attachment_names_in_every_encoding(tmp_path: Path) -> None:
    message = county_email()
    first, second, third = workbook_bytes("清水县"), workbook_bytes("第二组"), workbook_bytes("镕县")
    message.add_attachment(first, *XLSX_TYPE, filename=("utf-8", "", "清水县.xlsx"))
    message.add_attachment(second, *XLSX_TYPE, filename=("utf-8", "", "清水县-第二督查组.xlsx"))
    message.add_attachment(third, *XLSX_TYPE, filename="placeholder-2047.xlsx")
    message.add_attachment(b"%PDF-1.4 minimal", "application", "pdf", filename=("utf-8", "", "说明.pdf"))
    message.add_attachment(workbook_bytes("恶意"), *XLSX_TYPE, filename="../../x.xlsx")
    raw = message.as_bytes()
    # 镕 is outside GB2312: mail clients that label GBK text "gb2312" are common, and must still be read
    encoded = base64.b64encode("镕县.xlsx".encode("gbk")).decode()
    raw = raw.replace(b'filename="placeholder-2047.xlsx"', f'filename="=?gb2312?B?{encoded}?="'.encode())
    path = tmp_path / "清水县.eml"
    path.write_bytes(raw)
    assert b"filename*=utf-8''" in raw and b"=?gb2312?B?" in raw

    items = run(path)
    assert [(type(i).__name__, i.name) for i in items] == [
        ("Incoming", "清水县.xlsx"), ("Incoming", "清水县-第二督查组.xlsx"), ("Incoming", "镕县.xlsx"),
        ("Ignored", "说明.pdf"), ("Incoming", "x.xlsx")]
    incoming = only(items, Incoming)
    assert [i.content for i in incoming[:3]] == [first, second, third]
    for item in incoming:
        assert item.sender == "清水县扶贫办 <qsx@example.cn>"
        assert item.subject == "清水县2019年11月督查工作簿"
        assert item.sent_at == "2019-11-28T09:30:00+08:00"
    assert incoming[0].source == (f"邮件 {path}（发件人 清水县扶贫办 <qsx@example.cn>；"
                                  "主题 清水县2019年11月督查工作簿；日期 2019-11-28 09:30） 中的附件 清水县.xlsx")
    assert incoming[3].source.endswith("中的附件 ../../x.xlsx")


def test_raw_gbk_big5_split_words_and_rfc2231_continuations_are_decoded(tmp_path: Path) -> None:
    def b64(text: str, codec: str) -> str:
        return base64.b64encode(text.encode(codec)).decode()

    content = base64.encodebytes(workbook_bytes()).decode().replace("\n", "\r\n")
    split = "白云县.xlsx".encode("gbk")
    words = (f"=?gbk?B?{base64.b64encode(split[:3]).decode()}?=\r\n =?gbk?B?{base64.b64encode(split[3:]).decode()}?=")
    gbk_2231 = "".join(f"%{b:02X}" for b in "黔东县.xlsx".encode("gbk"))
    dispositions = [
        'attachment; filename="清水县.xlsx"'.encode("gbk"),  # raw 8-bit GBK, as some Chinese mail clients send
        f'attachment; filename="=?big5?B?{b64("臺東縣.xlsx", "big5")}?="'.encode(),
        f'attachment; filename="{words}"'.encode(),
        f"attachment;\r\n filename*0*=gbk''{gbk_2231[:12]};\r\n filename*1*={gbk_2231[12:]}".encode(),
    ]
    parts = [b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
             b"Content-Disposition: " + d + b"\r\n\r\n" + content.encode() for d in dispositions]
    parts.append(f'Content-Type: application/vnd.ms-excel; name="=?gb2312?B?{b64("石门村.xlsx", "gbk")}?="\r\n'
                 f"Content-Transfer-Encoding: base64\r\n\r\n{content}".encode())
    body = b"".join(b"--BOUNDARY\r\n" + p + b"\r\n" for p in parts) + b"--BOUNDARY--\r\n"
    head = (f"From: =?gb2312?B?{b64('清水县', 'gbk')}?= <qsx@example.cn>\r\n"
            f"Subject: =?gb2312?B?{b64('镕县督查', 'gbk')}?=\r\nDate: Thu, 28 Nov 2019 09:30:00 +0800\r\n"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BOUNDARY\r\n\r\n").encode()
    path = tmp_path / "各种编码.eml"
    path.write_bytes(head + body)
    items = run(path)
    assert [(type(i).__name__, i.name) for i in items] == [
        ("Incoming", "清水县.xlsx"), ("Incoming", "臺東縣.xlsx"), ("Incoming", "白云县.xlsx"),
        ("Incoming", "黔东县.xlsx"), ("Incoming", "石门村.xlsx")]
    assert (items[0].sender, items[0].subject) == ("清水县 <qsx@example.cn>", "镕县督查")


def test_a_forwarded_email_and_a_zip_attached_to_an_email_are_opened(tmp_path: Path) -> None:
    forwarded = county_email()
    forwarded.add_attachment(workbook_bytes("转发"), *XLSX_TYPE, filename=("utf-8", "", "转发的.xlsx"))
    message = county_email()
    message.replace_header("Subject", "转发：督查工作簿")
    message.add_attachment(forwarded)
    message.add_attachment(gbk_named_zip({"白云县.xlsx": workbook_bytes("白云县")}), "application", "zip",
                           filename=("utf-8", "", "打包.zip"))
    path = tmp_path / "转发.eml"
    path.write_bytes(message.as_bytes())
    items = run(path)
    assert [(type(i).__name__, i.name) for i in items] == [("Incoming", "转发的.xlsx"), ("Incoming", "白云县.xlsx")]
    assert all(i.subject == "转发：督查工作簿" for i in items)
    assert items[1].source.endswith("中的附件 打包.zip 中的 白云县.xlsx")


def test_an_email_without_workbooks_is_ignored(tmp_path: Path) -> None:
    message = county_email()
    path = tmp_path / "只有正文.eml"
    path.write_bytes(message.as_bytes())
    [item] = run(path)
    assert isinstance(item, Ignored) and "没有 Excel 工作簿附件" in item.reason and "发件人 清水县扶贫办" in item.source


# --- Outlook .msg -------------------------------------------------------------------------------------------------

def test_a_real_outlook_msg_reports_its_non_workbook_attachments_as_ignored(tmp_path: Path) -> None:
    items = run(OUTLOOK_MSG)
    assert [(type(i).__name__, i.name) for i in items] == [
        ("Ignored", "thumbsup"), ("Ignored", "dresscode.txt"), ("Ignored", "location.txt"),
        ("Ignored", "outlook-two-text-attachments.msg")]
    assert items[1].source == (f"邮件 {OUTLOOK_MSG}（发件人 lollypop <b.bottema@projectnibble.org>；主题 hey；"
                               "日期 2017-03-05 11:11） 中的附件 dresscode.txt")


def msg_with_workbook(content: bytes, name: str) -> bytes:
    """The real Outlook message with its second attachment replaced by a workbook (streams and property sizes)."""
    base = "__attach_version1.0_#00000001/"
    streams = {"__substg1.0_37010102": content,  # data, long and display names, short name, extension, MIME type
               "__substg1.0_3707001F": name.encode("utf-16-le"), "__substg1.0_3001001F": name.encode("utf-16-le"),
               "__substg1.0_3704001F": "QSX~1.XLS".encode("utf-16-le"),
               "__substg1.0_3703001F": ".xlsx".encode("utf-16-le"),
               "__substg1.0_370E001F": "/".join(XLSX_TYPE).encode("utf-16-le")}
    with olefile.OleFileIO(str(OUTLOOK_MSG)) as ole:
        properties = bytearray(ole.openstream(base + "__properties_version1.0").read())
        writer = OleWriter()
        writer.fromOleFile(ole)
    for stream, data in streams.items():
        writer.editEntry(base + stream, data=data)
    sizes = {int(stream[-8:], 16): len(data) + (2 if stream.endswith("001F") else 0)
             for stream, data in streams.items()}
    for offset in range(8, len(properties), 16):  # MS-OXMSG: variable-length properties record their size
        tag = struct.unpack_from("<L", properties, offset)[0]
        if tag in sizes:
            struct.pack_into("<L", properties, offset + 8, sizes[tag])
    writer.editEntry(base + "__properties_version1.0", data=bytes(properties))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_an_outlook_msg_with_a_workbook_attachment(tmp_path: Path) -> None:
    content = workbook_bytes("清水县")
    path = tmp_path / "清水县.msg"
    path.write_bytes(msg_with_workbook(content, "清水县-2019-11.xlsx"))
    items = run(path)
    assert [(type(i).__name__, i.name) for i in items] == [
        ("Ignored", "thumbsup"), ("Incoming", "清水县-2019-11.xlsx"), ("Ignored", "location.txt")]
    incoming = items[1]
    assert incoming.content == content
    assert incoming.sender == "lollypop <b.bottema@projectnibble.org>"
    assert (incoming.subject, incoming.sent_at) == ("hey", "2017-03-05T11:11:31+00:00")
    assert incoming.source.startswith(f"邮件 {path}（发件人 lollypop")


def test_a_damaged_msg_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "损坏.msg"
    path.write_bytes(OUTLOOK_MSG.read_bytes()[:3000])
    [item] = run(path)
    assert isinstance(item, Rejected) and ".msg" in item.reason


# --- encrypted workbooks ------------------------------------------------------------------------------------------

def test_an_encrypted_workbook_with_and_without_the_password(tmp_path: Path) -> None:
    plain = tmp_path / "清水县.xlsx"
    plain.write_bytes(workbook_bytes("清水县"))
    locked = protect_copy(plain, "督查2019")
    [opened] = run(locked, password="督查2019")
    assert isinstance(opened, Incoming) and opened.was_encrypted
    assert opened.name == "清水县.加密.xlsx" and opened.content == plain.read_bytes()
    assert first_cell(opened.content) == "清水县"

    [wrong] = run(locked, password="猜错了")
    assert isinstance(wrong, Rejected) and wrong.reason.startswith("密码不对")
    [missing] = run(locked)
    assert isinstance(missing, Rejected)
    assert missing.reason.startswith("文件已加密，请在配置中提供密码（--password 或环境变量 DUCHA_PASSWORD）")


def test_an_encrypted_attachment_in_an_email(tmp_path: Path) -> None:
    plain = tmp_path / "清水县.xlsx"
    plain.write_bytes(workbook_bytes("清水县"))
    message = county_email()
    message.add_attachment(protect_copy(plain, "督查2019").read_bytes(), *XLSX_TYPE,
                           filename=("utf-8", "", "清水县.xlsx"))
    path = tmp_path / "加密.eml"
    path.write_bytes(message.as_bytes())
    [item] = run(path, password="督查2019")
    assert isinstance(item, Incoming) and item.was_encrypted and item.content == plain.read_bytes()


# --- names --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("../../x.xlsx", "x.xlsx"),
    ("..\\..\\x.xlsx", "x.xlsx"),
    ("C:\\Users\\县\\清水县.xlsx", "清水县.xlsx"),
    ("/etc/passwd", "passwd"),
    ("CON.xlsx", "_CON.xlsx"),
    ("nul", "_nul"),
    ("com1.txt", "_com1.txt"),
    ("LPT9.xlsx", "_LPT9.xlsx"),
    ("aux .xlsx", "_aux .xlsx"),
    ("console.xlsx", "console.xlsx"),
    ('清<水>:县"|?*.xlsx', "清水县.xlsx"),
    ("...", "附件"),
    ("", "附件"),
    (".bashrc", "bashrc"),
    ("清水县.xlsx. . ", "清水县.xlsx"),
    ("a\x00b\x1f\x7fc.xlsx", "abc.xlsx"),
    ("invoice\u202eslx.exe", "invoiceslx.exe"),
])
def test_safe_name(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


def test_safe_name_keeps_the_extension_of_a_long_name() -> None:
    name = safe_name("清水县" * 100 + ".xlsx")
    assert len(name) <= 120 and name.endswith(".xlsx")


@given(st.text())
def test_safe_name_is_always_a_plain_file_name(raw: str) -> None:
    name = safe_name(raw)
    assert name and len(name) <= 120
    assert not set(name) & set('<>:"/\\|?*') and not name.startswith(".") and not name.endswith((".", " "))
    assert all(unicodedata.category(c)[0] != "C" for c in name)
    assert not re.match(r"(con|prn|aux|nul|com\d|lpt\d)\s*(\.|$)", name, re.IGNORECASE)
