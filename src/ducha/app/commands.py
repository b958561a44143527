"""The commands shared by the ribbon and the command line: each turns a parsed workbook into an OutputPlan.

A ribbon button's id is the command's name, so adding a button means adding an entry here and a line in
the add-in's BUTTONS list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from ducha.checks.pipeline import CheckResult, check_parsed
from ducha.model.schema import CHECK_RESULTS_SHEET, FOLLOW_UP_SHEET, SCORE_SHEET
from ducha.reading.workbook import ParsedWorkbook
from ducha.scoring.rubric import DEFAULT_RUBRIC, Rubric
from ducha.sheets.outputplan import GeneratedSheet, OutputPlan
from ducha.sheets.score_sheet import ScoreOutput, score_workbook

# Where the generated sheets go when several are written at once: the score first, the evidence last.
SHEET_ORDER = {SCORE_SHEET: 0, CHECK_RESULTS_SHEET: 1, FOLLOW_UP_SHEET: 2}


@dataclass
class CommandResult:
    """What a command produced: the plan to write, a one-line Chinese summary, and the results behind it."""

    plan: OutputPlan
    summary: str
    check: CheckResult | None = None
    score: ScoreOutput | None = None

    @property
    def has_errors(self) -> bool:
        return bool(self.check and self.check.errors)


def _ordered(sheets: list[GeneratedSheet]) -> list[GeneratedSheet]:
    """Front sheets at fixed positions (score, check results, follow-up), the rest after the input sheets."""
    front = sorted((s for s in sheets if s.name in SHEET_ORDER), key=lambda s: SHEET_ORDER[s.name])
    rest = [replace(s, position=None) for s in sheets if s.name not in SHEET_ORDER]
    return [replace(s, position=i) for i, s in enumerate(front)] + rest


def _check_summary(result: CheckResult) -> str:
    if result.errors:
        return f"检查完成：发现错误 {result.errors} 个，请查看「{CHECK_RESULTS_SHEET}」工作表。"
    return f"检查完成：没有错误（警告和提示共 {len(result.findings)} 个）。"


def _score_summary(score: ScoreOutput) -> str:
    card = score.card
    flags = f"，红旗 {len(card.red_flags)} 个" if card.red_flags else ""
    return f"评分完成：总分 {round(card.total, 2):g}/{card.max_total:g}{flags}，详见「{SCORE_SHEET}」工作表。"


def _flag_summary(score: ScoreOutput) -> str:
    return f"标记完成：需要跟进 {len(score.flags)} 处，详见「{FOLLOW_UP_SHEET}」工作表，相关行已标色。"


def run_check_command(path: Path, parsed: ParsedWorkbook, rubric: Rubric = DEFAULT_RUBRIC) -> CommandResult:
    result = check_parsed(path, parsed)
    return CommandResult(plan=result.plan(), summary=_check_summary(result), check=result)


def run_score_command(path: Path, parsed: ParsedWorkbook, rubric: Rubric = DEFAULT_RUBRIC) -> CommandResult:
    """「评分」 and its evidence sheets (「判定明细」, 「村级明细」)."""
    score = score_workbook(parsed.data, rubric)
    sheets = [s for s in score.plan.sheets if s.name != FOLLOW_UP_SHEET]
    return CommandResult(plan=OutputPlan(sheets=_ordered(sheets)), summary=_score_summary(score), score=score)


def run_flag_command(path: Path, parsed: ParsedWorkbook, rubric: Rubric = DEFAULT_RUBRIC) -> CommandResult:
    """「跟进清单」 and the highlights with notes on the flagged input rows."""
    score = score_workbook(parsed.data, rubric)
    sheets = [s for s in score.plan.sheets if s.name == FOLLOW_UP_SHEET]
    return CommandResult(plan=OutputPlan(sheets=_ordered(sheets), marks=score.plan.marks),
                         summary=_flag_summary(score), score=score)


def run_all_command(path: Path, parsed: ParsedWorkbook, rubric: Rubric = DEFAULT_RUBRIC) -> CommandResult:
    """Check, score and flag in one pass."""
    result = check_parsed(path, parsed)
    score = score_workbook(parsed.data, rubric)
    check_plan = result.plan()
    plan = OutputPlan(sheets=_ordered(check_plan.sheets + score.plan.sheets),
                      marks=check_plan.marks + score.plan.marks)
    summary = "\n".join((_check_summary(result), _score_summary(score), _flag_summary(score)))
    return CommandResult(plan=plan, summary=summary, check=result, score=score)


def run_clear_command(path: Path, parsed: ParsedWorkbook, rubric: Rubric = DEFAULT_RUBRIC) -> CommandResult:
    """Remove every generated sheet, highlight and note: an empty plan applied over a cleaned workbook."""
    return CommandResult(plan=OutputPlan(), summary="已清除 ducha 生成的结果、标色和批注。")


Command = Callable[[Path, ParsedWorkbook, Rubric], CommandResult]

COMMANDS: dict[str, Command] = {
    "check": run_check_command,
    "score": run_score_command,
    "flag": run_flag_command,
    "run_all": run_all_command,
    "clear": run_clear_command,
}
