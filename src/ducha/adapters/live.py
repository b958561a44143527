"""The live adapter: read a workbook open in Excel and apply an OutputPlan to it through xlwings.

Each input sheet is read with one call; a generated sheet is written as one block; formats and highlights go on
grouped ranges, so the number of Excel calls does not grow with the number of households. The same code runs on
xlwings' desktop engine (COM, what clerks use) and on its remote engine (what the tests drive).

Highlights on input cells are conditional-format rules that carry the marker ``ducha:<severity>`` in their formula,
like the file adapter's, so either adapter removes the other's; the clerk's own fills are never touched. Notes and
rule ranges written here are also listed in the workbook name ``ducha_marks`` so that the next run can remove
exactly them where the engine cannot enumerate rules or note authors.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from openpyxl.utils import get_column_letter, range_boundaries

from ducha.model.findings import SEVERITY_ORDER
from ducha.model.schema import GENERATED_SHEETS, INPUT_SHEETS
from ducha.reading import normalize
from ducha.reading.raw import RawWorkbook
from ducha.sheets.outputplan import (
    FILLS,
    MARK_LOOKS,
    MARK_PREFIX,
    NOTE_AUTHOR,
    STYLE_LOOKS,
    BarChart,
    Formula,
    GeneratedSheet,
    Mark,
    MarkKind,
    OutputPlan,
    Style,
    mark_layers,
    mark_notes,
    sheet_styles,
)

log = logging.getLogger("ducha.live")

Rect = tuple[int, int, int, int]  # first row, first column, last row, last column (1-based, inclusive)
Progress = Callable[[str], None]


RECORD_NAME = "ducha_marks"
RECORD_VERSION = "ducha/1"
NOTE_LIMIT = 20  # notes per run: each note is one Excel call; the 「检查结果」 sheet lists every finding anyway
LONG_RUN = 50  # a vertical run of this many marked rows gets a rule of its own instead of a row list
FORMULA_LIMIT = 4000  # characters of one rule formula (Excel allows 8,192; kept well below)
LITERAL_LIMIT = 250  # characters of one string constant in a formula (Excel allows 255)
ADDRESS_LIMIT = 255  # characters of a multi-area address passed to Excel at once
COLORS_LIMIT = 10_000  # cells of one Range.set_colors call
POINTS_PER_CM = 72 / 2.54  # a chart's size in the plan is in centimetres, xlwings takes points
RECORD_LIMIT = 7500  # characters of the record text (its name formula stays under Excel's 8,192)
LINK_COLOR = "0563C1"
XL_UNDERLINE_SINGLE, XL_UNDERLINE_NONE = 2, -4142


@dataclass
class LiveReport:
    """What apply_plan_live did, for the clerk's message and the log."""

    sheets: list[str] = field(default_factory=list)
    marked_cells: int = 0
    rules: int = 0
    notes_written: int = 0
    notes_left_out: int = 0
    notes_kept: int = 0  # cells that already had somebody else's note
    unsupported: list[str] = field(default_factory=list)

    def skip(self, feature: str, error: BaseException | None = None) -> None:
        """Record a feature the engine could not apply (English, for the log)."""
        if feature not in self.unsupported:
            self.unsupported.append(feature)
            log.info("not applied on this engine: %s (%s)", feature, error or "unsupported")

    def remarks(self) -> list[str]:
        """Chinese lines for the clerk about what could not be done."""
        lines = []
        if self.notes_left_out:
            lines.append(f"批注只加在前 {NOTE_LIMIT} 个问题单元格上，其余 {self.notes_left_out} 个请看「检查结果」。")
        if self.notes_kept:
            lines.append(f"{self.notes_kept} 个问题单元格已有他人批注，未改动，问题说明请看「检查结果」。")
        if "notes" in self.unsupported:
            lines.append("此 Excel 版本不支持由程序添加批注，问题说明请看「检查结果」。")
        return lines


# --- reading ---------------------------------------------------------------------------------------------------

_INPUT_NAMES = {normalize.fold_header(n) for s in INPUT_SHEETS for n in (s.name, *s.aliases)}


