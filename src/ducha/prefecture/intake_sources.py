"""Where submissions come from: command-line paths (workbooks, folders, .eml/.msg emails, .zip archives) become a
stream of workbooks to take in, each with its source, or a reason why it cannot be taken in.

Everything here only reads. Emailed files are untrusted: sizes, zip containers and sheet extents are checked before
anything is loaded, XML is parsed with defusedxml, attachment names are sanitised, and nothing is ever executed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email.utils
import logging
import re
import struct
import unicodedata
import urllib.parse
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

from ducha.adapters.protect import ProtectError, decrypt_bytes, is_encrypted
from ducha.model.refusals import Refused
from ducha.reading.gate import (
    CFB_MAGIC,
    DEFAULT_LIMITS,
    ZIP_MAGIC,
    Admitted,
    Limits,
    admit_bytes,
    inflate,
    megabytes,
    open_zip,
    read_regular,
)

log = logging.getLogger("ducha.intake")

MiB = 1024 * 1024
WORKBOOK_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods"})  # what calamine reads
OLD_FORMAT_SUFFIXES = frozenset({".et", ".ett", ".numbers"})  # refused by the gate with how to save as .xlsx
OTHER_ARCHIVE_SUFFIXES = frozenset({".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz"})
CONTAINER_SUFFIXES = frozenset({".zip", ".eml", ".msg"})
SKIPPED_FILE_NAMES = frozenset({"thumbs.db", "desktop.ini"})
SPREADSHEET_TYPES = frozenset({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               "application/vnd.ms-excel.sheet.macroenabled.12"})
MAX_NAME_LENGTH = 120

NO_PASSWORD = ("文件已加密，请在配置中提供密码（--password 或环境变量 DUCHA_PASSWORD），"
               "或请报送单位在 Excel 中取消密码后重新发送")
NOT_A_WORKBOOK = "不是 Excel 工作簿（.xlsx .xlsm .xls .xlsb .ods 等），已跳过"
FAILED = "处理时出错，已跳过并记入日志；请把此文件交给技术人员检查"


@dataclass(frozen=True)
class Incoming:
    """One workbook found: sanitised name, bytes (decrypted if it was encrypted) and where it came from."""

    name: str
    content: bytes
    source: str
    sender: str | None = None
    subject: str | None = None
    sent_at: str | None = None
    was_encrypted: bool = False
    error_cells: bool = True  # some sheet holds formula-error cells (False only when the scan saw none)
    kind: str | None = None  # the gate's format when these very bytes passed it (reading.gate.Admitted.kind)
    gate_pending: bool = False  # collected with gate=False: `content` has not been through the gate yet

    def admitted(self) -> Admitted | None:
        """The gate's verdict on `content`, when it was given one: reading it needs no second pass of the gate."""
        return Admitted(self.name, self.content, self.kind, self.error_cells) if self.kind else None


@dataclass(frozen=True)
class Rejected:
    """Something that looked like a submission but cannot be taken in; the reason says what to do."""

    name: str
    source: str
    reason: str


@dataclass(frozen=True)
class Ignored:
    """Not a workbook at all (a PDF attachment, a .txt in a zip, an email without workbooks)."""

    name: str
    source: str
    reason: str


Item = Incoming | Rejected | Ignored


class _Refused(ValueError):
    """This workbook or container cannot be taken in; the message is the Chinese reason."""


@dataclass(frozen=True)
class _Origin:
    """The email a file came with, if any."""

    sender: str | None = None
    subject: str | None = None
    sent_at: str | None = None


@dataclass(frozen=True)
class _Context:
    password: str | None
    limits: Limits
    exclude: tuple[Path, ...] = ()  # folders never walked into (the archive itself)
    gate: bool = True  # False: workbooks come out unchecked, `gate_pending`


def collect(paths: Iterable[Path], *, password: str | None = None, limits: Limits = DEFAULT_LIMITS,
            exclude: Iterable[Path] = (), gate: bool = True) -> Iterator[Item]:
    """Every workbook found under `paths`, in a deterministic order; one bad file never stops the rest.

    Folders in `exclude` (the archive, with its originals and receipts) are never walked into. `gate=False`: a
    workbook is not passed through the input gate here but yielded with `gate_pending` set; the caller must have
    `admit_workbook` admit its bytes before anything stores or reads them (intake does so in its worker processes)."""
    ctx = _Context(password or None, limits, tuple(p.resolve() for p in exclude), gate)
    for path in paths:
        path = Path(path)
        if path.is_dir():
            yield from _folder(path, ctx)
        elif _skipped(path.name):
            yield Ignored(path.name, f"文件 {path}", "Office 临时文件或系统文件，已跳过")
        else:
            yield from _guarded(_from_file(path, ctx), path.name, f"文件 {path}")


