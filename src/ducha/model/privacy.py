"""Personal numbers by audience: what an output shows of an ID number (公民身份号码) or a phone number.

Decided here and nowhere else. Everything ducha writes for people other than the clerk's own input cells —
receipts, the report, the ledger, letters, the console, `--json`, logs, the archive's findings, and the generated
sheets and notes inside the clerk's workbook (which point at the cell instead) — shows ID numbers as their first 6
and last 4 characters and phone numbers as their first 3 and last 4 digits. Only a command whose job needs the full
numbers (a sample drawn for field work) shows them, and only when asked (`--full-ids`).
"""

from __future__ import annotations

import re
from enum import StrEnum


class Audience(StrEnum):
    """Who reads an output."""

    CLERK_WORKBOOK = "clerk-workbook"  # generated sheets and notes in the clerk's own workbook: point at the cell
    OUTSIDE = "outside"  # anything that leaves the clerk's workbook: receipts, report, ledger, console, logs, …
    FIELD_WORK = "field-work"  # a sample exported with --full-ids, for visiting households and calling helpers


# Runs of digits that are personal numbers in free text: ID numbers (14 to 19 characters, the last maybe X: whole,
# old 15-digit or mistyped ones; 12-digit village codes are not personal), mobile numbers (10 or 11 digits starting
# with 1) and fixed lines with their area code (0xx-xxxxxxx).
_ID_RUN = re.compile(r"(?<![0-9A-Za-z])\d{13,18}[0-9Xx](?![0-9A-Za-z])")
_PHONE_RUN = re.compile(r"(?<![0-9A-Za-z])(?:1\d{9,10}|0\d{2,3}-?\d{7,8})(?![0-9A-Za-z])")


def mask_id(value: object, audience: Audience = Audience.OUTSIDE) -> str:
    """An ID number as `audience` may see it: 110105********002X (first 6, last 4); a value of 10 characters or
    fewer is masked whole. Masking a masked number changes nothing."""
    text = "" if value is None else str(value)
    if audience is Audience.FIELD_WORK:
        return text
    return text[:6] + "*" * (len(text) - 10) + text[-4:] if len(text) > 10 else "*" * len(text)


def mask_phone(value: object, audience: Audience = Audience.OUTSIDE) -> str:
    """A phone number as `audience` may see it: 138****5678 (first 3, last 4); 7 characters or fewer masked whole."""
    text = "" if value is None else str(value)
    if audience is Audience.FIELD_WORK:
        return text
    return text[:3] + "*" * (len(text) - 7) + text[-4:] if len(text) > 7 else "*" * len(text)


def redact(text: str, audience: Audience = Audience.OUTSIDE) -> str:
    """`text` with every ID number and phone number in it masked for `audience`."""
    if audience is Audience.FIELD_WORK or not text:
        return text
    text = _ID_RUN.sub(lambda m: mask_id(m.group(0)), text)
    return _PHONE_RUN.sub(lambda m: mask_phone(m.group(0)), text)
