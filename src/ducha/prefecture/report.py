"""The supervisors' consolidated workbook for one month, built from the archive alone.

Sheets: 「评分汇总」, 「指标明细」, 「跟进汇总」, 「覆盖情况」, 「趋势」 and 「提交记录」. Nothing here reads the
clock or the original files, so the report can be rebuilt at any time, and identical archive content gives an
identical workbook.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from ducha.adapters.writer import write_generated_workbook
from ducha.model.findings import Severity
from ducha.model.privacy import mask_id
from ducha.model.schema import NO, YES, Field, FieldType
from ducha.prefecture.archive import CONFLICT, CURRENT, DUPLICATE, IGNORED, REJECTED, STATUS_NAMES, SUPERSEDED, Archive
from ducha.reading.normalize import convert, fold_header, is_empty
from ducha.reading.raw import read_raw_workbook
from ducha.scoring.followup import FOLLOW_UP_LEVELS
from ducha.scoring.indicators import ITEM_NAMES, NO_DATA, NO_SAMPLE, SIX_ITEMS
from ducha.scoring.scorecard import SHEET_NAMES
from ducha.sheets.followup_sheet import LEVEL_STYLE
from ducha.sheets.outputplan import BarChart, Conditional, GeneratedSheet, LineChart, Style
from ducha.sheets.toolkit import SheetBuilder

SUMMARY_SHEET, INDICATOR_SHEET, FOLLOW_UP_SHEET = "评分汇总", "指标明细", "跟进汇总"
COVERAGE_SHEET, TREND_SHEET, LOG_SHEET = "覆盖情况", "趋势", "提交记录"
REPORT_SHEETS = (SUMMARY_SHEET, INDICATOR_SHEET, FOLLOW_UP_SHEET, COVERAGE_SHEET, TREND_SHEET, LOG_SHEET)
LOW_TOTAL = 60.0  # totals below this are coloured red on 「评分汇总」
HEADER_ROW = 3  # every sheet: title, note, header; data from row 4
FIRST = HEADER_ROW + 1
CHART_ROWS = 20  # rows kept free for a chart placed between two blocks
RED_FLAG = "红旗"
RED_FLAG_PREFIX = "红旗："
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FLAG_SOURCES = {**SHEET_NAMES, "score": "评分"}
SEVERITIES = {s.value for s in Severity}
STATUS_STYLES = {CONFLICT: Style.BAD, REJECTED: Style.BAD, SUPERSEDED: Style.WARNING, DUPLICATE: Style.WARNING,
                 IGNORED: Style.WARNING}


# --- the county list (县名单) -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CountyInfo:
    """One county of the prefecture's list: name, 6-digit code (None if not given) and whether it has poverty tasks."""

    name: str
    code: str | None
    has_task: bool


class CountyListError(ValueError):
    """The county list cannot be used; the message is Chinese and says what to fix."""


COUNTY_FIELDS = (
    Field("name", "县名称", FieldType.TEXT, required=True,
          aliases=("县", "县名", "县（市、区）", "县市区", "县区", "名称", "被督查县")),
    Field("code", "县级区划代码", FieldType.REGION_CODE, aliases=("区划代码", "县代码", "代码", "行政区划代码")),
    Field("has_task", "是否有脱贫任务", FieldType.YES_NO, required=True, choices=(YES, NO),
          aliases=("有脱贫任务", "脱贫任务", "有无脱贫任务", "是否有脱贫攻坚任务")),
)
HEADER_SCAN_ROWS = 10


def _header_key(text: Any) -> str:
    """A header as compared: folded, without a trailing bracketed note such as （是/否）."""
    return re.sub(r"\([^()]*\)$", "", fold_header(text))


def _find_columns(row: list[Any]) -> dict[str, int]:
    names = {f.key: {_header_key(h) for h in (f.header, *f.aliases)} for f in COUNTY_FIELDS}
    found: dict[str, int] = {}
    for column, cell in enumerate(row):
        key = _header_key(cell)
        for field_key, accepted in names.items():
            if key and key in accepted and field_key not in found:
                found[field_key] = column
    return found


