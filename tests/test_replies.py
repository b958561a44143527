"""Reply drafts: parsed back with Python's `email` package, each carries its receipt, is threaded to the county's
message, lists the problems — and no full ID number appears anywhere, attachment included."""

from __future__ import annotations

import email
import re
import zipfile
from email import policy
from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook

from ducha.prefecture.archive import Archive
from ducha.prefecture.intake import Intake
from ducha.prefecture.intake_sources import Incoming
from ducha.prefecture.replies import write_reply
from markdown_workbook import column_of, set_cell, set_form, valid_sheets, write_workbook

ORIGINAL_ID = "<20191128093000.qsx@county.example.cn>"


def workbook_with_id_problems(path: Path) -> tuple[Path, set[str]]:
    """A county workbook whose households repeat one ID number and mistype another; returns the IDs in it."""
    sheets = valid_sheets()
    set_form(sheets, "基本信息", "被督查县", "清水县")
    column = column_of(sheets, "农户调查", "身份证号")
    ids = {row[column] for row in sheets["农户调查"][1:] if isinstance(row[column], str)}
    first = sheets["农户调查"][1][column]
    set_cell(sheets, "农户调查", "身份证号", 1, first)
    mistyped = first[:-1] + ("0" if first[-1] != "0" else "1")
    set_cell(sheets, "农户调查", "身份证号", 2, mistyped)
    return write_workbook(path, sheets), ids | {mistyped}


def draft(tmp_path: Path, archive: Archive, content: bytes, name: str = "清水县.xlsx") -> tuple[bytes, object]:
    item = Incoming(name, content, "邮箱 office@example.org/INBOX", sender="清水县扶贫办 <qsx@county.example.cn>",
                    subject="清水县11月督查工作簿")
    outcome = Intake(archive).take(item)
    path = write_reply(archive, outcome, to=item.sender, reply_from="office@example.org", in_reply_to=ORIGINAL_ID)
    assert path.parent == archive.folder / "回执" and path.suffix == ".eml"
    return path.read_bytes(), outcome


def test_a_reply_draft_parses_back_with_the_receipt_the_problems_and_no_full_id(tmp_path: Path) -> None:
    workbook, ids = workbook_with_id_problems(tmp_path / "清水县.xlsx")
    with Archive(tmp_path / "档案") as archive:
        raw, outcome = draft(tmp_path, archive, workbook.read_bytes())

    reply = email.message_from_bytes(raw, policy=policy.default)
    assert reply["Subject"] == "回执：清水县 2019-11"
    assert reply["To"].addresses[0].addr_spec == "qsx@county.example.cn"
    assert reply["In-Reply-To"] == ORIGINAL_ID and reply["References"] == ORIGINAL_ID
    assert reply["X-Unsent"] == "1" and reply["Message-ID"]
    body = reply.get_body(("plain",)).get_content()
    assert "处理结果：已接收。" in body and "需要修改的问题（共 2 项）" in body
    assert re.search(r"「农户调查」E3：身份证号 522631\*{8}\w{4} 重复", body)
    assert "「农户调查」E4" in body and "校验位错误" in body

    attachments = list(reply.iter_attachments())
    assert [a.get_filename() for a in attachments] == [outcome.receipt.name]
    receipt = attachments[0].get_content()
    assert receipt == outcome.receipt.read_bytes()
    cells = [c.value for row in load_workbook(BytesIO(receipt))["回执"].iter_rows() for c in row]
    assert "已接收" in cells and any(isinstance(c, str) and "校验位错误" in c for c in cells)

    texts = [raw.decode("ascii", "replace"), body, *(str(v) for v in reply.values())]
    with zipfile.ZipFile(BytesIO(receipt)) as z:
        texts += [z.read(n).decode("utf-8", "replace") for n in z.namelist()]
    assert ids and not [i for i in ids for t in texts if i in t], "a full ID number left the archive"


def test_a_rejected_file_gets_a_reply_naming_the_file_and_the_reason(tmp_path: Path) -> None:
    with Archive(tmp_path / "档案") as archive:
        raw, outcome = draft(tmp_path, archive, b"PK\x03\x04 not really a workbook", "白云县报表.xlsx")

    reply = email.message_from_bytes(raw, policy=policy.default)
    assert outcome.kind == "rejected"
    assert reply["Subject"] == "回执：白云县报表"
    body = reply.get_body(("plain",)).get_content()
    assert "处理结果：拒收。" in body and outcome.reason in body
    assert [a.get_filename() for a in reply.iter_attachments()] == [outcome.receipt.name]
