"""The one input gate: every file ducha reads passes here first and is either admitted (its bytes, its format) or
refused with a coded reason (`model.refusals`). Nothing else opens a workbook path.

1. Only regular files are opened (FIFOs, sockets, devices, directories and broken links are refused from `lstat`).
2. Size limits; for zip containers: entry count, declared and streamed sizes, compression ratio, CRC.
3. Every XML part is screened: no DOCTYPE, ENTITY (parameter entities included) or other DTD declaration.
4. Sheet extents are judged from the cells that hold values, never from `<dimension>`, row or column formats or styled
   empty cells: python-calamine sizes a sheet from its cells, so one value at XFD1048576 would need 17 billion cells.
   The scan is byte-level (one literal-prefixed search per chunk that only finds cells beyond the extent so far).
5. Formats: everything python-calamine reads is admitted (.xlsx .xlsm .xltx .xltm .xls .xlsb .ods); WPS .et, Numbers,
   web pages, SpreadsheetML 2003 and CSV are refused with how to save as .xlsx.
"""

from __future__ import annotations

import copy
import io
import logging
import os
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

import numpy as np

from ducha.model.refusals import Refusal, Refused
from ducha.reading import ooxml

log = logging.getLogger("ducha.gate")

MiB = 1024 * 1024
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CHUNK_BYTES = 1 * MiB
AHEAD_ABOVE = 8 * MiB  # entries larger than this are inflated a chunk ahead, in a thread
RATIO_CHECKED_ABOVE = 1 * MiB  # small entries may compress very well without harm
OVERRUN_SEEN = RATIO_CHECKED_ABOVE + 1  # bytes read past a declared size to tell a bomb from a wrong size
CENTRAL_ENTRY_BUDGET = 1024  # bytes of central directory allowed per permitted entry
PENDING_CAP = 1 * MiB  # a cell start tag longer than this is judged as holding a value
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods"})
ERROR_MARKER = b't="e"'  # a cell holding a formula error (python-calamine reads it as empty)
_ERROR_MARKER = re.compile(re.escape(ERROR_MARKER))  # sre's literal-prefix search beats `in` on XML


@dataclass(frozen=True)
class Limits:
    """Bounds checked before anything from a file is loaded."""

    max_file_bytes: int = 50 * MiB  # one workbook: a file, an attachment or a zip entry
    max_container_bytes: int = 200 * MiB  # one .zip, .eml or .msg (intake)
    max_zip_entries: int = 10_000  # entries of one zip (an .xlsx is a zip too)
    max_uncompressed_bytes: int = 500 * MiB  # all entries of one zip, uncompressed
    max_compression_ratio: int = 200  # uncompressed / compressed, per entry above 1 MiB
    max_sheet_cells: int = 8_000_000  # rows × columns of the cells of one sheet that hold values (100,000 households
    # × 49 columns is 4.9 million; 8 million of an .ods still read and copied in 1 GB)
    max_repeated_cells: int = 1_000_000  # value cells of an .ods that exist only through row/column repeats
    max_depth: int = 2  # containers inside containers: email → zip → zip is refused (intake)


DEFAULT_LIMITS = Limits()
LOCAL_LIMITS = Limits(max_file_bytes=200 * MiB)  # a file the user opens on their own machine


@dataclass(frozen=True)
class Admitted:
    """A file that passed the gate: its bytes (read once), its format and what the scan learnt."""

    name: str
    data: bytes
    kind: str  # "xlsx" (also .xlsm/.xltx/.xltm), "xls", "xlsb" or "ods"
    error_cells: bool = False  # some sheet holds formula-error cells (xlsx only)

    def stream(self) -> io.BytesIO:
        return io.BytesIO(self.data)


def megabytes(size: int) -> str:
    return f"{size / MiB:.1f} MB" if size < 10 * MiB else f"{size // MiB} MB"


# --- files ---------------------------------------------------------------------------------------------------------

def admit(path: Path | str, limits: Limits = LOCAL_LIMITS) -> Admitted:
    """Check a path with lstat/stat before opening it, read it once and pass its bytes through `admit_bytes`."""
    path = Path(path)
    return admit_bytes(read_regular(path, limits), path.name or str(path), limits)


