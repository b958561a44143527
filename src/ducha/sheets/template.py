"""The blank county inspection workbook, generated from the schema.

Run `python -m ducha.adapters.writer [path]` to rewrite the committed template in `workbook_templates/`.
Layout facts the reader relies on are the constants below; everything else (headers, formats, drop-downs,
prompts) comes from `schema.INPUT_SHEETS`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ducha.model import schema
from ducha.model.parameters import parameter_rows
from ducha.model.schema import Field, FieldType, Layout, Sheet
from ducha.sheets.outputplan import FILLS, LINE_HEIGHT, Style, text_lines

TABLE_HEADER_ROW = 1
TABLE_FIRST_DATA_ROW = 2
FORM_HEADER_ROW = 1
FORM_FIRST_ROW = 2
FORM_LABEL_COLUMN = 1
FORM_VALUE_COLUMN = 2
FORM_SOURCE_COLUMN = 3  # only on sheets with `has_source_column` (县级核查)

# Pre-formatted data rows (number formats and drop-downs) of each table sheet, by sheet name.
TEMPLATE_ROWS: dict[str, int] = {
    schema.SAMPLING.name: 20,
    schema.HOUSEHOLDS.name: 500,
    schema.VILLAGES.name: 20,
    schema.INTERVIEWS.name: 100,
    schema.PARAMETERS.name: 60,
    schema.REVISIT.name: 50,
}

WORKBOOK_TITLE = "精准扶贫专题督查工作簿"
TEMPLATE_FILE_NAME = f"{WORKBOOK_TITLE}.xlsx"
# The committed copy in the source tree (written by `python -m ducha.sheets.template`).
REPOSITORY_TEMPLATE = Path(__file__).resolve().parents[3] / "workbook_templates" / TEMPLATE_FILE_NAME

FIXED_TIME = datetime(2019, 1, 1)  # workbook properties, so two generations are identical

TEXT_FORMAT = "@"
NUMBER_FORMATS: dict[FieldType, str] = {
    FieldType.TEXT: TEXT_FORMAT,
    FieldType.ID_NUMBER: TEXT_FORMAT,
    FieldType.PHONE: TEXT_FORMAT,
    FieldType.REGION_CODE: TEXT_FORMAT,
    FieldType.MONTH: TEXT_FORMAT,
    FieldType.CHOICE: TEXT_FORMAT,
    FieldType.YES_NO: TEXT_FORMAT,
    FieldType.INTEGER: "0",
    FieldType.YEAR: "0",
    FieldType.DATE: "yyyy-mm-dd",
    FieldType.NUMBER: "#,##0.00",
}
PLAIN_NUMBER_FORMAT = "General"  # NUMBER fields without a unit (参数「数值」holds 0.02 as well as 2536)

FORM_LABEL_HEADER = "项目"
FORM_VALUE_HEADER = "填写内容"
FORM_SOURCE_HEADER = "数据来源"
FORM_PROMPT_HEADER = "填写说明"

BODY_SIZE = 11
HEADER_FONT = Font(bold=True)
TITLE_FONT = Font(bold=True, size=16)
_SECTION_FONT = Font(bold=True, size=12)
_HEADER_FILL = PatternFill("solid", fgColor=FILLS[Style.HEADER])
_KEY_ITEM_FILL = PatternFill("solid", fgColor=FILLS[Style.TOTAL])
_LABEL_FILL = PatternFill("solid", fgColor="F2F2F2")
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_ALIGNMENT = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)
_UNLOCKED = Protection(locked=False)
INPUT_TAB_COLOR = "2F75B5"
_INSTRUCTIONS_TAB_COLOR = "548235"
_PARAMETERS_TAB_COLOR = "7F7F7F"

# Excel's limits for data validation texts.
_TITLE_LIMIT, _PROMPT_LIMIT, _ERROR_LIMIT, _LIST_LIMIT = 32, 255, 225, 255
_DATE_MIN, _DATE_MAX = 36526, 73050  # 2000-01-01 and 2099-12-31 as Excel serial numbers


def number_format(field: Field) -> str:
    """The Excel number format of a field's input cells (ID numbers and phones are text: '@')."""
    if field.type is FieldType.NUMBER and not field.unit:
        return PLAIN_NUMBER_FORMAT
    return NUMBER_FORMATS[field.type]