def load_counties(path: Path) -> list[CountyInfo]:
    """Read a 县名单 workbook (columns 县名称, 县级区划代码, 是否有脱贫任务; header in one of its first rows)."""
    raw = read_raw_workbook(Path(path))
    for sheet, grid in raw.sheets.items():
        for index, row in enumerate(grid[:HEADER_SCAN_ROWS]):
            columns = _find_columns(row)
            if "name" in columns:
                return _county_rows(sheet, grid, index, columns)
    raise CountyListError(f"县名单「{Path(path).name}」中找不到「县名称」列。"
                          "请在第一行写列名：县名称、县级区划代码、是否有脱贫任务。")


def _county_rows(sheet: str, grid: list[list[Any]], header: int, columns: dict[str, int]) -> list[CountyInfo]:
    missing = [f.header for f in COUNTY_FIELDS if f.required and f.key not in columns]
    if missing:
        raise CountyListError(f"县名单工作表「{sheet}」缺少列：{'、'.join(missing)}。")
    fields = {f.key: f for f in COUNTY_FIELDS}
    counties: list[CountyInfo] = []
    problems: list[str] = []
    for number, row in enumerate(grid[header + 1:], start=header + 2):
        cells = {key: row[col] if col < len(row) else None for key, col in columns.items()}
        if all(is_empty(v) for v in cells.values()):
            continue
        values: dict[str, Any] = {}
        for key, raw in cells.items():
            value, problem = convert(raw, fields[key])
            if problem is not None:
                problems.append(f"第 {number} 行「{fields[key].header}」无效（{raw}）")
            elif value is None and fields[key].required:
                problems.append(f"第 {number} 行「{fields[key].header}」未填写")
            values[key] = value
        if values.get("name") and values.get("has_task") is not None:
            counties.append(CountyInfo(values["name"], values.get("code"), values["has_task"] == YES))
    if problems:
        shown = "；".join(problems[:10]) + (f"；等 {len(problems)} 处" if len(problems) > 10 else "")
        raise CountyListError(f"县名单工作表「{sheet}」有问题：{shown}。")
    return counties


# --- reading the archive ----------------------------------------------------------------------------------------

@dataclass
class _Entry:
    """One submission with its results, as stored."""

    sub: dict[str, Any]
    scores: list[dict[str, Any]]
    indicators: list[dict[str, Any]]
    flags: list[dict[str, Any]]

    @property
    def code(self) -> str:
        return self.sub["county_code"] or ""

    @property
    def name(self) -> str:
        return self.sub["county"] or "（未填县名）"

    @property
    def total(self) -> float | None:
        return self.sub["total"]

    def points(self, item: str) -> float | None:
        found = [s["points"] for s in self.scores if s["item"] == item or (item == "N" and s["item"].startswith("N"))]
        return found[0] if found else None

    @property
    def red_flags(self) -> list[str]:
        names = [i["name"] for i in self.indicators if i["red_flag"]]
        names += [f["problem"].removeprefix(RED_FLAG_PREFIX) for f in self.flags
                  if (f["problem"] or "").startswith(RED_FLAG_PREFIX)]
        return list(dict.fromkeys(names))

    @property
    def version_text(self) -> str:
        return f"第 {self.sub['version']} 版｜{_time_text(self.sub['received_at'])}｜{self.sub['file_name']}"


def _entry(archive: Archive, row: Any) -> _Entry:
    sub = dict(row)
    return _Entry(sub, *([dict(r) for r in archive.results(table, sub["id"])]
                         for table in ("scores", "indicators", "flags")))


def _time_text(stamp: str | None) -> str:
    """An ISO time as people read it: 2024-05-03 10:12:00."""
    return (stamp or "")[:19].replace("T", " ")


def _county_key(sub: dict[str, Any]) -> str | None:
    return sub["county_code"] or sub["county"]


def _ranked(entries: list[_Entry]) -> list[tuple[int | None, _Entry]]:
    """By total, high to low, ties by county code; equal totals share a rank (1, 1, 3); unscored last, unranked."""
    ordered = sorted(entries, key=lambda e: (e.total is None, -(e.total or 0.0), e.code, e.sub["id"]))
    totals = [e.total for e in ordered if e.total is not None]
    return [(None if e.total is None else 1 + sum(1 for t in totals if t > e.total), e) for e in ordered]


