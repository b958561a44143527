"""Sheet-level edits of a package: remove generated sheets, transplant new ones, mark input cells with notes.

The generated sheets come from a scratch package written by the one output layer (adapters/writer); their XML is
moved over with its drawings and charts, its cell formats re-pointed at the clerk's styles part and its strings
made inline, so that the clerk's shared strings and every other part stay as they are.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree
from openpyxl.utils import column_index_from_string, range_boundaries

from ducha.adapters.cached_values import escape
from ducha.adapters.package.opc import (
    CALC_CHAIN,
    COMMENTS,
    MAIN,
    PKG_REL,
    REL,
    STYLES,
    VML_DRAWING,
    WORKSHEET,
    Package,
    PackageError,
    dump,
    parse,
    q,
    rels_path,
    resolve,
)

WORKBOOK_CHILDREN = ("fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews", "sheets",
                     "functionGroups", "externalReferences", "definedNames", "calcPr", "oleSize",
                     "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes", "webPublishing",
                     "fileRecoveryPr", "webPublishObjects", "extLst")
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
COMMENTS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
VML_TYPE = "application/vnd.openxmlformats-officedocument.vmlDrawing"
EXTENDED = REL + "/extended-properties"
VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_SHAPE = re.compile(rb"<v:shape\b(?:(?!<v:shape\b).)*?</v:shape>", re.S)
_ROW = re.compile(rb"<x:Row>\s*(\d+)\s*</x:Row>")
_COLUMN = re.compile(rb"<x:Column>\s*(\d+)\s*</x:Column>")
_IDMAP = re.compile(rb'<o:idmap\b[^>]*\bdata="([0-9, ]+)"')
_SHAPE_ID = re.compile(rb'\bid="_x0000_s(\d+)"')


def insert_child(root: etree._Element, element: etree._Element, order: tuple[str, ...]) -> None:
    """Put `element` where the schema's child order wants it (before the first later or foreign child)."""
    later = set(order[order.index(etree.QName(element).localname) + 1:])
    for child in root:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child)
        if name.namespace != MAIN or name.localname in later:
            child.addprevious(element)
            return
    root.append(element)


@dataclass
class SheetEntry:
    name: str
    part: str | None  # None for a sheet still to be added
    element: etree._Element
    new: int | None = None  # index into the generated sheets


