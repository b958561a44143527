"""Supervisor-editable parameters: poverty lines by year, the national thresholds and the judgment settings.

The defaults here are written into the template's 「参数」 sheet; the values a workbook carries win.
The parameters are versioned (the 「参数版本」 setting) so a score tab can say which ones it used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LINE_CATEGORY = "扶贫标准"
THRESHOLD_CATEGORY = "阈值"
SETTING_CATEGORY = "设置"
PARAMETERS_VERSION = "2019.2"
NATIONAL, LOCAL = "国家", "地方"
LineScope = Literal["国家", "地方"]


class PovertyLine(BaseModel):
    """The poverty line of one year, in yuan per person per year at current prices."""

    model_config = ConfigDict(frozen=True)

    year: int = Field(ge=2000, le=2100)
    yuan: float = Field(gt=0)
    scope: LineScope = NATIONAL
    source: str = ""

    @property
    def text(self) -> str:
        """E.g. 2019 年国家扶贫标准 3,218 元."""
        yuan = f"{self.yuan:,.0f}" if float(self.yuan).is_integer() else f"{self.yuan:,.2f}"
        return f"{self.year} 年{self.scope}扶贫标准 {yuan} 元"


class Thresholds(BaseModel):
    """National exit-assessment thresholds (DOMAIN.md §3), as shares in [0, 1], and two local margins."""

    model_config = ConfigDict(frozen=True)

    wrong_exit_max: float = Field(0.02, ge=0, le=1)
    missed_max: float = Field(0.02, ge=0, le=1)
    recognition_min: float = Field(0.90, ge=0, le=1)
    incidence_max: float = Field(0.03, ge=0, le=1)
    income_margin: float = Field(1.5, ge=1, description="识别不准确: income above line × this margin")
    stability_margin: float = Field(0.0, ge=0, le=1, description="错退: income must exceed line × (1 + this)")


THRESHOLD_NAMES: dict[str, str] = {
    "wrong_exit_max": "脱贫人口错退率上限",
    "missed_max": "贫困人口漏评率上限",
    "recognition_min": "群众认可度下限",
    "incidence_max": "综合贫困发生率上限(西部)",
    "income_margin": "识别不准确收入倍数",
    "stability_margin": "稳定超过扶贫标准的幅度",
}
_THRESHOLD_SOURCES = {"income_margin": "本地规则，可调整",
                      "stability_margin": "方案要求收入“稳定超过”国家扶贫标准；0 表示超过即可，0.1 表示须高出 10%"}


class Settings(BaseModel):
    """Choices the plan leaves open, each with the plan-faithful default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(PARAMETERS_VERSION, min_length=1)
    line_scope: LineScope = Field(NATIONAL, description="the line 错退 / 漏评 / 识别 are judged against")
    exclude_one_off_income: bool = Field(False, description="稳定: income per head without 一次性收入")


SETTING_NAMES: dict[str, str] = {
    "version": "参数版本",
    "line_scope": "判定采用的扶贫标准口径",
    "exclude_one_off_income": "稳定收入不计一次性收入",
}
SETTING_CHOICES: dict[str, tuple[str, ...]] = {"line_scope": (NATIONAL, LOCAL), "exclude_one_off_income": ("是", "否")}
_SETTING_NOTES = {
    "version": "州督查办修改参数后请改版本号，评分表会注明所用版本",
    "line_scope": "方案规定按国家扶贫标准；填“地方”则采用本表口径为“地方”的标准",
    "exclude_one_off_income": "填“是”时，错退判定的收入扣除「农户调查」的“其中一次性收入”",
}


def setting_text(key: str, value: object) -> str:
    """A setting value as written in the 「参数」 sheet."""
    return ("是" if value else "否") if isinstance(value, bool) else str(value)


def setting_value(key: str, text: str) -> object:
    """A 「参数」 option text as the setting's value; ValueError (Chinese) when it is not one of the choices."""
    choices = SETTING_CHOICES.get(key)
    if choices and text not in choices:
        raise ValueError(f"「{SETTING_NAMES[key]}」应为 {'、'.join(choices)}，不是「{text}」")
    return text == "是" if key == "exclude_one_off_income" else text


