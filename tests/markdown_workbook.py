"""Tests write workbooks inline as markdown tables; this turns them into real .xlsx files.

Cell text conventions: empty -> blank cell; an integer or decimal -> a number (digit strings longer than
15 characters stay text, as ID numbers must); 'x -> the text x; a lone ' -> a cell holding one space (blank text);
n:123 -> the number 123 (an ID number typed as a number); d:2019-11-05 -> a real date cell; b:TRUE -> a boolean.

`assert_findings` checks the clean workbook of `valid_sheets()` changed by inline markdown tables (see
`changed_workbook`) and asserts the codes found at each cell.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from ducha.checks.pipeline import CheckResult, run_check
from ducha.model.idnumber import check_character
from ducha.model.parameters import parameter_rows
from ducha.model.schema import BASIC, COUNTY, HOUSEHOLDS, INTERVIEWS, PARAMETERS, SAMPLING, VILLAGES, Sheet

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def cell_value(text: str) -> Any:
    text = text.strip()
    if text == "":
        return None
    if text == "'":
        return " "
    if text.startswith("'"):
        return text[1:]
    if text.startswith("n:"):
        return float(text[2:]) if "." in text or len(text) > 17 else int(text[2:])
    if text.startswith("d:"):
        return dt.date.fromisoformat(text[2:])
    if text.startswith("b:"):
        return text[2:].upper() == "TRUE"
    if _NUMBER.match(text) and len(text.lstrip("-").replace(".", "")) <= 15:
        return float(text) if "." in text else int(text)
    return text


def parse_markdown(table: str) -> list[list[Any]]:
    rows = []
    for line in table.strip().splitlines():
        line = line.strip()
        if not line.startswith("|"):
            continue
        cells = [c for c in line.strip("|").split("|")]
        if all(set(c.strip()) <= set("-: ") for c in cells):
            continue
        rows.append([cell_value(c) for c in cells])
    return rows


def write_workbook(path: Path, sheets: dict[str, list[list[Any]] | str]) -> Path:
    """Write sheets (markdown text or rows) into a real .xlsx; ID-looking text is stored as text."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, content in sheets.items():
        rows = parse_markdown(content) if isinstance(content, str) else content
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path


def make_id(seed: int, birth: str = "19700101", county: str = "522631") -> str:
    body = f"{county}{birth}{seed % 1000:03d}"
    return body + check_character(body)


def _table(sheet: Sheet, records: list[dict[str, Any]]) -> list[list[Any]]:
    rows: list[list[Any]] = [[f.label() for f in sheet.fields]]
    rows += [[record.get(f.header) for f in sheet.fields] for record in records]
    return rows


def _form(sheet: Sheet, values: dict[str, Any], sources: bool = False) -> list[list[Any]]:
    rows: list[list[Any]] = [["项目", "填写内容", "数据来源"] if sources else ["项目", "填写内容"]]
    for f in sheet.fields:
        value = values.get(f.header)
        source = "县扶贫办报表" if sources and value is not None else None
        rows.append([f.label(), value, source][: 3 if sources else 2])
    return rows


VILLAGES_IN_SAMPLE = (("青山镇", "石门村"), ("白云乡", "高寨村"))