@dataclass
class Workbook:
    """workbook.xml and its relationships, open for sheet edits."""

    package: Package
    part: str
    root: etree._Element = field(init=False)
    entries: list[SheetEntry] = field(init=False)
    old_index: dict[int, int] = field(default_factory=dict)  # id(element) -> index before the edit

    def __post_init__(self) -> None:
        self.root = parse(self.package.read(self.part))
        targets = self.package.targets(self.part)
        sheets = self.root.find(q("sheets"))
        if sheets is None:
            raise PackageError("workbook without sheets")
        self.entries = []
        for i, element in enumerate(sheets.findall(q("sheet"))):
            part = targets.get(element.get(q("id", REL)) or "")
            if part is None or part not in self.package:
                raise PackageError(f"sheet {element.get('name')} has no part")
            self.entries.append(SheetEntry(element.get("name", ""), part, element))
            self.old_index[id(element)] = i
        self.old_names = [e.name for e in self.entries]

    def remove_sheets(self, names: set[str]) -> bool:
        """Remove the named sheets and every part only they used; returns whether any was removed."""
        gone = [e for e in self.entries if e.name in names]
        if not gone:
            return False
        ids = {e.element.get(q("id", REL)) for e in gone}
        self.package.remove_rels(self.part, {i for i in ids if i})
        for e in gone:
            e.element.getparent().remove(e.element)
        self.entries = [e for e in self.entries if e.name not in names]
        kept = self.package.reachable([""])
        for part in self.package.reachable([e.part for e in gone if e.part]) - kept:
            self.package.delete(part)
        targets = self.package.targets(self.part)
        for r in self.package.rels(self.part):
            if r.type == CALC_CHAIN and r.id in targets:  # it names sheets by position: Excel rebuilds it
                self.package.delete(targets[r.id])
                self.package.remove_rels(self.part, {r.id})
        return True

    def add_sheet(self, name: str, position: int | None, part: str, index: int) -> None:
        sheets = self.root.find(q("sheets"))
        used = [int(s.get("sheetId", "0")) for s in sheets]
        rid = self.package.add_rel(self.part, WORKSHEET, part)
        element = etree.Element(q("sheet"), name=name, sheetId=str(max(used, default=0) + 1))
        element.set(q("id", REL), rid)
        entry = SheetEntry(name, part, element, new=index)
        at = len(self.entries) if position is None else min(position, len(self.entries))
        if at < len(self.entries):
            self.entries[at].element.addprevious(element)
        else:
            sheets.append(element)
        self.entries.insert(at, entry)

    def styles_part(self) -> str | None:
        for r in self.package.rels(self.part):
            if r.type == STYLES:
                return self.package.targets(self.part)[r.id]
        return None

    def finish(self, defined: Iterable[etree._Element], active: str | None) -> None:
        """Renumber sheet-local defined names, add the generated sheets' ones, select `active`; write the part."""
        final = {self.old_index[id(e.element)]: i for i, e in enumerate(self.entries) if e.new is None}
        new_index = {e.new: i for i, e in enumerate(self.entries) if e.new is not None}
        names = self.root.find(q("definedNames"))
        if names is not None:
            for name in list(names):
                local = name.get("localSheetId")
                if local is None or not local.isdigit():
                    continue
                if int(local) in final:
                    name.set("localSheetId", str(final[int(local)]))
                else:
                    names.remove(name)
        for name in defined:
            if names is None:
                names = etree.Element(q("definedNames"))
                insert_child(self.root, names, WORKBOOK_CHILDREN)
            local = name.get("localSheetId")
            if local is not None and int(local) in new_index:
                name.set("localSheetId", str(new_index[int(local)]))
            names.append(name)
        if names is not None and len(names) == 0:
            self.root.remove(names)
        view = self.root.find(f"{q('bookViews')}/{q('workbookView')}")
        if view is not None:
            names_now = [e.name for e in self.entries]
            if active in names_now:
                view.set("activeTab", str(names_now.index(active)))
            elif int(view.get("activeTab", "0")) >= len(names_now):
                view.set("activeTab", "0")
            if int(view.get("firstSheet", "0")) >= len(names_now):
                view.set("firstSheet", "0")
        self.package.parts[self.part] = dump(self.root)
        self._update_app_properties()

    def _update_app_properties(self) -> None:
        """docProps/app.xml lists the sheet names; rewrite that list when it matches the old sheets."""
        app = next((p for r, p in ((r, self.package.targets("").get(r.id)) for r in self.package.rels(""))
                    if r.type == EXTENDED and p in self.package), None)
        if app is None:
            return
        root = parse(self.package.read(app))
        pairs = root.find(f"{{*}}HeadingPairs/{{{VT}}}vector")
        titles = root.find(f"{{*}}TitlesOfParts/{{{VT}}}vector")
        if pairs is None or titles is None:
            return
        variants = list(pairs)
        counts = [v.find(f"{{{VT}}}i4") for v in variants[1::2]]
        texts = [t.text or "" for t in titles]
        offset = 0
        new_names = [e.name for e in self.entries]
        for count in counts:
            if count is None or not (count.text or "").strip().isdigit():
                return
            n = int(count.text)
            if texts[offset:offset + n] == self.old_names:
                for element in list(titles)[offset:offset + n]:
                    titles.remove(element)
                for i, sheet_name in enumerate(new_names):
                    item = etree.Element(f"{{{VT}}}lpstr")
                    item.text = sheet_name
                    titles.insert(offset + i, item)
                count.text = str(len(new_names))
                titles.set("size", str(len(titles)))
                self.package.parts[app] = dump(root)
                return
            offset += n