def read_regular(path: Path | str, limits: Limits = LOCAL_LIMITS) -> bytes:
    """The bytes of a regular file within the size limit; anything else (a FIFO, socket, device, directory,
    dangling or looping link) is refused from lstat/stat before it is opened."""
    path = Path(path)
    name = path.name or str(path)
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            try:
                info = os.stat(path)
            except OSError:
                raise Refused(Refusal.BROKEN_LINK, name=name) from None
    except FileNotFoundError:
        raise Refused(Refusal.NOT_FOUND, name=name) from None
    except NotADirectoryError:
        raise Refused(Refusal.NOT_FOUND, name=name) from None
    except PermissionError:
        raise Refused(Refusal.NO_ACCESS, name=name) from None
    except OSError:  # ELOOP in a parent, a name too long, ...
        raise Refused(Refusal.BROKEN_LINK, name=name) from None
    _regular(info, name)
    if info.st_size > limits.max_file_bytes:
        raise Refused(Refusal.TOO_BIG, name=name, size=megabytes(info.st_size), limit=megabytes(limits.max_file_bytes))
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        handle = os.open(path, flags)
    except PermissionError:
        raise Refused(Refusal.NO_ACCESS, name=name) from None
    except OSError:
        raise Refused(Refusal.NOT_REGULAR, name=name) from None
    try:
        _regular(os.fstat(handle), name)  # the path may have been swapped between stat and open
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(limits.max_file_bytes + 1)
    except OSError:
        raise Refused(Refusal.NO_ACCESS, name=name) from None
    finally:
        os.close(handle)
    if len(data) > limits.max_file_bytes:
        raise Refused(Refusal.TOO_BIG, name=name, size=megabytes(len(data)), limit=megabytes(limits.max_file_bytes))
    return data


