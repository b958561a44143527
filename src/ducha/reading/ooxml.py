"""Where each sheet of an .xlsx package lives: the one reading of workbook.xml and its relationships."""

from __future__ import annotations

import posixpath

from defusedxml import ElementTree as SafeET


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def sheet_parts(workbook_xml: bytes, rels_xml: bytes) -> dict[str, str]:
    """Sheet title -> path of its part inside the package (e.g. "xl/worksheets/sheet1.xml"), in workbook order.

    Namespaces are matched by local name (strict and transitional packages alike); a DTD is refused."""
    if not workbook_xml or not rels_xml:
        return {}
    targets = {}
    for element in SafeET.fromstring(rels_xml, forbid_dtd=True).iter():
        if _local(element.tag) == "Relationship":
            target = element.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
            targets[element.get("Id")] = posixpath.normpath(path)
    parts = {}
    for element in SafeET.fromstring(workbook_xml, forbid_dtd=True).iter():
        if _local(element.tag) == "sheet":
            rel = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
            if rel in targets:
                parts[element.get("name", "")] = targets[rel]
    return parts
