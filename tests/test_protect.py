"""Encrypted copies for emailing: Excel-compatible agile encryption that only the password opens, written beside
the source without touching it; and decryption with clear Chinese errors.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import msoffcrypto
import olefile
import pytest
import python_calamine
from extract_msg.ole_writer import OleWriter

from ducha.adapters.protect import (
    ProtectError,
    WrongPassword,
    decrypt_bytes,
    default_output,
    is_encrypted,
    protect_copy,
)
from ducha.reading.raw import CFB_MAGIC
from markdown_workbook import valid_sheets, write_workbook

PASSWORD = "督查2019"


def grids(content: bytes) -> dict[str, list[list[object]]]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    return write_workbook(tmp_path / "清水县-2019-11.xlsx", valid_sheets())


def test_the_encrypted_copy_opens_only_with_the_password_and_the_source_is_untouched(workbook: Path) -> None:
    before = hashlib.sha256(workbook.read_bytes()).hexdigest()
    modified = workbook.stat().st_mtime_ns
    out = protect_copy(workbook, PASSWORD)

    assert out == workbook.with_name("清水县-2019-11.加密.xlsx") == default_output(workbook)
    assert hashlib.sha256(workbook.read_bytes()).hexdigest() == before and workbook.stat().st_mtime_ns == modified
    locked = out.read_bytes()
    assert locked.startswith(CFB_MAGIC) and is_encrypted(locked)
    with olefile.OleFileIO(locked) as ole:
        assert ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
    with pytest.raises(python_calamine.PasswordError):
        python_calamine.CalamineWorkbook.from_path(str(out))

    office = msoffcrypto.OfficeFile(io.BytesIO(locked))
    office.load_key(password=PASSWORD, verify_password=True)
    plain = io.BytesIO()
    office.decrypt(plain)
    assert plain.getvalue() == workbook.read_bytes()
    assert decrypt_bytes(locked, PASSWORD) == workbook.read_bytes()
    assert grids(decrypt_bytes(locked, PASSWORD)) == grids(workbook.read_bytes())
    assert sorted(p.name for p in workbook.parent.iterdir()) == sorted([workbook.name, out.name])  # no temp files


def test_an_explicit_output_path_and_a_macro_workbook(workbook: Path, tmp_path: Path) -> None:
    macro = tmp_path / "清水县.xlsm"
    macro.write_bytes(workbook.read_bytes())
    assert default_output(macro).name == "清水县.加密.xlsm"
    out = protect_copy(workbook, PASSWORD, tmp_path / "发送" / "给州督查办.xlsx")
    assert out == tmp_path / "发送" / "给州督查办.xlsx" and is_encrypted(out.read_bytes())


def test_a_wrong_password_is_told_apart_from_other_failures(workbook: Path) -> None:
    locked = protect_copy(workbook, PASSWORD).read_bytes()
    with pytest.raises(WrongPassword, match=r"^密码不对"):
        decrypt_bytes(locked, "猜错了")
    with pytest.raises(ProtectError, match="没有加密"):
        decrypt_bytes(workbook.read_bytes(), PASSWORD)


@pytest.mark.parametrize(("case", "message"), [
    ("missing", "找不到文件"), ("empty password", "密码不能为空"), ("same file", "不能覆盖原文件"),
    ("already encrypted", "已经加密"), ("not a workbook", "不是 Excel 工作簿|文本表格"),
])
def test_protect_refuses_with_a_chinese_reason(workbook: Path, tmp_path: Path, case: str, message: str) -> None:
    source, password, out = workbook, PASSWORD, None
    if case == "missing":
        source = tmp_path / "没有.xlsx"
    elif case == "empty password":
        password = ""
    elif case == "same file":
        out = workbook
    elif case == "already encrypted":
        source = protect_copy(workbook, PASSWORD)
    else:
        source = tmp_path / "说明.txt"
        source.write_text("不是工作簿", encoding="utf-8")
    before = source.read_bytes() if source.exists() else None
    with pytest.raises(ProtectError, match=message):
        protect_copy(source, password, out)
    assert (source.read_bytes() if source.exists() else None) == before


def test_a_doctype_in_the_encryption_info_is_refused_before_msoffcrypto_parses_it(workbook: Path) -> None:
    locked = protect_copy(workbook, PASSWORD).read_bytes()
    with olefile.OleFileIO(locked) as ole:
        info = ole.openstream("EncryptionInfo").read()
        writer = OleWriter()
        writer.fromOleFile(ole)
    header, xml = info[:8], info[8:]
    declaration, rest = xml.split(b"?>", 1)
    hostile = header + declaration + b'?><!DOCTYPE encryption [<!ENTITY a "aaaa">]>' + rest
    writer.editEntry("EncryptionInfo", data=hostile)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(ProtectError, match="加密信息无效"):
        decrypt_bytes(buffer.getvalue(), PASSWORD)