def clear_tab_selection(xml: bytes) -> bytes:
    """A sheet's XML without `tabSelected="1"` (one selected tab: the first generated sheet)."""
    head = xml.find(b"sheetData")
    head = len(xml) if head < 0 else head
    return _TAB_SELECTED.sub(rb"\1", xml[:head], count=1) + xml[head:]


# --- moving generated sheets over ----------------------------------------------------------------------------------


def _inline_strings(sheet: etree._Element, strings: list[etree._Element]) -> None:
    for cell in sheet.iter(q("c")):
        if cell.get("t") != "s":
            continue
        value = cell.find(q("v"))
        text = strings[int(value.text)] if value is not None and (value.text or "").isdigit() else None
        cell.set("t", "inlineStr")
        if value is not None:
            cell.remove(value)
        inline = etree.SubElement(cell, q("is"))
        for child in (text if text is not None else []):
            inline.append(copy.deepcopy(child))


def _restyle(sheet: etree._Element, xfs: dict[int, int], dxfs: dict[int, int]) -> None:
    for tag, attribute, table in (("c", "s", xfs), ("row", "s", xfs), ("col", "style", xfs), ("cfRule", "dxfId", dxfs)):
        for element in sheet.iter(q(tag)):
            value = element.get(attribute)
            if value is not None and value.isdigit():
                element.set(attribute, str(table.get(int(value), 0)))


def transplant(target: Package, scratch: Package, xfs_dxfs: tuple[dict[int, int], dict[int, int]],
               source_part: str) -> str:
    """Copy one sheet of the scratch package (and what it uses) into `target`; returns the new sheet part."""
    xfs, dxfs = xfs_dxfs
    shared = "xl/sharedStrings.xml"
    strings = list(parse(scratch.read(shared))) if shared in scratch else []
    parts = sorted(scratch.reachable([source_part]))
    renamed = {}
    for part in parts:  # reserve every new name before any relationship is written
        renamed[part] = target.free_name(part)
        target.parts[renamed[part]] = b""
    for part in parts:
        data = scratch.read(part)
        if part == source_part:
            sheet = parse(data)
            _inline_strings(sheet, strings)
            _restyle(sheet, xfs, dxfs)
            for value in sheet.iter(q("v")):  # an empty cached text stays <v></v>, as the writer wrote it
                if value.text is None:
                    value.text = ""
            data = dump(sheet)
        target.put(renamed[part], data, scratch.content_type(part))
        relationships = scratch.rels(part)
        if relationships:
            root = etree.Element(q("Relationships", PKG_REL), nsmap={None: PKG_REL})
            for r in relationships:
                attributes = {"Id": r.id, "Type": r.type, "Target": r.target}
                if r.external:
                    attributes["TargetMode"] = "External"
                else:
                    resolved = resolve(part, r.target)
                    attributes["Target"] = "/" + renamed.get(resolved, resolved)
                etree.SubElement(root, q("Relationship", PKG_REL), **attributes)
            target.parts[rels_path(renamed[part])] = dump(root)
    return renamed[source_part]


# --- marks: conditional formats and notes on input cells -----------------------------------------------------------


_ROOT = re.compile(rb"<(\w+:)?worksheet\b")
_CF_BLOCK = re.compile(rb"<(\w+:)?conditionalFormatting\b[^>]*>.*?</\1?conditionalFormatting>", re.S)
_CF_RULE = re.compile(rb"<(\w+:)?cfRule\b[^>]*?(?:/>|>.*?</\1?cfRule>)", re.S)
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*\bref=\"([^\"]+)\"")
_TAB_SELECTED = re.compile(rb'(<(?:\w+:)?sheetView\b[^>]*?)\s+tabSelected="(?:1|true)"')
_PRIORITY = re.compile(rb"<(?:\w+:)?cfRule\b[^>]*\bpriority=\"(\d+)\"")
_AFTER_CF = rb"dataValidations|hyperlinks|printOptions|pageMargins|pageSetup|headerFooter|rowBreaks|colBreaks|" \
    rb"customProperties|cellWatches|ignoredErrors|smartTags|drawing|legacyDrawing|legacyDrawingHF|picture|" \
    rb"oleObjects|controls|webPublishItems|tableParts|extLst"