# --- sheet building ---------------------------------------------------------------------------------------------

REPORT_TAB = "1F4E78"


def _build(s: SheetBuilder, *, freeze: str, auto_filter: str, print_titles: str = f"1:{HEADER_ROW}") -> GeneratedSheet:
    return s.build(freeze=freeze, auto_filter=auto_filter, print_title_rows=print_titles, tab_color=REPORT_TAB)


def _month_text(month: str) -> str:
    year, number = month.split("-")
    return f"{year} 年 {int(number)} 月"


# --- 「评分汇总」 ------------------------------------------------------------------------------------------------

SUMMARY_WIDTHS = [6, 10, 9, 12, 8, *[11] * len(SIX_ITEMS), 12, 24, 7, 50]


def _summary_headers(entries: list[_Entry]) -> list[str]:
    keys = sorted({e.sub["key_item"] for e in entries if e.sub["key_item"]})
    n_header = f"{keys[0]} {ITEM_NAMES.get(keys[0], '')}".strip() if len(keys) == 1 else "N项（本月重点督查内容）"
    return ["排名", "县", "代码", "督查组", "总分", *[f"{k} {ITEM_NAMES[k]}" for k in SIX_ITEMS], n_header,
            RED_FLAG, "错误数", "使用的版本"]


def _summary_row(s: SheetBuilder, first: Any, e: _Entry) -> int:
    row = s.add([first, e.name, e.sub["county_code"], e.sub["inspection_group"],
                 e.total if e.total is not None else "未评分", *[e.points(k) for k in SIX_ITEMS], e.points("N"),
                 "、".join(e.red_flags), e.sub["errors"], e.version_text])
    s.styles.extend([(f"A{row}:{s.last}{row}", Style.NOTE), (f"E{row}:L{row}", Style.NUMBER)])
    return row


def _summary_sheet(month: str, current: list[_Entry], conflicts: list[_Entry], low_total: float) -> GeneratedSheet:
    keys = sorted({e.sub["key_item"] for e in current + conflicts if e.sub["key_item"]})
    key_text = "、".join(f"{k} {ITEM_NAMES.get(k, '')}" for k in keys) or "未填写"
    if len(keys) > 1:
        key_text += "（各县不一致，请核实）"
    note = (f"本月重点督查内容：{key_text}。每县取本月现行版本（见「使用的版本」）；排名按总分从高到低，同分同名次、"
            f"按县级区划代码排列。总分低于 {low_total:g} 分或有红旗指标的县标红。"
            f"同县同月有不同督查组工作簿（冲突）的县在裁定前不参加排名，列在表下方。")
    s = SheetBuilder(SUMMARY_SHEET, SUMMARY_WIDTHS)
    s.head(f"精准扶贫专题督查评分汇总（{_month_text(month)}）", note, _summary_headers(current + conflicts))
    for rank, e in _ranked(current):
        _summary_row(s, rank, e)
    last = len(s.rows)
    if not current:
        s.add(["", "本月档案中没有现行的督查工作簿"])
    else:
        s.conditional = [
            Conditional(f"E{FIRST}:E{last}", f"AND(ISNUMBER(E{FIRST}),E{FIRST}<{low_total:g})", Style.BAD),
            Conditional(f"M{FIRST}:M{last}", f"LEN(M{FIRST})>0", Style.BAD),
            Conditional(f"B{FIRST}:B{last}", f"LEN($M{FIRST})>0", Style.BAD),
        ]
    if conflicts:
        s.add([])
        s.banner("冲突待处理：以下县本月有不同督查组的工作簿，州督查办裁定（ducha resolve 提交编号）前不参加排名",
                 Style.BAD)
        s.add(["提交编号", *_summary_headers(current + conflicts)[1:]], Style.HEADER)
        for e in sorted(conflicts, key=lambda e: (e.code, e.sub["id"])):
            _summary_row(s, e.sub["id"], e)
    if current:
        s.charts.append(BarChart(title=f"各县总分（{_month_text(month)}）", categories=f"B{FIRST}:B{last}",
                                 series=((f"E{HEADER_ROW}", f"E{FIRST}:E{last}"),), anchor=f"B{len(s.rows) + 2}",
                                 y_title="分", x_title="县"))
    return _build(s, freeze=f"C{FIRST}", auto_filter=f"A{HEADER_ROW}:{s.last}{max(last, FIRST)}")