def household(kind: str, n: int, township: str, village: str, **overrides: Any) -> dict[str, Any]:
    """A complete, consistent household record keyed by Chinese header."""
    registered = kind != "普通农户"
    record: dict[str, Any] = {
        "乡镇": township, "村": village, "户类型": kind, "户主姓名": f"张{n}", "身份证号": make_id(n),
        "家庭人口": 4, "工资性收入": 12000, "家庭经营性收入": 6000, "转移性收入": 2000, "财产性收入": 0,
        "生产经营费用": 4000, "年人均纯收入": 4000, "不愁吃": "是", "不愁穿": "是", "义务教育有保障": "是",
        "基本医疗有保障": "是", "住房安全有保障": "是", "饮水安全有保障": "是", "参加新农合": "是", "住危房": "否",
        "符合低保或特困供养条件": "否", "已纳入低保或特困供养": "否", "群众认可": "认可",
    }
    if registered:
        record.update({"识别标准": "国家", "贫困户属性": "一般贫困户", "主要致贫原因": "因病", "有增收主导产业": "是",
                       "参加大病补充保险": "是", "有帮扶计划": "是", "帮扶计划针对致贫原因": "是",
                       "已发放扶贫手册": "是", "帮扶责任人": f"李{n}",
                       "帮扶责任人电话": f"139{n:08d}"})
    if kind == "建档立卡贫困户":
        record.update({"年人均纯收入": 2500, "工资性收入": 8000, "家庭经营性收入": 4000, "转移性收入": 2000,
                       "生产经营费用": 4000, "登记表填写完整": "是", "两公示一公告记录齐全": "是",
                       "村委会会议记录齐全": "是", "登记表类别与实际相符": "是", "登记表致贫原因与实际相符": "是"})
    if kind == "脱贫户":
        record["脱贫年度"] = 2018
    record.update(overrides)
    return record


def valid_sheets(month: str = "2019-11", key_item: str = "健康扶贫政策落实情况") -> dict[str, list[list[Any]]]:
    """A complete, clean inspection workbook: 2 townships × 1 village × (5 + 5 + 5) households."""
    basic = {"督查月份": month, "督查组": "第一督查组", "组长": "王强", "成员": "赵敏、钱伟", "被督查县": "清水县",
             "县级区划代码": "522631", "督查开始日期": f"{month}-05", "督查结束日期": f"{month}-07",
             "督查方式": "随机暗访", "本月重点督查内容": key_item, "填表人": "赵敏", "联系电话": "13800000000"}
    county = {f.header: 10 for f in COUNTY.fields}
    sampling, households, villages, interviews = [], [], [], []
    n = 0
    for township, village in VILLAGES_IN_SAMPLE:
        sampling.append({"乡镇": township, "乡镇是否有脱贫任务": "是", "村": village, "是否贫困村": "是"})
        for kind in ("建档立卡贫困户", "脱贫户", "普通农户"):
            for _ in range(5):
                n += 1
                households.append(household(kind, n, township, village))
        villages.append({"乡镇": township, "村": village, "有脱贫增收主导产业": "是", "主导产业名称": "茶叶",
                         "成立农民专业合作社": "是", "有标准化卫生室": "是", "有合格乡村医生或执业(助理)医师": "是"})
        for i in range(2):
            interviews.append({"乡镇": township, "村": village, "访谈类型": "乡村干部访谈", "姓名": f"村干{i}",
                               "职务或单位": "村支书", "熟悉帮扶户情况": "是", "访谈结果": "情况属实"})
            interviews.append({"乡镇": township, "村": village, "访谈类型": "帮扶干部电话抽查", "姓名": f"帮扶{i}",
                               "职务或单位": "县农业局", "联系电话": f"1371234567{i}", "是否接通": "是",
                               "熟悉帮扶户情况": "是", "访谈结果": "熟悉情况"})
    return {
        BASIC.name: _form(BASIC, basic),
        SAMPLING.name: _table(SAMPLING, sampling),
        HOUSEHOLDS.name: _table(HOUSEHOLDS, households),
        VILLAGES.name: _table(VILLAGES, villages),
        COUNTY.name: _form(COUNTY, county, sources=True),
        INTERVIEWS.name: _table(INTERVIEWS, interviews),
        PARAMETERS.name: [[f.label() for f in PARAMETERS.fields], *parameter_rows()],
    }


