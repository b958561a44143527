"""An .xlsx/.xlsm package as parts: read, follow relationships, add and delete parts, write.

Parts are kept as the bytes they were read as; only the parts an edit touches are re-serialised.
XML from the file is parsed with lxml without entities or network access (the file may come by email).
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
OFFICE_DOCUMENT = REL + "/officeDocument"
WORKSHEET = REL + "/worksheet"
COMMENTS = REL + "/comments"
VML_DRAWING = REL + "/vmlDrawing"
CALC_CHAIN = REL + "/calcChain"
STYLES = REL + "/styles"
CONTENT_TYPES = "[Content_Types].xml"
MAX_PART_BYTES = 512 * 1024 * 1024  # refuse zip bombs before decompressing

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False, huge_tree=True)


class PackageError(Exception):
    """The package cannot be edited safely (damaged, unusual structure); the results go to a new workbook."""


def parse(data: bytes) -> etree._Element:
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise PackageError(f"XML part does not parse: {exc}") from None


def dump(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def q(name: str, ns: str = MAIN) -> str:
    """A qualified tag or attribute name."""
    return f"{{{ns}}}{name}"


def rels_path(part: str) -> str:
    folder, base = posixpath.split(part)
    return posixpath.join(folder, "_rels", base + ".rels")


def resolve(source: str, target: str) -> str:
    """The part a relationship of `source` points at."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


@dataclass
class Relationship:
    id: str
    type: str
    target: str
    external: bool


class Package:
    """The parts of a zip package, in their order, with the content types and relationships."""

    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = parts
        if CONTENT_TYPES not in parts:
            raise PackageError("no [Content_Types].xml")
        self.types = parse(parts[CONTENT_TYPES])
        self._types_changed = False

    @classmethod
    def from_bytes(cls, data: bytes) -> Package:
        import io

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if sum(i.file_size for i in archive.infolist()) > MAX_PART_BYTES:
                    raise PackageError("package too large")
                return cls({i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()})
        except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, ValueError, EOFError) as exc:
            raise PackageError(f"zip does not read: {exc}") from None

    def items(self) -> Iterator[tuple[str, bytes]]:
        if self._types_changed:
            self.parts[CONTENT_TYPES] = dump(self.types)
        yield from self.parts.items()

    def __contains__(self, part: str) -> bool:
        return part in self.parts

    def read(self, part: str) -> bytes:
        try:
            return self.parts[part]
        except KeyError:
            raise PackageError(f"missing part {part}") from None

    # --- relationships ---------------------------------------------------------------------------------------------

    def rels(self, part: str) -> list[Relationship]:
        data = self.parts.get(rels_path(part))
        if data is None:
            return []
        return [Relationship(r.get("Id", ""), r.get("Type", ""), r.get("Target", ""), r.get("TargetMode") == "External")
                for r in parse(data).iter(q("Relationship", PKG_REL))]

    def targets(self, part: str) -> dict[str, str]:
        """Relationship id -> the internal part it points at."""
        return {r.id: resolve(part, r.target) for r in self.rels(part) if not r.external}

    def add_rel(self, part: str, rel_type: str, target_part: str) -> str:
        """Add a relationship from `part` to `target_part` (written as an absolute target); returns its new id."""
        path = rels_path(part)
        root = parse(self.parts[path]) if path in self.parts else etree.Element(q("Relationships", PKG_REL),
                                                                                  nsmap={None: PKG_REL})
        used = {r.get("Id") for r in root}
        number = len(used) + 1
        while f"rId{number}" in used:
            number += 1
        rid = f"rId{number}"
        etree.SubElement(root, q("Relationship", PKG_REL), Id=rid, Type=rel_type, Target="/" + target_part)
        self.parts[path] = dump(root)
        return rid

    def remove_rels(self, part: str, ids: set[str]) -> None:
        path = rels_path(part)
        if not ids or path not in self.parts:
            return
        root = parse(self.parts[path])
        for r in list(root):
            if r.get("Id") in ids:
                root.remove(r)
        self.parts[path] = dump(root)

    def reachable(self, roots: list[str], skip: set[str] = frozenset()) -> set[str]:
        """Every part reachable from `roots` through internal relationships, not passing through `skip`."""
        seen: set[str] = set()
        todo = [r for r in roots if r not in skip]
        while todo:
            part = todo.pop()
            if part in seen:
                continue
            seen.add(part)
            todo.extend(t for t in self.targets(part).values() if t not in seen and t not in skip)
        return seen

    def main_part(self) -> str:
        for r in self.rels(""):
            if r.type == OFFICE_DOCUMENT:
                return resolve("", r.target)
        raise PackageError("no officeDocument relationship")

    # --- parts and content types -----------------------------------------------------------------------------------

    def free_name(self, wanted: str) -> str:
        """`wanted`, or the same name with a number that no part has yet."""
        if wanted not in self.parts:
            return wanted
        stem, ext = posixpath.splitext(wanted)
        stem = stem.rstrip("0123456789")
        number = 1
        while f"{stem}{number}{ext}" in self.parts:
            number += 1
        return f"{stem}{number}{ext}"

    def content_type(self, part: str) -> str | None:
        for o in self.types.iter(q("Override", CT)):
            if o.get("PartName", "").lstrip("/").lower() == part.lower():
                return o.get("ContentType")
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        for d in self.types.iter(q("Default", CT)):
            if d.get("Extension", "").lower() == ext:
                return d.get("ContentType")
        return None

    def put(self, part: str, data: bytes, content_type: str | None) -> None:
        """Add or replace a part; its content type becomes an Override unless the extension's Default matches."""
        self.parts[part] = data
        if content_type is None or self.content_type(part) == content_type:
            return
        self._drop_override(part)
        ext = posixpath.splitext(part)[1].lstrip(".").lower()
        defaults = {d.get("Extension", "").lower() for d in self.types.iter(q("Default", CT))}
        if ext in ("rels", "vml", "png", "jpeg", "emf") and ext not in defaults:
            self.types.insert(0, etree.Element(q("Default", CT), Extension=ext, ContentType=content_type))
        else:
            etree.SubElement(self.types, q("Override", CT), PartName="/" + part, ContentType=content_type)
        self._types_changed = True

    def delete(self, part: str) -> None:
        self.parts.pop(part, None)
        self.parts.pop(rels_path(part), None)
        self._drop_override(part)

    def _drop_override(self, part: str) -> None:
        for o in list(self.types.iter(q("Override", CT))):
            if o.get("PartName", "").lstrip("/").lower() == part.lower():
                self.types.remove(o)
                self._types_changed = True