# --- 「指标明细」 ------------------------------------------------------------------------------------------------

INDICATOR_HEADERS = ["县", "代码", "项目", "指标", "分子", "分母", "数值", "计算公式", RED_FLAG]
INDICATOR_WIDTHS = [10, 9, 6, 32, 10, 10, 9, 50, 6]


def _indicator_cells(ind: dict[str, Any]) -> list[Any]:
    missing = ind["numerator"] is None or ind["denominator"] is None
    numerator = NO_DATA if ind["numerator"] is None else ind["numerator"]
    denominator = NO_DATA if ind["denominator"] is None else ind["denominator"]
    value = ind["value"] if ind["value"] is not None else (ind["value_text"] or (NO_DATA if missing else NO_SAMPLE))
    return [numerator, denominator, value]


def _indicator_sheet(month: str, current: list[_Entry]) -> GeneratedSheet:
    note = ("每县本月现行版本的全部指标：分子、分母和数值。分母为 0 显示“无样本”，县级数据未填写显示“缺数据”；"
            "“红旗”为达不到国家退出标准的指标（错退率、漏评率、群众认可度）。N1-N5 各项指标都列出，"
            "但只有本月重点督查内容那一项计分。冲突待处理的县不在此表。")
    s = SheetBuilder(INDICATOR_SHEET, INDICATOR_WIDTHS)
    s.head(f"指标明细（{_month_text(month)}）", note, INDICATOR_HEADERS)
    for e in sorted(current, key=lambda e: (e.code, e.sub["id"])):
        for ind in e.indicators:
            row = s.add([e.name, e.sub["county_code"], ind["item"], ind["name"], *_indicator_cells(ind),
                         ind["formula"], RED_FLAG if ind["red_flag"] else ""])
            s.styles.extend([(f"A{row}:I{row}", Style.NOTE), (f"G{row}", Style.PERCENT)])
    last = len(s.rows)
    if last < FIRST:
        s.add(["本月档案中没有现行的督查工作簿"])
    else:
        s.conditional = [Conditional(f"I{FIRST}:I{last}", f'I{FIRST}="{RED_FLAG}"', Style.BAD),
                         Conditional(f"G{FIRST}:G{last}", f'$I{FIRST}="{RED_FLAG}"', Style.BAD)]
    return _build(s, freeze=f"C{FIRST}", auto_filter=f"A{HEADER_ROW}:{s.last}{max(last, FIRST)}")


# --- 「跟进汇总」 ------------------------------------------------------------------------------------------------

FLAG_HEADERS = ["县", "代码", "对象", "跟进级别", "乡镇", "村", "户主", "身份证号（脱敏）", "问题", "原因", "建议措施",
                "来源"]
FLAG_WIDTHS = [10, 9, 8, 8, 10, 10, 8, 20, 18, 40, 30, 18]


def _problems(flag: dict[str, Any]) -> list[str]:
    """The single problems of one flag (a household can be 错退 and 不认可 at once)."""
    return list(dict.fromkeys(p.strip() for p in re.split("[；;]", flag["problem"] or "") if p.strip()))


def _source_text(flag: dict[str, Any]) -> str:
    sheet = FLAG_SOURCES.get(flag["sheet"] or "", flag["sheet"] or "")
    where = f"第 {flag['row']} 行" if flag["row"] else flag["cell"] or ""
    return f"{sheet} {where}".strip()


