"""Write results into the clerk's .xlsx/.xlsm by editing its package part by part.

The generated sheets (written by the one output layer into a scratch package) are moved in with the parts they
use; the input sheets get ducha's highlight rules and notes; workbook.xml, its relationships, the content types,
the styles and docProps/app.xml are updated. Every other part — pictures, charts, shapes, form controls, x14 data
validations, sparklines, slicers, threaded comments, VBA — is carried over byte for byte. The previous run's
generated sheets (by name) and marks (by MARK_PREFIX in the rule, by author on the note) are removed first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ducha.adapters.package.opc import COMMENTS, Package, PackageError, q
from ducha.adapters.package.sheets import (
    Notes,
    Workbook,
    add_marks,
    clear_tab_selection,
    merged_followers,
    remove_marks,
    transplant,
)
from ducha.adapters.package.styles import Styles
from ducha.sheets.outputplan import MarkLook

__all__ = ["PackageError", "SheetMarks", "add_results"]


@dataclass
class SheetMarks:
    """ducha's marks on one input sheet: highlight rules (cells, look, formula) and notes (cell -> text)."""

    rules: list[tuple[list[str], MarkLook, str]] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)


def add_results(data: bytes, scratch: bytes | None, placed: list[tuple[str, int | None]], generated: set[str],
                marks: dict[str, SheetMarks], *, marker: str, author: str,
                note_size: tuple[int, int]) -> Iterable[tuple[str, bytes]]:
    """The parts of the clerk's package `data` with the sheets of `scratch` put at their positions (`placed`:
    name, position, in scratch order), the sheets named in `generated` removed first, and `marks` applied.
    Raises PackageError when the package cannot be edited safely."""
    try:
        return _add_results(data, scratch, placed, generated, marks, marker, author, note_size)
    except PackageError:
        raise
    except (KeyError, ValueError, IndexError, AttributeError, TypeError) as exc:  # a structure we do not expect
        raise PackageError(f"{type(exc).__name__}: {exc}") from None


def _add_results(data, scratch, placed, generated, marks, marker, author, note_size):
    package = Package.from_bytes(data)
    book = Workbook(package, package.main_part())
    book.remove_sheets(generated)
    styles_part = book.styles_part()
    if styles_part is None or styles_part not in package:
        raise PackageError("no styles part")
    styles = Styles(package.read(styles_part))
    inputs = [(e.name, e.part) for e in book.entries]

    for name, part in inputs:
        _mark_sheet(package, styles, part, marks.get(name), marker, author, note_size)

    defined = None
    if scratch is not None:
        source = Package.from_bytes(scratch)
        source_book = Workbook(source, source.main_part())
        maps = styles.merge(source.read(source_book.styles_part()))
        by_name = {e.name: e.part for e in source_book.entries}
        for index, (name, position) in enumerate(placed):
            part = transplant(package, source, maps, by_name[name])
            book.add_sheet(name, position, part, index)
        defined = source_book.root.find(q("definedNames"))
    package.parts[styles_part] = styles.bytes()
    book.finish([] if defined is None else list(defined), placed[0][0] if placed else None)
    return list(package.items())


def _mark_sheet(package: Package, styles: Styles, part: str, marks: SheetMarks | None, marker: str, author: str,
                note_size: tuple[int, int]) -> None:
    """Replace ducha's highlights and notes on one input sheet. The sheet's XML is edited as bytes: only ducha's
    elements are removed or inserted, everything else stays byte for byte."""
    data = package.read(part)
    xml = clear_tab_selection(data)
    if marker.encode() in xml:
        xml = remove_marks(xml, marker)
    if marks:
        xml = add_marks(xml, [(cells, styles.mark_dxf(look), formula) for cells, look, formula in marks.rules])
    if (marks and marks.notes) or _may_hold_notes(package, part):
        notes = Notes(package, part, xml, author)
        removed = notes.remove_ours()
        taken = notes.clerks_cells() | merged_followers(xml)
        wanted = {ref: text for ref, text in (marks.notes.items() if marks else ()) if ref not in taken}
        notes.write(wanted, note_size, removed)
        xml = notes.sheet
    if xml != data:
        package.parts[part] = xml


def _may_hold_notes(package: Package, part: str) -> bool:
    return any(r.type == COMMENTS for r in package.rels(part))

