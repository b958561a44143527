"""Tolerant reading of what clerks type: one converter per field type, from a raw cell value to a typed one.

Tolerant where a clerk would expect it (full-width digits, spaces, 是/否 as √/×/Y/N, numbers typed as text,
dates as text); strict where tolerance would hide a fault (an ID number stored as a number has lost digits).
A converter returns (value, problem); problem is None or (findings.Code, details for the message).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from ducha.model.findings import Code
from ducha.model.idnumber import validate as validate_id
from ducha.model.schema import NO, NOT_APPLICABLE, YES, Field, FieldType

Problem = tuple[Code, dict[str, Any]] | None
Converted = tuple[Any, Problem]

_SPACES = re.compile(r"[\s\u00a0\u3000\u2000-\u200b\u202f\u205f\ufeff]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRAILING_UNITS = ("万元", "元", "人", "户", "个", "月", "年", "岁", "百分点")
FORMULA_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                            "#SPILL!", "#CALC!"})
TEXT_LIMIT = 500

_YES_WORDS = frozenset({"是", "√", "✓", "✔", "☑", "Y", "YES", "TRUE", "有", "对", "1", "是的"})
_NO_WORDS = frozenset({"否", "×", "✗", "✘", "☒", "X", "N", "NO", "FALSE", "无", "没有", "不是", "0"})
_NA_WORDS = frozenset({"不涉及", "不适用", "/", "-", "—", "--", "——", "无需", "N/A", "NA"})

CHOICE_ALIASES: dict[str, str] = {
    "贫困户": "建档立卡贫困户",
    "建档立卡户": "建档立卡贫困户",
    "未脱贫户": "建档立卡贫困户",
    "已脱贫户": "脱贫户",
    "普通户": "普通农户",
    "非贫困户": "普通农户",
    "一般农户": "普通农户",
    "非建档立卡户": "普通农户",
    "满意": "认可",
    "不满意": "不认可",
}

EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(?:\d{1,2}日?)?$"),
    re.compile(r"^(\d{4})(\d{2})$"),
)
_MOBILE = re.compile(r"^1\d{10}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42", "43",
    "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82",
})


def fold(text: str) -> str:
    """NFKC (full-width to half-width) with every kind of white space removed."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def fold_header(text: Any) -> str:
    """A header or label as compared: folded, without the required star, upper-case Latin."""
    if text is None:
        return ""
    return fold(str(text)).rstrip("*").upper()


_INVISIBLE = "\u200b\ufeff\u2060"


def is_empty(raw: Any) -> bool:
    """None, "" or only white space (zero-width characters included)."""
    if raw is None or raw == "":
        return True
    if not isinstance(raw, str):
        return False
    stripped = raw.strip()
    if not stripped:
        return True
    if stripped[0] in _INVISIBLE or stripped[-1] in _INVISIBLE:
        return not _SPACES.sub("", stripped)
    return False


def formula_error(raw: Any) -> bool:
    return isinstance(raw, str) and "#" in raw[:2] and raw.strip() in FORMULA_ERRORS


def _number_text(raw: Any) -> str:
    """A number as a clerk would have typed it (no trailing .0)."""
    if isinstance(raw, float) and raw.is_integer() and abs(raw) < 1e16:
        return str(int(raw))
    return str(raw)


def to_text(raw: Any, f: Field) -> Converted:
    if isinstance(raw, str):
        text = raw.strip(" \t\r\n\u00a0\u3000\ufeff")
        problem: Problem = None
        if not text.isprintable() and _CONTROL.search(text):
            text = _CONTROL.sub("", text)
            problem = (Code.CONTROL_CHARACTERS, {})
        if len(text) > TEXT_LIMIT:
            problem = (Code.TEXT_TOO_LONG, {"length": len(text), "limit": TEXT_LIMIT})
        return (text or None), problem
    if isinstance(raw, bool):
        return (YES if raw else NO), None
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat(), None
    if isinstance(raw, dt.date):
        return raw.isoformat(), None
    return _number_text(raw), None


def _parse_number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw) if math.isfinite(raw) else None
    if not isinstance(raw, str):
        return None
    text = fold(raw).replace(",", "").replace("，", "")
    for unit in _TRAILING_UNITS:
        if text.endswith(unit):
            text = text[: -len(unit)]
            break
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _range_problem(value: float, f: Field) -> Problem:
    low = f.minimum if f.minimum is not None else -math.inf
    high = f.maximum if f.maximum is not None else math.inf
    if low <= value <= high:
        return None
    return Code.OUT_OF_RANGE, {"low": _bound(f.minimum, "不限"), "high": _bound(f.maximum, "不限")}


def _bound(value: float | None, default: str) -> str:
    if value is None:
        return default
    return _number_text(float(value))


def _unit_hint(f: Field) -> str:
    return f"（单位：{f.unit}）" if f.unit else ""


def to_number(raw: Any, f: Field) -> Converted:
    value = _parse_number(raw)
    if value is None:
        return None, (Code.NUMBER_INVALID, {"unit_hint": _unit_hint(f)})
    return value, _range_problem(value, f)


def to_integer(raw: Any, f: Field) -> Converted:
    value = _parse_number(raw)
    if value is None or not value.is_integer():
        return None, (Code.INTEGER_INVALID, {"unit_hint": _unit_hint(f)})
    return int(value), _range_problem(value, f)


def to_year(raw: Any, f: Field) -> Converted:
    if isinstance(raw, dt.date):
        value: float | None = float(raw.year)
    else:
        value = _parse_number(raw)
    if value is None or not value.is_integer() or not 1900 <= value <= 2100:
        return None, (Code.YEAR_INVALID, {})
    return int(value), _range_problem(value, f)


