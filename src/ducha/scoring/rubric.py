"""The scoring rubric as validated data: shipped as data/default_rubric.json, overridable without code.

Supervisors pass their own rubric on the command line (`--rubric FILE`): either a JSON file like the default
(which also carries the judgment rules) or a workbook whose 「评分细则」 sheet has one rule per row, laid out as
`rubric_rows` writes it. Every problem is reported at once, naming the item and rule, or the sheet row.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator, model_validator

from ducha.model.schema import HOUSEHOLDS, VILLAGES, FieldType
from ducha.scoring.indicators import ITEM_NAMES, N_ITEMS, SIX_ITEMS, SPECS, Direction, SampleSpec
from ducha.scoring.judgments import JudgmentRules

RUBRIC_SHEET = "评分细则"
TOTAL_POINTS = 100


class RubricError(ValueError):
    """An invalid rubric; `problems` are Chinese messages, each naming the item, rule or sheet row."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("评分细则有误：\n" + "\n".join(problems))
        self.problems = problems


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    note: str = ""  # the rule in words, shown on the score tab
    max_deduction: float | None = Field(None, gt=0)  # cap for this rule; None: up to the item's points


class TargetRule(_Rule):
    """Full marks at or beyond `target`; per percentage point short of it, deduct `per_point`."""

    kind: Literal["target_deduct_per_point"] = "target_deduct_per_point"
    indicator: str
    target: float
    direction: Direction = "at_least"
    per_point: float = Field(gt=0)
    on_missing: Literal["deduct_max", "none"] = "deduct_max"  # 缺数据 (a needed figure or answer is blank)


class CaseRule(_Rule):
    """Deduct `per_case` for every problem case of a sample indicator (每发现一例扣 X 分)."""

    kind: Literal["deduct_per_case"] = "deduct_per_case"
    indicator: str
    per_case: float = Field(gt=0)
    on_missing: Literal["per_case", "deduct_max", "none"] = "per_case"  # 缺数据: each blank unit as one case


class DocumentRule(_Rule):
    """Deduct `per_document` for every “否” among the listed 是/否 document fields (缺 1 项扣 X 分)."""

    kind: Literal["deduct_per_missing_document"] = "deduct_per_missing_document"
    sheet: Literal["households", "villages"] = "households"
    documents: tuple[str, ...] = Field(min_length=1)
    per_document: float = Field(gt=0)

    @model_validator(mode="after")
    def _known_documents(self) -> DocumentRule:
        sheet = HOUSEHOLDS if self.sheet == "households" else VILLAGES
        fields = {f.key for f in sheet.fields if f.type is FieldType.YES_NO}
        unknown = [d for d in self.documents if d not in fields]
        if unknown:
            raise ValueError(f"「{sheet.name}」没有是/否项 {'、'.join(unknown)}")
        return self


class VetoRule(_Rule):
    """A red flag when the indicator fails `threshold` (None: the national threshold in 「参数」)."""

    kind: Literal["veto"] = "veto"
    indicator: str
    threshold: float | None = None
    direction: Direction | None = None
    effect: Literal["flag", "zero_item", "zero_total"] = "flag"


class NotScoredRule(_Rule):
    """An indicator the rubric deliberately leaves unscored; `note` says why (it is shown on the score tab)."""

    kind: Literal["not_scored"] = "not_scored"
    indicator: str
    note: str = Field(min_length=1)


Rule = Annotated[TargetRule | CaseRule | DocumentRule | VetoRule | NotScoredRule, Field(discriminator="kind")]
RULE_ADAPTER: TypeAdapter[Rule] = TypeAdapter(Rule)