def set_cell(sheets: dict[str, list[list[Any]]], sheet: str, header: str, record: int, value: Any) -> str:
    """Change one field of record `record` (0-based, below the header); returns its A1 cell."""
    rows = sheets[sheet]
    column = next(i for i, h in enumerate(rows[0]) if str(h).rstrip("*").split("(")[0] == header)
    rows[record + 1][column] = value
    return f"{chr(ord('A') + column) if column < 26 else 'A' + chr(ord('A') + column - 26)}{record + 2}"


def set_form(sheets: dict[str, list[list[Any]]], sheet: str, header: str, value: Any) -> str:
    """Change one labelled value of a form sheet; returns its A1 cell."""
    rows = sheets[sheet]
    index = next(i for i, r in enumerate(rows) if str(r[0]).rstrip("*").split("(")[0] == header)
    rows[index][1] = value
    return f"B{index + 1}"


# --- helpers for the check tests: run the pipeline on rows, locate cells, reshape a clean workbook -----------------

_SHEETS_BY_NAME = {s.name: s for s in (BASIC, SAMPLING, HOUSEHOLDS, VILLAGES, COUNTY, INTERVIEWS, PARAMETERS)}
TABLE_SHEETS = (SAMPLING.name, HOUSEHOLDS.name, VILLAGES.name, INTERVIEWS.name)


def check_sheets(folder: Path, sheets: dict[str, list[list[Any]] | str], name: str = "督查工作簿.xlsx") -> CheckResult:
    """Write `sheets` into `folder` as a real .xlsx and run `ducha check`'s pipeline on it."""
    return run_check(write_workbook(Path(folder) / name, sheets))


def found(result: CheckResult) -> list[tuple[str, str, str]]:
    """(code, sheet, cell) of every finding, in report order."""
    return [(f.code, f.sheet, f.cell) for f in result.findings]


def _is_label(text: Any, sheet: str, header: str) -> bool:
    f = next(f for f in _SHEETS_BY_NAME[sheet].fields if f.header == header)
    return text in (f.label(), f.header)


def column_of(sheets: dict[str, list[list[Any]]], sheet: str, header: str) -> int:
    """0-based column of a table sheet's field, found by its template label (works for headers with brackets)."""
    return next(i for i, h in enumerate(sheets[sheet][0]) if _is_label(h, sheet, header))


def form_row(sheets: dict[str, list[list[Any]]], sheet: str, header: str) -> int:
    """0-based row of a form sheet's field, found by its template label."""
    return next(i for i, r in enumerate(sheets[sheet]) if r and _is_label(r[0], sheet, header))


def set_value(sheets: dict[str, list[list[Any]]], sheet: str, header: str, value: Any, column: int = 1) -> str:
    """Change a form sheet's value (column B) or, with column=2, its 数据来源 (column C); returns the A1 cell."""
    row = form_row(sheets, sheet, header)
    sheets[sheet][row][column] = value
    return f"{get_column_letter(column + 1)}{row + 1}"


def records_of(sheets: dict[str, list[list[Any]]], sheet: str, village: str) -> list[list[Any]]:
    """The rows of a table sheet that belong to `village`."""
    column = column_of(sheets, sheet, "村")
    return [r for r in sheets[sheet][1:] if r[column] == village]


def replace_everywhere(sheets: dict[str, list[list[Any]]], old: Any, new: Any) -> None:
    """Replace every cell equal to `old` in the table sheets (e.g. move a village to another township)."""
    for name in TABLE_SHEETS:
        for row in sheets[name]:
            row[:] = [new if v == old else v for v in row]


def add_village(sheets: dict[str, list[list[Any]]], township: str, village: str, first_seed: int = 500) -> None:
    """A complete third village: copies of the first sampled village's rows, renamed, with new ID numbers."""
    source = sheets[SAMPLING.name][1][column_of(sheets, SAMPLING.name, "村")]
    id_column = column_of(sheets, HOUSEHOLDS.name, "身份证号")
    for name in TABLE_SHEETS:
        town, place = column_of(sheets, name, "乡镇"), column_of(sheets, name, "村")
        for n, row in enumerate(records_of(sheets, name, source)):
            copy = list(row)
            copy[town], copy[place] = township, village
            if name == HOUSEHOLDS.name:
                copy[id_column] = make_id(first_seed + n)
            sheets[name].append(copy)