def from_email(name: str, raw: bytes, source: str, *, password: str | None = None,
               limits: Limits = DEFAULT_LIMITS) -> Iterator[Item]:
    """The workbooks attached to one email message given as bytes (one fetched over IMAP), parsed exactly as an
    .eml file; `name` names the message when it has no workbook."""
    ctx = _Context(password or None, limits)
    yield from _guarded(_eml(safe_name(name, "邮件"), raw, source, ctx, 0), name, source)


def email_headers(raw: bytes) -> dict[str, str | None]:
    """Message-ID, From and Subject of an email's bytes, decoded as for an .eml (GBK, Big5, raw 8-bit, RFC 2047)."""
    headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
    return {name: _header_text(headers, name) for name in ("Message-ID", "From", "Subject")}


# --- names --------------------------------------------------------------------------------------------------------

_DEVICE_NAME = re.compile(r"^(con|prn|aux|nul|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])\s*(\.|$)", re.IGNORECASE)
_WINDOWS_INVALID = re.compile(r'[<>:"/\\|?*]')
_EDGE_DOTS_AND_SPACES = re.compile(r"^[\s.]+|[\s.]+$")


def safe_name(raw: str, default: str = "附件") -> str:
    """A file name safe on Windows and Linux: no directories, control characters or device names; never empty."""
    name = re.split(r"[/\\]", unicodedata.normalize("NFC", raw or ""))[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _EDGE_DOTS_AND_SPACES.sub("", _WINDOWS_INVALID.sub("", name))
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, suffix = name.rpartition(".")
        keep = f".{suffix}" if dot and stem and len(suffix) <= 10 else ""
        name = _EDGE_DOTS_AND_SPACES.sub("", name[: MAX_NAME_LENGTH - len(keep)]) + keep
    if not name:
        name = default
    if _DEVICE_NAME.match(name):
        name = f"_{name}"
    return name


def _display(raw: str) -> str:
    """A name as shown in a source description: printable, one line, bounded."""
    text = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in raw)
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


def _suffix(name: str) -> str:
    return Path(name).suffix.lower()


def _with_workbook_suffix(name: str) -> str:
    """The name of a workbook recognised by its content: `清水县.zip` -> `清水县.xlsx`, `清水县` -> `清水县.xlsx`."""
    suffix = _suffix(name)
    stem = name[: -len(suffix)] if suffix == ".zip" or suffix in OLD_FORMAT_SUFFIXES else name
    return safe_name(f"{stem}.xlsx")


def _skipped(name: str) -> bool:
    """Office lock files, hidden files and system files are skipped silently."""
    return name.startswith(("~$", ".")) or name.lower() in SKIPPED_FILE_NAMES


# --- files and folders --------------------------------------------------------------------------------------------

def _folder(folder: Path, ctx: _Context) -> Iterator[Item]:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: (p.name.casefold(), p.name))
    except OSError as exc:
        yield Rejected(folder.name, f"文件夹 {folder}", f"文件夹打不开（{exc.strerror or exc}），请检查权限")
        return
    for entry in entries:
        if _skipped(entry.name) or (entry.is_symlink() and entry.is_dir()):
            continue
        if entry.is_dir() and entry.resolve() in ctx.exclude:
            continue
        if entry.is_dir():
            yield from _folder(entry, ctx)
        else:
            yield from _guarded(_from_file(entry, ctx), entry.name, f"文件 {entry}")


def _from_file(path: Path, ctx: _Context) -> Iterator[Item]:
    source = f"文件 {path}"
    name = safe_name(path.name)
    suffix = _suffix(name)
    known = suffix in WORKBOOK_SUFFIXES | OLD_FORMAT_SUFFIXES | CONTAINER_SUFFIXES
    if not known and suffix in OTHER_ARCHIVE_SUFFIXES:
        yield from _dispatch(path.name, b"", str(path), True, _Origin(), ctx, 0)  # decided by the name
        return
    cap = ctx.limits.max_container_bytes if suffix in CONTAINER_SUFFIXES or not known else ctx.limits.max_file_bytes
    try:
        data = read_regular(path, Limits(max_file_bytes=cap))  # regular files only, checked before opening
    except Refused as exc:
        yield Rejected(name, source, str(exc))
        return
    if not known and not data.startswith(ZIP_MAGIC):
        yield from _dispatch(path.name, b"", str(path), True, _Origin(), ctx, 0)  # decided by the name
        return
    yield from _dispatch(path.name, data, str(path), True, _Origin(), ctx, 0)