def rule_problem(item: str, rule: Rule) -> str | None:
    """Why `rule` cannot belong to `item` (Chinese), or None."""
    key = getattr(rule, "indicator", None)
    if key is None:
        return None
    spec = SPECS.get(key)
    if spec is None:
        return f"没有指标「{key}」"
    if spec.item != item:
        return f"指标「{spec.name}」属于项目 {spec.item}，不属于项目 {item}"
    if isinstance(rule, CaseRule) and not isinstance(spec, SampleSpec):
        return f"「{spec.name}」是县级指标，不能按例扣分"
    share = isinstance(spec, SampleSpec)
    for label, value in (("目标值", getattr(rule, "target", None)), ("阈值", getattr(rule, "threshold", None))):
        if value is not None and not (0 if share else -1) <= value <= 1:
            return f"「{spec.name}」的{label} {value:g} 超出范围：请写成小数，如 90% 写作 0.9"
    if isinstance(rule, VetoRule) and rule.threshold is None and getattr(spec, "threshold", None) is None:
        return f"「{spec.name}」没有国家阈值，一票否决须填写阈值"
    return None


class RubricItem(BaseModel):
    """One of the six items or one N item: its maximum and the rules that deduct from it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    max_points: float = Field(gt=0)
    rules: tuple[Rule, ...] = ()

    @field_validator("key")
    @classmethod
    def _known_item(cls, key: str) -> str:
        if key not in ITEM_NAMES:
            raise ValueError(f"项目应为 1 至 6 或 N1 至 N5，不是「{key}」")
        return key

    @model_validator(mode="after")
    def _rules_fit(self) -> RubricItem:
        problems = [f"第 {i} 条规则：{p}" for i, r in enumerate(self.rules, 1) if (p := rule_problem(self.key, r))]
        if problems:
            raise ValueError("；".join(problems))
        return self

    @property
    def name(self) -> str:
        return ITEM_NAMES[self.key]


class Rubric(BaseModel):
    """A named, versioned rubric: 6 items and 5 N items; each month's total (6 items + its N item) is 100."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    description: str = ""
    judgment_rules: JudgmentRules = JudgmentRules()
    items: tuple[RubricItem, ...]

    @model_validator(mode="after")
    def _complete(self) -> Rubric:
        keys = [i.key for i in self.items]
        if sorted(keys) != sorted((*SIX_ITEMS, *N_ITEMS)):
            missing = [k for k in (*SIX_ITEMS, *N_ITEMS) if k not in keys]
            twice = sorted({k for k in keys if keys.count(k) > 1})
            raise ValueError(f"项目须各出现一次：缺少 {'、'.join(missing) or '无'}，重复 {'、'.join(twice) or '无'}")
        six = sum(self.item(k).max_points for k in SIX_ITEMS)
        wrong = [k for k in N_ITEMS if abs(six + self.item(k).max_points - TOTAL_POINTS) > 1e-9]
        if wrong:
            raise ValueError(f"6 项满分合计 {six:g} 分，加上 N 项（{'、'.join(wrong)}）的满分不等于 {TOTAL_POINTS} 分")
        return self

    def item(self, key: str) -> RubricItem:
        return next(i for i in self.items if i.key == key)

    @property
    def label(self) -> str:
        return f"{self.name}（版本 {self.version}）"

    def uncovered(self) -> list[str]:
        """Indicators that no rule scores and no 不评分 rule explains (the default rubric has none)."""
        named = {getattr(r, "indicator", None) for i in self.items for r in i.rules}
        return [key for key in SPECS if key not in named]

    def not_scored(self) -> dict[str, str]:
        """Indicator key -> why the rubric leaves it unscored."""
        return {r.indicator: r.note for i in self.items for r in i.rules if isinstance(r, NotScoredRule)}


FIELD_NAMES = {"kind": "规则类型", "indicator": "指标", "target": "目标值", "threshold": "阈值", "direction": "方向",
               "per_point": "每百分点扣分", "per_case": "每例扣分", "per_document": "每项扣分",
               "max_deduction": "扣分上限", "documents": "材料", "sheet": "材料所在表", "effect": "否决效果",
               "on_missing": "缺数据时", "note": "说明", "max_points": "满分", "key": "项目", "name": "细则名称",
               "version": "版本", "items": "项目", "rules": "规则", "judgment_rules": "判定规则"}