def table_column(sheet: Sheet, key: str) -> int:
    """1-based column of a field on a table sheet."""
    return [f.key for f in sheet.fields].index(key) + 1


def form_row(sheet: Sheet, key: str) -> int:
    """1-based row of a field on a form sheet."""
    return FORM_FIRST_ROW + [f.key for f in sheet.fields].index(key)


def form_headers(sheet: Sheet) -> list[str]:
    """Row 1 of a form sheet: 项目, 填写内容, [数据来源,] 填写说明."""
    source = [FORM_SOURCE_HEADER] if sheet.has_source_column else []
    return [FORM_LABEL_HEADER, FORM_VALUE_HEADER, *source, FORM_PROMPT_HEADER]


def form_prompt_column(sheet: Sheet) -> int:
    """1-based column of 填写说明 on a form sheet (3, or 4 with a 数据来源 column)."""
    return len(form_headers(sheet))


def key_item_note(field: Field) -> str:
    return f"本月重点督查内容为「{field.key_item_text()}」时必填" if field.key_items else ""


def field_explanation(sheet: Sheet, field: Field) -> str:
    """What a clerk reads next to a form field: required or not, prompt, choices, unit, N item."""
    parts: list[str] = []
    if field.required and field.when:
        parts.append(f"{field.when.describe(sheet.headers())}时必填")
    elif field.required:
        parts.append("必填")
    if field.prompt:
        parts.append(field.prompt)
    if field.choices:
        parts.append("从下拉列表选择：" + "、".join(field.choices))
    if field.unit:
        parts.append(f"单位：{field.unit}")
    if field.key_items and not field.required:
        parts.append(key_item_note(field))
    return "；".join(parts)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _range_text(field: Field) -> str:
    unit = field.unit
    if field.minimum is not None and field.maximum is not None:
        return f"{_number_text(field.minimum)} 至 {_number_text(field.maximum)}{unit}"
    if field.minimum is not None:
        return f"不小于 {_number_text(field.minimum)}{unit}"
    return f"不大于 {_number_text(field.maximum or 0)}{unit}"


