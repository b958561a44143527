"""Supervisor-editable parameters: poverty lines by year and the national thresholds.

The defaults here are written into the template's 「参数」 sheet; the values a workbook carries win.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LINE_CATEGORY = "扶贫标准"
THRESHOLD_CATEGORY = "阈值"


class PovertyLine(BaseModel):
    """The poverty line of one year, in yuan per person per year at current prices."""

    model_config = ConfigDict(frozen=True)

    year: int = Field(ge=2000, le=2100)
    yuan: float = Field(gt=0)
    scope: Literal["国家", "地方"] = "国家"
    source: str = ""


class Thresholds(BaseModel):
    """National exit-assessment thresholds (DOMAIN.md §3), as shares in [0, 1]."""

    model_config = ConfigDict(frozen=True)

    wrong_exit_max: float = Field(0.02, ge=0, le=1)
    missed_max: float = Field(0.02, ge=0, le=1)
    recognition_min: float = Field(0.90, ge=0, le=1)
    incidence_max: float = Field(0.03, ge=0, le=1)
    income_margin: float = Field(1.5, ge=1, description="识别不准确: income above line × this margin")


THRESHOLD_NAMES: dict[str, str] = {
    "wrong_exit_max": "脱贫人口错退率上限",
    "missed_max": "贫困人口漏评率上限",
    "recognition_min": "群众认可度下限",
    "incidence_max": "综合贫困发生率上限(西部)",
    "income_margin": "识别不准确收入倍数",
}


class Parameters(BaseModel):
    """Everything a supervisor may tune without code."""

    model_config = ConfigDict(frozen=True)

    lines: tuple[PovertyLine, ...]
    thresholds: Thresholds = Thresholds()

    def line_for(self, year: int) -> PovertyLine | None:
        """The line of `year`, else the latest earlier year's (None if there is none)."""
        exact = [line for line in self.lines if line.year == year]
        if exact:
            local = [line for line in exact if line.scope == "地方"]
            return (local or exact)[0]
        earlier = [line for line in self.lines if line.year < year]
        return max(earlier, key=lambda line: line.year) if earlier else None


_NBS = "国家统计局公布的现价扶贫标准"
DEFAULT_PARAMETERS = Parameters(
    lines=(
        PovertyLine(year=2011, yuan=2536, source=_NBS),
        PovertyLine(year=2012, yuan=2625, source=_NBS),
        PovertyLine(year=2013, yuan=2736, source=_NBS),
        PovertyLine(year=2014, yuan=2800, source=_NBS),
        PovertyLine(year=2015, yuan=2855, source=_NBS),
        PovertyLine(year=2016, yuan=2952, source=_NBS),
        PovertyLine(year=2019, yuan=3218, source=_NBS + "（约数）"),
        PovertyLine(year=2020, yuan=4000, source=_NBS + "（约数）"),
    ),
)


def parameter_rows(params: Parameters = DEFAULT_PARAMETERS) -> list[list[object]]:
    """Rows of the 「参数」 sheet (类别, 名称, 年度, 数值, 口径, 来源或说明)."""
    rows: list[list[object]] = [
        [LINE_CATEGORY, "扶贫标准(元/人·年)", line.year, line.yuan, line.scope, line.source] for line in params.lines
    ]
    for key, name in THRESHOLD_NAMES.items():
        rows.append([THRESHOLD_CATEGORY, name, None, getattr(params.thresholds, key), None,
                     "《贫困县退出专项评估检查实施办法（试行）》" if key != "income_margin" else "本地规则，可调整"])
    return rows