# --- a clean workbook changed by inline markdown tables, and the findings it must give -------------------------------

ROW, COPY, ACTION, DELETE, LABEL = "行", "复制自", "操作", "删除", "项目"


def _patch_table(sheets: dict[str, list[list[Any]]], sheet: str, table: list[list[Any]]) -> None:
    """Rows named by Excel row number (行) get the table's columns; 复制自 copies a row first; 操作 删除 deletes."""
    header, rows = [str(h).strip() for h in table[0]], sheets[sheet]
    width = len(rows[0])
    deleted = []
    for values in table[1:]:
        change = dict(zip(header, values, strict=True))
        number = int(change.pop(ROW))
        if change.pop(ACTION, None) == DELETE:
            deleted.append(number)
            continue
        while len(rows) < number:
            rows.append([None] * width)
        source = change.pop(COPY, None)
        if source is not None:
            rows[number - 1] = list(rows[int(source) - 1])
        for name, value in change.items():
            rows[number - 1][column_of(sheets, sheet, name)] = value
    for number in sorted(deleted, reverse=True):
        del rows[number - 1]


def _patch_form(sheets: dict[str, list[list[Any]]], sheet: str, table: list[list[Any]]) -> None:
    """A form sheet's values (填写内容, column B) or sources (数据来源, column C) by label (项目); 操作 删除 removes
    the label's row."""
    header = [str(h).strip() for h in table[0]]
    for values in table[1:]:
        change = dict(zip(header, values, strict=True))
        row = form_row(sheets, sheet, change.pop(LABEL))
        if change.pop(ACTION, None) == DELETE:
            del sheets[sheet][row]
            continue
        for name, value in change.items():
            column = 1 if name == "填写内容" else 2
            sheets[sheet][row][column] = value


def changed_workbook(changes: dict[str, str], base: dict[str, list[list[Any]]] | None = None
                     ) -> dict[str, list[list[Any]]]:
    """The clean workbook of `valid_sheets()` (or `base`) with each sheet's markdown table applied: a table whose
    first column is 行 changes those rows of a table sheet; one whose first column is 项目 changes a form sheet's
    values by label; any other table is the whole sheet."""
    sheets = base if base is not None else valid_sheets()
    for sheet, text in changes.items():
        table = parse_markdown(text)
        first = str(table[0][0]).strip()
        if first == ROW:
            _patch_table(sheets, sheet, table)
        elif first == LABEL:
            _patch_form(sheets, sheet, table)
        else:
            sheets[sheet] = table
    return sheets


def findings_at(result: CheckResult) -> dict[str, list[str]]:
    """'sheet!cell' -> the codes found there, in report order."""
    at: dict[str, list[str]] = {}
    for f in result.findings:
        at.setdefault(f"{f.sheet}!{f.cell}", []).append(f.code)
    return at


def assert_findings(changes: dict[str, str], expected: dict[str, str | list[str]],
                    base: dict[str, list[list[Any]]] | None = None) -> CheckResult:
    """Check the clean workbook changed by `changes` (see `changed_workbook`) and assert it gives exactly the
    `expected` codes at their cells ('sheet!A1' -> a code, or a list when one cell has several), in report order."""
    with tempfile.TemporaryDirectory(prefix="ducha-check-") as folder:
        result = check_sheets(Path(folder), changed_workbook(changes, base))
    wanted = {cell: [codes] if isinstance(codes, str) else list(codes) for cell, codes in expected.items()}
    assert findings_at(result) == wanted
    assert list(findings_at(result)) == list(wanted), "the findings are reported in sheet, row, column order"
    return result