def read_book(book: Any) -> RawWorkbook:
    """Every sheet's name in order; the values (one read each) and merged areas of the input sheets, as calamine
    gives them. Other sheets (generated ones, 说明) only need their names."""
    raw = RawWorkbook(path=book_path(book))
    for sheet in book.sheets:
        name = sheet.name
        if normalize.fold_header(name) not in _INPUT_NAMES:
            raw.sheets[name] = []
            continue
        used = sheet.used_range
        raw.sheets[name] = _read_values(used)
        merged = _merged_areas(sheet, parse_rect(used.address))
        if merged:
            raw.merged[name] = merged
    return raw


def _merged_areas(sheet: Any, used: Rect) -> list[tuple[int, int, int, int]]:
    """Merged areas (0-based r0, c0, r1, c1), found by halving the used range: one call when there are none."""
    found: set[Rect] = set()

    def walk(rect: Rect) -> None:
        r1, c1, r2, c2 = rect
        state = sheet.range((r1, c1), (r2, c2)).merge_cells
        if state is False:
            return
        if state is True:
            area = parse_rect(sheet.range((r1, c1)).merge_area.address)
            if area[0] <= r1 and area[1] <= c1 and area[2] >= r2 and area[3] >= c2:
                found.add(area)
                return
        if r2 > r1:
            middle = (r1 + r2) // 2
            walk((r1, c1, middle, c2))
            walk((middle + 1, c1, r2, c2))
        elif c2 > c1:
            middle = (c1 + c2) // 2
            walk((r1, c1, r2, middle))
            walk((r1, middle + 1, r2, c2))

    try:
        walk(used)
    except NotImplementedError:  # the remote engine cannot tell synchronously
        log.debug("merged cells are not visible on this engine")
        return []
    return sorted((r1 - 1, c1 - 1, r2 - 1, c2 - 1) for r1, c1, r2, c2 in found)


def _read_values(used: Any) -> list[list[Any]]:
    values = used.options(ndim=2, err_to_str=True).value or []
    top, left = used.row, used.column
    width = left - 1 + max((len(row) for row in values), default=0)
    grid = [[""] * width for _ in range(top - 1)]
    grid += [[""] * (left - 1) + [_raw_value(v) for v in row] for row in values]
    while grid and all(v == "" for v in grid[-1]):
        grid.pop()
    return grid


def _raw_value(value: Any) -> Any:
    """A value as python-calamine gives it: '' for empty, floats, dates without a time as date."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.date() == dt.date(1899, 12, 30):
            return value.time()
        if value.time() == dt.time(0):
            return value.date()
    return value


def book_path(book: Any) -> Path:
    """The workbook's path; an unsaved book gives its bare name, a OneDrive/SharePoint URL its file name."""
    fullname = str(book.fullname or book.name or "工作簿")
    if "://" in fullname:
        return Path(unquote(PurePosixPath(urlparse(fullname).path).name) or book.name)
    return Path(fullname)


# --- ranges -----------------------------------------------------------------------------------------------------


def parse_rect(ref: str) -> Rect:
    """'B2:D5' -> (2, 2, 5, 4); a single cell gives a one-cell rectangle."""
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    return min_row, min_col, max_row, max_col


def rect_address(rect: Rect) -> str:
    r1, c1, r2, c2 = rect
    first = f"{get_column_letter(c1)}{r1}"
    return first if (r1, c1) == (r2, c2) else f"{first}:{get_column_letter(c2)}{r2}"


def cells_of(rect: Rect) -> Iterator[tuple[int, int]]:
    r1, c1, r2, c2 = rect
    for r in range(r1, r2 + 1):
        for c in range(c1, c2 + 1):
            yield r, c


def rectangles(cells: Iterable[tuple[int, int]]) -> list[Rect]:
    """Cover a set of cells with few rectangles: vertical runs per column, merged across neighbouring columns."""
    rows_by_column: dict[int, list[int]] = defaultdict(list)
    for r, c in set(cells):
        rows_by_column[c].append(r)
    done: list[Rect] = []
    open_runs: dict[tuple[int, int], int] = {}  # (first row, last row) -> first column, open in `previous`
    previous = 0
    for c in sorted(rows_by_column):
        current = {}
        for run in _runs(sorted(rows_by_column[c])):
            current[run] = open_runs.pop(run) if previous == c - 1 and run in open_runs else c
        done += [(r1, c1, r2, previous) for (r1, r2), c1 in open_runs.items()]
        open_runs, previous = current, c
    done += [(r1, c1, r2, previous) for (r1, r2), c1 in open_runs.items()]
    return sorted(done)