def data_validation(field: Field) -> DataValidation | None:
    """The Excel data validation of a field's input cells (None if the field needs none)."""
    title = field.label()[:_TITLE_LIMIT]
    dv: DataValidation | None = None
    if field.type in (FieldType.CHOICE, FieldType.YES_NO):
        if any("," in choice for choice in field.choices):
            raise ValueError(f"choice of {field.key} contains a comma")
        formula = '"' + ",".join(field.choices) + '"'
        if len(formula) > _LIST_LIMIT:
            raise ValueError(f"choice list of {field.key} is longer than Excel allows")
        dv = DataValidation(type="list", formula1=formula, allow_blank=True, errorStyle="stop",
                            error=f"「{field.header}」只能从下拉列表中选择：{'、'.join(field.choices)}。",
                            prompt=field.prompt or "请从下拉列表中选择")
    elif field.type in (FieldType.INTEGER, FieldType.YEAR, FieldType.NUMBER) and (
            field.minimum is not None or field.maximum is not None):
        kind = "decimal" if field.type is FieldType.NUMBER else "whole"
        if field.minimum is not None and field.maximum is not None:
            operator, formula1, formula2 = "between", field.minimum, field.maximum
        elif field.minimum is not None:
            operator, formula1, formula2 = "greaterThanOrEqual", field.minimum, None
        else:
            operator, formula1, formula2 = "lessThanOrEqual", field.maximum, None
        what = "数字" if kind == "decimal" else ("四位年份" if field.type is FieldType.YEAR else "整数")
        dv = DataValidation(type=kind, operator=operator, formula1=_number_text(formula1),
                            formula2=None if formula2 is None else _number_text(formula2),
                            allow_blank=True, errorStyle="warning", prompt=field.prompt or None,
                            error=f"「{field.header}」应为{what}，{_range_text(field)}。确认无误可选“是”保留。")
    elif field.type is FieldType.DATE:
        dv = DataValidation(type="date", operator="between", formula1=str(_DATE_MIN), formula2=str(_DATE_MAX),
                            allow_blank=True, errorStyle="warning",
                            prompt="；".join(p for p in (field.prompt, "格式 YYYY-MM-DD，如 2019-11-05") if p),
                            error=f"「{field.header}」应为日期，格式 YYYY-MM-DD，如 2019-11-05。")
    elif field.type in (FieldType.ID_NUMBER, FieldType.REGION_CODE, FieldType.MONTH):
        length = {FieldType.ID_NUMBER: 18, FieldType.REGION_CODE: 6, FieldType.MONTH: 7}[field.type]
        default_prompt = {
            FieldType.ID_NUMBER: "18 位公民身份号码，必须以文本格式输入",
            FieldType.REGION_CODE: "6 位县级区划代码，以文本格式输入",
            FieldType.MONTH: "格式 YYYY-MM，如 2019-11",
        }[field.type]
        dv = DataValidation(type="textLength", operator="equal", formula1=str(length), allow_blank=True,
                            errorStyle="warning", prompt=field.prompt or default_prompt,
                            error=f"「{field.header}」应为 {length} 个字符。确认无误可选“是”保留。")
    elif field.type is FieldType.PHONE:
        dv = DataValidation(allow_blank=True, showErrorMessage=False,
                            prompt=field.prompt or "11 位手机号（1 开头），或“区号-号码”的固定电话；以文本格式输入")
    elif field.prompt:
        dv = DataValidation(allow_blank=True, showErrorMessage=False, prompt=field.prompt)
    if dv is None:
        return None
    dv.showDropDown = False  # openpyxl's True *hides* the in-cell arrow
    dv.showInputMessage = bool(dv.prompt)
    if dv.prompt:
        dv.promptTitle = title
        dv.prompt = dv.prompt[:_PROMPT_LIMIT]
    if dv.error:
        dv.showErrorMessage = True
        dv.errorTitle = "输入无效" if dv.errorStyle == "stop" else "请核实"
        dv.error = dv.error[:_ERROR_LIMIT]
    return dv


def fit_pages(ws: Worksheet, *, landscape: bool, pages_tall: int = 0) -> None:
    """Print on A4, as wide as one page and `pages_tall` pages tall (0: as many as it takes); write-only sheets too."""
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = pages_tall
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _print_setup(ws: Worksheet, *, landscape: bool, title_rows: str | None) -> None:
    fit_pages(ws, landscape=landscape)
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    if title_rows:
        ws.print_title_rows = title_rows
    ws.oddHeader.left.text = WORKBOOK_TITLE
    ws.oddHeader.right.text = "&A"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _style_header(cell, *, key_item: bool = False) -> None:
    cell.font = HEADER_FONT
    cell.fill = _KEY_ITEM_FILL if key_item else _HEADER_FILL
    cell.alignment = _HEADER_ALIGNMENT
    cell.border = _BOX