def _regular(info: os.stat_result, name: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise Refused(Refusal.DIRECTORY, name=name)
    if not stat.S_ISREG(info.st_mode):
        raise Refused(Refusal.NOT_REGULAR, name=name)


# --- bytes ---------------------------------------------------------------------------------------------------------

def admit_bytes(data: bytes, name: str, limits: Limits = DEFAULT_LIMITS) -> Admitted:
    """Decide by content (and, for WPS and text files, by name) whether these bytes may be read, and how."""
    if not data:
        raise Refused(Refusal.EMPTY, name=name)
    if len(data) > limits.max_file_bytes:
        raise Refused(Refusal.TOO_BIG, name=name, size=megabytes(len(data)), limit=megabytes(limits.max_file_bytes))
    suffix = Path(name).suffix.lower()
    if suffix in (".et", ".ett"):
        raise Refused(Refusal.WPS_ET, name=name)
    if suffix == ".numbers":
        raise Refused(Refusal.NUMBERS, name=name)
    if data.startswith((ZIP_MAGIC, EMPTY_ZIP_MAGIC)):
        return _zip_workbook(data, name, limits)
    if data.startswith(CFB_MAGIC):
        return Admitted(name, data, _cfb_kind(data, name))
    raise Refused(_text_kind(data, suffix), name=name)


def _text_kind(data: bytes, suffix: str) -> Refusal:
    head = data[:4096].lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").lower().replace(b"\x00", b"")
    if head.startswith((b"<html", b"<!doctype html", b"<table", b"mime-version")) or b"<html" in head or \
            suffix in (".htm", ".html", ".mht", ".mhtml"):
        return Refusal.WEB_PAGE
    if head.startswith(b"<?xml") or suffix == ".xml":
        return Refusal.WEB_PAGE if b"<workbook" in head or b"office:spreadsheet" in head or suffix == ".xml" \
            else Refusal.NOT_WORKBOOK
    if suffix in (".csv", ".txt", ".tsv", ".prn"):
        return Refusal.CSV
    return Refusal.NOT_WORKBOOK


def _cfb_kind(data: bytes, name: str) -> str:
    """An OLE container: an encrypted Office package, an .xls, or something else."""
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            streams = {"/".join(entry).lower() for entry in ole.listdir()}
    except Exception:  # olefile raises several types for damaged containers
        raise Refused(Refusal.DAMAGED, name=name, detail="复合文档结构无效") from None
    if "encryptioninfo" in streams or "encryptedpackage" in streams:
        raise Refused(Refusal.ENCRYPTED, name=name)
    if "workbook" in streams or "book" in streams:
        if _biff_encrypted(data):
            raise Refused(Refusal.ENCRYPTED, name=name)
        return "xls"
    raise Refused(Refusal.NOT_WORKBOOK, name=name)


def _biff_encrypted(data: bytes) -> bool:
    """An .xls with a FILEPASS record (0x002F) in its workbook globals: it has an open password."""
    import olefile

    try:
        with olefile.OleFileIO(data) as ole:
            stream = "Workbook" if ole.exists("Workbook") else "Book"
            head = ole.openstream(stream).read(64 * 1024)
    except Exception:  # olefile raises several types for damaged containers
        return False
    offset = 0
    while offset + 4 <= len(head):
        kind, length = struct.unpack_from("<HH", head, offset)
        if kind == 0x002F:
            return True
        if kind == 0x000A:  # EOF of the globals substream
            return False
        offset += 4 + length
    return False


# --- zip containers ------------------------------------------------------------------------------------------------

def open_zip(data: bytes, name: str, limits: Limits) -> zipfile.ZipFile:
    """Open a zip after checking its central directory against the limits; nothing is decompressed here."""
    _check_end_record(data, name, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, struct.error, OSError):
        raise Refused(Refusal.ZIP_DAMAGED, name=name, detail="压缩结构无效") from None
    if len(infos) > limits.max_zip_entries:
        raise Refused(Refusal.ZIP_ENTRIES, name=name, count=f"{len(infos):,}", limit=f"{limits.max_zip_entries:,}")
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise Refused(Refusal.ZIP_BOMB, name=name,
                      detail=f"声明解压后 {megabytes(total)}，上限 {megabytes(limits.max_uncompressed_bytes)}")
    for info in infos:
        if info.flag_bits & 0x1:
            raise Refused(Refusal.ENCRYPTED, name=name)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Refused(Refusal.ZIP_DAMAGED, name=name, detail="使用了不支持的压缩方式")
        if info.file_size > RATIO_CHECKED_ABOVE and \
                info.file_size > limits.max_compression_ratio * max(info.compress_size, 1):
            raise Refused(Refusal.ZIP_BOMB, name=name,
                          detail=f"压缩比超过 {limits.max_compression_ratio} 倍")
    return archive


def _check_end_record(data: bytes, name: str, limits: Limits) -> None:
    """Bound the entry count and central directory size from the end record, before zipfile reads the directory."""
    end = data.rfind(EMPTY_ZIP_MAGIC, max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or len(data) < end + 22:
        return  # zipfile will report the damage
    entries, directory_size = struct.unpack_from("<HL", data, end + 10)
    if (entries == 0xFFFF or directory_size == 0xFFFFFFFF) and end >= 20 + 56 and \
            data[end - 20:end - 16] == b"PK\x06\x07" and data[end - 76:end - 72] == b"PK\x06\x06":
        entries, directory_size = struct.unpack_from("<QQ", data, end - 76 + 32)
    if entries > limits.max_zip_entries or directory_size > max(limits.max_zip_entries * CENTRAL_ENTRY_BUDGET, MiB):
        raise Refused(Refusal.ZIP_ENTRIES, name=name, count=f"{entries:,}", limit=f"{limits.max_zip_entries:,}")


def inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, sink=None) -> bytes:
    """Decompress one entry while proving its declared size and CRC. Chunks go to `sink(chunk)` when given
    (nothing is kept), else the bytes are returned."""
    probe = copy.copy(info)
    probe.file_size = info.file_size + OVERRUN_SEEN  # lets a stream that inflates past its declared size show itself
    probe.CRC = None  # checked below, so that a lying size is told apart from damage
    out = bytearray()
    total, crc = 0, 0
    try:
        with archive.open(probe) as stream, _Reader(stream, info.file_size) as chunks:
            for chunk in chunks:
                total += len(chunk)
                if total > info.file_size + RATIO_CHECKED_ABOVE:
                    raise Refused(Refusal.ZIP_BOMB, name=name, detail=f"「{_shown(info.filename)}」解压后比声明的大")
                if total > info.file_size:
                    continue  # read on a little to tell a bomb from a wrong size
                crc = zlib.crc32(chunk, crc)
                if sink is None:
                    out += chunk
                else:
                    sink(chunk)
    except Refused:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, struct.error, ValueError, NotImplementedError):
        raise Refused(Refusal.ZIP_DAMAGED, name=name, detail=f"「{_shown(info.filename)}」无法解压") from None
    if total != info.file_size:
        raise Refused(Refusal.ZIP_DAMAGED, name=name, detail=f"「{_shown(info.filename)}」的大小与声明不符")
    if crc != info.CRC:
        raise Refused(Refusal.ZIP_DAMAGED, name=name, detail=f"「{_shown(info.filename)}」校验失败")
    return bytes(out)


class _Reader:
    """An entry's chunks; for a large entry the next chunk is inflated in a thread (zlib releases the GIL) while the
    caller checks the current one."""

    def __init__(self, stream: zipfile.ZipExtFile, size: int) -> None:
        self.stream = stream
        self.pool = ThreadPoolExecutor(max_workers=1) if size > AHEAD_ABOVE else None

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)

    def __iter__(self) -> Iterator[bytes]:
        if self.pool is None:
            while chunk := self.stream.read(CHUNK_BYTES):
                yield chunk
            return
        ahead = self.pool.submit(self.stream.read, CHUNK_BYTES)
        while chunk := ahead.result():
            ahead = self.pool.submit(self.stream.read, CHUNK_BYTES)
            yield chunk


def _shown(text: str) -> str:
    text = "".join(c if c.isprintable() else " " for c in text)
    return text if len(text) <= 80 else text[:79] + "…"


