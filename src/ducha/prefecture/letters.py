"""Rectification letters (整改督办函): one .docx per county listing its open ledger problems of a month, laid out
by GB/T 9704-2012 (党政机关公文格式) so that it can be sent without editing, optionally also as PDF through headless
LibreOffice.

The page: A4, 版心 156 × 225 mm, 22 lines of 28 characters. The parts, top to bottom: 发文机关标志 (red, 小标宋,
centred), 发文字号 (机关代字〔年份〕序号, centred) over a red rule, the title (二号小标宋), 主送机关, the body
(三号仿宋, headings 黑体 and 楷体), 发文机关署名 and 成文日期 (Arabic numerals), 附注 with the contact, and the
版记 (抄送, 印发机关 and 印发日期 between rules). 页码 "— 1 —" in 四号宋体, odd pages right, even pages left.

Dates come from the work: the issue date is given (`issued`, the command's --date; today only for a recent month),
deadlines are the issue date plus the settings' 整改期限, and the 文号's year is the issue date's. Letter numbers
continue per year across runs (the archive's `letters` table); the same letter made again keeps its number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
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
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from lxml import etree

from ducha.adapters.files import write_atomically
from ducha.model.privacy import mask_id
from ducha.prefecture.archive import Archive, now_text, shown_date
from ducha.prefecture.ledger import MANUAL_DEADLINE, OPEN_STATUSES, deadline_from, entries
from ducha.prefecture.report import check_month
from ducha.prefecture.settings import Settings, SettingsError, load_settings

TITLE_FONT, BODY_FONT, HEADING_FONT, KAI_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312"
PAGE_FONT, LATIN_FONT = "宋体", "Times New Roman"
FALLBACKS = {TITLE_FONT: "宋体", BODY_FONT: "仿宋", HEADING_FONT: "SimHei", KAI_FONT: "楷体"}  # w:altName
TITLE_SIZE, BODY_SIZE, TABLE_SIZE, PAGE_SIZE = Pt(22), Pt(16), Pt(10.5), Pt(14)  # 二号, 三号, 五号, 四号
RED = RGBColor(0xFF, 0x00, 0x00)
LINE = Pt(28)  # fixed line spacing: 22 lines in the 225 mm 版心
MARGINS = {"top_margin": Mm(37), "bottom_margin": Mm(35), "left_margin": Mm(28), "right_margin": Mm(26)}
TEXT_WIDTH_MM = 156
# The problem table (mm): the second column holds the ledger number over the place, household and masked ID number;
# 46 mm keeps TZ-2019-11-1a2b3c4d and 520101********1234 on one line at 五号 even in a wide fallback font.
TABLE_COLUMNS = (("序号", 10), ("台账编号、地点和农户", 46), ("问题和依据", 60), ("整改要求", 40))
PDF_TIMEOUT_S = 180
RECENT_DAYS = 92  # without --date, today is the issue date only up to this many days after the inspection month
REVISIT_ARRANGEMENT = ("州督查组将在下月督查时对整改情况进行回访，逐条核实，回访结果记入问题台账；"
                       "对整改不到位、敷衍整改的，将予以通报并约谈相关负责人。")
COUNTY_LEVEL_TEXT = ("表中县级指标问题，请组织县级有关部门核实数据来源，分析原因，制定整改措施，"
                     "明确责任单位和完成时限。")
_REVISIT_CLAUSE = re.compile(r"[，,；;。]?\s*下月回访督查[。；;]?$")


class LetterError(RuntimeError):
    """A letter could not be produced (no LibreOffice for the PDF, a bad date or settings); the message is Chinese."""


def _month_text(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:])}月"


def addressee(county: str, settings: Settings | None = None) -> str:
    """主送机关: the settings' template with the county's name (XX县人民政府 by default)."""
    return (settings or Settings()).addressee_for(county)


def letter_number(prefix: str, year: int, serial: int) -> str:
    """发文字号 in the GB/T 9704 form: 州督办函〔2019〕3号."""
    return f"{prefix}〔{year}〕{serial}号"


def issue_date(month: str, date: dt.date | None, today: dt.date | None = None) -> dt.date:
    """The issue date: `date` when given; else today while the inspection month is recent, and for an older month
    the first day of the month after it (a 2019-11 inspection gets no 2026 letter unless --date says so)."""
    start = dt.date(int(month[:4]), int(month[5:7]), 1)
    if date is not None:
        if date < start:
            raise LetterError(f"发文日期 {shown_date(date)} 早于督查月份 {_month_text(month)}，请检查 --date")
        return date
    today = today or dt.date.today()
    next_month = (start + dt.timedelta(days=32)).replace(day=1)
    if (today - next_month).days >= RECENT_DAYS:
        return next_month
    return max(today, start)


# --- runs and paragraphs --------------------------------------------------------------------------------------------

def _fonts(run_or_style: Any, east_asian: str, size: Pt, *, bold: bool = False, color: RGBColor | None = None,
           latin: str = LATIN_FONT) -> None:
    font = run_or_style.font
    font.name, font.size, font.bold = latin, size, bold
    if color is not None:
        font.color.rgb = color
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:hint"), "eastAsia")


def _add_text(para: Paragraph, text: str, font: str, size: Pt, **options: Any) -> None:
    """Runs of `text` in `font`; hyphens become non-breaking (a ledger number never breaks at its dashes)."""
    for index, part in enumerate(text.split("-")):
        if index:
            run = para.add_run()
            _fonts(run, font, size, **options)
            run._r.append(OxmlElement("w:noBreakHyphen"))
        if part:
            _fonts(para.add_run(part), font, size, **options)


def _format(para: Paragraph, *, size: Pt = BODY_SIZE, indent: bool = True, align: Any = None,
            line: Pt = LINE) -> None:
    fmt = para.paragraph_format
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, line
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size.pt * 2)
    if align is not None:
        para.alignment = align


def _paragraph(doc: Any, text: str, *, font: str = BODY_FONT, size: Pt = BODY_SIZE, bold: bool = False,
               align: WD_ALIGN_PARAGRAPH | None = None, indent: bool = True, color: RGBColor | None = None
               ) -> Paragraph:
    para = doc.add_paragraph()
    _format(para, size=size, indent=indent, align=align)
    if text:
        _add_text(para, text, font, size, bold=bold, color=color)
    return para


def _heading(doc: Any, text: str) -> Paragraph:
    """A 黑体 first-level heading, kept on the page of what follows it."""
    para = _paragraph(doc, text, font=HEADING_FONT)
    para.paragraph_format.keep_with_next = True
    return para


def _lead(doc: Any, lead: str, text: str, lead_font: str = KAI_FONT) -> Paragraph:
    """A paragraph opening with a 楷体 sub-heading, as in 「（一）整改期限。上表所列问题……」."""
    para = _paragraph(doc, "")
    _add_text(para, lead, lead_font, BODY_SIZE)
    _add_text(para, text, BODY_FONT, BODY_SIZE)
    return para


def _border(para: Paragraph, side: str, *, color: str = "000000", eighths: int = 8, space: int = 1) -> None:
    """A rule along one side of a paragraph (w:pBdr): `eighths` of a point thick, `space` points from the text."""
    ppr = para._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    edge = OxmlElement(f"w:{side}")
    for key, value in (("val", "single"), ("sz", str(eighths)), ("space", str(space)), ("color", color)):
        edge.set(qn(f"w:{key}"), value)
    borders.append(edge)


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


def _page_number(footer: Any, align: WD_ALIGN_PARAGRAPH) -> None:
    """「— PAGE —」 in 四号宋体, one character in from the outer edge (GB/T 9704 7.5)."""
    para = footer.paragraphs[0]
    _format(para, size=PAGE_SIZE, indent=False, align=align, line=Pt(20))
    fmt = para.paragraph_format
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        fmt.right_indent = PAGE_SIZE
    else:
        fmt.left_indent = PAGE_SIZE

    def run(text: str = "", field: str | None = None, instruction: str | None = None) -> None:
        r = para.add_run(text)
        _fonts(r, PAGE_FONT, PAGE_SIZE, latin=PAGE_FONT)
        if field:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), field)
            r._r.append(element)
        if instruction:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = instruction
            r._r.append(element)

    run("— ")
    run(field="begin")
    run(instruction=" PAGE ")
    run(field="separate")
    run("1")
    run(field="end")
    run(" —")


# --- content --------------------------------------------------------------------------------------------------------

def _is_county_level(entry: dict[str, Any]) -> bool:
    return not any(entry.get(k) for k in ("township", "village", "household"))


def _place_lines(entry: dict[str, Any]) -> list[str]:
    """Where: township and village, the household, its masked ID number (first 6 and last 4 digits)."""
    if _is_county_level(entry):
        return ["全县（县级指标）"]
    lines = ["".join(p for p in (entry.get("township"), entry.get("village")) if p)]
    if entry.get("household"):
        lines.append(f"农户 {entry['household']}")
    if entry.get("masked_id"):
        lines.append(mask_id(entry["masked_id"]))
    return [line for line in lines if line]


def requirement_text(entry: dict[str, Any]) -> str:
    """The 整改要求 as one sentence of its own: the 「下月回访督查」 of a county-level action is said once, in the
    letter's 回访安排, and never run together with a deadline."""
    text = (entry.get("requirement") or "限期整改").strip()
    text = _REVISIT_CLAUSE.sub("", text).rstrip("，,；;。 ")
    return f"{text}。"