def build_table(ws: Worksheet, sheet: Sheet) -> None:
    rows = TEMPLATE_ROWS.get(sheet.name, 20)
    first, last = TABLE_FIRST_DATA_ROW, TABLE_FIRST_DATA_ROW + rows - 1
    for col, field in enumerate(sheet.fields, start=1):
        letter = get_column_letter(col)
        header = ws.cell(TABLE_HEADER_ROW, col, field.label())
        _style_header(header, key_item=bool(field.key_items))
        fmt = number_format(field)
        dimension = ws.column_dimensions[letter]
        dimension.width = field.width
        dimension.number_format = fmt  # cells typed below the pre-formatted rows get the format too
        for row in range(first, last + 1):
            ws.cell(row, col).number_format = fmt
        dv = data_validation(field)
        if dv is not None:
            dv.add(f"{letter}{first}:{letter}{last}")
            ws.add_data_validation(dv)
    if sheet is schema.PARAMETERS:
        for r, values in enumerate(parameter_rows(), start=first):
            for col, value in enumerate(values, start=1):
                ws.cell(r, col, value).alignment = WRAP
            _fit_row(ws, r)
    last_letter = get_column_letter(len(sheet.fields))
    ws.row_dimensions[TABLE_HEADER_ROW].height = 54
    ws.freeze_panes = "E2" if sheet is schema.HOUSEHOLDS else "A2"
    ws.auto_filter.ref = f"A{TABLE_HEADER_ROW}:{last_letter}{last}"
    width = sum(f.width for f in sheet.fields)
    _print_setup(ws, landscape=width > 90, title_rows=f"{TABLE_HEADER_ROW}:{TABLE_HEADER_ROW}")


def _build_form(ws: Worksheet, sheet: Sheet) -> None:
    headers = form_headers(sheet)
    prompt_col = form_prompt_column(sheet)
    for col, text in enumerate(headers, start=1):
        _style_header(ws.cell(FORM_HEADER_ROW, col, text))
    for row, field in enumerate(sheet.fields, start=FORM_FIRST_ROW):
        label = ws.cell(row, FORM_LABEL_COLUMN, field.label())
        label.fill = _KEY_ITEM_FILL if field.key_items else _LABEL_FILL
        label.alignment = WRAP
        label.border = _BOX
        value = ws.cell(row, FORM_VALUE_COLUMN)
        value.number_format = number_format(field)
        value.protection = _UNLOCKED
        value.border = _BOX
        if sheet.has_source_column:
            source = ws.cell(row, FORM_SOURCE_COLUMN)
            source.number_format = TEXT_FORMAT
            source.protection = _UNLOCKED
            source.alignment = WRAP
            source.border = _BOX
        explanation = ws.cell(row, prompt_col, field_explanation(sheet, field))
        explanation.alignment = WRAP
        explanation.border = _BOX
        dv = data_validation(field)
        if dv is not None:
            dv.add(f"{get_column_letter(FORM_VALUE_COLUMN)}{row}")
            ws.add_data_validation(dv)
    label_width = max(_display_width(f.label()) for f in sheet.fields) + 2
    widths = [min(label_width, 40), max(24.0, *(f.width for f in sheet.fields))]
    if sheet.has_source_column:
        widths.append(30)
    widths.append(52)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    for row in range(FORM_FIRST_ROW, FORM_FIRST_ROW + len(sheet.fields)):
        _fit_row(ws, row)
    ws.freeze_panes = f"{get_column_letter(FORM_VALUE_COLUMN)}{FORM_FIRST_ROW}"
    protect_sheet(ws)
    _print_setup(ws, landscape=sheet.has_source_column, title_rows=f"{FORM_HEADER_ROW}:{FORM_HEADER_ROW}")


def _fit_row(ws: Worksheet, row: int) -> None:
    """The row as high as its longest wrapped text needs in its column (the columns' widths set already)."""
    lines = max((text_lines(str(cell.value), ws.column_dimensions[cell.column_letter].width or 8.43)
                 for cell in ws[row] if cell.value not in (None, "")), default=1)
    if lines > 1:
        ws.row_dimensions[row].height = lines * LINE_HEIGHT


def protect_sheet(ws: Worksheet) -> None:
    """Protect without a password: locked cells stay as they are; formatting (ducha's highlights),
    column widths and notes stay allowed."""
    p = ws.protection
    p.sheet = True
    p.formatCells = p.formatColumns = p.formatRows = p.objects = False


