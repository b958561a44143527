"""Reply drafts: for each workbook taken in from an email, a reply `.eml` to its sender in the archive's 回执 folder —
subject 回执：<county> <month>, threaded to the original message, the receipt workbook attached and the problems
summarised in the body (ID and phone numbers masked) — ready to open and send from any mail client.
"""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from ducha.adapters.files import atomic_path
from ducha.model.findings import archived_finding
from ducha.model.privacy import redact
from ducha.prefecture import archive as store
from ducha.prefecture.archive import Archive
from ducha.prefecture.intake import RECEIPTS
from ducha.prefecture.outcome import Outcome
from ducha.prefecture.receipt import receipt_name

XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
MAX_LISTED = 30  # problems listed in the body; the receipt has them all


def reply_subject(outcome: Outcome) -> str:
    who = " ".join(p for p in (outcome.county, outcome.month) if p)
    return f"回执：{who or Path(outcome.name).stem}"


def reply_body(archive: Archive, outcome: Outcome) -> str:
    """The reply's text: what became of the workbook and the problems to fix, every personal number masked."""
    lines = ["您好：", "", f"已收到贵单位报送的工作簿「{outcome.name}」。", f"处理结果：{outcome.status_text}。"]
    if outcome.reason:
        lines.append(f"说明：{outcome.reason}")
    if outcome.total is not None:
        lines.append(f"总分：{round(outcome.total, 2):g}")
    problems = _problems(archive, outcome)
    if problems:
        lines += ["", f"需要修改的问题（共 {len(problems)} 项）："]
        lines += [f"{n}. {text}" for n, text in enumerate(problems[:MAX_LISTED], start=1)]
        if len(problems) > MAX_LISTED:
            lines.append(f"……其余 {len(problems) - MAX_LISTED} 项见附件回执。")
        lines += ["", "请在原工作簿中逐项改正后，重新发送整个工作簿。"]
    elif outcome.kind in (store.ACCEPTED, store.CONFLICT):
        lines += ["", "未发现需要修改的问题。"]
    lines += ["", "详情见附件回执。", "", "州督查办"]
    return redact("\n".join(lines))


def _problems(archive: Archive, outcome: Outcome) -> list[str]:
    if outcome.submission_id is None or outcome.kind not in (store.ACCEPTED, store.CONFLICT):
        return []
    return [archived_finding(row).line() for row in archive.results("findings", outcome.submission_id)]


def reply_path(archive: Archive, outcome: Outcome) -> Path:
    return archive.folder / RECEIPTS / (Path(receipt_name(outcome)).stem + ".eml")


def write_reply(archive: Archive, outcome: Outcome, *, to: str, reply_from: str | None = None,
                in_reply_to: str | None = None) -> Path:
    """Write the reply draft for `outcome` (atomically) and return its path."""
    message = EmailMessage()
    message["To"] = to
    if reply_from:
        message["From"] = reply_from
    message["Subject"] = reply_subject(outcome)
    message["Date"] = email.utils.formatdate(localtime=True)
    message["Message-ID"] = email.utils.make_msgid(domain=(reply_from or "ducha.local").rpartition("@")[2])
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message["X-Unsent"] = "1"  # mail clients open it as a draft to send
    message.set_content(reply_body(archive, outcome))
    if outcome.receipt is not None and outcome.receipt.exists():
        message.add_attachment(outcome.receipt.read_bytes(), *XLSX_TYPE, filename=outcome.receipt.name)
    target = reply_path(archive, outcome)
    with atomic_path(target) as tmp:
        tmp.write_bytes(message.as_bytes(policy=SMTP))
    return target
