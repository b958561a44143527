"""公民身份号码 (GB 11643-1999): check character and validation (masking is model/privacy.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from operator import mul

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
_DIGITS = frozenset("0123456789")


def check_character(first17: str) -> str:
    """The check character for 17 digits: S = Σ aᵢ·Wᵢ, S mod 11 -> 1 0 X 9 8 7 6 5 4 3 2."""
    if len(first17) != 17 or not _DIGITS.issuperset(first17):
        raise ValueError("need exactly 17 digits")
    return CHECK_CHARACTERS[sum(map(mul, map(int, first17), WEIGHTS)) % 11]


@dataclass(frozen=True)
class IdProblem:
    """Why an ID number is not valid: a findings code name plus the details for the message."""

    code: str  # name of a findings.Code member
    details: dict[str, str]


def validate(number: str, today: dt.date | None = None) -> IdProblem | None:
    """Check an already normalised ID number; None when it is valid."""
    if len(number) == 15 and number.isdigit():
        return IdProblem("ID_OLD_15", {})
    if len(number) != 18:
        return IdProblem("ID_LENGTH", {"length": str(len(number))})
    if not (number[:17].isascii() and number[:17].isdigit()) or not (number[17] in _DIGITS or number[17] == "X"):
        return IdProblem("ID_CHARACTERS", {})
    birth = number[6:14]
    try:
        born = dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        born = None
    if born is None or born.year < 1890 or (today is not None and born > today):
        return IdProblem("ID_BIRTH_DATE", {"birth": f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"})
    expected = check_character(number[:17])
    if number[17] != expected:
        return IdProblem("ID_CHECK_DIGIT", {"expected": expected})
    return None