def _cell(cell: Any, lines: list[tuple[str, str]], *, header: bool = False) -> None:
    """Fill a table cell with (font, text) paragraphs."""
    first = True
    for font, text in lines:
        para = cell.paragraphs[0] if first else cell.add_paragraph()
        first = False
        _format(para, size=TABLE_SIZE, indent=False, line=Pt(15),
                align=WD_ALIGN_PARAGRAPH.CENTER if header else None)
        _add_text(para, text, font, TABLE_SIZE)


def _table_properties(table: Any, margin: int = 57) -> None:
    """Fixed layout and narrow cell margins, so the column widths hold in Word and LibreOffice alike."""
    tbl_pr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(margin))  # twentieths of a point: 57 = 1 mm
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    tbl_pr.append(margins)


def _problem_table(doc: Any, rows: list[dict[str, Any]], common_deadline: str | None) -> None:
    table = doc.add_table(rows=1, cols=len(TABLE_COLUMNS))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _table_properties(table)
    widths = [Mm(w) for _, w in TABLE_COLUMNS]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width  # the table grid, which LibreOffice follows
    header = table.rows[0]
    header_pr = header._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
    header_pr.append(repeat)
    for cell, (title, _), width in zip(header.cells, TABLE_COLUMNS, widths, strict=True):
        cell.width = width
        _cell(cell, [(HEADING_FONT, title)], header=True)
    for number, entry in enumerate(rows, start=1):
        requirement = requirement_text(entry)
        if entry.get("deadline") and entry["deadline"] != common_deadline:
            requirement += f"整改期限：{shown_date(entry['deadline'])}。"  # not the letter's common deadline
        contents = [
            [(BODY_FONT, str(number))],
            [(BODY_FONT, entry["id"])] + [(BODY_FONT, line) for line in _place_lines(entry)],
            [(HEADING_FONT, entry["problem"])] + ([(BODY_FONT, entry["evidence"])] if entry.get("evidence") else []),
            [(BODY_FONT, requirement)],
        ]
        row = table.add_row()
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))  # a problem is never split across pages
        cells = row.cells
        for cell, lines, width in zip(cells, contents, widths, strict=True):
            cell.width = width
            _cell(cell, lines)