def _runs(sorted_numbers: list[int]) -> Iterator[tuple[int, int]]:
    start = previous = None
    for n in sorted_numbers:
        if previous is not None and n == previous + 1:
            previous = n
            continue
        if start is not None:
            yield start, previous
        start = previous = n
    if start is not None:
        yield start, previous


def union_chunks(rects: Iterable[Rect], limit: int = ADDRESS_LIMIT) -> list[str]:
    """Multi-area addresses ('A1:B2,D5,...') no longer than `limit` characters each."""
    chunks: list[str] = []
    current = ""
    for rect in rects:
        address = rect_address(rect)
        if current and len(current) + 1 + len(address) > limit:
            chunks.append(current)
            current = ""
        current = f"{current},{address}" if current else address
    if current:
        chunks.append(current)
    return chunks


# --- highlight rules --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkRule:
    """One conditional-format rule: over `rect`, on the listed rows only (None: on every cell)."""

    rect: Rect
    rows: tuple[int, ...] | None = None

    def formula(self, kind: MarkKind) -> str:
        marker = f"{MARK_PREFIX}{kind.value}"
        if self.rows is None:
            return f'="{marker}"<>""'
        listed = f"{marker}|{'|'.join(map(str, self.rows))}|"
        return f'=ISNUMBER(FIND("|"&ROW()&"|",{text_constant(listed)}))'

    def cells(self) -> Iterator[tuple[int, int]]:
        r1, c1, r2, c2 = self.rect
        for r in self.rows if self.rows is not None else range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                yield r, c


def text_constant(text: str) -> str:
    """A formula expression for `text`: string constants of at most LITERAL_LIMIT characters joined with &."""
    pieces = [text[i:i + LITERAL_LIMIT] for i in range(0, len(text), LITERAL_LIMIT)] or [""]
    return "&".join('"' + piece.replace('"', '""') + '"' for piece in pieces)


def constant_text(formula: str) -> str:
    """The text of a formula made by text_constant (the string constants, joined)."""
    return "".join(m.replace('""', '"') for m in re.findall(r'"((?:[^"]|"")*)"', formula))


def mark_rules(cells: Iterable[tuple[int, int]]) -> list[MarkRule]:
    """Rules covering exactly `cells`; their number depends on the columns involved, not on the number of rows."""
    spans: dict[tuple[int, int], list[int]] = defaultdict(list)  # (first column, last column) -> rows
    columns_by_row: dict[int, list[int]] = defaultdict(list)
    for r, c in set(cells):
        columns_by_row[r].append(c)
    for r, columns in columns_by_row.items():
        for c1, c2 in _runs(sorted(columns)):
            spans[(c1, c2)].append(r)
    rules: list[MarkRule] = []
    for (c1, c2), rows in sorted(spans.items()):
        listed: list[int] = []
        runs = list(_runs(sorted(rows)))
        for r1, r2 in runs:
            if r2 - r1 + 1 >= LONG_RUN or len(runs) == 1:
                rules.append(MarkRule((r1, c1, r2, c2)))
            else:
                listed.extend(range(r1, r2 + 1))
        rules += [MarkRule((chunk[0], c1, chunk[-1], c2), tuple(chunk)) for chunk in _row_chunks(listed)]
    return rules