_TYPE_TEXT = {"missing": "未填写", "extra_forbidden": "不是细则中的项", "float_parsing": "应为数字",
              "float_type": "应为数字", "string_type": "应为文字", "too_short": "不能为空",
              "union_tag_not_found": "未填写规则类型", "json_invalid": "不是有效的 JSON",
              "string_too_short": "不能为空"}


def _error_text(err: dict[str, Any]) -> str:
    ctx = err.get("ctx", {})
    kind = err["type"]
    if kind in _TYPE_TEXT:
        return _TYPE_TEXT[kind]
    bounds = {"greater_than": ("应大于", "gt"), "greater_than_equal": ("应不小于", "ge"),
              "less_than": ("应小于", "lt"), "less_than_equal": ("应不大于", "le")}
    if kind in bounds:
        return f"{bounds[kind][0]} {ctx[bounds[kind][1]]:g}"
    if kind == "literal_error":
        return f"应为 {ctx['expected']}"
    if kind == "union_tag_invalid":
        return f"规则类型「{ctx['tag']}」无效，应为 {'、'.join(f'{v}（{k}）' for k, v in KIND_NAMES.items())}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return str(err["msg"])


def _field_name(loc: tuple[Any, ...]) -> str:
    names = [FIELD_NAMES[p] for p in loc if isinstance(p, str) and p in FIELD_NAMES and p not in ("items", "rules")]
    return f"「{names[-1]}」" if names else ""


def _json_problems(raw: Any, error: ValidationError) -> list[str]:
    problems = []
    for err in error.errors():
        loc, where = tuple(err["loc"]), ""
        if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
            items = raw.get("items") if isinstance(raw, dict) else None
            key = items[loc[1]].get("key") if isinstance(items, list) and isinstance(items[loc[1]], dict) else None
            where = f"项目 {key}" if key else f"第 {loc[1] + 1} 个项目"
            if len(loc) >= 4 and loc[2] == "rules" and isinstance(loc[3], int):
                where += f" 第 {loc[3] + 1} 条规则"
        problems.append(f"{where}{_field_name(loc)}：{_error_text(err)}".lstrip("："))
    return problems


def rubric_from_dict(raw: Any) -> Rubric:
    """Validate a rubric given as plain data (parsed JSON)."""
    try:
        return Rubric.model_validate(raw)
    except ValidationError as error:
        raise RubricError(_json_problems(raw, error)) from None


def rubric_from_json(text: str) -> Rubric:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise RubricError([f"第 {error.lineno} 行第 {error.colno} 列：不是有效的 JSON（{error.msg}）"]) from None
    return rubric_from_dict(raw)


# ---- the 「评分细则」 sheet: name and version above a table with one rule per row ----

HEADER = ("项目", "满分", "规则类型", "指标", "目标值或阈值", "方向", "扣分", "扣分上限", "材料", "否决效果",
          "缺数据时", "说明")
KIND_NAMES = {"target_deduct_per_point": "按百分点扣分", "deduct_per_case": "按例扣分",
              "deduct_per_missing_document": "按缺项扣分", "veto": "一票否决", "not_scored": "不评分"}
DIRECTION_NAMES = {"at_least": "不低于", "at_most": "不高于"}
EFFECT_NAMES = {"flag": "仅标红旗", "zero_item": "本项不得分", "zero_total": "总分为零"}
MISSING_NAMES = {"deduct_max": "扣满", "per_case": "每缺一项按一例扣", "none": "不扣"}
_AMOUNT = {"target_deduct_per_point": "per_point", "deduct_per_case": "per_case",
           "deduct_per_missing_document": "per_document"}
_COLUMN_OF = {"target": "目标值或阈值", "threshold": "目标值或阈值", "per_point": "扣分", "per_case": "扣分",
              "per_document": "扣分", "documents": "材料", "sheet": "材料", "kind": "规则类型", "indicator": "指标",
              "direction": "方向", "max_deduction": "扣分上限", "effect": "否决效果", "on_missing": "缺数据时"}
