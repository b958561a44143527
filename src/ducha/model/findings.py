"""Findings: every problem ducha reports, with a stable code, a severity and the cell it points at.

`Code` holds every message template in one place (Chinese for people, English for logs and tests);
tests assert on codes, never on prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from ducha.model.privacy import redact


class Severity(StrEnum):
    ERROR = "错误"
    WARNING = "警告"
    INFO = "提示"


SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Code(Enum):
    """Finding codes. Never reuse or renumber a code; add new ones at the end of their group."""

    def __init__(self, code: str, severity: Severity, zh: str, en: str) -> None:
        self.code = code
        self.severity = severity
        self.zh = zh
        self.en = en

    # --- file and sheet structure ---
    FILE_UNREADABLE = ("file-unreadable", Severity.ERROR,
                       "无法读取文件：{reason}。请确认文件是 Excel 工作簿（.xlsx 或 .xlsm），且没有损坏或加密。",
                       "cannot read the file: {reason}")
    SHEET_MISSING = ("sheet-missing", Severity.ERROR,
                     "缺少工作表「{sheet}」。请使用督查工作簿模板，不要删除或重命名模板中的工作表。",
                     "sheet {sheet} is missing")
    SHEET_UNKNOWN = ("sheet-unknown", Severity.INFO,
                     "工作表「{sheet}」不属于督查工作簿，已忽略。",
                     "unknown sheet {sheet} ignored")
    HEADER_NOT_FOUND = ("header-not-found", Severity.ERROR,
                        "工作表「{sheet}」前 {rows} 行中找不到表头。请从模板复制表头行（如「{example}」）。",
                        "no header row in the first {rows} rows")
    COLUMN_MISSING = ("column-missing", Severity.ERROR,
                      "工作表「{sheet}」缺少列「{header}」。请从模板复制该列的表头，放在表头行（第 {row} 行）。",
                      "column {header} is missing")
    COLUMN_DUPLICATE = ("column-duplicate", Severity.ERROR,
                        "列「{header}」出现了两次（{first} 和 {cell}）。请删除多余的一列；以 {first} 列为准。",
                        "column {header} appears twice")
    COLUMN_UNKNOWN = ("column-unknown", Severity.INFO,
                      "列「{value}」不在模板中，已忽略。如是必填项改了名，请改回模板的表头。",
                      "unknown column {value} ignored")
    LABEL_MISSING = ("label-missing", Severity.ERROR,
                     "工作表「{sheet}」的 A 列找不到项目「{header}」。请从模板复制该行。",
                     "form label {header} is missing")
    SHEET_EMPTY = ("sheet-empty", Severity.ERROR,
                   "工作表「{sheet}」没有填写任何数据行。{hint}",
                   "sheet {sheet} has no data rows")
    TOO_LARGE = ("too-large", Severity.ERROR,
                 "工作表「{sheet}」有 {rows} 行 × {columns} 列，超出可处理的范围（{limit}）。"
                 "请删除多余的空行空列后再试。",
                 "sheet too large")
    MERGED_CELLS = ("merged-cells", Severity.WARNING,
                    "数据区有合并单元格 {value}，合并后只有左上角单元格有值。请取消合并并逐行填写。",
                    "merged cells in the data area")

    # --- one cell ---
    REQUIRED_MISSING = ("required-missing", Severity.ERROR,
                        "「{field}」未填写。这是必填项，请补填。",
                        "required field {field} is empty")
    REQUIRED_IF_MISSING = ("required-if-missing", Severity.ERROR,
                           "{condition}时「{field}」必须填写，请补填。",
                           "{field} is required when {condition}")
    KEY_ITEM_FIELD_MISSING = ("key-item-field-missing", Severity.ERROR,
                              "本月重点督查内容为「{key_item}」，需要填写「{field}」。",
                              "{field} is needed for this month's key item")
    NOT_APPLICABLE = ("not-applicable", Severity.WARNING,
                      "「{field}」只在{condition}时填写，本行不适用。请核实户类型，或清空此格。",
                      "{field} filled where it does not apply")
    CHOICE_INVALID = ("choice-invalid", Severity.ERROR,
                      "「{value}」不是「{field}」的有效选项。请从下拉列表中选择：{choices}。",
                      "{value!r} is not a valid choice for {field}")
    NUMBER_INVALID = ("number-invalid", Severity.ERROR,
                      "「{value}」不是数字。「{field}」请只填写数字{unit_hint}。",
                      "{value!r} is not a number")
    INTEGER_INVALID = ("integer-invalid", Severity.ERROR,
                       "「{value}」不是整数。「{field}」请填写整数{unit_hint}。",
                       "{value!r} is not a whole number")
    OUT_OF_RANGE = ("out-of-range", Severity.ERROR,
                    "「{field}」为 {value}，超出合理范围 {low} 至 {high}。请核实后改正。",
                    "{field}={value} is outside {low}..{high}")
    DATE_INVALID = ("date-invalid", Severity.ERROR,
                    "「{value}」不是有效日期。请按 YYYY-MM-DD 填写，如 2019-11-05。",
                    "{value!r} is not a date")
    MONTH_INVALID = ("month-invalid", Severity.ERROR,
                     "「{value}」不是有效月份。请按 YYYY-MM 填写，如 2019-11。",
                     "{value!r} is not a month")
    YEAR_INVALID = ("year-invalid", Severity.ERROR,
                    "「{value}」不是有效年度。请填写四位年份，如 2018。",
                    "{value!r} is not a year")
    DATE_OUTSIDE_MONTH = ("date-outside-month", Severity.ERROR,
                          "「{field}」{value} 不在督查月份 {month} 内。请核实督查月份或日期。",
                          "{field} {value} is outside the inspection month {month}")
    DATE_ORDER = ("date-order", Severity.ERROR,
                  "督查结束日期 {value} 早于开始日期 {start}。请改正。",
                  "end date before start date")
    FORMULA_ERROR = ("formula-error", Severity.ERROR,
                     "单元格显示公式错误 {value}。请改为直接填写数值或文字。",
                     "formula error {value}")
    CONTROL_CHARACTERS = ("control-characters", Severity.WARNING,
                          "「{field}」含有不可见的控制字符，已在检查时去掉。请重新输入此格。",
                          "control characters in {field}")
    TEXT_TOO_LONG = ("text-too-long", Severity.WARNING,
                     "「{field}」有 {length} 个字，超过 {limit} 字。请精简，详细情况可写入备注。",
                     "{field} is {length} characters long")

    # --- identifiers ---
    ID_STORED_AS_NUMBER = ("id-stored-as-number", Severity.ERROR,
                           "身份证号被保存成了数字（{value}），Excel 已丢失末几位。"
                           "请把该列设为“文本”格式，再重新输入完整号码。",
                           "ID number stored as a number; digits were lost")
    ID_LENGTH = ("id-length", Severity.ERROR,
                 "身份证号「{value}」有 {length} 位，应为 18 位。请核对户口簿重新填写。",
                 "ID number has {length} characters, not 18")
    ID_OLD_15 = ("id-old-15", Severity.WARNING,
                 "身份证号「{value}」是 15 位旧号码。请改填 18 位公民身份号码。",
                 "15-digit ID number")
    ID_CHARACTERS = ("id-characters", Severity.ERROR,
                     "身份证号「{value}」含有非法字符。前 17 位只能是数字，最后一位是数字或 X。",
                     "ID number has invalid characters")
    ID_BIRTH_DATE = ("id-birth-date", Severity.ERROR,
                     "身份证号「{value}」中的出生日期 {birth} 不存在或晚于今天。请核对。",
                     "ID number has an impossible birth date")
    ID_CHECK_DIGIT = ("id-check-digit", Severity.ERROR,
                      "身份证号「{value}」校验位错误（按 GB 11643 计算应为 {expected}）。请核对是否抄错。",
                      "ID number check character is wrong (expected {expected})")
    PHONE_INVALID = ("phone-invalid", Severity.ERROR,
                     "电话号码「{value}」格式不对。手机号为 1 开头的 11 位数字，固定电话为“区号-号码”。",
                     "invalid phone number")
    REGION_CODE_INVALID = ("region-code-invalid", Severity.ERROR,
                           "区划代码「{value}」无效：{reason}。请填写国家统计局公布的 6 位县级区划代码。",
                           "invalid region code: {reason}")
    DUPLICATE_HOUSEHOLD = ("duplicate-household", Severity.ERROR,
                           "身份证号 {value} 重复，与 {other} 是同一户。同一户只能调查一次，请删除重复行或改正号码。",
                           "duplicate household, same as {other}")

    # --- consistency within a record ---
    INCOME_INCONSISTENT = ("income-inconsistent", Severity.WARNING,
                           "年人均纯收入 {value} 元与分项收入算出的 {expected} 元不一致"
                           "（家庭纯收入 = 工资性 + 家庭经营性 + 转移性 + 财产性 − 生产经营费用，"
                           "再除以家庭人口）。请核实。",
                           "income per head {value} differs from components ({expected})")
    EXIT_YEAR_FUTURE = ("exit-year-future", Severity.ERROR,
                        "脱贫年度 {value} 晚于督查年度 {year}。请核实。",
                        "exit year after inspection year")
    VILLAGE_NOT_SAMPLED = ("village-not-sampled", Severity.ERROR,
                           "「{value}」不在「抽样」表中。请先在「抽样」表登记该村，或改正乡镇和村名。",
                           "village {value} is not in the sampling sheet")
    SOURCE_MISSING = ("source-missing", Severity.WARNING,
                      "「{field}」已填写，但未注明数据来源。请在 C 列写明来源（如：县扶贫办报表）。",
                      "no source for county figure {field}")
    PART_EXCEEDS_WHOLE = ("part-exceeds-whole", Severity.WARNING,
                          "「{field}」{value} 大于「{whole}」{total}。请核实两个数。",
                          "{field} exceeds {whole}")
    ANSWER_CONFLICT_MEDICAL = ("answer-conflict-medical", Severity.WARNING,
                               "「参加新农合」为“否”（{other}），「基本医疗有保障」却为“是”。请入户核实并改正其中一项；"
                               "改正前，评分默认采用「基本医疗有保障」的回答（评分细则可改）。",
                               "not in 新农合 but medical care marked secured")
    ANSWER_CONFLICT_HOUSING = ("answer-conflict-housing", Severity.WARNING,
                               "「住危房」为“是”（{other}），「住房安全有保障」却为“是”。请核实住建部门鉴定等级并改正其中一项；"
                               "改正前，评分默认采用「住房安全有保障」的回答（评分细则可改）。",
                               "lives in a dilapidated house but housing marked safe")
    ANSWER_CONFLICT_EDUCATION = ("answer-conflict-education", Severity.WARNING,
                                 "「义务教育阶段子女数」为 0（{other}），「义务教育有保障」却为“否”。"
                                 "没有义务教育阶段子女的应填“不涉及”；改正前，评分默认采用「义务教育有保障」的回答（评分细则可改）。",
                                 "no school-age children but education marked not secured")
    # --- the sample as the plan prescribes it ---
    SAMPLE_TOWNSHIP_COUNT = ("sample-township-count", Severity.ERROR,
                             "抽样乡镇应为 2 个，「抽样」表中有 {value} 个。请按方案随机抽取 2 个有脱贫任务的乡镇。",
                             "{value} townships sampled, the plan says 2")
    SAMPLE_TOWNSHIP_NO_TASK = ("sample-township-no-task", Severity.ERROR,
                               "乡镇「{value}」无脱贫任务。方案要求抽取有脱贫任务的乡镇，请核实或重新抽取。",
                               "township {value} has no poverty task")
    SAMPLE_VILLAGE_DUPLICATE = ("sample-village-duplicate", Severity.ERROR,
                                "「{value}」在「抽样」表中登记了两次（另见 {other}）。请删除重复行。",
                                "village listed twice in the sample")
    SAMPLE_HOUSEHOLD_COUNT = ("sample-household-count", Severity.ERROR,
                              "「{value}」的{household_type}有 {count} 户，方案要求 {expected} 户。"
                              "请补齐或删除多余的户。",
                              "{value}: {count} {household_type}, expected {expected}")
    SAMPLE_INTERVIEW_COUNT = ("sample-interview-count", Severity.ERROR,
                              "「{value}」的{kind}有 {count} 人，方案要求不少于 {expected} 人。请补充记录。",
                              "{value}: {count} {kind}, at least {expected} expected")
    VILLAGE_CHECK_MISSING = ("village-check-missing", Severity.ERROR,
                             "抽样村「{value}」在「村级核查」表中没有记录。请为每个抽样村填写一行。",
                             "sampled village {value} has no village check row")
    VILLAGE_CHECK_DUPLICATE = ("village-check-duplicate", Severity.ERROR,
                               "「{value}」在「村级核查」表中有两行（另见 {other}）。请合并为一行。",
                               "village checked twice")
    PARAMETER_MISSING = ("parameter-missing", Severity.WARNING,
                         "「参数」表没有 {year} 年的扶贫标准，暂用 {used}。请州督查办在「参数」表补充。",
                         "no poverty line for {year}; using {used}")
    SETTING_INVALID = ("setting-invalid", Severity.ERROR,
                       "「参数」表的设置无效：{reason}。本次按默认值「{default}」计算，请改正。",
                       "invalid setting: {reason}")
    MODE_COMPOSITION_RELAXED = ("mode-composition-relaxed", Severity.INFO,
                                "督查方式为「{value}」：方案规定的抽样构成（随机抽 2 个有脱贫任务的乡镇、"
                                "每村 5+5+5 户、访谈和电话抽查各不少于 2 人）只约束随机暗访，"
                                "本工作簿中不符合的情形仅作提示。",
                                "mode {value}: the random-sample composition rules are advisory")

    # --- the sampling roster (links between its sheets) ---
    ROSTER_TOWNSHIP_UNKNOWN = ("roster-township-unknown", Severity.ERROR,
                        "乡镇「{value}」不在「乡镇」表中，或多个县有同名乡镇而本行未填县级区划代码（共 {count} 行）。"
                        "这些行不参加抽样；请在「乡镇」表补充该乡镇，或在本表填写县级区划代码。",
                        "township {value} is not on the township sheet ({count} rows)")
    ROSTER_TOWNSHIP_DUPLICATE = ("roster-township-duplicate", Severity.ERROR,
                          "乡镇「{value}」在「乡镇」表中登记了两次（另见 {other}）。以先出现的一行为准，请删除重复行。",
                          "township {value} listed twice")
    ROSTER_VILLAGE_UNLISTED = ("roster-village-unlisted", Severity.WARNING,
                        "村「{value}」不在「村」表中（共 {count} 行）。仍参加抽样，但是否贫困村不详；"
                        "请在「村」表补充。",
                        "village {value} is not on the village sheet ({count} rows)")
    ROSTER_VILLAGE_DUPLICATE = ("roster-village-duplicate", Severity.ERROR,
                         "村「{value}」在「村」表中登记了两次（另见 {other}）。以先出现的一行为准，请删除重复行。",
                         "village {value} listed twice")

    def message(self, **values: Any) -> str:
        """The Chinese message with the placeholders filled in."""
        return self.zh.format_map(_Defaults(values))

    def message_en(self, **values: Any) -> str:
        return self.en.format_map(_Defaults(values))


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return ""


class Finding(BaseModel):
    """One problem, pointing at a cell. `row` and `column` are 1-based; cell is in A1 notation."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    sheet: str
    cell: str = ""
    row: int | None = None
    column: int | None = None
    field: str = ""
    value: str = ""
    message: str

    def line(self) -> str:
        """The finding on one line, for a console or an email: 【错误】「农户调查」E4：message."""
        where = (f"「{self.sheet}」" if self.sheet else "") + self.cell
        return f"【{self.severity.value}】{where + '：' if where else ''}{self.message}"

    def archived(self) -> dict[str, str]:
        """What the archive keeps of it (the columns of its findings table)."""
        return self.model_dump(mode="json", include=ARCHIVED_FIELDS)