def _row_chunks(rows: list[int]) -> Iterator[list[int]]:
    budget = FORMULA_LIMIT - 64
    chunk: list[int] = []
    size = 0
    for r in rows:
        cost = len(str(r)) + 1
        cost += 3 * ((size + cost) // LITERAL_LIMIT - size // LITERAL_LIMIT)
        if chunk and size + cost > budget:
            yield chunk
            chunk, size = [], 0
        chunk.append(r)
        size += cost
    if chunk:
        yield chunk


# --- the record of what ducha marked ------------------------------------------------------------------------------


@dataclass
class MarkRecord:
    """Rule ranges and note cells ducha wrote in the live workbook, by sheet name."""

    rules: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)

    def encode(self, limit: int = RECORD_LIMIT) -> str:
        """The record as text; entries beyond `limit` characters are left out (never cut in half)."""
        text = RECORD_VERSION
        for kind, entries in (("f", self.rules), ("n", self.notes)):
            for sheet, refs in entries.items():
                head, kept = f"/{kind}[{sheet}]", []
                for ref in refs:
                    if len(text) + len(head) + len(",".join([*kept, ref])) > limit:
                        log.warning("the mark record is full; %s!%s and later entries are not recorded", sheet, ref)
                        return text + (head + ",".join(kept) if kept else "")
                    kept.append(ref)
                if kept:
                    text += head + ",".join(kept)
        return text

    @classmethod
    def decode(cls, text: str) -> MarkRecord:
        record = cls()
        if not text.startswith(RECORD_VERSION):
            return record
        for kind, sheet, refs in re.findall(r"([fn])\[([^\]]*)\]([A-Z0-9:,]+)", text[len(RECORD_VERSION):]):
            target = record.rules if kind == "f" else record.notes
            target.setdefault(sheet, []).extend(refs.split(","))
        return record

    def __bool__(self) -> bool:
        return any(self.rules.values()) or any(self.notes.values())


def _find_name(book: Any, name: str) -> Any | None:
    for item in book.names:
        if item.name == name:
            return item
    return None


def read_record(book: Any) -> MarkRecord:
    """The record left by the previous live run (empty when there is none or it is unreadable)."""
    try:
        item = _find_name(book, RECORD_NAME)
        return MarkRecord.decode(constant_text(item.refers_to or "")) if item is not None else MarkRecord()
    except Exception as exc:  # a damaged or foreign name must not stop the run
        log.warning("cannot read the %s name: %s", RECORD_NAME, exc)
        return MarkRecord()


def write_record(book: Any, record: MarkRecord) -> None:
    """Store the record in the workbook name, or remove the name when nothing is marked."""
    item = _find_name(book, RECORD_NAME)
    if not record:
        if item is not None:
            item.delete()
        return
    formula = "=" + text_constant(record.encode())
    if item is not None:
        item.refers_to = formula
    else:
        book.names.add(RECORD_NAME, formula)


# --- engines ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    """What the xlwings engine behind a book can do."""

    name: str

    @property
    def remote(self) -> bool:
        return self.name == "remote"

    @property
    def multi_area(self) -> bool:
        """Desktop Excel takes 'A1,C3:D4'; the remote engine silently uses only the first area."""
        return not self.remote

    def column_width(self, characters: float) -> float:
        """Desktop Excel measures widths in characters, Office.js in points."""
        if not characters:
            return 0
        return round((characters * 7 + 5) * 0.75, 2) if self.remote else characters


def engine_of(book: Any) -> Engine:
    try:
        return Engine(book.app.engine.name)
    except Exception:
        return Engine("unknown")


def _com_api(obj: Any, engine: Engine) -> Any:
    """The pywin32 object behind an xlwings object on desktop Excel for Windows (features xlwings lacks)."""
    if engine.name != "excel":
        raise NotImplementedError(f"needs desktop Excel, not the {engine.name} engine")
    return obj.api


# --- applying a plan --------------------------------------------------------------------------------------------

STYLE_PROPERTIES: dict[Style, dict[str, Any]] = {
    Style.TITLE: {"bold": True, "size": 14},
    Style.HEADER: {"bold": True, "fill": FILLS[Style.HEADER], "wrap": True, "valign": "center"},
    Style.TOTAL: {"bold": True, "fill": FILLS[Style.TOTAL], "wrap": True, "valign": "center"},
    Style.PERCENT: {"number_format": "0.0%"},
    Style.NUMBER: {"number_format": "0.00"},
    Style.LINK: {"font_color": LINK_COLOR, "underline": True},
    Style.NOTE: {"wrap": True, "valign": "top"},
    Style.LEFT: {"halign": "left"},
    **{style: {"fill": FILLS[style]} for style in (Style.GOOD, Style.BAD)},
    **{style: {"fill": look.fill, "font_color": look.font, "bold": look.bold} for style, look in STYLE_LOOKS.items()},
}


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[0:2], 16), int(hex_color[2:4], 16), int(hex_color[4:6], 16)


