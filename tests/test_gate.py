"""The input gate (reading/gate.py) through `ducha check`: every defect of issue 11 and every hostile shape ends in
exit 2 with its refusal code in --json, in under 10 s and 1.5 GB, with the input unchanged; every format that
python-calamine reads is read; whole-column formatting is read normally."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import hostile
from ducha.adapters.protect import protect_copy
from ducha.checks.pipeline import run_check
from ducha.model.refusals import Refusal, Refused
from ducha.reading.gate import admit, admit_bytes
from ducha.reading.raw import UnreadableWorkbook, read_raw_workbook

REAL = Path(__file__).resolve().parent / "real_files"


@pytest.fixture(autouse=True)
def _log_to_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUCHA_LOG_DIR", str(tmp_path / "logs"))


def check_json(path: Path, out: Path) -> tuple[int, dict, str]:
    done = hostile.ducha("check", str(path), "--out", str(out), "--json",
                         env={"DUCHA_LOG_DIR": str(out.parent / "logs")})
    return done.returncode, json.loads(done.stdout), done.stderr


def encrypted(folder: Path) -> Path:
    return protect_copy(hostile.clean_workbook(folder / "clean.xlsx"), "secret", folder / "加密.xlsx")


def renamed(source: str, name: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes((REAL / source).read_bytes())
        return path
    return build


def text_file(name: str, content: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path
    return build


HOSTILE: dict[str, tuple[Callable[[Path], Path], Refusal]] = {
    "zip bomb (ratio)": (hostile.zip_bomb, Refusal.ZIP_BOMB),
    "zip bomb (lying size)": (hostile.lying_size_bomb, Refusal.ZIP_BOMB),
    "value at XFD1048576": (hostile.far_value, Refusal.SHEET_EXTENT),
    "FIFO named .xlsx": (hostile.fifo, Refusal.NOT_REGULAR),
    "symlink to /dev/zero": (hostile.dev_zero_link, Refusal.NOT_REGULAR),
    "XXE parameter entity in sharedStrings": (hostile.xxe_in_shared_strings, Refusal.XML_DECLARATION),
    "XXE parameter entity in an .ods": (hostile.xxe_in_ods_content, Refusal.XML_DECLARATION),
    ".ods value row repeated 300,000 times": (hostile.ods_repeat_bomb, Refusal.ZIP_BOMB),
    "directory": (lambda folder: (folder / "文件夹.xlsx").mkdir() or folder / "文件夹.xlsx", Refusal.DIRECTORY),
    "dangling symlink": (hostile.dangling_link, Refusal.BROKEN_LINK),
    "looping symlink": (hostile.looping_link, Refusal.BROKEN_LINK),
    "password-protected .xlsx": (encrypted, Refusal.ENCRYPTED),
    "WPS .et": (renamed("sheetjs__wps_fn.et", "县表.et"), Refusal.WPS_ET),
    "Numbers": (renamed("sheetjs__minimal_112.numbers", "县表.numbers"), Refusal.NUMBERS),
    "saved as web page": (text_file("县表.htm", b"<html><body><table><tr><td>1</td></tr></table></body></html>"),
                          Refusal.WEB_PAGE),
    "SpreadsheetML 2003": (text_file("县表.xml", b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:'
                                                 b'office:spreadsheet"></Workbook>'), Refusal.WEB_PAGE),
    "CSV": (text_file("县表.csv", "乡镇,村\n青山镇,石门村\n".encode()), Refusal.CSV),
    "empty file": (text_file("空.xlsx", b""), Refusal.EMPTY),
    "not a workbook": (text_file("说明.xlsx", b"%PDF-1.4 ..."), Refusal.NOT_WORKBOOK),
}


@pytest.mark.parametrize("shape", list(HOSTILE))
def test_check_refuses_with_a_coded_reason_in_time_and_memory_leaving_the_input_unchanged(tmp_path: Path,
                                                                                           shape: str) -> None:
    build, refusal = HOSTILE[shape]
    path = build(tmp_path)
    before = hostile.digest_of(path)
    code, payload, stderr = check_json(path, tmp_path / "out" / "结果.xlsx")
    assert code == 2, (shape, stderr)
    assert payload["refusal"]["code"] == refusal.code
    assert payload["exit"] == 2 and payload["output"] is None
    assert "Traceback" not in stderr and "Error" not in stderr and "Exception" not in stderr
    assert hostile.digest_of(path) == before
    assert not (tmp_path / "out" / "结果.xlsx").exists()


def test_a_far_value_is_refused_naming_the_sheet_and_the_cell(tmp_path: Path) -> None:
    with pytest.raises(Refused) as refused:
        admit(hostile.far_value(tmp_path))
    assert refused.value.code == "sheet-extent"
    assert "农户调查" in str(refused.value) and "XFD1048576" in str(refused.value)


def test_whole_column_formatting_is_read_normally(tmp_path: Path) -> None:
    clean = hostile.clean_workbook(tmp_path / "clean.xlsx")
    formatted = hostile.whole_column_formatting(clean, tmp_path / "整列格式.xlsx")
    before = formatted.read_bytes()
    assert run_check(formatted).findings == run_check(clean).findings
    grids = read_raw_workbook(formatted)
    assert max(len(grid) for grid in grids.sheets.values()) < 100  # styled empty cells are not rows
    assert formatted.read_bytes() == before


@pytest.mark.parametrize("command", ["check", "run"])
def test_whole_column_formatting_and_a_sheet_wide_dimension_go_through_the_writer_in_time_and_memory(
        tmp_path: Path, command: str) -> None:
    """Whole columns styled, <dimension ref="A1:XFD1048576"/> and styled empty cells at row 1,048,576: `ducha check`
    and `ducha run` write their results copy under the 10 s and 1.5 GB limits, with the same findings as the plain
    workbook, the styled columns kept and the input unchanged."""
    clean = hostile.clean_workbook(tmp_path / "clean.xlsx")
    formatted = hostile.whole_column_formatting(clean, tmp_path / "整列格式.xlsx")
    before = formatted.read_bytes()
    done = hostile.ducha(command, str(formatted), "--out", str(tmp_path / "结果.xlsx"), "--json",
                         env={"DUCHA_LOG_DIR": str(tmp_path / "logs")})
    plain = hostile.ducha(command, str(clean), "--out", str(tmp_path / "原样结果.xlsx"), "--json",
                          env={"DUCHA_LOG_DIR": str(tmp_path / "logs")})
    assert done.returncode in (0, 1), done.stderr
    result, reference = json.loads(done.stdout), json.loads(plain.stdout)
    assert result["counts"] == reference["counts"]
    assert formatted.read_bytes() == before
    written = hostile.parts(tmp_path / "结果.xlsx")
    households = written[hostile.HOUSEHOLDS_PART]
    assert b'<col min="1" max="16384"' in households  # the clerk's column formats are kept


@pytest.mark.parametrize("name", ["tafia__tests_any_sheets.xls", "tafia__tests_any_sheets.xlsb",
                                  "tafia__tests_any_sheets.ods"])
def test_every_format_calamine_reads_is_read(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes((REAL / name).read_bytes())
    admitted = admit(path)
    assert admitted.kind == name.rsplit(".", 1)[1]
    raw = read_raw_workbook(path)
    assert raw.sheets  # read, not refused as "encrypted or old .xls"
    code, payload, stderr = check_json(path, tmp_path / "out" / "结果.xlsx")
    assert code != 2 and payload.get("refusal") is None, stderr


def test_a_calamine_panic_becomes_a_refusal_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pyo3's PanicException derives from BaseException; the reader turns it into a coded refusal."""
    import python_calamine

    panic = type("PanicException", (BaseException,), {})

    def panicking(stream: object) -> None:
        raise panic("index out of bounds")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", panicking)
    path = hostile.clean_workbook(tmp_path / "clean.xlsx")
    with pytest.raises(UnreadableWorkbook) as refused:
        read_raw_workbook(path)
    assert refused.value.code == "damaged" and "Panic" not in str(refused.value)