def _guarded(items: Iterator[Item], name: str, source: str) -> Iterator[Item]:
    """An unexpected failure on one file becomes a rejection of that file, never the end of the batch."""
    try:
        yield from items
    except Exception:
        log.exception("intake failed on %s", source)
        yield Rejected(safe_name(name), source, FAILED)


def _dispatch(raw_name: str, data: bytes, place: str, top: bool, origin: _Origin, ctx: _Context,
              depth: int) -> Iterator[Item]:
    """Route one file's bytes by its name and, where the name says nothing, by its content."""
    name = safe_name(raw_name)
    suffix = _suffix(name)
    source = f"文件 {place}" if top else place
    if suffix in CONTAINER_SUFFIXES and not (suffix == ".zip" and _is_workbook_zip(data, ctx.limits)):
        if depth >= ctx.limits.max_depth:
            yield Rejected(name, source, "压缩包或邮件嵌套层数过多，请解压后直接发送 .xlsx 工作簿")
        elif len(data) > ctx.limits.max_container_bytes:
            yield Rejected(name, source, f"文件有 {megabytes(len(data))}，超过 "
                                         f"{megabytes(ctx.limits.max_container_bytes)} 的上限，请拆分后重新发送")
        elif suffix == ".zip":
            yield from _zip(name, data, f"压缩包 {place}" if top else place, origin, ctx, depth)
        elif suffix == ".eml":
            yield from _eml(name, data, f"邮件 {place}" if top else place, ctx, depth)
        else:
            yield from _msg(name, data, f"邮件 {place}" if top else place, ctx, depth)
    elif suffix in WORKBOOK_SUFFIXES:
        yield _workbook(name, data, source, origin, ctx)
    elif suffix == ".zip" or (suffix not in OTHER_ARCHIVE_SUFFIXES and _is_workbook_zip(data, ctx.limits)):
        yield _workbook(_with_workbook_suffix(name), data, source, origin, ctx)
    elif suffix in OLD_FORMAT_SUFFIXES:
        yield _workbook(name, data, source, origin, ctx)  # the gate says how to save it as .xlsx
    elif suffix in OTHER_ARCHIVE_SUFFIXES:
        yield Rejected(name, source, "不支持 RAR、7z 等压缩格式，请解压后直接发送 .xlsx 工作簿，或改用 .zip 压缩")
    else:
        yield Ignored(name, source, NOT_A_WORKBOOK)


def _children(items: Iterator[Item], name: str, source: str, empty_reason: str) -> Iterator[Item]:
    """Pass a container's items through; a container with no workbook at all is itself reported as ignored."""
    found = False
    for item in items:
        found = found or not isinstance(item, Ignored)
        yield item
    if not found:
        yield Ignored(name, source, empty_reason)


# --- workbooks ----------------------------------------------------------------------------------------------------

def _workbook(name: str, data: bytes, source: str, origin: _Origin, ctx: _Context) -> Incoming | Rejected:
    """Check a workbook's bytes (decrypting them if needed) at the input gate; never loads it."""
    encrypted = False
    try:
        if data.startswith(CFB_MAGIC) and is_encrypted(data):
            if not ctx.password:
                raise _Refused(NO_PASSWORD)
            try:
                data = decrypt_bytes(data, ctx.password)
            except ProtectError as exc:
                raise _Refused(str(exc)) from None
            encrypted = True
        if not ctx.gate:
            return Incoming(name, data, source, origin.sender, origin.subject, origin.sent_at, encrypted,
                            gate_pending=True)
        admitted = check_workbook_bytes(data, ctx.limits, name)
    except _Refused as exc:
        return Rejected(name, source, str(exc))
    return Incoming(name, data, source, origin.sender, origin.subject, origin.sent_at, encrypted, admitted.error_cells,
                    admitted.kind)