def _set_property(rng: Any, prop: str, value: Any, engine: Engine) -> None:
    if prop == "fill":
        rng.color = _rgb(value)
    elif prop == "bold":
        rng.font.bold = value
    elif prop == "size":
        rng.font.size = value
    elif prop == "font_color":
        rng.font.color = _rgb(value)
    elif prop == "number_format":
        rng.number_format = value
    elif prop == "wrap":
        rng.wrap_text = value
    elif prop == "valign":
        rng.vertical_alignment = value
    elif prop == "halign":
        rng.horizontal_alignment = value
    elif prop == "underline":
        _com_api(rng, engine).Font.Underline = XL_UNDERLINE_SINGLE if value else XL_UNDERLINE_NONE
    else:
        raise ValueError(prop)


def apply_plan_live(book: Any, plan: OutputPlan, *, progress: Progress | None = None) -> LiveReport:
    """Recreate the plan's generated sheets, replace ducha's previous highlights and notes; input values stay."""
    say = progress or (lambda _message: None)
    engine = engine_of(book)
    report = LiveReport()
    say("督查助手：正在清除上次的结果…")
    record = read_record(book)
    reuse = _remove_generated_sheets(book, {s.name for s in plan.sheets})
    _remove_marks(book, record)
    for spec in plan.sheets:
        say(f"督查助手：正在写入「{spec.name}」…")
        _write_sheet(book, spec, engine, report, reuse)
        report.sheets.append(spec.name)
    written = {name.casefold() for name in report.sheets}
    for name, sheet in reuse.items():
        if name not in written and len(book.sheets) > 1:
            sheet.delete()
    if plan.marks:
        say("督查助手：正在标记问题单元格…")
    new_record = _apply_marks(book, plan.marks, report)
    write_record(book, new_record)
    if plan.sheets:
        book.sheets[plan.sheets[0].name].activate()
    return report


def _remove_generated_sheets(book: Any, extra: set[str]) -> dict[str, Any]:
    """Delete the generated sheets; if they are all the book has, keep the last one, cleared, for reuse."""
    names = {n.casefold() for n in (*GENERATED_SHEETS, *extra)}
    doomed = [s for s in book.sheets if s.name.casefold() in names]
    kept: dict[str, Any] = {}
    if doomed and len(doomed) == len(book.sheets):
        last = doomed.pop()
        last.clear()
        kept[last.name.casefold()] = last
    for sheet in doomed:
        sheet.delete()
    return kept


def _remove_marks(book: Any, record: MarkRecord) -> None:
    """Remove ducha's highlight rules and notes: by marker and author where the engine can list them, else by record."""
    generated = {n.casefold() for n in GENERATED_SHEETS}
    for sheet in book.sheets:
        if sheet.name.casefold() in generated:
            continue
        if not _remove_marked_rules(sheet):
            for ref in dict.fromkeys(record.rules.get(sheet.name, [])):
                sheet.range(ref).conditional_formats.clear()
        for ref in record.notes.get(sheet.name, []):
            note = sheet.range(ref).note
            if note is not None:
                note.delete()
        _remove_file_adapter_notes(sheet)


def _remove_marked_rules(sheet: Any) -> bool:
    """Delete every rule whose formula carries the marker; False when the engine cannot list rules."""
    try:
        rules = list(sheet.cells.conditional_formats)
    except Exception as exc:  # NotImplementedError on the remote engine
        log.debug("cannot list the rules of %s: %s", sheet.name, exc)
        return False
    for rule in reversed(rules):
        if MARK_PREFIX in (rule.formula or ""):
            rule.delete()
    return True


def _remove_file_adapter_notes(sheet: Any) -> None:
    """Notes the file adapter wrote (author "ducha"), where the engine can tell a note's author."""
    try:
        for note in list(sheet.notes):
            if note.author == NOTE_AUTHOR:
                note.delete()
    except Exception as exc:  # NotImplementedError on the remote engine
        log.debug("cannot read the note authors of %s: %s", sheet.name, exc)


def _position(book: Any, index: int) -> dict[str, Any]:
    """Keyword arguments for Sheets.add placing the new sheet at `index` (0-based)."""
    sheets = book.sheets
    index = max(0, min(index, len(sheets)))
    return {"before": sheets[0]} if index == 0 else {"after": sheets[index - 1]}