ARCHIVED_FIELDS = frozenset({"code", "severity", "sheet", "cell", "field", "value", "message"})


def archived_finding(row: Mapping[str, Any]) -> Finding:
    """A finding as the archive gives it back (a row of its findings table)."""
    return Finding(**{key: row[key] or "" for key in ARCHIVED_FIELDS if key != "severity"},
                   severity=Severity(row["severity"]))


def make_finding(code: Code, *, sheet: str, cell: str = "", row: int | None = None, column: int | None = None,
                 field: str = "", value: Any = "", severity: Severity | None = None, **extra: Any) -> Finding:
    """Build a finding; the message gets field, value, sheet and any extra placeholders. ID and phone numbers in
    the value and the message are masked: a finding points at its cell, it never repeats the number."""
    shown = redact(display_value(value))
    return Finding(
        code=code.code,
        severity=severity or code.severity,
        sheet=sheet,
        cell=cell,
        row=row,
        column=column,
        field=field,
        value=shown,
        message=redact(code.message(field=field, value=shown, sheet=sheet, cell=cell, **extra)),
    )


def display_value(value: Any, limit: int = 60) -> str:
    """A cell value as a short string for messages."""
    if value is None:
        return ""
    integral = isinstance(value, float) and value.is_integer() and abs(value) < 1e20
    text = str(int(value)) if integral else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sort_key(f: Finding, sheet_order: dict[str, int]) -> tuple:
    return (sheet_order.get(f.sheet, 99), f.row or 0, f.column or 0, SEVERITY_ORDER[f.severity], f.code)


def count_by_severity(findings: list[Finding]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for f in findings:
        counts[f.severity] += 1
    return counts