def _follow_up_sheet(month: str, current: list[_Entry]) -> GeneratedSheet:
    entries = sorted(current, key=lambda e: (e.code, e.sub["id"]))
    counts = {e.sub["id"]: Counter(p for f in e.flags for p in _problems(f)) for e in entries}
    overall = sum(counts.values(), Counter())
    problems = sorted(overall, key=lambda p: (-overall[p], p))
    width = max(3 + len(problems), len(FLAG_HEADERS))
    s = SheetBuilder(FOLLOW_UP_SHEET, FLAG_WIDTHS + [10] * (width - len(FLAG_WIDTHS)))
    note = ("上表：各县跟进事项条数和各类问题户（村、项）数；一条跟进事项可含多个问题，故各问题之和可能大于条数。"
            "下表：全部跟进事项（身份证号已脱敏）。仅含本月现行版本；冲突待处理的县不在此表。")
    s.head(f"跟进汇总（{_month_text(month)}）", note, ["县", "代码", "跟进事项（条）", *problems])
    for e in entries:
        s.add([e.name, e.sub["county_code"], len(e.flags), *[counts[e.sub["id"]][p] for p in problems]])
    last = len(s.rows)
    s.add(["合计", "", sum(len(e.flags) for e in entries), *[overall[p] for p in problems]], Style.TOTAL)
    if problems:
        end = get_column_letter(3 + len(problems))
        s.conditional.append(Conditional(f"D{FIRST}:{end}{last}", f"D{FIRST}>0", Style.WARNING))
    s.add([])
    if entries:
        s.charts.append(BarChart(title="各县跟进事项（条）", categories=f"A{FIRST}:A{last}",
                                 series=((f"C{HEADER_ROW}", f"C{FIRST}:C{last}"),), anchor=f"A{len(s.rows) + 1}",
                                 y_title="条", x_title="县"))
        s.rows.extend([] for _ in range(CHART_ROWS))
    s.banner("跟进清单", Style.HEADER)
    header = s.add(FLAG_HEADERS, Style.HEADER)
    for e in entries:
        for f in e.flags:
            level = FOLLOW_UP_LEVELS.get(Severity(f["severity"]), "") if f["severity"] in SEVERITIES else ""
            row = s.add([e.name, e.sub["county_code"], f["level"], level, f["township"], f["village"],
                         f["household"], mask_id(f["masked_id"]), f["problem"], f["reasons"], f["action"],
                         _source_text(f)])
            s.styles.append((f"A{row}:L{row}", Style.NOTE))
            if level:
                s.styles.append((f"D{row}", LEVEL_STYLE[level]))
    if len(s.rows) == header:
        s.add(["", "本月没有跟进事项"])
    return _build(s, freeze=f"C{FIRST}", auto_filter=f"A{header}:L{len(s.rows)}", print_titles="1:2")


# --- 「覆盖情况」 ------------------------------------------------------------------------------------------------

COVERAGE_HEADERS = ["序号", "县", "代码", "有脱贫任务", "本年督查情况", "督查月份", "督查次数"]
COVERAGE_WIDTHS = [6, 12, 10, 14, 14, 36, 9]
INSPECTED, NOT_YET = "已督查", "尚未督查"


def _coverage_sheet(month: str, subs: list[dict[str, Any]], counties: list[CountyInfo] | None) -> GeneratedSheet:
    year = month[:4]
    months: dict[str, set[str]] = {}
    names: dict[str, tuple[str, str | None]] = {}
    for sub in subs:  # ordered by id: the latest name of a county wins
        key = _county_key(sub)
        if key is None or not sub["month"] or sub["month"] > month:
            continue
        names[key] = (sub["county"] or key, sub["county_code"])
        if sub["month"].startswith(year):
            months.setdefault(key, set()).add(sub["month"])
    rows: list[tuple[str, str | None, str, list[str]]] = []  # name, code, task text, months
    if counties is None:
        rows = [(name, code, "未知", sorted(months.get(key, ()))) for key, (name, code) in names.items()]
    else:
        by_code = {c.code: c for c in counties if c.code}
        by_name = {fold_header(c.name): c for c in counties}
        seen: dict[CountyInfo, list[str]] = {c: [] for c in counties}
        for key, (name, code) in names.items():
            listed = by_code.get(code) if code else None
            listed = listed or by_name.get(fold_header(name))
            if listed is not None:
                seen[listed] = sorted({*seen[listed], *months.get(key, ())})
            else:
                rows.append((name, code, "不在县名单中", sorted(months.get(key, ()))))
        rows = [(c.name, c.code, YES if c.has_task else NO, m) for c, m in seen.items()] + rows
    order = {YES: 0, "未知": 1, NO: 2, "不在县名单中": 3}
    rows.sort(key=lambda r: (order[r[2]], bool(r[3]), r[1] or "", r[0]))
    task = [r for r in rows if r[2] == YES]
    missing = [r[0] for r in task if not r[3]]
    if counties is None:
        note = ("未提供县名单（用 ducha report --counties 县名单.xlsx 提供），仅列出档案中出现过的县，"
                "无法判断有脱贫任务的县是否全覆盖。")
    else:
        note = (f"全覆盖规则：有脱贫任务的县本年内都要督查到。{year} 年截至 {_month_text(month)}：有脱贫任务的县 "
                f"{len(task)} 个，已督查 {len(task) - len(missing)} 个，尚未督查 {len(missing)} 个"
                f"{'：' + '、'.join(missing) if missing else ''}。")
    note += "任何版本（现行、已被取代、冲突待处理）的工作簿都算已督查。"
    s = SheetBuilder(COVERAGE_SHEET, COVERAGE_WIDTHS)
    s.head(f"督查覆盖情况（{year} 年，截至 {_month_text(month)}）", note, COVERAGE_HEADERS)
    for number, (name, code, has_task, seen_months) in enumerate(rows, start=1):
        status = INSPECTED if seen_months else NOT_YET
        row = s.add([number, name, code, has_task, status, "、".join(seen_months), len(seen_months)])
        if has_task == YES:
            s.styles.append((f"E{row}", Style.GOOD if seen_months else Style.BAD))
    if not rows:
        s.add(["", "档案和县名单中都没有县"])
    return _build(s, freeze=f"C{FIRST}", auto_filter=f"A{HEADER_ROW}:{s.last}{max(len(s.rows), FIRST)}")


