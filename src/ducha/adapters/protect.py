"""Password encryption of workbooks (Excel's File → Protect → Encrypt), with msoffcrypto-tool.

`protect_copy` encrypts a copy for emailing, since the workbooks carry personal data; `decrypt_bytes` opens an
encrypted workbook that was emailed in.
"""

from __future__ import annotations

import io
from pathlib import Path

import olefile
from defusedxml import ElementTree as SafeET
from msoffcrypto import exceptions as crypto_errors
from msoffcrypto.format.ooxml import OOXMLFile

from ducha.adapters.files import write_atomically
from ducha.model.refusals import Refused
from ducha.reading.gate import CFB_MAGIC, admit

ENCRYPTED_SUFFIX = ".加密"
MAX_ENCRYPTION_INFO_BYTES = 64 * 1024
AGILE_VERSION = (4, 4)


class ProtectError(Exception):
    """Encryption or decryption failed; the message is Chinese and says what to do."""


class WrongPassword(ProtectError):
    """The password does not open the workbook."""


def default_output(source: Path) -> Path:
    """`清水县.xlsx` -> `清水县.加密.xlsx`, next to the source."""
    source = Path(source)
    return source.with_name(f"{source.stem}{ENCRYPTED_SUFFIX}{source.suffix or '.xlsx'}")


def is_encrypted(content: bytes) -> bool:
    """True for an OLE container holding an encrypted Office package (an EncryptionInfo stream)."""
    if not content.startswith(CFB_MAGIC):
        return False
    try:
        with olefile.OleFileIO(content) as ole:
            return ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
    except Exception:  # olefile raises several types for damaged containers
        return False


def protect_copy(source: Path, password: str, out: Path | None = None) -> Path:
    """Write a password-encrypted copy of `source` (agile encryption, as Excel does); the source is not touched."""
    source = Path(source)
    target = Path(out) if out is not None else default_output(source)
    if not password:
        raise ProtectError("密码不能为空，请提供加密密码")
    try:
        admitted = admit(source)  # the input gate
    except Refused as exc:
        if exc.code == "encrypted":
            raise ProtectError(f"「{source.name}」已经加密，无需再次加密") from None
        raise ProtectError(str(exc)) from None
    if target.resolve() == source.resolve():
        raise ProtectError("加密副本不能覆盖原文件，请换一个输出文件名")
    if admitted.kind != "xlsx":
        raise ProtectError(f"「{source.name}」不是 .xlsx/.xlsm 工作簿，无法加密。请先在 Excel 中“另存为”.xlsx 再加密")
    content = admitted.data
    encrypted = io.BytesIO()
    try:
        OOXMLFile(io.BytesIO(content)).encrypt(password, encrypted)
    except Exception as exc:  # msoffcrypto raises FileFormatError, EncryptionError and zip errors
        raise ProtectError(f"「{source.name}」无法加密（{type(exc).__name__}），"
                           "请确认它是完好的 Excel 工作簿") from None
    try:
        return write_atomically(target, lambda tmp: tmp.write_bytes(encrypted.getvalue()))
    except OSError as exc:
        raise ProtectError(f"无法写入加密副本「{target}」（{exc.strerror or exc}）") from None


def decrypt_bytes(content: bytes, password: str) -> bytes:
    """The decrypted workbook (.xlsx bytes). Raises WrongPassword or ProtectError with a Chinese reason."""
    if not is_encrypted(content):
        raise ProtectError("文件没有加密（或不是加密的 Excel 工作簿）")
    _check_encryption_info(content)
    try:
        office = OOXMLFile(io.BytesIO(content))
    except Exception as exc:
        raise ProtectError(f"加密信息无法识别（{type(exc).__name__}），请在 Excel 中取消密码后重新发送") from None
    try:
        office.load_key(password=password, verify_password=True)
    except crypto_errors.InvalidKeyError:
        raise WrongPassword("密码不对，请核对配置中的密码（--password 或环境变量 DUCHA_PASSWORD），"
                            "或请报送单位在 Excel 中取消密码后重新发送") from None
    except Exception as exc:
        raise ProtectError(f"加密方式不受支持（{type(exc).__name__}），请在 Excel 中取消密码后重新发送") from None
    out = io.BytesIO()
    try:
        office.decrypt(out, verify_integrity=office.type == "agile")
    except crypto_errors.InvalidKeyError:
        raise ProtectError("解密后的内容校验失败，文件可能已损坏或被改动，请重新发送") from None
    except Exception as exc:
        raise ProtectError(f"文件无法解密（{type(exc).__name__}），请在 Excel 中取消密码后重新发送") from None
    return out.getvalue()


def _check_encryption_info(content: bytes) -> None:
    """Parse the agile EncryptionInfo XML with defusedxml first, so msoffcrypto never sees a hostile DTD."""
    try:
        with olefile.OleFileIO(content) as ole:
            if ole.get_size("EncryptionInfo") > MAX_ENCRYPTION_INFO_BYTES:
                raise ProtectError("加密信息过大，文件可能已损坏，请重新发送")
            info = ole.openstream("EncryptionInfo").read()
    except ProtectError:
        raise
    except Exception as exc:
        raise ProtectError(f"加密信息无法读取（{type(exc).__name__}），文件可能已损坏") from None
    if len(info) < 8:
        raise ProtectError("加密信息不完整，文件可能已损坏，请重新发送")
    if (int.from_bytes(info[0:2], "little"), int.from_bytes(info[2:4], "little")) == AGILE_VERSION:
        try:
            SafeET.fromstring(info[8:])
        except Exception as exc:  # defusedxml refuses DTDs and entities; ParseError for broken XML
            raise ProtectError(f"加密信息无效（{type(exc).__name__}），文件可能已损坏或被篡改") from None