def test_a_real_file_that_makes_calamine_panic_is_refused_by_check(tmp_path: Path) -> None:
    """Apache POI's Simple.xlsb makes python-calamine 0.9 panic (pyo3_runtime.PanicException)."""
    path = tmp_path / "Simple.xlsb"
    path.write_bytes((REAL / "apache__test-data_spreadsheet_Simple.xlsb").read_bytes())
    before = path.read_bytes()
    code, payload, stderr = check_json(path, tmp_path / "out" / "结果.xlsx")
    assert code == 2 and payload["refusal"]["code"] == "damaged", stderr
    assert "Panic" not in stderr + json.dumps(payload) and "Traceback" not in stderr
    assert path.read_bytes() == before


def test_refusals_are_chinese_with_a_next_step_and_english_only_in_the_log() -> None:
    for refusal in Refusal:
        text = refusal.message(name="县表.xlsx", size="1 MB", limit=2, count="1", detail="损坏", part="p",
                               sheet="农户调查", cell="A1", rows=1, columns=1)
        assert "{" not in text and not any(word in text for word in ("Error", "Exception", "errno"))
        assert any(step in text for step in ("请", "拒收")), refusal
        assert refusal.en.isascii()
    refused = Refused(Refusal.ZIP_BOMB, name="a.xlsx", detail="x")
    assert refused.log_text.startswith("refused [zip-bomb]") and refused.as_dict()["code"] == "zip-bomb"