# --- 「趋势」 ---------------------------------------------------------------------------------------------------

def _trend_sheet(month: str, subs: list[dict[str, Any]]) -> GeneratedSheet:
    shown = [sub for sub in subs if sub["month"] and sub["month"] <= month]
    months = sorted({sub["month"] for sub in shown})
    totals: dict[str, dict[str, float | None]] = {}
    names: dict[str, tuple[str, str | None]] = {}
    for sub in shown:
        key = _county_key(sub)
        if key is None or sub["status"] != CURRENT:
            continue
        names[key] = (sub["county"] or key, sub["county_code"])
        totals.setdefault(key, {})[sub["month"]] = sub["total"]
    s = SheetBuilder(TREND_SHEET, [10, 12, *[9] * max(len(months), 1)])
    note = ("各县各月总分，取每月现行版本；空白表示该月未督查、未评分或冲突待处理。"
            f"包括档案中截至 {_month_text(month)} 的所有月份。")
    s.head(f"各县总分趋势（截至 {_month_text(month)}）", note, ["代码", "县", *months])
    keys = sorted(names, key=lambda k: (names[k][1] or "", names[k][0]))
    for key in keys:
        name, code = names[key]
        row = s.add([code, name, *[totals[key].get(m) for m in months]])
        s.styles.append((f"C{row}:{s.last}{row}", Style.NUMBER))
    last = len(s.rows)
    if not keys:
        s.add(["", "档案中没有现行的督查工作簿"])
    else:
        end = get_column_letter(2 + len(months))
        s.charts.append(LineChart(title="各县总分趋势", categories=f"C{HEADER_ROW}:{end}{HEADER_ROW}",
                                  series=tuple((f"B{r}", f"C{r}:{end}{r}") for r in range(FIRST, last + 1)),
                                  anchor=f"A{last + 2}", y_title="总分", x_title="月份"))
    return _build(s, freeze=f"C{FIRST}", auto_filter=f"A{HEADER_ROW}:{s.last}{max(last, FIRST)}")


# --- 「提交记录」 ------------------------------------------------------------------------------------------------

LOG_WIDTHS = [8, 9, 10, 9, 12, 6, 16, 20, 16, 30, 7, 7, 8, 14, 50]
SUBMISSION_HEADERS = ["提交编号", "月份", "县", "代码", "督查组", "版本", "状态", "接收时间", "来源", "文件名",
                      "错误数", "警告数", "总分", "SHA-256（前 12 位）", "说明"]
EVENT_HEADERS = ["事件编号", "月份", "县", "代码", "督查组", "版本", "结果", "时间", "来源", "文件名", "提交编号", "",
                 "", "SHA-256（前 12 位）", "原因"]