def _signature(doc: Any, office: str, issued: dt.date) -> None:
    """发文机关署名 right-indented two characters; 成文日期 below, its first character two to the right of the
    署名's first (GB/T 9704 7.3.5.2, a letter without a seal)."""
    date = shown_date(issued)
    name = _paragraph(doc, office, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    name.paragraph_format.right_indent = Pt(BODY_SIZE.pt * 2)
    date_width = sum(0.5 if ch.isascii() else 1 for ch in date)
    shift = max(0.0, 2 + len(office) - 2 - date_width)
    line = _paragraph(doc, date, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    line.paragraph_format.right_indent = Pt(BODY_SIZE.pt * shift)


def _cell_border(cell: Any, side: str, eighths: int) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    edge = OxmlElement(f"w:{side}")
    for key, value in (("val", "single" if eighths else "nil"), ("sz", str(eighths)), ("space", "0"),
                       ("color", "000000")):
        edge.set(qn(f"w:{key}"), value)
    borders.append(edge)


def _imprint(doc: Any, settings: Settings, issued: dt.date) -> None:
    """版记 at the foot of the last page: 抄送 and 印发机关 / 印发日期 in 四号仿宋, one character in from each side,
    between full-width rules (thick first and last, thin between): a one-column table after the 附注 (GB/T 9704
    7.4 puts it at the foot of the last page; a floating table anchored there is dropped by LibreOffice)."""
    size = Pt(14)
    lines = ([f"抄送：{'，'.join(settings.copy_to)}。"] if settings.copy_to else [])
    lines.append(f"{settings.printer}\t{shown_date(issued)}印发")
    table = doc.add_table(rows=len(lines), cols=1)
    table.autofit = False
    _table_properties(table, margin=0)
    table.columns[0].width = Mm(TEXT_WIDTH_MM)
    for index, (row, text) in enumerate(zip(table.rows, lines, strict=True)):
        cell = row.cells[0]
        cell.width = Mm(TEXT_WIDTH_MM)
        for side in ("left", "right"):
            _cell_border(cell, side, 0)
        _cell_border(cell, "top", 8 if index == 0 else 4)
        _cell_border(cell, "bottom", 8 if index == len(lines) - 1 else 4)
        para = cell.paragraphs[0]
        _format(para, size=size, indent=False, line=Pt(24))
        fmt = para.paragraph_format
        fmt.left_indent, fmt.right_indent = size, size
        if text.startswith("抄送："):  # wrapped lines align after 「抄送：」
            fmt.left_indent, fmt.first_line_indent = Pt(size.pt * 4), Pt(-size.pt * 3)
        else:
            fmt.tab_stops.add_tab_stop(Mm(TEXT_WIDTH_MM) - size * 2, alignment=2)  # right tab: 印发日期
        _add_text(para, text, BODY_FONT, size)
    anchor = _paragraph(doc, "", size=Pt(1), indent=False)  # Word wants a paragraph after a closing table
    anchor.paragraph_format.line_spacing = Pt(1)


def build_letter(county: str, month: str, rows: list[dict[str, Any]], *, number: str, issued: dt.date,
                 settings: Settings | None = None, office: str | None = None) -> Any:
    """The letter as a python-docx Document (content depends only on the arguments)."""
    settings = settings or Settings()
    office = office or settings.office
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side, length in MARGINS.items():
        setattr(section, side, length)
    section.header_distance, section.footer_distance = Mm(15), Mm(23)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
    _fonts(doc.styles["Normal"], BODY_FONT, BODY_SIZE)
    _font_table(doc)
    props = doc.core_properties
    props.author = props.last_modified_by = "ducha"
    props.title = f"关于{county}{_month_text(month)}精准扶贫专题督查发现问题整改的督办函"
    props.created = props.modified = dt.datetime(issued.year, issued.month, issued.day)
    props.revision = 1

    # 版头: 发文机关标志, two blank lines, 发文字号 over the red rule
    mark_size = Pt(max(22, min(36, int(TEXT_WIDTH_MM / 25.4 * 72 * 0.95 / max(len(office), 1)))))
    mark = _paragraph(doc, office, font=TITLE_FONT, size=mark_size, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
                      color=RED)
    mark.paragraph_format.line_spacing = Pt(mark_size.pt * 1.3)
    mark.paragraph_format.space_before = Mm(8)
    _paragraph(doc, "", indent=False)
    _paragraph(doc, "", indent=False)
    number_line = _paragraph(doc, number, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _border(number_line, "bottom", color="FF0000", eighths=12, space=11)  # 4 mm below, 1.5 pt thick
    _paragraph(doc, "", indent=False)
    _paragraph(doc, "", indent=False)
    title = _paragraph(doc, props.title, font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER,
                       indent=False)
    title.paragraph_format.line_spacing = Pt(36)
    _paragraph(doc, "", indent=False)
    _paragraph(doc, f"{settings.addressee_for(county)}：", indent=False)

    deadlines = sorted({r["deadline"] for r in rows if r.get("deadline")})
    common = max(deadlines, key=lambda d: sum(1 for r in rows if r.get("deadline") == d)) if deadlines else None
    _paragraph(doc, f"根据《精准扶贫专题督查方案》安排，州督查组于{_month_text(month)}对你县精准扶贫工作开展了专题督查"
                    f"和暗访督查，发现问题 {len(rows)} 个，已录入问题台账。现将问题及整改要求函告如下，"
                    "请你县高度重视，逐条研究，限期整改到位。")
    _heading(doc, "一、存在的问题")
    _problem_table(doc, rows, common)
    _heading(doc, "二、整改要求")
    when = f"{shown_date(common)}前" if common else "在整改期限内"
    others = "（表中另注期限的，按所注期限）" if len(deadlines) > 1 else ""
    _lead(doc, "（一）整改期限。", f"上表所列问题请于{when}整改到位{others}，每个问题按表中「整改要求」逐条落实。")
    report_by = f"{shown_date(deadlines[-1])}前" if deadlines else "整改期限内"
    _lead(doc, "（二）报送整改情况。", f"请于{report_by}将整改情况（逐条列明整改措施、责任人和完成时间，附佐证材料）"
                                 f"书面报送{office}。")
    if any(_is_county_level(r) for r in rows):
        _lead(doc, "（三）县级指标问题。", COUNTY_LEVEL_TEXT)
    _heading(doc, "三、回访安排")
    _paragraph(doc, REVISIT_ARRANGEMENT)
    _paragraph(doc, "特此函告。")
    _paragraph(doc, "", indent=False)
    _paragraph(doc, "", indent=False)
    _signature(doc, office, issued)
    if settings.contact or settings.phone:
        who = "，".join(p for p in (f"联系人：{settings.contact}" if settings.contact else "",
                                    f"联系电话：{settings.phone}" if settings.phone else "") if p)
        _paragraph(doc, f"（{who}）")  # 附注: below the date, two characters in
    _imprint(doc, settings, issued)
    return doc


# --- numbering and writing ------------------------------------------------------------------------------------------

def _digest(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256("\n".join(sorted(r["id"] for r in rows)).encode()).hexdigest()[:16]


def register_letter(archive: Archive, *, county: str, county_code: str | None, month: str, issued: dt.date,
                    rows: list[dict[str, Any]], prefix: str, period_days: int) -> str:
    """The letter's 发文字号, and its entries' deadlines (issue date + period; a hand-set deadline stays), in one
    transaction. Numbers continue per year of the issue date; the same letter (county, month, issue date and
    entries) made again keeps its number and deadlines."""
    digest, year = _digest(rows), issued.year
    deadline = deadline_from(issued, period_days)
    with archive.transaction() as db:
        found = db.execute("SELECT number FROM letters WHERE county_code IS ? AND month = ? AND issued = ? "
                           "AND entries = ?", (county_code, month, issued.isoformat(), digest)).fetchone()
        if found is not None:
            return str(found["number"])
        serial = 1 + db.execute("SELECT COALESCE(MAX(serial), 0) FROM letters WHERE year = ?", (year,)).fetchone()[0]
        number = letter_number(prefix, year, serial)
        db.execute("INSERT INTO letters (year, serial, number, county, county_code, month, issued, entries, "
                   "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (year, serial, number, county, county_code, month, issued.isoformat(), digest, now_text()))
        for row in rows:
            if row.get("deadline_source") == MANUAL_DEADLINE:
                continue
            db.execute("UPDATE ledger SET deadline = ?, deadline_source = ? WHERE id = ?",
                       (deadline, number, row["id"]))
            row["deadline"], row["deadline_source"] = deadline, number
    return number


def write_letters(archive: Archive, month: str, out_dir: Path, *, issued: dt.date | None = None,
                  settings: Settings | None = None, pdf: bool = False) -> list[Path]:
    """One 整改督办函 per county with open ledger entries (not yet 回访通过) of `month`, in county-code order;
    returns the written .docx (and .pdf when `pdf`) paths. `settings`: the archive's 设置.xlsx unless given."""
    check_month(month)
    issued = issue_date(month, issued)
    if settings is None:
        try:
            settings = load_settings(archive.folder)
        except SettingsError as exc:
            raise LetterError(str(exc)) from None
    by_county: dict[str, list[dict[str, Any]]] = {}
    for row in entries(archive, month=month, statuses=OPEN_STATUSES):
        by_county.setdefault(row["county_code"] or row["county"] or "", []).append(row)
    out_dir = Path(out_dir)
    written: list[Path] = []
    for _, rows in sorted(by_county.items()):
        county = rows[0]["county"] or rows[0]["county_code"] or "未知县"
        number = register_letter(archive, county=county, county_code=rows[0]["county_code"], month=month,
                                 issued=issued, rows=rows, prefix=settings.office_code,
                                 period_days=settings.period_days)
        doc = build_letter(county, month, rows, number=number, issued=issued, settings=settings)
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