def check_workbook_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS, name: str = "工作簿") -> Admitted:
    """The input gate (reading.gate.admit_bytes) on a workbook's bytes: zip limits, real sizes and CRCs, the XML
    screen and sheet extents. Raises ValueError (its message is the Chinese reason) when the workbook must not be
    loaded. Returns what the gate admitted: its format and whether any sheet holds formula-error cells."""
    try:
        return admit_bytes(data, name, limits)
    except Refused as exc:
        log.info("%s: %s", name, exc.log_text)
        raise _Refused(str(exc)) from None


def admit_workbook(data: bytes, limits: Limits, name: str) -> Admitted | str:
    """`check_workbook_bytes` for a workbook collected with gate=False: what the gate admitted, or the reason the
    item is rejected, the same as `collect` would have given."""
    try:
        return check_workbook_bytes(data, limits, name)
    except _Refused as exc:
        return str(exc)
    except Exception:
        log.exception("intake failed on %s", name)
        return FAILED


def _is_workbook_zip(data: bytes, limits: Limits) -> bool:
    if not data.startswith(ZIP_MAGIC):
        return False
    try:
        archive = open_zip(data, "压缩包", limits)
    except Refused:
        return False
    return any(info.filename.lower() in ("xl/workbook.xml", "xl/workbook.bin") for info in archive.infolist())


def _zip_entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's real name: UTF-8 when flagged, else the Info-ZIP Unicode path, else GBK/Big5 behind CP437."""
    if info.flag_bits & 0x800:
        return info.filename
    unicode_path = _unicode_path_extra(info)
    if unicode_path:
        return unicode_path
    raw = info.orig_filename.encode("cp437")
    if raw.isascii():
        return info.filename
    for codec in ("utf-8", "gb18030", "big5hkscs"):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec == "utf-8" or _has_cjk(text):
            return text
    return info.filename


def _unicode_path_extra(info: zipfile.ZipInfo) -> str | None:
    extra, offset = info.extra, 0
    while offset + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, offset)
        body = extra[offset + 4: offset + 4 + size]
        if kind == 0x7075 and len(body) > 5 and body[0] == 1:
            name_crc = struct.unpack_from("<L", body, 1)[0]
            if name_crc == zlib.crc32(info.orig_filename.encode("cp437")):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
        offset += 4 + size
    return None


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff" or "\U00020000" <= c <= "\U0003134f"
               for c in text)


def _zip(name: str, data: bytes, where: str, origin: _Origin, ctx: _Context, depth: int) -> Iterator[Item]:
    try:
        archive = open_zip(data, name, ctx.limits)
    except Refused as exc:
        yield Rejected(name, where, str(exc))
        return
    yield from _children(_zip_entries(archive, where, origin, ctx, depth), name, where, "压缩包中没有 Excel 工作簿")


def _zip_entries(archive: zipfile.ZipFile, where: str, origin: _Origin, ctx: _Context,
                 depth: int) -> Iterator[Item]:
    limits = ctx.limits
    for info in archive.infolist():
        raw = _zip_entry_name(info)
        parts = [p for p in re.split(r"[/\\]", raw) if p]
        if info.is_dir() or not parts or any(p == "__MACOSX" for p in parts) or _skipped(parts[-1]):
            continue
        place = f"{where} 中的 {_display(raw)}"
        name = safe_name(parts[-1])
        suffix = _suffix(name)
        cap = limits.max_container_bytes if suffix in CONTAINER_SUFFIXES else limits.max_file_bytes
        unknown = suffix not in WORKBOOK_SUFFIXES | OLD_FORMAT_SUFFIXES | CONTAINER_SUFFIXES | OTHER_ARCHIVE_SUFFIXES
        if unknown and (info.file_size > cap or not _entry_head(archive, info).startswith(ZIP_MAGIC)):
            yield Ignored(name, place, NOT_A_WORKBOOK)
            continue
        if suffix in OTHER_ARCHIVE_SUFFIXES:
            yield from _dispatch(parts[-1], b"", place, False, origin, ctx, depth + 1)
            continue
        if info.file_size > cap:
            yield Rejected(name, place, f"文件有 {megabytes(info.file_size)}，超过 {megabytes(cap)} 的上限，"
                                        "请删除无关内容或拆分后重新发送")
            continue
        try:
            content = inflate(archive, info, name)
        except Refused as exc:
            yield Rejected(name, place, str(exc))
            continue
        yield from _guarded(_dispatch(parts[-1], content, place, False, origin, ctx, depth + 1), name, place)


