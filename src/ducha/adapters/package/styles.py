"""Append cell formats and differential formats to a workbook's styles part, reusing equal ones.

Every existing entry keeps its index, so the clerk's cells look exactly as before; a format equal to one already
there is reused, so running ducha again does not grow the part.
"""

from __future__ import annotations

import copy

from lxml import etree

from ducha.adapters.package.opc import MAIN, dump, parse, q
from ducha.sheets.outputplan import MarkLook

# CT_Stylesheet's children, in schema order.
ORDER = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs", "tableStyles",
         "colors", "extLst")
FIRST_CUSTOM_NUMFMT = 164


def _key(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


class Styles:
    """The clerk's styles part, open for appending."""

    def __init__(self, data: bytes) -> None:
        self.root = parse(data)
        self._index: dict[str, dict[bytes, int]] = {}

    def bytes(self) -> bytes:
        return dump(self.root)

    def _list(self, name: str) -> etree._Element:
        found = self.root.find(q(name))
        if found is not None:
            return found
        element = etree.Element(q(name))
        position = ORDER.index(name)
        later = [c for c in self.root if etree.QName(c).localname in ORDER[position + 1:]]
        if later:
            later[0].addprevious(element)
        else:
            self.root.append(element)
        return element

    def _add(self, name: str, item: etree._Element) -> int:
        """Index of an entry equal to `item` in list `name`, appended if there is none."""
        container = self._list(name)
        index = self._index.get(name)
        if index is None:
            index = {}
            for i, child in enumerate(c for c in container if isinstance(c.tag, str)):
                index.setdefault(_key(child), i)
            self._index[name] = index
        key = _key(item)
        if key not in index:
            index[key] = sum(1 for c in container if isinstance(c.tag, str))
            container.append(copy.deepcopy(item))
            container.set("count", str(index[key] + 1))
        return index[key]

    def number_format(self, number_id: int, code: str | None) -> int:
        """The id of number format `code` in this part (built-in ids below 164 are kept)."""
        if number_id < FIRST_CUSTOM_NUMFMT or code is None:
            return number_id
        formats = self._list("numFmts")
        for f in formats:
            if f.get("formatCode") == code:
                return int(f.get("numFmtId"))
        used = [int(f.get("numFmtId", "0")) for f in formats if f.get("numFmtId", "").isdigit()]
        new_id = max([FIRST_CUSTOM_NUMFMT - 1, *used]) + 1
        etree.SubElement(formats, q("numFmt"), numFmtId=str(new_id), formatCode=code)
        formats.set("count", str(len(formats)))
        return new_id

    def merge(self, other: bytes) -> tuple[dict[int, int], dict[int, int]]:
        """Append the cell formats and differential formats of another styles part (a scratch workbook's);
        returns the maps old cellXfs index -> new and old dxf index -> new."""
        theirs = parse(other)
        codes = {int(f.get("numFmtId")): f.get("formatCode") for f in theirs.iterfind(f"{q('numFmts')}/{q('numFmt')}")}

        def entries(name: str) -> list[etree._Element]:
            found = theirs.find(q(name))
            return [] if found is None else [c for c in found if isinstance(c.tag, str)]

        fonts = [self._add("fonts", f) for f in entries("fonts")]
        fills = [self._add("fills", f) for f in entries("fills")]
        borders = [self._add("borders", b) for b in entries("borders")]
        xfs = {}
        for i, xf in enumerate(entries("cellXfs")):
            xf = copy.deepcopy(xf)
            number = int(xf.get("numFmtId", "0"))
            xf.set("numFmtId", str(self.number_format(number, codes.get(number))))
            for attribute, table in (("fontId", fonts), ("fillId", fills), ("borderId", borders)):
                old = int(xf.get(attribute, "0"))
                xf.set(attribute, str(table[old] if old < len(table) else 0))
            xf.set("xfId", "0")
            xfs[i] = self._add("cellXfs", xf)
        dxfs = {}
        for i, dxf in enumerate(entries("dxfs")):
            dxfs[i] = self.add_dxf(dxf)
        return xfs, dxfs

    def add_dxf(self, dxf: etree._Element) -> int:
        dxf = copy.deepcopy(dxf)
        number = dxf.find(q("numFmt"))
        if number is not None:
            number.set("numFmtId", str(self.number_format(int(number.get("numFmtId", "0")), number.get("formatCode"))))
        return self._add("dxfs", dxf)

    def mark_dxf(self, look: MarkLook) -> int:
        """The differential format of a mark: its font colour (bold or not) and solid fill."""
        dxf = etree.Element(q("dxf"), nsmap={None: MAIN})
        font = etree.SubElement(dxf, q("font"))
        if look.bold:
            etree.SubElement(font, q("b"))
        etree.SubElement(font, q("color"), rgb="FF" + look.font)
        rgb = look.fill
        pattern = etree.SubElement(etree.SubElement(dxf, q("fill")), q("patternFill"), patternType="solid")
        etree.SubElement(pattern, q("fgColor"), rgb="FF" + rgb)
        etree.SubElement(pattern, q("bgColor"), rgb="FF" + rgb)
        return self.add_dxf(dxf)