_AFTER_LEGACY = rb"legacyDrawingHF|picture|oleObjects|controls|webPublishItems|tableParts|extLst"
_LEGACY = re.compile(rb"<(?:\w+:)?legacyDrawing\b[^>]*\bid=\"([^\"]+)\"")


def _prefix(xml: bytes) -> bytes:
    """The main namespace's prefix of a sheet's XML with its colon (b"" for the default namespace)."""
    root = _ROOT.search(xml)
    return root.group(1) or b"" if root else b""


def _top_level_start(xml: bytes) -> int:
    """Where the children after sheetData and the conditional formats begin (nothing nested is searched)."""
    data = xml.rfind(b"sheetData")
    start = xml.find(b">", data) + 1 if data >= 0 else 0
    last_format = xml.rfind(b"conditionalFormatting>")
    return max(start, last_format + len(b"conditionalFormatting>") if last_format >= 0 else 0)


def _insert_before(xml: bytes, names: bytes, element: bytes, start: int) -> bytes:
    """`element` before the first top-level child named in `names` (or mc:AlternateContent), from `start` on."""
    found = re.compile(rb"<(?:(?:\w+:)?(?:" + names + rb")\b|mc:AlternateContent\b|/(?:\w+:)?worksheet>)")
    match = found.search(xml, start)
    if match is None:
        raise PackageError("sheet XML without its end tag")
    return xml[:match.start()] + element + xml[match.start():]


def remove_marks(xml: bytes, marker: str) -> bytes:
    """The sheet without ducha's highlight rules (their formula carries `marker`); the clerk's rules stay."""
    needle = escape(marker).encode()

    def block(match: re.Match[bytes]) -> bytes:
        text = match.group(0)
        if needle not in text:
            return text
        text = _CF_RULE.sub(lambda r: b"" if needle in r.group(0) else r.group(0), text)
        return text if _CF_RULE.search(text) else b""

    return _CF_BLOCK.sub(block, xml)


def add_marks(xml: bytes, rules: list[tuple[list[str], int, str]]) -> bytes:
    """One rule per (cells, dxf index, formula), ducha's first in precedence among themselves, after the clerk's."""
    if not rules:
        return xml
    p = _prefix(xml)
    start = max([int(m.group(1)) for m in _PRIORITY.finditer(xml, max(xml.rfind(b"sheetData"), 0))], default=0) + 1
    blocks = b"".join(
        b"<" + p + b'conditionalFormatting sqref="' + " ".join(cells).encode() + b'"><' + p
        + b'cfRule type="expression" dxfId="' + str(dxf).encode() + b'" priority="' + str(start + i).encode()
        + b'"><' + p + b"formula>" + escape(formula).encode() + b"</" + p + b"formula></" + p + b"cfRule></" + p
        + b"conditionalFormatting>"
        for i, (cells, dxf, formula) in enumerate(rules))
    return _insert_before(xml, _AFTER_CF, blocks, _top_level_start(xml))


def legacy_drawing_id(xml: bytes) -> str | None:
    found = _LEGACY.search(xml, max(xml.rfind(b"sheetData"), 0))
    return found.group(1).decode() if found else None


def add_legacy_drawing(xml: bytes, rid: str) -> bytes:
    element = (b"<" + _prefix(xml) + b'legacyDrawing xmlns:r="' + REL.encode() + b'" r:id="' + rid.encode() + b'"/>')
    return _insert_before(xml, _AFTER_LEGACY, element, _top_level_start(xml))