def _write_sheet(book: Any, spec: GeneratedSheet, engine: Engine, report: LiveReport, reuse: dict[str, Any]) -> None:
    """A new sheet at its position (None: after every other sheet), as the file adapter places it."""
    sheet = reuse.get(spec.name.casefold())
    if sheet is None:
        index = spec.position if spec.position is not None else len(book.sheets)
        sheet = book.sheets.add(name=spec.name, **_position(book, index))
    block, link_cells = sheet_block(spec)
    if block:
        sheet.range((1, 1), (len(block), len(block[0]))).value = block
    hidden = set(spec.hidden_columns)  # a column for machines (codes): width 0 hides it in Excel
    _column_widths(sheet, [0 if get_column_letter(i) in hidden else w for i, w in enumerate(spec.column_widths, 1)],
                   engine)
    _row_heights(sheet, spec.row_heights)
    styles = sheet_styles(spec) + [(ref, Style.LINK) for ref in link_cells]
    _apply_styles(sheet, styles, engine, report)
    for ref in spec.merges:
        sheet.range(ref).merge()
    for chart in spec.charts:
        _guarded(report, "charts", lambda chart=chart: _add_chart(sheet, chart))
    if spec.freeze:
        _guarded(report, "freeze panes", lambda: _freeze(book, sheet, spec.freeze, engine))
    if spec.auto_filter:
        _guarded(report, "auto filter", lambda: _com_api(sheet.range(spec.auto_filter), engine).AutoFilter())
    _guarded(report, "tab colour", lambda: setattr(_com_api(sheet, engine).Tab, "Color", _bgr(spec.tab_color)))
    report.skip("page setup")


def _guarded(report: LiveReport, feature: str, action: Callable[[], Any]) -> None:
    try:
        action()
    except Exception as exc:  # a cosmetic feature must not cost the clerk the results
        report.skip(feature, exc)


def _bgr(hex_color: str) -> int:
    r, g, b = _rgb(hex_color)
    return r + g * 256 + b * 65536


def sheet_block(spec: GeneratedSheet) -> tuple[list[list[Any]], list[str]]:
    """The sheet's rows as one rectangular block (links as HYPERLINK formulas, text kept as text) and the link cells."""
    width = max((len(row) for row in spec.rows), default=0)
    block = [[_cell_value(v) for v in row] + [None] * (width - len(row)) for row in spec.rows]
    link_cells = []
    for link in spec.links:
        r, c, _, _ = parse_rect(link.cell)
        if r > len(block) or c > width:
            continue
        shown = spec.rows[r - 1][c - 1] if c <= len(spec.rows[r - 1]) else None
        formula = hyperlink_formula(link.sheet, link.target, shown)
        if formula is not None:
            block[r - 1][c - 1] = formula
            link_cells.append(link.cell)
    return (block if width else []), link_cells


_COERCED = re.compile(r"\s*[-+(.$¥￥]?\s*\d|\s*[-+@#']|\s*(?i:true|false)\s*$")


def _cell_value(value: Any) -> Any:
    """A value for Excel: composed formulas with their "="; text Excel would turn into a formula, number, date or
    error keeps a quote."""
    if isinstance(value, Formula):
        return "=" + value.expr
    if isinstance(value, str) and (value.startswith("=") or _COERCED.match(value)):
        return "'" + value
    return value


def hyperlink_formula(sheet: str, target: str, shown: Any) -> str | None:
    """=HYPERLINK("#'sheet'!A1", shown): a link that works in every engine without a per-cell call."""
    location = f"#'{sheet.replace(chr(39), chr(39) * 2)}'!{target}"
    if shown is None or shown == "":
        shown = target
    if isinstance(shown, bool) or not isinstance(shown, int | float | str):
        shown = str(shown)
    if isinstance(shown, str):
        if len(shown) > LITERAL_LIMIT or shown.startswith("="):
            return None
        label = '"' + shown.replace('"', '""') + '"'
    else:
        label = repr(float(shown)) if isinstance(shown, float) else str(shown)
    if len(location) > LITERAL_LIMIT:
        return None
    return f'=HYPERLINK("{location.replace(chr(34), chr(34) * 2)}",{label})'


def _column_widths(sheet: Any, widths: list[float], engine: Engine) -> None:
    start = 0
    for i in range(1, len(widths) + 1):
        if i == len(widths) or widths[i] != widths[start]:
            sheet.range((1, start + 1), (1, i)).column_width = engine.column_width(widths[start])
            start = i