def _entry_head(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    try:
        with archive.open(info) as stream:
            return stream.read(len(ZIP_MAGIC))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
        return b""


# --- emails -------------------------------------------------------------------------------------------------------

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_CODEC_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030", "euc-cn": "gb18030",
                  "csgb2312": "gb18030", "x-gb2312": "gb18030", "ms936": "gb18030", "big5": "big5hkscs",
                  "x-big5": "big5hkscs", "cp950": "big5hkscs", "big5-hkscs": "big5hkscs"}


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    charset = charset.strip().strip('"').split("*")[0].lower()
    return _CODEC_ALIASES.get(charset, charset)


def _decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode with the declared charset (GB2312 read as its superset GB18030), else UTF-8, GB18030, Big5."""
    for codec in dict.fromkeys(c for c in (_codec(charset), "utf-8", "gb18030", "big5hkscs") if c):
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def _undo_8bit(text: str) -> str:
    """Raw 8-bit header bytes (kept by the parser as surrogate escapes) decoded as UTF-8, GBK or Big5."""
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    return _decode_bytes(text.encode("utf-8", "surrogateescape"))


def _decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words, joining adjacent ones so a character split across words survives."""
    text = _undo_8bit(text)
    out: list[str] = []
    run: list[tuple[str | None, bytes]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[position:match.start()]
        if gap.strip() or not run:
            out.append(_join_words(run))
            out.append(gap)
            run = []
        charset, kind, payload = match.groups()
        try:
            if kind in "bB":
                raw = base64.b64decode(payload + "=" * (-len(payload) % 4))
            else:
                raw = binascii.a2b_qp(payload.encode("ascii", "replace"), header=True)
        except (binascii.Error, ValueError):
            raw = match.group(0).encode()
        run.append((charset, raw))
        position = match.end()
    out.append(_join_words(run))
    out.append(text[position:])
    return "".join(out)


def _join_words(run: list[tuple[str | None, bytes]]) -> str:
    text, pending, charset = [], b"", None
    for word_charset, raw in run:
        if pending and _codec(word_charset) != _codec(charset):
            text.append(_decode_bytes(pending, charset))
            pending = b""
        pending, charset = pending + raw, word_charset
    if pending:
        text.append(_decode_bytes(pending, charset))
    return "".join(text)


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value)


def _broken(text: str | None) -> bool:
    return text is None or "\ufffd" in text or "=?" in text or any("\udc80" <= c <= "\udcff" for c in text)


def _raw_header(part: Message, name: str) -> str | None:
    # raw_items() gives the header exactly as received, before the stdlib's (strict) decoding
    for key, value in part.raw_items():
        if key.lower() == name:
            return _unfold(str(value))
    return None


def _raw_parameter(value: str, key: str) -> str | None:
    """A header parameter decoded by hand: RFC 2231 (continuations, any charset) or RFC 2047 inside quotes."""
    pattern = rf'(?:^|;)\s*{key}(?:\*(\d+))?(\*)?\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)'
    plain, pieces = None, {}
    for match in re.finditer(pattern, value, re.IGNORECASE):
        index, extended, text = match.groups()
        text = text.strip()
        if text.startswith('"') and text.endswith('"') and len(text) >= 2:
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        if index is None and not extended:
            plain = text
        else:
            pieces[int(index or 0)] = (bool(extended), text)
    if pieces:
        charset, data = None, b""
        for number in sorted(pieces):
            extended, text = pieces[number]
            if extended and number == min(pieces) and text.count("'") >= 2:
                charset, _language, text = text.split("'", 2)
            data += urllib.parse.unquote_to_bytes(text) if extended else text.encode("utf-8", "surrogateescape")
        return _decode_bytes(data, charset)
    return _decode_words(plain) if plain else None