_SPEC_BY_NAME = {spec.name: key for key, spec in SPECS.items()}
_HEADERS_TO_KEYS = {sheet: {f.header: f.key for f in s.fields} for sheet, s in (("households", HOUSEHOLDS),
                                                                               ("villages", VILLAGES))}


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _share(text: str) -> str | float | None:
    """A target as typed: 0.9, 90% or blank."""
    if text.endswith("%"):
        try:
            return float(text[:-1]) / 100
        except ValueError:
            return text
    return text or None


def _lookup(value: str, names: dict[str, str]) -> str:
    return next((k for k, v in names.items() if v == value), value)


def _row_rule(cells: dict[str, str]) -> dict[str, Any]:
    """A rule as plain data from one sheet row (Chinese labels → model values); blanks are left out."""
    kind = _lookup(cells["规则类型"], KIND_NAMES)
    rule: dict[str, Any] = {"kind": kind, "note": cells["说明"], "max_deduction": cells["扣分上限"] or None}
    if kind != "deduct_per_missing_document":
        rule["indicator"] = _SPEC_BY_NAME.get(cells["指标"], cells["指标"])
    if kind in _AMOUNT:
        rule[_AMOUNT[kind]] = cells["扣分"] or None
    if kind in ("target_deduct_per_point", "veto"):
        rule["target" if kind != "veto" else "threshold"] = _share(cells["目标值或阈值"])
        if cells["方向"]:
            rule["direction"] = _lookup(cells["方向"], DIRECTION_NAMES)
    if kind in ("target_deduct_per_point", "deduct_per_case") and cells["缺数据时"]:
        rule["on_missing"] = _lookup(cells["缺数据时"], MISSING_NAMES)
    if kind == "veto" and cells["否决效果"]:
        rule["effect"] = _lookup(cells["否决效果"], EFFECT_NAMES)
    if kind == "deduct_per_missing_document":
        docs = [d.strip() for d in cells["材料"].replace("，", "、").replace(",", "、").split("、") if d.strip()]
        sheet = "villages" if docs and all(d in _HEADERS_TO_KEYS["villages"] for d in docs) else "households"
        rule.update(sheet=sheet, documents=[_HEADERS_TO_KEYS[sheet].get(d, d) for d in docs])
    return {k: v for k, v in rule.items() if v is not None}


def _row_error(row: int, err: dict[str, Any]) -> str:
    fields = [p for p in err["loc"] if isinstance(p, str) and p in _COLUMN_OF]
    if err["type"].startswith("union_tag"):
        fields = ["kind"]
    column = f"「{_COLUMN_OF[fields[-1]]}」" if fields else ""
    return f"「{RUBRIC_SHEET}」第 {row} 行{column}：{_error_text(err)}"