def _log_sheet(archive: Archive, subs: list[dict[str, Any]]) -> GeneratedSheet:
    note = ("档案中全部月份的工作簿和每一次接收（含重复提交、拒收、忽略和冲突）；"
            "拒收的文件无法确定月份，故本表不按月筛选，可用「月份」列筛选。状态为生成本表时档案中的状态。")
    s = SheetBuilder(LOG_SHEET, LOG_WIDTHS)
    s.head("提交记录", note, SUBMISSION_HEADERS)
    for sub in subs:
        remark = f"需裁定：ducha resolve {sub['id']}" if sub["status"] == CONFLICT else ""
        row = s.add([sub["id"], sub["month"], sub["county"], sub["county_code"], sub["inspection_group"],
                     sub["version"], STATUS_NAMES.get(sub["status"], sub["status"]), _time_text(sub["received_at"]),
                     sub["source"], sub["file_name"], sub["errors"], sub["warnings"], sub["total"],
                     sub["sha256"][:12], remark])
        s.styles.extend([(f"A{row}:O{row}", Style.NOTE), (f"M{row}", Style.NUMBER)])
        if sub["status"] in STATUS_STYLES:
            s.styles.append((f"G{row}", STATUS_STYLES[sub["status"]]))
    last = len(s.rows)
    if not subs:
        s.add(["", "档案中没有工作簿"])
    s.add([])
    s.banner("接收记录", Style.HEADER)
    s.add(EVENT_HEADERS, Style.HEADER)
    by_id = {sub["id"]: sub for sub in subs}
    by_hash = {sub["sha256"]: sub for sub in subs}
    for event in archive.events():
        sub = by_id.get(event["submission_id"]) or by_hash.get(event["sha256"] or "") or {}
        row = s.add([event["id"], sub.get("month"), sub.get("county"), sub.get("county_code"),
                     sub.get("inspection_group"), sub.get("version"), STATUS_NAMES.get(event["kind"], event["kind"]),
                     _time_text(event["at"]), event["source"], event["file_name"], event["submission_id"], None, None,
                     (event["sha256"] or "")[:12], event["reason"]])
        s.styles.append((f"A{row}:O{row}", Style.NOTE))
        if event["kind"] in STATUS_STYLES:
            s.styles.append((f"G{row}", STATUS_STYLES[event["kind"]]))
    return _build(s, freeze=f"B{FIRST}", auto_filter=f"A{HEADER_ROW}:{s.last}{max(last, FIRST)}", print_titles="1:2")


# --- the report -------------------------------------------------------------------------------------------------

def check_month(month: str) -> str:
    if not MONTH.match(month or ""):
        raise ValueError(f"督查月份「{month}」无效，应为 YYYY-MM，如 2024-05")
    return month


def build_report(archive: Archive, month: str, counties: list[CountyInfo] | None = None, *,
                 low_total: float = LOW_TOTAL) -> list[GeneratedSheet]:
    """The six sheets of the month's consolidated workbook, from the archive's rows only."""
    check_month(month)
    subs = [dict(r) for r in archive.submissions()]
    of_month = [sub for sub in subs if sub["month"] == month]
    current = [_entry(archive, r) for r in archive.current(month)]
    conflicts = [_entry(archive, sub) for sub in of_month if sub["status"] == CONFLICT]
    return [
        _summary_sheet(month, current, conflicts, low_total),
        _indicator_sheet(month, current),
        _follow_up_sheet(month, current),
        _coverage_sheet(month, subs, counties),
        _trend_sheet(month, subs),
        _log_sheet(archive, subs),
    ]


def write_report(archive: Archive, month: str, out: Path, counties: list[CountyInfo] | None = None, *,
                 low_total: float = LOW_TOTAL) -> Path:
    """Write the consolidated workbook to `out` atomically; identical archive content gives identical bytes."""
    sheets = build_report(archive, month, counties, low_total=low_total)
    return write_generated_workbook(sheets, Path(out), title=f"精准扶贫专题督查汇总（{_month_text(month)}）",
                                    stamp=dt.datetime(int(month[:4]), int(month[5:]), 1))