def test_an_encrypted_ods_is_refused_as_password_protected(tmp_path: Path) -> None:
    manifest = (b'<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
                b'manifest:1.0"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/>'
                b"</manifest:file-entry></manifest:manifest>")
    data = hostile.write_parts(tmp_path / "加密.ods", {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                                       "content.xml": b"\x00" * 64,
                                                       "META-INF/manifest.xml": manifest}).read_bytes()
    with pytest.raises(Refused) as refused:
        admit_bytes(data, "加密.ods")
    assert refused.value.code == "encrypted"


def test_library_warnings_go_to_the_log_not_the_console(tmp_path: Path) -> None:
    """A warning raised by a library while a command runs is written to the log, never to the console."""
    clean = hostile.clean_workbook(tmp_path / "clean.xlsx")
    script = (
        "import sys, warnings\n"
        "import ducha.reading.raw as raw\n"
        "from ducha.app import cli\n"
        "read = raw._read_grids\n"
        "def noisy(*args, **kwargs):\n"
        "    warnings.warn('a library says: this is deprecated', UserWarning)\n"
        "    return read(*args, **kwargs)\n"
        "raw._read_grids = noisy\n"
        "sys.exit(cli.main(sys.argv[1:]))\n")
    logs = tmp_path / "logs"
    done = subprocess.run([sys.executable, "-W", "always", "-c", script, "check", str(clean), "--out",
                           str(tmp_path / "结果.xlsx")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DUCHA_LOG_DIR": str(logs)})
    assert done.returncode in (0, 1), done.stderr
    assert "UserWarning" not in done.stdout + done.stderr and "deprecated" not in done.stdout + done.stderr
    logged = "".join(p.read_text(encoding="utf-8") for p in logs.rglob("*") if p.is_file())
    assert "a library says: this is deprecated" in logged


@pytest.mark.parametrize("argv", [["check", "--json"], ["check", "x.xlsx", "--json", "--不存在"],
                                  ["run", "x.xlsx", "--json", "--rubric"]])
def test_json_with_an_argument_error_is_still_one_object(tmp_path: Path, argv: list[str]) -> None:
    done = hostile.ducha(*argv, env={"DUCHA_LOG_DIR": str(tmp_path / "logs")})
    payload = json.loads(done.stdout)
    assert done.returncode == payload["exit"] == 2
    assert payload["error"].startswith("命令行参数有误") and payload["refusal"] is None
    assert "usage" not in done.stderr and "error:" not in done.stderr


def _ods_rows(tmp_path: Path, name: str, rows: bytes) -> Path:
    """The real .ods with `rows` appended to its first table."""
    end = b"</table:table>"
    return hostile._ods_with_content(tmp_path / name, lambda xml: xml.replace(end, rows + end, 1))


def test_an_ods_with_a_million_empty_repeated_rows_is_read_as_libreoffice_writes_it(tmp_path: Path) -> None:
    empty = b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell/></table:table-row>'
    admitted = admit(_ods_rows(tmp_path, "空行.ods", empty))
    assert admitted.kind == "ods"


def test_an_ods_value_beyond_a_million_empty_rows_is_refused_naming_its_table_and_cell(tmp_path: Path) -> None:
    far = (b'<table:table-row table:number-rows-repeated="1048570"><table:table-cell/></table:table-row>'
           b'<table:table-row><table:table-cell table:number-columns-repeated="9"/>'
           b'<table:table-cell office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell>'
           b'</table:table-row>')
    with pytest.raises(Refused) as refused:
        admit(_ods_rows(tmp_path, "远处有值.ods", far))
    assert refused.value.code == "sheet-extent"
    assert "「Visible」" in str(refused.value) and "J10485" in str(refused.value)


def _scan(sheet_xml: bytes, chunk: int) -> tuple:
    from ducha.reading.gate import LOCAL_LIMITS, SheetScan

    scan = SheetScan("农户调查", "x.xlsx", "xl/worksheets/sheet1.xml", LOCAL_LIMITS)
    for start in range(0, len(sheet_xml), chunk):
        scan.feed(sheet_xml[start:start + chunk])
    return scan.max_row, scan.max_column, scan.far, scan.error_cells, scan.positional


@pytest.mark.parametrize("seed", range(9))
def test_the_vectorised_search_of_large_chunks_finds_what_the_patterns_find(seed: int,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Large chunks are searched through reading.gate._Marks, small ones by the patterns: on the same sheet, cut
    the same way, both give the same extent, farthest cell, error-cell and reference-less verdicts."""
    import random

    from ducha.reading import gate

    rng = random.Random(seed)
    kinds = ['<c r="{ref}"><v>1</v></c>', '<c r="{ref}" s="1"/>', '<c r="{ref}" s="2"></c>', '<c r="{ref}" s="1" />',
             '<c r="{ref}" t="e"><v>#N/A</v></c>', '<c r="{ref}" t="inlineStr"><is><t>甲</t></is></c>',
             '<x:c r="{ref}"><x:v>2</x:v></x:c>', '<c r="{ref}"><f>A1</f><v>1</v></c>', '<c r="{ref}" s="1"> </c>',
             '<c><v>5</v></c>', '<c s="2"><v>5</v></c>']
    weights = [rng.random() for _ in kinds]
    if seed % 3 == 0:
        weights[4] = weights[6] = weights[9] = weights[10] = 0.0  # no error cells, every cell has a reference
    elif seed % 3 == 1:
        weights[6] = weights[10] = 0.0  # cells without a reference are <c> only
    parts, row = ["<worksheet><sheetData>"], 0
    for _ in range(400):
        row = max(1, row + rng.choice([1, 1, 1, 7, -2]))
        parts.append(f'<row r="{row}">')
        for column in range(1, rng.randrange(1, 9)):
            far = rng.random()  # now and then a cell far below or far to the right
            letters = gate.column_letters(rng.randrange(30, 20_000) if far < 0.02 else column)
            ref = f"{letters}{rng.randrange(1_000, 3_000_000) if 0.02 <= far < 0.04 else row}"
            parts.append(rng.choices(kinds, weights)[0].format(ref=ref))
        parts.append("</row>")
    sheet = "".join([*parts, "</sheetData></worksheet>"]).encode()
    chunk = rng.randrange(2_000, 9_000)
    by_pattern = _scan(sheet, chunk)
    monkeypatch.setattr(gate, "VECTOR_WINDOW", 0)
    assert _scan(sheet, chunk) == by_pattern
    assert by_pattern[0] > 1_000 and by_pattern[1] > 30  # far cells were found


def test_cells_without_references_are_measured_only_until_they_pass_the_limit(tmp_path: Path) -> None:
    """Cells without r="" are counted with expat: a sheet that passes the limit is refused as soon as it does, not
    after the whole part (a dense sheet of 19 million such cells took 30 s, now under half of that)."""
    from ducha.reading.gate import Limits

    row = b"<row>" + b"<c><v>1</v></c>" * 10 + b"</row>"
    path = hostile.changed(hostile.clean_workbook(tmp_path / "clean.xlsx"), tmp_path / "无引用.xlsx",
                           hostile.HOUSEHOLDS_PART, lambda xml: re.sub(rb"<sheetData>.*</sheetData>",
                                                                       b"<sheetData>" + row * 3000 + b"</sheetData>",
                                                                       xml, flags=re.S))
    with pytest.raises(Refused) as refused:
        admit(path, Limits(max_sheet_cells=1_000))
    assert refused.value.code == "sheet-extent"
    assert "101 行 × 10 列" in str(refused.value)  # stopped at the first row past 1,000 cells
    assert admit(path).kind == "xlsx"  # 30,000 cells: within the default limit
