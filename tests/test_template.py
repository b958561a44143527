"""The blank inspection workbook: up to date with the schema, drop-downs and text formats, opens in LibreOffice."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from defusedxml import ElementTree
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ducha.adapters.writer import workbook_bytes, write_template
from ducha.model import schema
from ducha.model.parameters import parameter_rows
from ducha.model.schema import FieldType, Layout
from ducha.sheets.template import (
    FORM_FIRST_ROW,
    FORM_SOURCE_COLUMN,
    FORM_VALUE_COLUMN,
    TABLE_FIRST_DATA_ROW,
    TABLE_HEADER_ROW,
    TEMPLATE_FILE_NAME,
    TEMPLATE_ROWS,
    build_template,
    form_headers,
)
from libreoffice import convert

COMMITTED = Path(__file__).resolve().parents[1] / "workbook_templates" / TEMPLATE_FILE_NAME
TEXT_TYPES = (FieldType.ID_NUMBER, FieldType.PHONE, FieldType.REGION_CODE, FieldType.TEXT, FieldType.MONTH)
REGENERATE = "the committed template is out of date: run `python -m ducha.adapters.writer`"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_template(tmp_path_factory.mktemp("template") / TEMPLATE_FILE_NAME)


@pytest.fixture(scope="module")
def book(generated: Path) -> openpyxl.Workbook:
    return openpyxl.load_workbook(generated)


def _summary(ws: Worksheet) -> dict[str, Any]:
    """What a clerk sees of a sheet: values, formats of header and first data row, validations, widths, panes."""
    return {
        "values": [[c.value for c in row] for row in ws.iter_rows()],
        "formats": [[c.number_format for c in row] for row in ws.iter_rows(min_row=1, max_row=2)],
        "validations": sorted((str(dv.sqref), dv.type or "", dv.formula1 or "", dv.formula2 or "", dv.operator or "",
                               dv.errorStyle or "", dv.prompt or "") for dv in ws.data_validations.dataValidation),
        "widths": {key: dim.width for key, dim in sorted(ws.column_dimensions.items())},
        "freeze": ws.freeze_panes,
        "protected": ws.protection.sheet,
    }


def _list_choices(ws: Worksheet, cell: str) -> list[str]:
    """The choices of the list validation covering `cell` (fails if there is none)."""
    for dv in ws.data_validations.dataValidation:
        if dv.type == "list" and cell in dv.sqref:
            return dv.formula1.strip('"').split(",")
    raise AssertionError(f"{ws.title}!{cell} has no drop-down list")


def _household_letter(key: str) -> str:
    return get_column_letter([f.key for f in schema.HOUSEHOLDS.fields].index(key) + 1)


def _input_cell(sheet: schema.Sheet, index: int) -> str:
    """The first input cell of the field at `index`: table column in row 2, or form column B."""
    if sheet.layout is Layout.TABLE:
        return f"{get_column_letter(index + 1)}{TABLE_FIRST_DATA_ROW}"
    return f"{get_column_letter(FORM_VALUE_COLUMN)}{FORM_FIRST_ROW + index}"


def test_committed_template_matches_the_schema(book: openpyxl.Workbook) -> None:
    committed = openpyxl.load_workbook(COMMITTED)
    assert committed.sheetnames == book.sheetnames, REGENERATE
    for name in book.sheetnames:
        assert _summary(committed[name]) == _summary(book[name]), f"{name}: {REGENERATE}"


def _xml_tree(data: bytes) -> tuple:
    """An XML part as nested (tag, attributes, text, children): where a namespace is declared does not matter
    (openpyxl declares them differently with and without lxml installed)."""

    def walk(element) -> tuple:
        return (element.tag, sorted(element.attrib.items()), (element.text or "").strip(),
                [walk(child) for child in element])

    return walk(ElementTree.fromstring(data))


def test_committed_template_has_the_same_parts_as_a_fresh_one(generated: Path) -> None:
    with zipfile.ZipFile(COMMITTED) as old, zipfile.ZipFile(generated) as new:
        assert old.namelist() == new.namelist(), REGENERATE
        for name in new.namelist():
            before, after = old.read(name), new.read(name)
            if name.endswith((".xml", ".rels")):
                assert _xml_tree(before) == _xml_tree(after), f"{name}: {REGENERATE}"
            else:
                assert before == after, f"{name}: {REGENERATE}"


def test_two_generations_give_identical_bytes() -> None:
    assert workbook_bytes(build_template()) == workbook_bytes(build_template())


def test_instructions_come_first_then_every_input_sheet(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == [schema.INSTRUCTIONS_SHEET, *(s.name for s in schema.INPUT_SHEETS)]
    text = "\n".join(str(v) for row in book[schema.INSTRUCTIONS_SHEET].iter_rows(values_only=True) for v in row if v)
    for phrase in ("5 户", "检查完整性", "计算评分", "标记跟进", "一键运行", "文本", *schema.GENERATED_SHEETS):
        assert phrase in text
    assert book[schema.INSTRUCTIONS_SHEET].protection.sheet


@pytest.mark.parametrize("sheet", [s for s in schema.INPUT_SHEETS if s.layout is Layout.TABLE], ids=lambda s: s.key)
def test_table_sheet_has_schema_labels_in_row_1(book: openpyxl.Workbook, sheet: schema.Sheet) -> None:
    ws = book[sheet.name]
    headers = [c.value for c in ws[TABLE_HEADER_ROW]]
    assert headers == [f.label() for f in sheet.fields]
    assert ws.freeze_panes.endswith(str(TABLE_FIRST_DATA_ROW))
    assert ws.print_title_rows == "$1:$1"
    last = TABLE_FIRST_DATA_ROW + TEMPLATE_ROWS[sheet.name] - 1
    for col, field in enumerate(sheet.fields, start=1):
        assert ws.column_dimensions[get_column_letter(col)].width == field.width
        assert ws.cell(last, col).number_format == ws.cell(TABLE_FIRST_DATA_ROW, col).number_format


@pytest.mark.parametrize("sheet", [s for s in schema.INPUT_SHEETS if s.layout is Layout.FORM], ids=lambda s: s.key)
def test_form_sheet_has_one_labelled_row_per_field(book: openpyxl.Workbook, sheet: schema.Sheet) -> None:
    ws = book[sheet.name]
    assert [c.value for c in ws[1]] == form_headers(sheet)
    assert ("数据来源" in form_headers(sheet)) == sheet.has_source_column
    for row, field in enumerate(sheet.fields, start=FORM_FIRST_ROW):
        assert ws.cell(row, 1).value == field.label()
        assert ws.cell(row, FORM_VALUE_COLUMN).value is None
        assert not ws.cell(row, FORM_VALUE_COLUMN).protection.locked
        assert ws.cell(row, 1).protection.locked
        explanation = ws.cell(row, len(form_headers(sheet))).value or ""
        if field.key_items:
            assert f"本月重点督查内容为「{field.key_item_text()}」时必填" in explanation
        if sheet.has_source_column:
            assert not ws.cell(row, FORM_SOURCE_COLUMN).protection.locked
    assert ws.cell(FORM_FIRST_ROW + len(sheet.fields), 1).value is None
    assert ws.protection.sheet and ws.freeze_panes == "B2"


@pytest.mark.parametrize("sheet", schema.INPUT_SHEETS, ids=lambda s: s.key)
def test_every_choice_field_has_a_drop_down_of_exactly_its_choices(book: openpyxl.Workbook,
                                                                   sheet: schema.Sheet) -> None:
    ws = book[sheet.name]
    for index, field in enumerate(sheet.fields):
        if field.type in (FieldType.CHOICE, FieldType.YES_NO):
            assert _list_choices(ws, _input_cell(sheet, index)) == list(field.choices), field.key
    for dv in ws.data_validations.dataValidation:
        assert not dv.showDropDown  # openpyxl's showDropDown=True hides the arrow
        if dv.type == "list":
            assert dv.errorStyle == "stop" and dv.error and dv.prompt and dv.showInputMessage


@pytest.mark.parametrize("sheet", schema.INPUT_SHEETS, ids=lambda s: s.key)
def test_id_phone_and_text_cells_are_text_formatted(book: openpyxl.Workbook, sheet: schema.Sheet) -> None:
    ws = book[sheet.name]
    for index, field in enumerate(sheet.fields):
        cell = ws[_input_cell(sheet, index)]
        if field.type in TEXT_TYPES:
            assert cell.number_format == "@", field.key
        if field.type is FieldType.DATE:
            assert cell.number_format == "yyyy-mm-dd"
        if field.type in (FieldType.INTEGER, FieldType.YEAR):
            assert cell.number_format == "0"
        if sheet.layout is Layout.TABLE:
            assert ws.column_dimensions[cell.column_letter].number_format == cell.number_format


def test_id_column_prompts_for_text_and_checks_length(book: openpyxl.Workbook) -> None:
    ws = book[schema.HOUSEHOLDS.name]
    letter = _household_letter("id_number")
    (dv,) = [dv for dv in ws.data_validations.dataValidation if f"{letter}2" in dv.sqref]
    assert dv.type == "textLength" and dv.formula1 == "18" and "文本" in dv.prompt


def test_numeric_ranges_are_warnings_the_clerk_can_override(book: openpyxl.Workbook) -> None:
    ws = book[schema.HOUSEHOLDS.name]
    size = [dv for dv in ws.data_validations.dataValidation if f"{_household_letter('household_size')}2" in dv.sqref]
    assert [(dv.type, dv.formula1, dv.formula2, dv.errorStyle) for dv in size] == [("whole", "1", "20", "warning")]


def test_validation_texts_fit_excel_limits(book: openpyxl.Workbook) -> None:
    for ws in book.worksheets:
        for dv in ws.data_validations.dataValidation:
            assert len(dv.promptTitle or "") <= 32 and len(dv.prompt or "") <= 255
            assert len(dv.errorTitle or "") <= 32 and len(dv.error or "") <= 225
            assert len(dv.formula1 or "") <= 255


def test_parameters_sheet_holds_the_defaults(book: openpyxl.Workbook) -> None:
    ws = book[schema.PARAMETERS.name]
    rows = [list(r) for r in ws.iter_rows(min_row=TABLE_FIRST_DATA_ROW, max_row=TABLE_FIRST_DATA_ROW
                                          + len(parameter_rows()) - 1, values_only=True)]
    assert rows == parameter_rows()


def test_print_layout_is_a4_one_page_wide(book: openpyxl.Workbook) -> None:
    for ws in book.worksheets:
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4)
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert "&P" in ws.oddFooter.center.text
    assert book[schema.HOUSEHOLDS.name].page_setup.orientation == "landscape"


def test_fixed_document_properties(book: openpyxl.Workbook) -> None:
    assert book.properties.creator == "ducha"
    assert book.properties.created.year == 2019 and book.properties.modified == book.properties.created


def test_libreoffice_opens_and_round_trips_the_template(generated: Path, tmp_path: Path) -> None:
    for target in ("pdf", "xlsx"):
        assert convert(generated, target, tmp_path / target).stat().st_size > 1000
    again = openpyxl.load_workbook(tmp_path / "xlsx" / generated.name)
    assert again.sheetnames == [schema.INSTRUCTIONS_SHEET, *(s.name for s in schema.INPUT_SHEETS)]
    ws = again[schema.HOUSEHOLDS.name]
    assert [c.value for c in ws[1]] == [f.label() for f in schema.HOUSEHOLDS.fields]
    assert ws.column_dimensions[_household_letter("id_number")].number_format == "@"  # LibreOffice keeps column styles
    assert _list_choices(ws, f"{_household_letter('household_type')}2") == list(schema.HOUSEHOLD_TYPES)