def rubric_from_rows(rows: list[list[Any]], first_row: int = 1) -> Rubric:
    """Read the 「评分细则」 sheet (rows of cell values, the first being Excel row `first_row`)."""
    where = f"「{RUBRIC_SHEET}」"
    meta: dict[str, str] = {}
    header_at = None
    for i, row in enumerate(rows):
        cells = [_text(c) for c in row]
        if cells and cells[0] == HEADER[0]:
            header_at = i
            break
        if len(cells) > 1 and cells[0]:
            meta[cells[0]] = cells[1]
    if header_at is None:
        raise RubricError([f"{where}找不到表头行（A 列为「{HEADER[0]}」的行）"])
    columns = [_text(c) for c in rows[header_at]]
    missing = [h for h in HEADER if h not in columns]
    if missing:
        raise RubricError([f"{where}第 {first_row + header_at} 行缺少列「{'」「'.join(missing)}」"])
    problems: list[str] = []
    items: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(rows[header_at + 1:], start=first_row + header_at + 1):
        cells = {h: _text(row[columns.index(h)]) if columns.index(h) < len(row) else "" for h in HEADER}
        if not any(cells.values()):
            continue
        key = cells["项目"]
        item = items.setdefault(key, {"key": key, "max_points": None, "rules": [], "row": i})
        if cells["满分"]:
            if item["max_points"] not in (None, cells["满分"]):
                problems.append(f"{where}第 {i} 行「满分」：项目 {key} 的满分已在第 {item['row']} 行写为"
                                f" {item['max_points']}")
            item["max_points"] = cells["满分"]
        if not cells["规则类型"]:
            continue
        try:
            rule = RULE_ADAPTER.validate_python(_row_rule(cells))
        except ValidationError as error:
            problems.extend(_row_error(i, err) for err in error.errors())
            continue
        if key in ITEM_NAMES and (problem := rule_problem(key, rule)):
            problems.append(f"{where}第 {i} 行：{problem}")
        item["rules"].append(rule)
    if problems:
        raise RubricError(problems)
    raw = {"name": meta.get("细则名称", ""), "version": meta.get("版本", ""), "description": meta.get("说明", ""),
           "items": [{k: v for k, v in item.items() if k != "row" and v is not None} for item in items.values()]}
    try:
        return Rubric.model_validate(raw)
    except ValidationError as error:
        rows_of = {item["key"]: item["row"] for item in items.values()}
        problems = []
        for err in error.errors():
            loc = err["loc"]
            key = raw["items"][loc[1]]["key"] if len(loc) > 1 and loc[0] == "items" else None
            at = f"第 {rows_of[key]} 行（项目 {key}）" if key in rows_of else ""
            problems.append(f"{where}{at}{_field_name(tuple(loc))}：{_error_text(err)}")
        raise RubricError(problems) from None


def rubric_rows(rubric: Rubric) -> list[list[Any]]:
    """The rubric as the 「评分细则」 sheet: 细则名称 / 版本 / 说明, a blank row, the header, one rule per row."""
    rows: list[list[Any]] = [["细则名称", rubric.name], ["版本", rubric.version], ["说明", rubric.description], [],
                             list(HEADER)]
    for item in rubric.items:
        for n, rule in enumerate(item.rules or (None,)):
            row: list[Any] = [item.key, item.max_points if n == 0 else None] + [None] * (len(HEADER) - 2)
            if rule is not None:
                d = rule.model_dump()
                spec = SPECS.get(d.get("indicator", ""))
                docs = _document_headers(d) if "documents" in d else None
                target = d.get("target", d.get("threshold"))
                row[2:] = [KIND_NAMES[rule.kind], spec.name if spec else None, target,
                           DIRECTION_NAMES.get(d.get("direction") or ""), d.get(_AMOUNT.get(rule.kind, "")),
                           d["max_deduction"], docs, EFFECT_NAMES.get(d.get("effect", "")),
                           MISSING_NAMES.get(d.get("on_missing", "")), rule.note or None]
            rows.append(row)
    return rows


def _document_headers(d: dict[str, Any]) -> str:
    sheet = HOUSEHOLDS if d["sheet"] == "households" else VILLAGES
    return "、".join(sheet.field(k).header for k in d["documents"])


def load_rubric(path: str | Path) -> Rubric:
    """A rubric from a .json file, or from the 「评分细则」 sheet of an .xlsx / .xlsm workbook."""
    from ducha.reading.gate import read_regular
    from ducha.reading.raw import read_raw_workbook

    path = Path(path)
    if path.suffix.lower() == ".json":
        return rubric_from_json(read_regular(path).decode("utf-8-sig"))
    raw = read_raw_workbook(path, error_cells=False)  # through the input gate
    if RUBRIC_SHEET not in raw.sheets:
        raise RubricError([f"工作簿 {path.name} 中没有「{RUBRIC_SHEET}」工作表"])
    return rubric_from_rows(raw.sheets[RUBRIC_SHEET])


DEFAULT_RUBRIC = rubric_from_json(resources.files("ducha.data").joinpath("default_rubric.json").read_text("utf-8"))