def _display_width(text: str) -> float:
    """Approximate column width of a text (CJK characters count double)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) * 1.1


def _conditional_fields_text(sheet: Sheet) -> list[str]:
    """Lines such as 「户类型」为脱贫户时必填：脱贫年度, grouped by condition."""
    groups: dict[str, list[str]] = {}
    for field in sheet.fields:
        if field.required and field.when:
            groups.setdefault(field.when.describe(sheet.headers()), []).append(f"「{field.header}」")
    return [f"{condition}时必填：{'、'.join(names)}" for condition, names in groups.items()]


def _key_item_text() -> list[str]:
    """One line per N item: which fields it makes necessary, per sheet."""
    lines = []
    for item in schema.KEY_ITEMS:
        parts = []
        for sheet in schema.INPUT_SHEETS:
            names = [f"「{f.header}」" for f in sheet.fields if item in f.key_items]
            if names:
                parts.append(f"{sheet.name} {'、'.join(names)}")
        if parts:
            lines.append(f"{item}：" + "；".join(parts))
    return lines


def instruction_rows() -> list[tuple[str, str]]:
    """The 「说明」 sheet as (left column, right column) rows; a row with only a left text is a section title."""
    basic, sampling, households = schema.BASIC, schema.SAMPLING, schema.HOUSEHOLDS
    rows: list[tuple[str, str]] = [
        (f"{WORKBOOK_TITLE} 填写说明", ""),
        ("", "本工作簿用于州精准扶贫专题督查，每个督查组每月每个被督查县填写一份。表头带 * 的为必填项；"
             "橙色表头为「本月重点督查内容」（N 项）相关项目，只在当月重点内容对应时必填。"),
        ("一、各工作表用途", ""),
    ]
    for sheet in schema.INPUT_SHEETS:
        where = "" if sheet.layout is Layout.FORM else "第 1 行为表头，从第 2 行起每条记录一行。"
        rows.append((sheet.name, sheet.description + where))  # form descriptions already say 「填在 B 列」
    generated = "、".join(f"「{name}」" for name in schema.GENERATED_SHEETS)
    rows += [
        ("自动生成的工作表", f"{generated}由督查工具自动生成，每次运行都会整表重建、覆盖原有内容，"
                     "请勿在其中填写或修改；需要修改时请改输入表后重新运行。"),
        ("二、抽样规则", ""),
        ("乡镇和村", "每月随机抽取 1 个县，在该县随机抽取 2 个有脱贫任务的乡镇，每个乡镇随机抽取不少于 1 个村，"
                  f"登记在「{sampling.name}」表。"),
        ("农户", f"每个抽查村入户调查 15 户：建档立卡贫困户 5 户、脱贫户 5 户、未建档立卡的普通农户 5 户，"
               f"每户一行登记在「{households.name}」表。"),
        ("访谈", f"每个抽查村访谈乡村干部不少于 2 人，随机电话抽查帮扶干部不少于 2 人，每人一行登记在"
               f"「{schema.INTERVIEWS.name}」表。督查组直插村组，不听汇报。"),
        ("三、填写要求", ""),
        ("身份证号", "「身份证号」等号码列已预设为文本格式，请直接输入完整的 18 位号码（末位 X 用大写）。"
                 "不要改动这些列的单元格格式；从其他表格复制时请用「选择性粘贴 → 值」粘贴到本表。"
                 "若号码显示为 5.22631E+17 之类的科学计数，说明已被存成数字、末几位已丢失："
                 "请把单元格设为“文本”后重新输入，或在号码前加英文单引号 '。"),
        ("联系电话", "手机号为 1 开头的 11 位数字；固定电话写成“区号-号码”，如 0855-8221234。同样以文本格式输入。"),
        ("下拉选项", "带下拉箭头的单元格请从列表中选择，不要自行输入其他写法。"),
        ("日期和月份", "日期按 YYYY-MM-DD 填写，如 2019-11-05；"
                  f"「{basic.field('month').header}」按 YYYY-MM 填写，如 2019-11。"),
        ("收入", "家庭纯收入 = 工资性收入 + 家庭经营性收入 + 转移性收入 + 财产性收入 − 生产经营费用；"
               "年人均纯收入 = 家庭纯收入 ÷ 家庭人口，单位为元。"),
        ("条件必填", "部分项目只在特定条件下必填："),
    ]
    for sheet in schema.INPUT_SHEETS:
        rows += [(sheet.name, line) for line in _conditional_fields_text(sheet)]
    rows.append(("本月重点督查内容", f"在「{basic.name}」表选择本月重点督查内容后，以下项目必填："))
    rows += [("", line) for line in _key_item_text()]
    rows += [
        ("数据来源", f"「{schema.COUNTY.name}」表每个数字都要在 C 列注明数据来源，如“县扶贫办 2019 年 10 月报表”。"),
        ("增加行", "记录较多时可在表格中间插入行或在下方继续填写，不要删除或改动表头行，不要合并单元格。"),
        ("四、「精准扶贫督查」选项卡按钮", ""),
        ("检查完整性", "检查必填项、条件必填项、号码格式、收入计算、抽样户数和访谈人数，结果列在「检查结果」表，"
                  "有问题的单元格标上颜色和批注。原有填写内容不会被改动。"),
        ("计算评分", "按督查方案的 6+N 项计算错退率、漏评率、群众认可度等指标和得分，结果写入「评分」表，"
                 "每个得分都注明计算依据。"),
        ("标记跟进", "列出需要回访或整改的农户和问题，写入「跟进清单」表。"),
        ("一键运行", "依次执行检查完整性、计算评分、标记跟进。"),
        ("五、个人信息保护", ""),
        ("", "本工作簿含农户姓名、身份证号和电话，仅用于督查工作。请通过单位邮箱报送，不要转发无关人员；"
             "对外报告中身份证号只显示前 6 位和后 4 位。"),
    ]
    return rows


INSTRUCTION_WIDTHS = (22, 100)


def _build_instructions(ws: Worksheet) -> None:
    """Two columns; a title or a section heading spans both; every row as high as its wrapped text needs."""
    left_width, right_width = INSTRUCTION_WIDTHS
    ws.column_dimensions["A"].width = left_width
    ws.column_dimensions["B"].width = right_width
    for row, (left, right) in enumerate(instruction_rows(), start=1):
        a = ws.cell(row, 1, left or None)
        b = ws.cell(row, 2, right or None)
        a.alignment = b.alignment = WRAP
        heading = row == 1 or bool(left and not right)
        if heading:
            a.font = TITLE_FONT if row == 1 else _SECTION_FONT
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        elif left:
            a.font = HEADER_FONT
        scale = a.font.size / BODY_SIZE if heading else 1.0
        lines = max(text_lines(left or "", left_width + (right_width if heading else 0), scale),
                    text_lines(right or "", right_width))
        ws.row_dimensions[row].height = round(lines * LINE_HEIGHT * max(scale, 1.0), 2)
    protect_sheet(ws)
    _print_setup(ws, landscape=False, title_rows=None)


def build_template() -> Workbook:
    """The blank inspection workbook: 「说明」 then every input sheet of the schema, in order."""
    wb = Workbook()
    instructions = wb.active
    instructions.title = schema.INSTRUCTIONS_SHEET
    instructions.sheet_properties.tabColor = _INSTRUCTIONS_TAB_COLOR
    _build_instructions(instructions)
    for sheet in schema.INPUT_SHEETS:
        ws = wb.create_sheet(sheet.name)
        is_parameters = sheet is schema.PARAMETERS
        ws.sheet_properties.tabColor = _PARAMETERS_TAB_COLOR if is_parameters else INPUT_TAB_COLOR
        if sheet.layout is Layout.FORM:
            _build_form(ws, sheet)
        else:
            build_table(ws, sheet)
    wb.active = 0
    props = wb.properties
    props.creator = props.lastModifiedBy = "ducha"
    props.title = WORKBOOK_TITLE
    props.created = props.modified = FIXED_TIME
    return wb