MAX_RECTS = 10  # more rectangles than this for one property: switch to a per-column call


def _row_heights(sheet: Any, heights: dict[int, float]) -> None:
    """Equal heights of neighbouring rows in one call; many different heights are left to Excel's autofit."""
    if not heights:
        return
    runs: list[tuple[int, int, float]] = []
    for row in sorted(heights):
        if runs and runs[-1][1] == row - 1 and runs[-1][2] == heights[row]:
            runs[-1] = (runs[-1][0], row, heights[row])
        else:
            runs.append((row, row, heights[row]))
    if len(runs) > MAX_RECTS:
        sheet.range(f"{min(heights)}:{max(heights)}").rows.autofit()
        return
    for first, last, height in runs:
        sheet.range(f"{first}:{last}").row_height = height


def _apply_styles(sheet: Any, styles: list[tuple[str, Style]], engine: Engine, report: LiveReport) -> None:
    """One call per property value and rectangle (desktop: per multi-area chunk); the last style of a cell wins."""
    values: dict[str, dict[tuple[int, int], Any]] = defaultdict(dict)
    for ref, style in styles:
        for prop, value in STYLE_PROPERTIES.get(style, {}).items():
            for cell in cells_of(parse_rect(ref)):
                values[prop][cell] = value
    for prop, by_cell in values.items():
        groups: dict[Any, list[tuple[int, int]]] = defaultdict(list)
        for cell, value in by_cell.items():
            groups[value].append(cell)
        rects = {value: rectangles(cells) for value, cells in groups.items()}
        if prop == "fill" and not engine.multi_area and sum(map(len, rects.values())) > MAX_RECTS:
            _fill_by_columns(sheet, by_cell)
            continue
        for value, value_rects in rects.items():
            refs = union_chunks(value_rects) if engine.multi_area else [rect_address(r) for r in value_rects]
            for ref in refs:
                try:
                    _set_property(sheet.range(ref), prop, value, engine)
                except NotImplementedError as exc:
                    report.skip(f"style {prop}", exc)