BINARY_PARTS = re.compile(r"\.(bin|png|jpe?g|gif|bmp|emf|wmf|tiff?|wdp|jfif|svg\.gz|ico|iwa|odg|ole)$", re.IGNORECASE)


def _zip_workbook(data: bytes, name: str, limits: Limits) -> Admitted:
    archive = open_zip(data, name, limits)
    infos = [info for info in archive.infolist() if not info.is_dir()]
    names = {info.filename.lower(): info for info in infos}
    if "xl/workbook.xml" in names:
        kind = "xlsx"
    elif "xl/workbook.bin" in names:
        kind = "xlsb"
    elif "content.xml" in names and b"opendocument.spreadsheet" in _small(archive, names.get("mimetype"), name):
        kind = "ods"
    elif any(n.startswith("index/") or n in ("index.zip", "index.xml") for n in names):
        raise Refused(Refusal.NUMBERS, name=name)
    else:
        raise Refused(Refusal.NOT_WORKBOOK, name=name)
    if kind == "ods" and b"encryption-data" in _small(archive, names.get("meta-inf/manifest.xml"), name):
        raise Refused(Refusal.ENCRYPTED, name=name)
    sheets = _sheet_titles(archive, names, name) if kind == "xlsx" else {}
    error_cells = False
    for info in infos:
        lowered = info.filename.lower()
        if kind == "xlsx" and lowered in sheets:
            scan = SheetScan(sheets[lowered] or info.filename, name, info.filename, limits)
            inflate(archive, info, name, scan.feed)
            scan.finish(archive, info)
            error_cells = error_cells or scan.error_cells
        elif kind == "xlsb" and lowered.startswith("xl/worksheets/") and lowered.endswith(".bin"):
            _xlsb_extent(inflate(archive, info, name), info.filename, name, limits)
        elif BINARY_PARTS.search(lowered):
            inflate(archive, info, name, _ignore)
        else:
            screen = XmlScreen(name, info.filename)
            if kind == "ods" and lowered == "content.xml":
                extent = OdsExtent(name, limits, screen)
                inflate(archive, info, name, extent.feed)
                extent.finish()
            else:
                inflate(archive, info, name, screen.feed)
    return Admitted(name, data, kind, error_cells)


def _ignore(chunk: bytes) -> None:
    return None


def _small(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None, name: str) -> bytes:
    """A small part's bytes (its head only, for sniffing); empty when absent."""
    if info is None:
        return b""
    if info.file_size > MiB:
        return b""
    return inflate(archive, info, name)


# --- XML screen ----------------------------------------------------------------------------------------------------

DECLARATION = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY|ATTLIST|ELEMENT|NOTATION)|<\x00!\x00|\x00<\x00!", re.IGNORECASE)


class XmlScreen:
    """Fed a part's chunks: refuses a DTD or entity declaration anywhere (UTF-16 parts included)."""

    def __init__(self, name: str, part: str) -> None:
        self.name, self.part = name, part
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        if b"!" in chunk or b"!" in self._tail:  # one memchr; the window is built and searched only then
            window = self._tail + chunk
            if self._declared(window):
                raise Refused(Refusal.XML_DECLARATION, name=self.name, part=_shown(self.part))
        self._tail = chunk[-16:] if len(chunk) >= 16 else (self._tail + chunk)[-16:]

    @staticmethod
    def _declared(window: bytes) -> bool:
        for match in DECLARATION.finditer(window):
            text = match.group(0)
            if b"\x00" not in text:
                return True
            decoded = window[match.start():match.start() + 40].replace(b"\x00", b"")
            if re.match(rb"<!\s*(?:DOCTYPE|ENTITY|ATTLIST|ELEMENT|NOTATION)", decoded, re.IGNORECASE):
                return True
        return False


# --- sheet extents (xlsx) ------------------------------------------------------------------------------------------

def column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _greater(text: str, alphabet: str, first: str) -> str:
    """A regex alternation for the strings of `alphabet` that sort after `text` as numbers do (longer is greater;
    the first character of a longer string is from `first`)."""
    low, high = alphabet[0], alphabet[-1]
    options = [f"[{first}][{low}-{high}]{{{len(text)},}}"]
    for i, char in enumerate(text):
        above = alphabet[alphabet.index(char) + 1:]
        if i == 0:
            above = "".join(c for c in above if c in first)
        if above:
            rest = len(text) - i - 1
            tail = f"[{low}-{high}]{{{rest}}}" if rest else ""
            options.append(re.escape(text[:i]) + f"[{above[0]}-{above[-1]}]" + tail)
    return "|".join(options)


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
_TAG_END = re.compile(rb"[^>]*>")
_VALUE_START = re.compile(rb"\s*(?:<(?:[A-Za-z_][\w.-]*:)?f\b[^>]*?(?:/>|>[^<]*</(?:[A-Za-z_][\w.-]*:)?f\s*>)\s*)?"
                          rb"<(?:[A-Za-z_][\w.-]*:)?(v|is)[\s>]")
