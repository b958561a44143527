"""Rectification letters (整改督办函): one .docx per county listing its open ledger problems of a month, in the
usual form of a government letter (GB/T 9704 layout: A4, 方正小标宋 title, 仿宋_GB2312 三号 body), optionally also
as PDF through headless LibreOffice."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph
from lxml import etree

from ducha.adapters.files import write_atomically
from ducha.prefecture.archive import Archive
from ducha.prefecture.ledger import OPEN_STATUSES, entries
from ducha.prefecture.report import check_month

TITLE_FONT, BODY_FONT, HEADING_FONT, LATIN_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "Times New Roman"
FALLBACKS = {TITLE_FONT: "宋体", BODY_FONT: "仿宋", HEADING_FONT: "SimHei"}  # w:altName in the font table
TITLE_SIZE, BODY_SIZE, TABLE_SIZE = Pt(22), Pt(16), Pt(12)  # 二号, 三号, 小四
LINE = Pt(28)  # fixed line spacing: 22 lines on a page
MARGINS = {"top_margin": Cm(3.7), "bottom_margin": Cm(3.5), "left_margin": Cm(2.8), "right_margin": Cm(2.6)}
PDF_TIMEOUT_S = 180
REVISIT_ARRANGEMENT = ("州督查组将在下月督查时对整改情况进行回访，逐条核实，回访结果记入问题台账；"
                       "对整改不到位、敷衍整改的，将予以通报并约谈相关负责人。")


class LetterError(RuntimeError):
    """A letter could not be produced (e.g. no LibreOffice for the PDF); the message is Chinese."""


def _month_text(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:])}月"


def _date_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def addressee(county: str) -> str:
    """XX县人民政府 (a name already ending in 人民政府 is kept)."""
    return county if county.endswith("人民政府") else f"{county}人民政府"


def _fonts(run_or_style: Any, east_asian: str, size: Pt, *, bold: bool = False) -> None:
    font = run_or_style.font
    font.name, font.size, font.bold = LATIN_FONT, size, bold
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:hint"), "eastAsia")


def _paragraph(doc: Any, text: str, *, font: str = BODY_FONT, size: Pt = BODY_SIZE, bold: bool = False,
               align: WD_ALIGN_PARAGRAPH | None = None, indent: bool = True) -> Paragraph:
    para = doc.add_paragraph()
    fmt = para.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, LINE
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size.pt * 2)
    if align is not None:
        para.alignment = align
    _fonts(para.add_run(text), font, size, bold=bold)
    return para


def _font_table(doc: Any) -> None:
    """Declare the Chinese fonts with their fallbacks (w:altName), so a PC without 方正小标宋 uses 宋体."""
    part = next((rel.target_part for rel in doc.part.rels.values() if rel.reltype.endswith("/fontTable")), None)
    if part is None:
        return
    root = parse_xml(part.blob)
    for name, alt in FALLBACKS.items():
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        alt_name = OxmlElement("w:altName")
        alt_name.set(qn("w:val"), alt)
        charset = OxmlElement("w:charset")
        charset.set(qn("w:val"), "86")  # GB2312
        font.append(alt_name)
        font.append(charset)
        root.append(font)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _place(entry: dict[str, Any]) -> str:
    place = "".join(p for p in (entry.get("township"), entry.get("village")) if p)
    who = entry.get("household")
    if who:
        place += f"{'，' if place else ''}农户{who}" + (f"（身份证号 {entry['masked_id']}）" if entry.get("masked_id")
                                                      else "")
    return place or "全县"


def _problem_table(doc: Any, rows: list[dict[str, Any]]) -> None:
    headers = ("序号", "台账编号", "地点", "问题", "证据")
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Cm(1.2), Cm(3.6), Cm(3.4), Cm(3.6), Cm(3.8))
    values = [headers, *[(str(i), r["id"], _place(r), r["problem"], r.get("evidence") or "")
                         for i, r in enumerate(rows, start=1)]]
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the table grid, which LibreOffice follows
    for index, line in enumerate(values):
        cells = table.rows[0].cells if index == 0 else table.add_row().cells
        for cell, text, width in zip(cells, line, widths, strict=True):
            cell.width = width
            para = cell.paragraphs[0]
            para.alignment = WD_ALIGN_PARAGRAPH.CENTER if index == 0 else None
            _fonts(para.add_run(text), HEADING_FONT if index == 0 else BODY_FONT, TABLE_SIZE)


def build_letter(county: str, month: str, rows: list[dict[str, Any]], *, number: str, office: str,
                 issued: dt.date) -> Any:
    """The letter as a python-docx Document (content depends only on the arguments)."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side, length in MARGINS.items():
        setattr(section, side, length)
    _fonts(doc.styles["Normal"], BODY_FONT, BODY_SIZE)
    _font_table(doc)
    props = doc.core_properties
    props.author = props.last_modified_by = "ducha"
    props.title = f"关于{county}{_month_text(month)}精准扶贫专题督查发现问题整改的督办函"
    props.created = props.modified = dt.datetime(issued.year, issued.month, issued.day)
    props.revision = 1

    _paragraph(doc, number, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(doc, "", indent=False)
    title = _paragraph(doc, props.title, font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
                       indent=False)
    title.paragraph_format.line_spacing = Pt(36)
    _paragraph(doc, "", indent=False)
    _paragraph(doc, f"{addressee(county)}：", indent=False)
    _paragraph(doc, f"根据《精准扶贫专题督查方案》安排，州督查组于{_month_text(month)}对你县精准扶贫工作开展了专题督查"
                    f"和暗访督查，发现问题 {len(rows)} 个，已录入问题台账。现将问题及整改要求函告如下，"
                    "请你县高度重视，逐条研究，限期整改到位。")
    _paragraph(doc, "一、存在的问题", font=HEADING_FONT)
    _problem_table(doc, rows)
    _paragraph(doc, "二、整改要求和期限", font=HEADING_FONT)
    for i, r in enumerate(rows, start=1):
        deadline = dt.date.fromisoformat(r["deadline"]) if r.get("deadline") else None
        when = f"，{_date_text(deadline)}前整改到位" if deadline else ""
        requirement = r.get("requirement") or "限期整改"
        _paragraph(doc, f"（{i}）{_place(r)}“{r['problem']}”（{r['id']}）：{requirement}{when}。")
    last = max((r["deadline"] for r in rows if r.get("deadline")), default=None)
    report_by = f"请于{_date_text(dt.date.fromisoformat(last))}前" if last else "请在整改期限内"
    _paragraph(doc, f"{report_by}将整改情况（逐条列明整改措施、责任人和完成时间，附佐证材料）书面报{office}。")
    _paragraph(doc, "三、回访安排", font=HEADING_FONT)
    _paragraph(doc, REVISIT_ARRANGEMENT)
    _paragraph(doc, "特此函告。")
    _paragraph(doc, "", indent=False)
    for text in (office, _date_text(issued)):
        para = _paragraph(doc, text, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
        para.paragraph_format.right_indent = Pt(BODY_SIZE.pt * 4)
    return doc


def letter_number(prefix: str, year: int, serial: int) -> str:
    """发文字号 in the GB/T 9704 form: 督办〔2019〕3号."""
    return f"{prefix}〔{year}〕{serial}号"


def write_letters(archive: Archive, month: str, out_dir: Path, *, office: str = "州人民政府督查室",
                  number_prefix: str = "督办", issued: dt.date | None = None, first_number: int = 1,
                  pdf: bool = False) -> list[Path]:
    """One 整改督办函 per county with open ledger entries (not yet 回访通过) of `month`, numbered in county-code order
    from `first_number`; returns the written .docx (and .pdf when `pdf`) paths."""
    check_month(month)
    issued = issued or dt.date.today()
    by_county: dict[str, list[dict[str, Any]]] = {}
    for row in entries(archive, month=month, statuses=OPEN_STATUSES):
        by_county.setdefault(row["county_code"] or row["county"] or "", []).append(row)
    out_dir = Path(out_dir)
    written: list[Path] = []
    for serial, (_, rows) in enumerate(sorted(by_county.items()), start=first_number):
        county = rows[0]["county"] or rows[0]["county_code"] or "未知县"
        doc = build_letter(county, month, rows, number=letter_number(number_prefix, issued.year, serial),
                           office=office, issued=issued)
        path = write_atomically(out_dir / f"整改督办函_{county}_{month}.docx", doc.save)
        written.append(path)
        if pdf:
            written.append(to_pdf(path))
    return written


def to_pdf(docx: Path, *, timeout: float = PDF_TIMEOUT_S) -> Path:
    """Convert with headless LibreOffice (a private profile, so it runs beside an open office suite)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise LetterError("未找到 LibreOffice（soffice），无法生成 PDF；请安装 LibreOffice 或只生成 .docx")
    with tempfile.TemporaryDirectory(prefix="ducha-lo-") as profile, tempfile.TemporaryDirectory() as outdir:
        command = [soffice, "--headless", "--norestore", f"-env:UserInstallation={Path(profile).as_uri()}",
                   "--convert-to", "pdf", "--outdir", outdir, str(docx)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise LetterError(f"LibreOffice 转换 {docx.name} 超时（{timeout:g} 秒）") from None
        produced = Path(outdir) / f"{docx.stem}.pdf"
        if done.returncode != 0 or not produced.exists():
            raise LetterError(f"LibreOffice 未能把 {docx.name} 转为 PDF：{(done.stderr or done.stdout).strip()}")
        target = docx.with_suffix(".pdf")
        return write_atomically(target, lambda tmp: shutil.copyfile(produced, tmp))