def merged_followers(xml: bytes) -> set[str]:
    """Cells inside a merged range other than its top-left one (they cannot hold a note)."""
    from openpyxl.utils import get_column_letter

    cells = set()
    for merge in _MERGE.finditer(xml, max(xml.rfind(b"sheetData"), 0)):
        min_col, min_row, max_col, max_row = range_boundaries(merge.group(1).decode())
        for row in range(min_row, max_row + 1):
            for col in range(min_col, max_col + 1):
                if (row, col) != (min_row, min_col):
                    cells.add(f"{get_column_letter(col)}{row}")
    return cells


def _cell_position(ref: str) -> tuple[int, int]:
    """0-based (row, column) of an A1 cell."""
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters):]) - 1, column_index_from_string(letters) - 1


def _vml_shape(number: int, ref: str, size: tuple[int, int]) -> bytes:
    row, col = _cell_position(ref)
    width, height = size[0] * 0.75, size[1] * 0.75
    return (f'<v:shape id="_x0000_s{number}" type="#_x0000_t202" style="position:absolute;margin-left:59.25pt;'
            f'margin-top:1.5pt;width:{width:g}pt;height:{height:g}pt;z-index:{number % 1024};visibility:hidden" '
            'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
            '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{col + 1}, 15, {row}, 2, {col + 5}, 15, {row + 8}, 16</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row><x:Column>{col}</x:Column></x:ClientData>"
            "</v:shape>").encode()


_SHAPETYPE = (b'<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
              b'<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>')


def _new_vml(idmap: int) -> bytes:
    return (b'<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            b'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit">'
            b'<o:idmap v:ext="edit" data="' + str(idmap).encode() + b'"/></o:shapelayout>' + _SHAPETYPE + b"</xml>")


_VML_PREFIXES = ((b"v", b"urn:schemas-microsoft-com:vml"), (b"o", b"urn:schemas-microsoft-com:office:office"),
                 (b"x", b"urn:schemas-microsoft-com:office:excel"))


def _declare_vml_prefixes(vml: bytes) -> bytes:
    """The VML with the v:, o: and x: prefixes ducha's shapes use declared on its root (openpyxl's VML lacks them)."""
    root = re.search(rb"<xml\b[^>]*>", vml)
    if root is None:
        raise PackageError("VML drawing without its root")
    tag = root.group(0)
    missing = b"".join(b" xmlns:" + p + b'="' + uri + b'"' for p, uri in _VML_PREFIXES
                       if b"xmlns:" + p + b"=" not in tag)
    if not missing:
        return vml
    closing = len(tag) - (2 if tag.endswith(b"/>") else 1)
    return vml[:root.start()] + tag[:closing] + missing + tag[closing:] + vml[root.end():]


def _used_idmaps(package: Package) -> set[int]:
    used = set()
    for name, data in package.parts.items():
        if name.endswith(".vml"):
            for match in _IDMAP.finditer(data):
                used.update(int(n) for n in re.split(rb"[, ]+", match.group(1)) if n.strip())
    return used