_LAST_REF = re.compile(rb'r="([A-Z]{1,3})([1-9][0-9]{0,9})"')


class SheetScan:
    """Streamed over a worksheet part: the farthest row and column of the cells that hold values, formula-error
    cells, and the XML screen. A cell is found by one literal-prefixed search for references beyond the current
    extent; in a sheet written in order (rows ascending, as Excel requires) that finds almost nothing, so the cost is
    one pass over the bytes. Cells without a reference (allowed, rare) are measured exactly with expat instead."""

    def __init__(self, title: str, name: str, part: str, limits: Limits) -> None:
        self.title, self.name, self.part, self.limits = title, name, part, limits
        self.screen = XmlScreen(name, part)
        self.max_row = self.max_column = 0
        self.far: tuple[int, int] = (0, 0)  # the value cell farthest out (row, column)
        self.error_cells = False
        self.positional = False  # some cell has no r="" reference
        self._tail = b""
        self._pattern: re.Pattern[bytes] | None = None
        self._pattern_key: tuple[int, int] | None = None

    def _beyond(self) -> re.Pattern[bytes]:
        key = (self.max_row, self.max_column)
        if key != self._pattern_key:
            columns = _greater(column_letters(self.max_column), LETTERS, LETTERS) if self.max_column else "[A-Z]+"
            # a greater row has at least as many digits: the look-ahead turns most references away at once
            rows = f"(?=[0-9]{{{len(str(self.max_row))}}})(?:{_greater(str(self.max_row), DIGITS, '123456789')})" \
                if self.max_row else "[1-9][0-9]*"
            self._pattern = re.compile(rb'r="(?:(?:' + columns.encode() + rb')[0-9]++|[A-Z]{1,3}+(?:' + rows.encode()
                                       + rb'))"(?![^>]*(?:/>|>\s*</))')
            self._pattern_key = key
        assert self._pattern is not None
        return self._pattern

    def feed(self, chunk: bytes) -> None:
        self.screen.feed(chunk)
        window = self._tail + chunk
        marks = _Marks(window) if len(window) >= VECTOR_WINDOW else None
        if not self.error_cells and _ERROR_MARKER.search(window) is not None:
            self.error_cells = True
        if not self.positional and (marks.refless() if marks else _refless(window)):
            self.positional = True
        self._last_value(window)
        keep = max(0, len(window) - 64)
        for match in self._matches_beyond(window, marks):
            verdict = self._holds_value(window, match.end())
            if verdict is None:  # the cell's start tag runs past this chunk
                keep = min(keep, match.start())
                break
            if verdict:
                self._note(match.start(), window)
        if len(window) - keep > PENDING_CAP:
            self._note(keep, window, forced=True)
            keep = len(window) - 64
        self._tail = window[keep:]

    def _matches_beyond(self, window: bytes, marks: _Marks | None) -> Iterator[re.Match[bytes]]:
        """The beyond pattern's matches in the window, in order: over a large window, matched only at the
        candidates `marks` finds (a superset of them)."""
        beyond = self._beyond()
        if marks is None:
            yield from beyond.finditer(window)
            return
        for start in marks.references_beyond(self.max_row, self.max_column):
            match = beyond.match(window, start)
            if match is not None:
                yield match

    def _last_value(self, window: bytes) -> None:
        """The last value cell of the chunk sets the extent so far (rows ascend in a well-formed sheet)."""
        end = window.rfind(b"</v>")
        for closing in (b"</is>", b":v>", b":is>"):  # each searched only after the last end found so far
            end = max(end, window.rfind(closing, max(end, 0)))
        if end < 0:
            return
        start = window.rfind(b'r="', max(0, end - 65536), end)
        if start >= 0:
            match = _LAST_REF.match(window, start)
            if match and self._holds_value(window, match.end()):
                self._note(start, window)

    @staticmethod
    def _holds_value(window: bytes, after_ref: int) -> bool | None:
        tag = _TAG_END.match(window, after_ref)
        if tag is None:
            return None
        if window[tag.end() - 2:tag.end()] == b"/>":
            return False
        if len(window) - tag.end() < 4096 and window.find(b"</", tag.end()) < 0:
            return None
        return _VALUE_START.match(window, tag.end()) is not None

    def _note(self, ref_at: int, window: bytes, forced: bool = False) -> None:
        match = _LAST_REF.match(window, ref_at)
        if match is None:
            if forced:
                self.positional = True
            return
        column, row = column_number(match.group(1).decode()), int(match.group(2))
        self.max_row, self.max_column = max(self.max_row, row), max(self.max_column, column)
        if row * column >= self.far[0] * self.far[1]:
            self.far = (row, column)

    def finish(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        if self.positional:
            self.max_row, self.max_column, self.far = _exact_extent(archive, info, self.name,
                                                                    self.limits.max_sheet_cells)
        if self.max_row * self.max_column > self.limits.max_sheet_cells:
            row, column = self.far
            raise Refused(Refusal.SHEET_EXTENT, sheet=_shown(self.title), cell=f"{column_letters(column)}{row}",
                          rows=self.max_row, columns=self.max_column, limit=self.limits.max_sheet_cells)


VECTOR_WINDOW = 512 * 1024  # windows from this size are searched through `_Marks`; smaller ones by pattern
_REFLESS = (re.compile(rb'<c(?:[>/\t\n\r]| (?!r="))'), re.compile(rb':c(?:[>/\t\n\r]| (?!r="))'))


def _refless(window: bytes) -> bool:
    """Some cell in the window lacks an r="" reference as its first attribute (python-calamine then places it by
    counting; rare, so it is measured exactly)."""
    for pattern in _REFLESS:  # literal-prefixed: two fast scans
        found = pattern.search(window)
        if found is not None and found.start() < len(window) - 8:  # a tag cut at the end is seen whole next time
            return True
    return False


_QUOTE, _C, _R, _EQUALS, _SPACE, _GREATER, _LESS, _SLASH = b'"cr= ></'


def _byte_table(members: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[list(members)] = True
    return table


_TAG_OPENER = _byte_table(b"<:")  # <c and, in a prefixed sheet, x:c
_AFTER_C = _byte_table(b">/\t\n\r")
_LETTER_VALUE = np.zeros(256, dtype=np.int64)  # A..Z -> 1..26, other bytes 0
_LETTER_VALUE[65:91] = np.arange(1, 27)


class _Marks:
    """Two of the searches of a worksheet chunk — cells without a reference, references beyond the extent — answered
    from the positions of its quote, c and > bytes (vectorised passes) instead of a regular-expression pass each.
    Each answer is exactly what the pattern it replaces finds. Positions are kept in the padded buffer (`_PAD` zero
    bytes either side, so looking a few bytes around any position needs no bounds check)."""

    def __init__(self, window: bytes) -> None:
        self.size = len(window)
        self.buf = np.frombuffer(_PADDING + window + _PADDING, dtype=np.uint8)

    def refless(self) -> bool:
        """`_refless(window)`: a <c or :c followed by one of >/ tab CR LF, or by a space and not r=", starting
        before the last 8 bytes."""
        buf = self.buf
        c = np.flatnonzero(buf == _C)
        c = c[(c >= _PAD + 1) & (c < _PAD + self.size - 7)]  # the tag starts at c - 1, before the last 8 bytes
        c = c[_TAG_OPENER[buf[c - 1]]]
        after = buf[c + 1]
        spaced = (after == _SPACE) & ~((buf[c + 2] == _R) & (buf[c + 3] == _EQUALS) & (buf[c + 4] == _QUOTE))
        return bool(np.any(spaced | _AFTER_C[after]))

    def references_beyond(self, max_row: int, max_column: int) -> list[int]:
        """Where r=" starts (in the window), for every reference that may lie beyond (max_row, max_column). A
        reference the beyond pattern can match is capital letters then digits up to the next quote, in a tag that
        is not empty; one with 1 to 3 letters naming a column within the extent and as many digits as max_row or
        fewer, naming a row within it, never matches and is left out. The pattern is matched at each candidate."""
        buf = self.buf
        quotes = np.flatnonzero(buf == _QUOTE)
        q = quotes[buf[quotes - 1] == _EQUALS]
        q = q[buf[q - 2] == _R]
        if not len(q):
            return []
        after = np.searchsorted(quotes, q, side="right")
        closing = np.append(quotes, _PAD + self.size + _REF_MAX)[after]  # none: past the window, a candidate
        letters = np.zeros(len(q), dtype=np.int64)
        column = np.zeros(len(q), dtype=np.int64)
        run = np.ones(len(q), dtype=bool)
        for offset in range(1, 5):
            value = _LETTER_VALUE[buf[q + offset]]
            run &= value > 0
            letters += run
            if offset < 4:
                column = np.where(run, column * 26 + value, column)
        digits = closing - q - 1 - letters
        width = len(str(max_row)) if max_row else 0
        candidate = (letters >= 4) | (column > max_column) | (digits > width)
        level = np.flatnonzero(~candidate & (digits == width) & (letters >= 1))
        if len(level) and width:
            number = np.zeros(len(level), dtype=np.int64)
            first = q[level] + 1 + letters[level]
            for offset in range(width):
                number = number * 10 + buf[first + offset].astype(np.int64) - 48
            candidate[level[number > max_row]] = True
        found = np.flatnonzero(candidate & (letters >= 1))
        if len(found):
            found = found[~self._empty_tag(closing[found])]
        return (q[found] - 2 - _PAD).tolist()

    def _empty_tag(self, closing: np.ndarray) -> np.ndarray:
        """The pattern's look-ahead: the tag after each reference ends with /> or with > and, at once, a closing
        tag (an empty cell, however styled). Where white space comes between, the pattern decides."""
        buf = self.buf
        ends = np.flatnonzero(buf == _GREATER)
        if not len(ends):
            return np.zeros(len(closing), dtype=bool)
        at = np.searchsorted(ends, closing)
        known = at < len(ends)
        end = ends[np.minimum(at, len(ends) - 1)]
        slash = (end - 1 > closing) & (buf[end - 1] == _SLASH)
        closed = (buf[end + 1] == _LESS) & (buf[end + 2] == _SLASH)
        return known & (slash | closed)


_PAD = 8
_PADDING = bytes(_PAD)
_REF_MAX = 20  # longer than any reference: a reference cut at the window's end is a candidate


class _PastLimit(Exception):
    """The extent already exceeds the limit: no need to read the rest of the sheet."""


def _exact_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str,
                  limit: int) -> tuple[int, int, tuple[int, int]]:
    """Rows and columns of the value cells, with expat, for sheets whose cells lack references (rows, columns and
    the cell's position are then counted as python-calamine counts them); it stops as soon as they pass `limit`."""
    state = {"row": 0, "column": 0, "cell": None, "value": False}
    extent = [0, 0, (0, 0)]

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rpartition(" ")[2]
        if local == "row":
            state["row"] = _int(attrs.get("r"), state["row"] + 1)
            state["column"] = 0
        elif local == "c":
            ref = _LAST_REF.fullmatch(b'r="' + attrs.get("r", "").encode() + b'"') if attrs.get("r") else None
            if ref:
                state["column"] = column_number(ref.group(1).decode())
                state["cell"] = (int(ref.group(2)), state["column"])
            else:
                state["column"] += 1
                state["cell"] = (state["row"], state["column"])
            state["value"] = False
        elif local in ("v", "is") and state["cell"] is not None:
            state["value"] = True

    def end(tag: str) -> None:
        if tag.rpartition(" ")[2] == "c" and state["cell"] is not None:
            if state["value"]:
                row, column = state["cell"]
                extent[0], extent[1] = max(extent[0], row), max(extent[1], column)
                if row * column >= extent[2][0] * extent[2][1]:
                    extent[2] = (row, column)
                if extent[0] * extent[1] > limit:
                    raise _PastLimit
            state["cell"] = None

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler = start, end
    try:
        inflate(archive, info, name, lambda chunk: parser.Parse(chunk, False))
        parser.Parse(b"", True)
    except _PastLimit:
        pass
    except expat.ExpatError:
        raise Refused(Refusal.DAMAGED, name=name, detail=f"工作表「{_shown(info.filename)}」的 XML 无效") from None
    return extent[0], extent[1], extent[2]


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def _sheet_titles(archive: zipfile.ZipFile, names: dict[str, zipfile.ZipInfo], name: str) -> dict[str, str]:
    """Lower-cased worksheet part -> sheet title ("" when unknown), from workbook.xml and its relationships."""
    def parsed(part: str) -> bytes:
        info = names.get(part)
        if info is None or info.file_size > 8 * MiB:
            return b""
        raw = inflate(archive, info, name)
        XmlScreen(name, info.filename).feed(raw)
        return raw

    parts = {n: "" for n in names if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)}
    book, rels = parsed("xl/workbook.xml"), parsed("xl/_rels/workbook.xml.rels")
    try:
        found = ooxml.sheet_parts(book, rels)
    except Exception:
        raise Refused(Refusal.DAMAGED, name=name, detail="内部文件「xl/workbook.xml」无效") from None
    for title, part in found.items():
        if part.lower() in names:
            parts[part.lower()] = title
    return parts