class Parameters(BaseModel):
    """Everything a supervisor may tune without code."""

    model_config = ConfigDict(frozen=True)

    lines: tuple[PovertyLine, ...]
    thresholds: Thresholds = Thresholds()
    settings: Settings = Settings()

    def line_for(self, year: int, scope: LineScope | None = None) -> PovertyLine | None:
        """The line of `year`, else the latest earlier year's, in the chosen scope (the setting's by default).

        A 地方 scope falls back to the national line for years without a local one; None if there is no line.
        """
        scope = scope or self.settings.line_scope
        chosen = self._latest(year, scope)
        return chosen if chosen is not None or scope == NATIONAL else self._latest(year, NATIONAL)

    def _latest(self, year: int, scope: str) -> PovertyLine | None:
        earlier = [line for line in self.lines if line.scope == scope and line.year <= year]
        return max(earlier, key=lambda line: line.year) if earlier else None

    def lines_until(self, year: int) -> list[PovertyLine]:
        """The line (chosen scope) of every year up to `year` that has one: what an earlier exit year may use."""
        return [line for y in sorted({ln.year for ln in self.lines if ln.year <= year}) if (line := self.line_for(y))]

    def highest_line_until(self, year: int) -> PovertyLine | None:
        return max(self.lines_until(year), key=lambda line: line.yuan, default=None)

    def lowest_line_until(self, year: int) -> PovertyLine | None:
        return min(self.lines_until(year), key=lambda line: line.yuan, default=None)

    def changed_settings(self) -> list[tuple[str, str]]:
        """(name, value) of the settings and thresholds that differ from the defaults, for the score tab."""
        found = [(SETTING_NAMES[k], setting_text(k, v)) for k, v in self.settings
                 if k != "version" and v != getattr(DEFAULT_SETTINGS, k)]
        found += [(THRESHOLD_NAMES[k], f"{v:g}") for k, v in self.thresholds if v != getattr(DEFAULT_THRESHOLDS, k)]
        return found


DEFAULT_SETTINGS = Settings()
DEFAULT_THRESHOLDS = Thresholds()
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
    """Rows of the 「参数」 sheet (类别, 名称, 年度, 数值, 口径, 来源或说明, 选项)."""
    rows: list[list[object]] = [
        [LINE_CATEGORY, "扶贫标准(元/人·年)", line.year, line.yuan, line.scope, line.source, None]
        for line in params.lines
    ]
    for key, name in THRESHOLD_NAMES.items():
        rows.append([THRESHOLD_CATEGORY, name, None, getattr(params.thresholds, key), None,
                     _THRESHOLD_SOURCES.get(key, "《贫困县退出专项评估检查实施办法（试行）》"), None])
    for key, name in SETTING_NAMES.items():
        rows.append([SETTING_CATEGORY, name, None, None, None, _SETTING_NOTES[key],
                     setting_text(key, getattr(params.settings, key))])
    return rows


UNSTATED_VERSION = "未注明"


def setting_key(name: object) -> str | None:
    """The setting a 「参数」 row's 名称 names (spaces ignored), or None."""
    text = "".join(str(name or "").split())
    return next((key for key, label in SETTING_NAMES.items() if label == text), None)


def settings_from_rows(rows: Iterable[tuple[object, object, object]]) -> Settings:
    """Settings from (类别, 名称, 选项) rows of a workbook's 「参数」 sheet; an invalid option keeps the default
    (the check `check_parameter_settings` reports it). A sheet without a version row says so."""
    found: dict[str, object] = {"version": UNSTATED_VERSION}
    for category, name, option in rows:
        key = setting_key(name)
        if category != SETTING_CATEGORY or key is None or option is None or str(option).strip() == "":
            continue
        try:
            found[key] = setting_value(key, str(option).strip())
        except ValueError:
            continue
    return Settings(**found)