def _fill_by_columns(sheet: Any, fills: dict[tuple[int, int], str]) -> None:
    """Scattered fills with Range.set_colors over blocks of neighbouring columns (up to 10,000 cells a call);
    cells without a fill in the plan keep theirs."""
    spans: dict[int, tuple[int, int]] = {}
    for r, c in fills:
        low, high = spans.get(c, (r, r))
        spans[c] = (min(low, r), max(high, r))
    blocks: list[Rect] = []
    for c in sorted(spans):
        low, high = spans[c]
        if blocks:
            r1, c1, r2, c2 = blocks[-1]
            merged = (min(r1, low), c1, max(r2, high), c)
            if c2 == c - 1 and (merged[2] - merged[0] + 1) * (c - c1 + 1) <= COLORS_LIMIT:
                blocks[-1] = merged
                continue
        blocks.append((low, c, high, c))
    for r1, c1, r2, c2 in blocks:
        for top in range(r1, r2 + 1, max(1, COLORS_LIMIT // (c2 - c1 + 1))):
            bottom = min(r2, top + COLORS_LIMIT // (c2 - c1 + 1) - 1)
            matrix = [[_rgb(fills[(r, c)]) if (r, c) in fills else ... for c in range(c1, c2 + 1)]
                      for r in range(top, bottom + 1)]
            if any(v is not ... for row in matrix for v in row):
                sheet.range((top, c1), (bottom, c2)).set_colors(matrix)


def _freeze(book: Any, sheet: Any, ref: str, engine: Engine) -> None:
    """Freeze the rows above and the columns left of `ref` (openpyxl's meaning of freeze_panes)."""
    row, column, _, _ = parse_rect(ref)
    if row == 1 and column == 1:
        return
    if engine.remote:
        frozen = (f"1:{row - 1}" if column == 1 else
                  f"A:{get_column_letter(column - 1)}" if row == 1 else
                  f"A1:{get_column_letter(column - 1)}{row - 1}")
        sheet.freeze_panes.freeze_at(frozen)
        return
    sheet.activate()
    window = _com_api(book.app, engine).ActiveWindow
    window.FreezePanes = False
    window.SplitColumn = column - 1
    window.SplitRow = row - 1
    window.FreezePanes = True


def _add_chart(sheet: Any, spec: BarChart) -> None:
    """A clustered bar chart from the series' columns, with their title row, and the category labels."""
    boxes = [(parse_rect(title), parse_rect(values)) for title, values in spec.series]
    first_row = min(t[0] for t, _ in boxes)
    last_row = max(v[2] for _, v in boxes)
    first_col = min(v[1] for _, v in boxes)
    last_col = max(v[3] for _, v in boxes)
    source = sheet.range((first_row, first_col), (last_row, last_col))
    chart = sheet.charts.add(source=source, chart_type="bar_clustered", plot_by="columns",
                             anchor=sheet.range(spec.anchor), width=spec.width * POINTS_PER_CM,
                             height=spec.height * POINTS_PER_CM)
    chart.set_x_axis_values(sheet.range(spec.categories))
    chart.title = spec.title
    if spec.x_title:
        chart.category_axis.title = spec.x_title
    if spec.y_title:
        chart.value_axis.title = spec.y_title


def _apply_marks(book: Any, marks: list[Mark], report: LiveReport) -> MarkRecord:
    """Highlight rules per sheet and kind of mark (the first in MARK_PRECEDENCE added last, so on top) and up to
    NOTE_LIMIT notes."""
    present = {s.name: s for s in book.sheets}
    record = MarkRecord()
    marked_cells: set[tuple[str, tuple[int, int]]] = set()
    layers = mark_layers([m for m in marks if m.sheet in present])
    for name in sorted(layers):
        for kind, refs in reversed(layers[name]):
            cells = {cell for ref in refs for cell in cells_of(parse_rect(ref))}
            marked_cells.update((name, cell) for cell in cells)
            for rule in mark_rules(cells):
                for added in _add_rule(present[name], rule, kind):
                    record.rules.setdefault(name, []).append(rect_address(added.rect))
                    report.rules += 1
    report.marked_cells = len(marked_cells)
    _add_notes(present, marks, record, report)
    return record


def _add_rule(sheet: Any, rule: MarkRule, kind: MarkKind) -> list[MarkRule]:
    """Add one highlight rule; if Excel refuses its formula as too long, add it in halves."""
    look = MARK_LOOKS[kind]
    try:
        sheet.range(rect_address(rule.rect)).conditional_formats.add_custom(
            rule.formula(kind), fill_color=_rgb(look.fill), font_color=_rgb(look.font), font_bold=look.bold)
        return [rule]
    except Exception:
        if rule.rows is None or len(rule.rows) < 2:
            raise
        log.info("a highlight formula of %d characters was refused; adding it in halves", len(rule.formula(kind)))
    half = len(rule.rows) // 2
    parts = [rule.rows[:half], rule.rows[half:]]
    return [added for rows in parts for added in _add_rule(sheet, _rows_rule(rule.rect, rows), kind)]


def _rows_rule(rect: Rect, rows: tuple[int, ...]) -> MarkRule:
    _, c1, _, c2 = rect
    if len(rows) == 1:
        return MarkRule((rows[0], c1, rows[0], c2))
    return MarkRule((rows[0], c1, rows[-1], c2), rows)


def _add_notes(present: dict[str, Any], marks: list[Mark], record: MarkRecord, report: LiveReport) -> None:
    """One note per anchor cell (every mark's note on it, as the file adapter writes it), data-entry errors first."""
    shown = [m for m in marks if m.note and m.sheet in present]
    rank: dict[tuple[str, str], tuple[bool, int]] = {}
    for m in shown:
        key = (m.sheet, m.anchor)
        rank[key] = min(rank.get(key, (True, 9)), (m.follow_up, SEVERITY_ORDER[m.severity]))
    order = list(present)
    notes = mark_notes(shown)
    for sheet, anchor in sorted(notes, key=lambda k: (rank[k], order.index(k[0]), parse_rect(k[1]))):
        if report.notes_written >= NOTE_LIMIT:
            report.notes_left_out += 1
            continue
        address = rect_address(parse_rect(anchor)[:2] * 2)
        try:
            present[sheet].range(address).add_note(notes[(sheet, anchor)])
        except NotImplementedError as exc:
            report.skip("notes", exc)
            return
        except ValueError:
            report.notes_kept += 1
            continue
        record.notes.setdefault(sheet, []).append(address)
        report.notes_written += 1