# --- other formats -------------------------------------------------------------------------------------------------

XLSB_CELLS = frozenset(range(2, 12))  # BrtCellRk … BrtFmlaError (1 is BrtCellBlank: a styled empty cell)


def _xlsb_extent(data: bytes, part: str, name: str, limits: Limits) -> None:
    """The value-cell extent of a binary worksheet, from its records (BrtRowHdr gives the row, cells the column)."""
    offset, row, max_row, max_column, far = 0, 0, 0, 0, (0, 0)
    size = len(data)
    while offset < size:
        kind, offset = _varint(data, offset, 2)
        length, offset = _varint(data, offset, 4)
        if kind < 0 or length < 0 or offset + length > size:
            break
        if kind == 0 and length >= 4:
            row = struct.unpack_from("<I", data, offset)[0] + 1
        elif kind in XLSB_CELLS and length >= 4:
            column = struct.unpack_from("<I", data, offset)[0] + 1
            max_row, max_column = max(max_row, row), max(max_column, column)
            if row * column >= far[0] * far[1]:
                far = (row, column)
        offset += length
    if max_row * max_column > limits.max_sheet_cells:
        raise Refused(Refusal.SHEET_EXTENT, sheet=_shown(part), cell=f"{column_letters(far[1])}{far[0]}",
                      rows=max_row, columns=max_column, limit=limits.max_sheet_cells)


