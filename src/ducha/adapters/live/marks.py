"""ducha's marks on the input sheets of the open workbook: highlight rules that carry the marker
``ducha:<kind>`` in their formula (like the file adapter's, so either adapter removes the other's), notes, and
the record of both in the workbook name ``ducha_marks`` for engines that cannot list rules or note authors.
The clerk's own fills and notes are never touched."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ducha.adapters.live.engine import rgb
from ducha.adapters.live.geometry import Rect, cells_of, consecutive_runs, parse_rect, rect_address
from ducha.adapters.live.report import NOTE_LIMIT, LiveReport
from ducha.model.findings import SEVERITY_ORDER
from ducha.model.schema import GENERATED_SHEETS
from ducha.sheets.outputplan import MARK_LOOKS, MARK_PREFIX, NOTE_AUTHOR, Mark, MarkKind, mark_layers, mark_notes

log = logging.getLogger("ducha.live")

RECORD_NAME = "ducha_marks"
RECORD_VERSION = "ducha/1"
LONG_RUN = 50  # a vertical run of this many marked rows gets a rule of its own instead of a row list
FORMULA_LIMIT = 4000  # characters of one rule formula (Excel allows 8,192; kept well below)
LITERAL_LIMIT = 250  # characters of one string constant in a formula (Excel allows 255)
RECORD_LIMIT = 7500  # characters of the record text (its name formula stays under Excel's 8,192)


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
        for c1, c2 in consecutive_runs(sorted(columns)):
            spans[(c1, c2)].append(r)
    rules: list[MarkRule] = []
    for (c1, c2), rows in sorted(spans.items()):
        listed: list[int] = []
        runs = list(consecutive_runs(sorted(rows)))
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


# --- removing and adding marks ----------------------------------------------------------------------------------


def remove_marks(book: Any, record: MarkRecord) -> None:
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


def apply_marks(book: Any, marks: list[Mark], report: LiveReport) -> MarkRecord:
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
            rule.formula(kind), fill_color=rgb(look.fill), font_color=rgb(look.font), font_bold=look.bold)
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