class Notes:
    """The comments part and VML drawing of one input sheet, with ducha's notes replaced."""

    def __init__(self, package: Package, sheet_part: str, sheet: bytes, author: str) -> None:
        self.package, self.sheet_part, self.sheet, self.author = package, sheet_part, sheet, author
        rels = package.rels(sheet_part)
        targets = package.targets(sheet_part)
        self.comments_part = next((targets[r.id] for r in rels if r.type == COMMENTS and r.id in targets), None)
        rid = legacy_drawing_id(sheet)
        self.vml_part = targets.get(rid) if rid else None
        self.comments = parse(package.read(self.comments_part)) if self.comments_part in package else None

    def clerks_cells(self) -> set[str]:
        """Cells holding a note that is not ducha's (after ducha's are removed)."""
        if self.comments is None:
            return set()
        return {c.get("ref", "") for c in self.comments.iter(q("comment"))}

    def remove_ours(self) -> bool:
        if self.comments is None:
            return False
        authors = [a.text or "" for a in self.comments.iter(q("author"))]
        if self.author not in authors:
            return False
        ours = str(authors.index(self.author))
        found = False
        for comment in list(self.comments.iter(q("comment"))):
            if comment.get("authorId") == ours:
                comment.getparent().remove(comment)
                found = True
        return found

    def write(self, notes: dict[str, str], size: tuple[int, int], removed: bool) -> None:
        """Add `notes` (cell -> text) and write the comments part and the VML drawing."""
        if not notes and not removed:
            return
        if self.comments is None:
            self.comments = etree.Element(q("comments"), nsmap={None: MAIN})
            etree.SubElement(self.comments, q("authors"))
            etree.SubElement(self.comments, q("commentList"))
        authors = self.comments.find(q("authors"))
        names = [a.text or "" for a in authors]
        if self.author not in names and notes:
            etree.SubElement(authors, q("author")).text = self.author
            names.append(self.author)
        listing = self.comments.find(q("commentList"))
        for ref, text in notes.items():
            comment = etree.SubElement(listing, q("comment"), ref=ref, authorId=str(names.index(self.author)))
            run = etree.SubElement(etree.SubElement(comment, q("text")), q("r"))
            t = etree.SubElement(run, q("t"))
            t.text = text
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        if self.comments_part is None:
            self.comments_part = self.package.free_name("xl/comments1.xml")
            self.package.add_rel(self.sheet_part, COMMENTS, self.comments_part)
        self.package.put(self.comments_part, dump(self.comments), COMMENTS_TYPE)
        self._write_vml(notes, size)

    def _write_vml(self, notes: dict[str, str], size: tuple[int, int]) -> None:
        if self.vml_part is None or self.vml_part not in self.package:
            self.vml_part = self.package.free_name("xl/drawings/vmlDrawing1.vml")
            used = _used_idmaps(self.package)
            idmap = next(n for n in range(1, 10_000) if n not in used)
            vml = _new_vml(idmap)
            rid = self.package.add_rel(self.sheet_part, VML_DRAWING, self.vml_part)
            if legacy_drawing_id(self.sheet) is not None:  # it points at a part that is missing: re-point it
                self.sheet = _LEGACY.sub(lambda m: m.group(0).replace(m.group(1), rid.encode()), self.sheet, count=1)
            else:
                self.sheet = add_legacy_drawing(self.sheet, rid)
        else:
            vml = self.package.read(self.vml_part)
        keep = {_cell_position(ref) for ref in self.clerks_cells()} - {_cell_position(ref) for ref in notes}

        def stale(match: re.Match[bytes]) -> bytes:
            shape = match.group(0)
            if b'ObjectType="Note"' not in shape:
                return shape
            row, col = _ROW.search(shape), _COLUMN.search(shape)
            if row and col and (int(row.group(1)), int(col.group(1))) in keep:
                return shape
            return b""

        vml = _declare_vml_prefixes(_SHAPE.sub(stale, vml))
        if b'id="_x0000_t202"' not in vml:
            vml = vml.replace(b"</xml>", _SHAPETYPE + b"</xml>")
        idmap = _IDMAP.search(vml)
        base = int(re.split(rb"[, ]+", idmap.group(1).strip())[0]) * 1024 if idmap else 1024
        number = max([base, *(int(m.group(1)) for m in _SHAPE_ID.finditer(vml))]) + 1
        shapes = b"".join(_vml_shape(number + i, ref, size) for i, ref in enumerate(notes))
        head, tail = vml.rsplit(b"</xml>", 1) if b"</xml>" in vml else (vml, b"")
        self.package.put(self.vml_part, head + shapes + b"</xml>" + tail, VML_TYPE)
