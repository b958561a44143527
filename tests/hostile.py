"""Hostile and awkward input shapes, built from the clean demo workbook (markdown_workbook.valid_sheets), and a
runner that calls `python -m ducha` in a child process under a memory limit and a timeout."""

from __future__ import annotations

import io
import os
import re
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

from markdown_workbook import valid_sheets, write_workbook

MEMORY_LIMIT = 1536 * 1024 * 1024  # 1.5 GB of address space
HOSTILE_SECONDS = 10
HOUSEHOLDS_PART = "xl/worksheets/sheet3.xml"  # 农户调查 in write_workbook's order


def clean_workbook(path: Path, month: str = "2019-11") -> Path:
    return write_workbook(path, valid_sheets(month))


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_parts(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return path


def sheet_part_names(path: Path) -> list[str]:
    return sorted(n for n in parts(path) if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))


def changed(source: Path, target: Path, part: str, change) -> Path:
    entries = parts(source)
    entries[part] = change(entries[part])
    return write_parts(target, entries)


def far_value(folder: Path) -> Path:
    """One real value at XFD1048576 (python-calamine would need 17 billion cells)."""
    clean = clean_workbook(folder / "clean.xlsx")
    return changed(clean, folder / "远处有值.xlsx", HOUSEHOLDS_PART, lambda xml: xml.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="n"><v>1</v></c></row></sheetData>'))


def whole_column_formatting(source: Path, target: Path) -> Path:
    """Every sheet formatted on whole columns (a border style on A:XFD), a <dimension> of A1:XFD1048576 and styled
    empty cells down to row 1,048,576 — as clerks, Gnumeric and WPS leave them."""
    entries = parts(source)
    for name in sheet_part_names(source):
        xml = entries[name]
        xml = re.sub(rb"<dimension [^>]*/>", b"", xml)
        xml = xml.replace(b"<sheetData", b'<dimension ref="A1:XFD1048576"/><sheetData', 1) \
            if b"<sheetViews" not in xml else xml.replace(b"<sheetViews", b'<dimension ref="A1:XFD1048576"/>'
                                                          b"<sheetViews", 1)
        xml = re.sub(rb"<cols>.*?</cols>", b"", xml, flags=re.S)
        xml = xml.replace(b"<sheetData", b'<cols><col min="1" max="16384" width="12" style="0"/></cols><sheetData', 1)
        empty_tail = b"".join(b'<row r="%d"><c r="A%d" s="0"/><c r="XFD%d" s="0"/></row>' % (r, r, r)
                              for r in (1048575, 1048576))
        xml = xml.replace(b"</sheetData>", empty_tail + b"</sheetData>")
        entries[name] = xml
    return write_parts(target, entries)


def zip_bomb(folder: Path) -> Path:
    """A workbook whose 农户调查 part inflates 1,000-fold (64 MB of spaces)."""
    clean = clean_workbook(folder / "clean.xlsx")
    return changed(clean, folder / "压缩炸弹.xlsx", HOUSEHOLDS_PART,
                   lambda xml: xml.replace(b"</worksheet>", b" " * (64 * 1024 * 1024) + b"</worksheet>"))


def lying_size_bomb(folder: Path) -> Path:
    """A part that declares 1 KB but inflates to 64 MB: found while streaming."""
    bomb = zip_bomb(folder)
    data = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(HOUSEHOLDS_PART)
    real = info.file_size.to_bytes(4, "little")
    data = data.replace(real, (1024).to_bytes(4, "little"))  # local header and central directory
    target = folder / "谎报大小.xlsx"
    target.write_bytes(bytes(data))
    return target


def xxe_in_shared_strings(folder: Path) -> Path:
    """A parameter-entity XXE in xl/sharedStrings.xml."""
    clean = clean_workbook(folder / "clean.xlsx")
    declaration = (b'<!DOCTYPE sst [<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]>')
    entries = parts(clean)
    part = "xl/sharedStrings.xml"
    if part not in entries:  # write_workbook writes inline strings: add a shared-strings part
        entries[part] = (b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
                         b'spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>x</t></si></sst>')
        entries["[Content_Types].xml"] = entries["[Content_Types].xml"].replace(
            b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                         b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        entries["xl/_rels/workbook.xml.rels"] = entries["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>", b'<Relationship Id="rIdSst" Type="http://schemas.openxmlformats.org/officeDocument/'
                                 b'2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    entries[part] = re.sub(rb"(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or b"") + declaration, entries[part], count=1)
    return write_parts(folder / "外部实体.xlsx", entries)


REAL_ODS = Path(__file__).resolve().parent / "real_files" / "tafia__tests_any_sheets.ods"


def _ods_with_content(target: Path, change) -> Path:
    """A real .ods (written by LibreOffice) with its content.xml changed; mimetype first and stored, as ODF wants."""
    entries = parts(REAL_ODS)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", entries.pop("mimetype"), compress_type=zipfile.ZIP_STORED)
        for name, content in entries.items():
            archive.writestr(name, change(content) if name == "content.xml" else content)
    return target


def ods_repeat_bomb(folder: Path) -> Path:
    """An .ods whose first row, holding values, is repeated 300,000 times over 18 columns: 5 million value cells
    from a few kilobytes (calamine expands every repeat)."""
    def change(xml: bytes) -> bytes:
        xml = re.sub(rb"<table:table-row([^>]*)>", rb'<table:table-row table:number-rows-repeated="300000"\1>', xml,
                     count=1)
        return re.sub(rb"<table:table-cell([^>/]*)office:value-type",
                      rb'<table:table-cell table:number-columns-repeated="18"\1office:value-type', xml, count=1)
    return _ods_with_content(folder / "重复炸弹.ods", change)


def xxe_in_ods_content(folder: Path) -> Path:
    """A parameter-entity XXE in an .ods content.xml."""
    return _ods_with_content(folder / "外部实体.ods", lambda xml: xml.replace(
        b"?>", b'?><!DOCTYPE office:document-content [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>', 1))


def fifo(folder: Path) -> Path:
    path = folder / "管道.xlsx"
    os.mkfifo(path)
    return path


def dev_zero_link(folder: Path) -> Path:
    path = folder / "零设备.xlsx"
    path.symlink_to("/dev/zero")
    return path


def dangling_link(folder: Path) -> Path:
    path = folder / "失效链接.xlsx"
    path.symlink_to(folder / "不存在.xlsx")
    return path


def looping_link(folder: Path) -> Path:
    path = folder / "循环链接.xlsx"
    path.symlink_to(path)
    return path


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def ducha(*argv: str, timeout: float = HOSTILE_SECONDS, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    """`python -m ducha …` in a child process limited to 1.5 GB and `timeout` seconds (TimeoutExpired fails)."""
    return subprocess.run([sys.executable, "-m", "ducha", *argv], capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_limit_memory, env={**os.environ, **(env or {})})


def digest_of(path: Path) -> bytes | str:
    """The bytes of a regular file, or what a special file is (never opened)."""
    if path.is_symlink() or not path.is_file():
        return f"{os.lstat(path).st_mode:o} -> {os.readlink(path) if path.is_symlink() else ''}"
    return path.read_bytes()