def _attachment_name(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # malformed parameters make the stdlib parser raise
        name = None
    if not _broken(name):
        return name
    for header, key in (("content-disposition", "filename"), ("content-type", "name")):
        value = _raw_header(part, header)
        decoded = _raw_parameter(value, key) if value else None
        if decoded:
            return decoded
    return name


def _header_text(message: Message, name: str) -> str | None:
    try:
        value = message.get(name)
        text = None if value is None else str(value)
    except Exception:
        text = None
    if _broken(text):
        raw = _raw_header(message, name.lower())
        text = _decode_words(raw) if raw is not None else text
    text = " ".join(text.split()) if text else None
    return text or None


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if isinstance(moment, dt.datetime) else None


def _email_date(message: Message) -> str | None:
    raw = message.get("Date")
    if raw is None:
        return None
    try:
        return _iso(email.utils.parsedate_to_datetime(str(raw)))
    except (TypeError, ValueError, IndexError):
        return None


def _describe_email(where: str, origin: _Origin) -> str:
    details = [f"{label} {value}" for label, value in (("发件人", origin.sender), ("主题", origin.subject),
                                                          ("日期", _short_date(origin.sent_at))) if value]
    return f"{where}（{'；'.join(details)}）" if details else where


def _short_date(iso: str | None) -> str | None:
    if not iso:
        return None
    try:
        return dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _eml(name: str, data: bytes, where: str, ctx: _Context, depth: int) -> Iterator[Item]:
    try:
        message = BytesParser(policy=policy.default).parsebytes(data)
    except Exception:
        yield Rejected(name, where, "邮件文件（.eml）已损坏，无法读取，请重新导出")
        return
    origin = _Origin(_header_text(message, "From"), _header_text(message, "Subject"), _email_date(message))
    described = _describe_email(where, origin)
    yield from _children(_eml_parts(message, described, origin, ctx, depth), name, described,
                         "邮件中没有 Excel 工作簿附件")


def _eml_parts(message: Message, where: str, origin: _Origin, ctx: _Context, depth: int) -> Iterator[Item]:
    for number, part in enumerate(message.walk(), start=1):
        if part.is_multipart():
            continue  # multipart/* and message/rfc822 containers: walk() visits their parts
        disposition = part.get_content_disposition()
        raw_name = _attachment_name(part)
        if raw_name is None:
            if disposition != "attachment" and part.get_content_type() not in SPREADSHEET_TYPES:
                continue  # the body text
            raw_name = f"附件{number}"
        if disposition == "inline" and part.get_content_maintype() == "image":
            continue  # pictures embedded in the body
        try:
            content = part.get_payload(decode=True)
        except Exception:
            content = None
        place = f"{where} 中的附件 {_display(raw_name)}"
        if not isinstance(content, bytes):
            yield Rejected(safe_name(raw_name), place, "附件内容无法解码，请重新发送")
            continue
        yield from _guarded(_dispatch(raw_name, content, place, False, origin, ctx, depth + 1), raw_name, place)


def _msg(name: str, data: bytes, where: str, ctx: _Context, depth: int) -> Iterator[Item]:
    import extract_msg  # imported here: it is slow to import and only .msg files need it

    try:
        message = extract_msg.openMsg(data, strict=False)
    except Exception:
        yield Rejected(name, where, "Outlook 邮件文件（.msg）已损坏或无法识别，请重新保存或改为发送 .xlsx 附件")
        return
    try:
        origin = _Origin(_msg_text(message, "sender"), _msg_text(message, "subject"), _msg_date(message))
        described = _describe_email(where, origin)
        yield from _children(_msg_attachments(message, described, origin, ctx, depth), name, described,
                             "邮件中没有 Excel 工作簿附件")
    finally:
        message.close()


def _msg_text(message: object, attribute: str) -> str | None:
    try:
        value = getattr(message, attribute, None)
    except Exception:
        return None
    text = " ".join(str(value).split()) if value else ""
    return text or None


def _msg_date(message: object) -> str | None:
    try:
        return _iso(getattr(message, "date", None))
    except Exception:
        return None


def _msg_attachments(message: object, where: str, origin: _Origin, ctx: _Context, depth: int) -> Iterator[Item]:
    for number, attachment in enumerate(getattr(message, "attachments", []) or [], start=1):
        raw_name = (getattr(attachment, "longFilename", None) or getattr(attachment, "shortFilename", None)
                    or getattr(attachment, "name", None) or f"附件{number}")
        place = f"{where} 中的附件 {_display(raw_name)}"
        try:
            content = attachment.data
        except Exception:
            content = None
        if isinstance(content, bytes):
            yield from _guarded(_dispatch(raw_name, content, place, False, origin, ctx, depth + 1), raw_name, place)
        elif hasattr(content, "attachments"):  # an Outlook item attached to the email
            if depth + 1 >= ctx.limits.max_depth:
                yield Rejected(safe_name(raw_name), place, "邮件嵌套层数过多，请直接发送 .xlsx 工作簿")
            else:
                yield from _msg_attachments(content, place, origin, ctx, depth + 1)
        else:
            yield Ignored(safe_name(raw_name), place, "附件是链接或无法读取的内容，已跳过")