def _varint(data: bytes, offset: int, most: int) -> tuple[int, int]:
    value = shift = 0
    for _ in range(most):
        if offset >= len(data):
            return -1, offset
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, offset
    return value, offset


ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
ODS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "
ODS_CELLS = (ODS_TABLE + "table-cell", ODS_TABLE + "covered-table-cell")
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384


class OdsExtent:
    """The extent of each table's value cells in an .ods content.xml, with row and column repeats counted as the
    reader will expand them (a value row repeated a million times is a million rows). Streams, each chunk through the
    XML screen first (no DTD or entity reaches the parser)."""

    def __init__(self, name: str, limits: Limits, screen: XmlScreen) -> None:
        self.name, self.limits, self.screen = name, limits, screen
        self.tables: list[dict] = []  # a stack: a cell may hold a table of its own
        self.repeated = 0  # value cells that only repeats make
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler, self.parser.EndElementHandler = self._start, self._end

    def feed(self, chunk: bytes) -> None:
        """Screen the chunk (no DTD, no entity), then parse it."""
        self.screen.feed(chunk)
        try:
            self.parser.Parse(chunk, False)
        except expat.ExpatError:
            raise Refused(Refusal.DAMAGED, name=self.name, detail="内部文件「content.xml」无效") from None

    def finish(self) -> None:
        try:
            self.parser.Parse(b"", True)
        except expat.ExpatError:
            raise Refused(Refusal.DAMAGED, name=self.name, detail="内部文件「content.xml」无效") from None

    @staticmethod
    def _repeat(attrs: dict[str, str], key: str) -> int:
        text = attrs.get(ODS_TABLE + key, "1")
        return int(text) if text.isdigit() and len(text) < 12 else MAX_ROWS * MAX_COLUMNS

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == ODS_TABLE + "table":
            self.tables.append({"title": attrs.get(ODS_TABLE + "name", ""), "row": 0, "column": 0, "repeat": 1,
                                "has_value": False, "cells": [], "last_row": 0, "last_column": 0})
        elif not self.tables:
            return
        elif tag == ODS_TABLE + "table-row":
            table = self.tables[-1]
            table.update(repeat=self._repeat(attrs, "number-rows-repeated"), column=0, has_value=False, cells=[])
        elif tag in ODS_CELLS:
            table = self.tables[-1]
            repeat = self._repeat(attrs, "number-columns-repeated")
            if attrs.get(ODS_OFFICE + "value-type"):
                table["has_value"] = True
                table["last_column"] = max(table["last_column"], table["column"] + repeat)
                table["cells"].append(repeat)
            table["column"] += repeat

    def _end(self, tag: str) -> None:
        if not self.tables:
            return
        table = self.tables[-1]
        if tag == ODS_TABLE + "table":
            self.tables.pop()
        elif tag == ODS_TABLE + "table-row":
            if table["has_value"]:
                table["last_row"] = table["row"] + table["repeat"]
                self.repeated += sum(table["cells"]) * table["repeat"] - len(table["cells"])
                if self.repeated > self.limits.max_repeated_cells:
                    raise Refused(Refusal.ZIP_BOMB, name=self.name,
                                  detail=f"重复的单元格展开后多出 {self.repeated:,} 个有值的单元格")
                self._bound(table)
            table["row"] += table["repeat"]

    def _bound(self, table: dict) -> None:
        rows, columns = table["last_row"], table["last_column"]
        if rows * columns > self.limits.max_sheet_cells or rows > MAX_ROWS or columns > MAX_COLUMNS:
            cell = f"{column_letters(min(columns, MAX_COLUMNS))}{min(rows, MAX_ROWS)}"
            raise Refused(Refusal.SHEET_EXTENT, sheet=_shown(table["title"] or "（ODS 表格）"),
                          cell=cell if rows <= MAX_ROWS and columns <= MAX_COLUMNS else f"{cell} 以外",
                          rows=rows, columns=columns, limit=self.limits.max_sheet_cells)


def is_panic(exc: BaseException) -> bool:
    """python-calamine's Rust panics arrive as pyo3_runtime.PanicException, a BaseException."""
    return type(exc).__name__ == "PanicException"