def excel_serial_to_date(serial: float) -> dt.date | None:
    """An Excel (1900 system) serial day number as a date; None for 0, negatives and the fictitious 1900-02-29."""
    if not math.isfinite(serial):
        return None
    day = int(serial)
    if not 1 <= day < 2958466 or day == 60:
        return None
    if day < 60:  # Excel counts 1900 as a leap year: serials before its fictitious 29 February are off by one
        day += 1
    return EXCEL_EPOCH + dt.timedelta(days=day)


def _date_from_parts(year: str, month: str, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def to_date(raw: Any, f: Field) -> Converted:
    if isinstance(raw, dt.datetime):
        return raw.date(), None
    if isinstance(raw, dt.date):
        return raw, None
    value: dt.date | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = excel_serial_to_date(float(raw))
    elif isinstance(raw, str):
        text = fold(raw)
        for pattern in _DATE_PATTERNS:
            match = pattern.match(text)
            if match:
                value = _date_from_parts(*match.groups()[:3])
                break
    if value is None:
        return None, (Code.DATE_INVALID, {})
    return value, None


def to_month(raw: Any, f: Field) -> Converted:
    if isinstance(raw, dt.date):
        return f"{raw.year:04d}-{raw.month:02d}", None
    if isinstance(raw, str):
        text = fold(raw)
        for pattern in _MONTH_PATTERNS:
            match = pattern.match(text)
            if match:
                year, month = int(match.group(1)), int(match.group(2))
                if 1900 <= year <= 2100 and 1 <= month <= 12:
                    return f"{year:04d}-{month:02d}", None
    return None, (Code.MONTH_INVALID, {})


def _choice_text(raw: Any) -> str:
    if isinstance(raw, str):
        return fold(raw)
    return _number_text(raw)


def to_choice(raw: Any, f: Field) -> Converted:
    text = _choice_text(raw)
    if text in f.choices:
        return text, None
    alias = CHOICE_ALIASES.get(text)
    if alias in f.choices:
        return alias, None
    return None, (Code.CHOICE_INVALID, {"choices": "、".join(f.choices)})


def to_yes_no(raw: Any, f: Field) -> Converted:
    if isinstance(raw, bool):
        return (YES if raw else NO), None
    text = _choice_text(raw).upper()
    if text in _YES_WORDS:
        return YES, None
    if text in _NO_WORDS:
        return NO, None
    if NOT_APPLICABLE in f.choices and text in _NA_WORDS:
        return NOT_APPLICABLE, None
    return None, (Code.CHOICE_INVALID, {"choices": "、".join(f.choices)})


def to_id_number(raw: Any, f: Field, today: dt.date | None = None) -> Converted:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return None, (Code.ID_STORED_AS_NUMBER, {})
    if not isinstance(raw, str):
        return None, (Code.ID_CHARACTERS, {})
    number = raw.upper() if raw.isascii() and raw.isalnum() else fold(raw).upper()
    problem = validate_id(number, today)
    if problem is None:
        return number, None
    return (number if problem.code == "ID_OLD_15" else None), (Code[problem.code], problem.details)


def to_phone(raw: Any, f: Field) -> Converted:
    if isinstance(raw, bool):
        return None, (Code.PHONE_INVALID, {})
    if isinstance(raw, str) and len(raw) == 11 and raw.isascii() and raw.isdigit() and raw[0] == "1":
        return raw, None
    text = fold(_number_text(raw))
    digits = text.replace("-", "").replace("(", "").replace(")", "")
    if text.startswith("+86"):
        digits = digits[3:]
    if _MOBILE.match(digits):
        return digits, None
    if _LANDLINE.match(text):
        return text, None
    return None, (Code.PHONE_INVALID, {})


def to_region_code(raw: Any, f: Field) -> Converted:
    text = fold(_number_text(raw))
    reason = ""
    if not (len(text) == 6 and text.isdigit()):
        reason = "应为 6 位数字"
    elif text[:2] not in PROVINCE_CODES:
        reason = f"前两位 {text[:2]} 不是省级代码"
    elif text[2:] == "0000" or text[4:] == "00":
        reason = "这是省级或地级代码，不是县级代码"
    if reason:
        return None, (Code.REGION_CODE_INVALID, {"reason": reason})
    return text, None


CONVERTERS: dict[FieldType, Callable[[Any, Field], Converted]] = {
    FieldType.TEXT: to_text,
    FieldType.INTEGER: to_integer,
    FieldType.NUMBER: to_number,
    FieldType.DATE: to_date,
    FieldType.MONTH: to_month,
    FieldType.YEAR: to_year,
    FieldType.CHOICE: to_choice,
    FieldType.YES_NO: to_yes_no,
    FieldType.ID_NUMBER: to_id_number,
    FieldType.PHONE: to_phone,
    FieldType.REGION_CODE: to_region_code,
}



def convert(raw: Any, f: Field, today: dt.date | None = None) -> Converted:
    """Convert one raw cell value for a field: (None, None) when empty; formula errors reported as such."""
    if raw is None or raw == "" or (isinstance(raw, str) and is_empty(raw)) or (isinstance(raw, float) and raw != raw):
        return None, None
    if formula_error(raw):
        return None, (Code.FORMULA_ERROR, {})
    if f.type is FieldType.ID_NUMBER:
        return to_id_number(raw, f, today)
    return CONVERTERS[f.type](raw, f)
