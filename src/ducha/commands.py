"""The commands shared by the ribbon and the command line: each turns a parsed workbook into an OutputPlan.

A ribbon button's id is the command's name, so adding a button means adding an entry here and a line in
the add-in's BUTTONS list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .outputplan import OutputPlan
from .pipeline import CheckResult, check_parsed
from .workbook import ParsedWorkbook


@dataclass
class CommandResult:
    """What a command produced: the plan to write and a one-line Chinese summary for the clerk."""

    plan: OutputPlan
    summary: str
    check: CheckResult | None = None


def run_check_command(path: Path, parsed: ParsedWorkbook) -> CommandResult:
    result = check_parsed(path, parsed)
    errors = result.errors
    summary = (f"检查完成：发现错误 {errors} 个，请查看「检查结果」工作表。" if errors
               else f"检查完成：没有错误（警告和提示共 {len(result.findings)} 个）。")
    return CommandResult(plan=result.plan(), summary=summary, check=result)


def run_clear_command(path: Path, parsed: ParsedWorkbook) -> CommandResult:
    """Remove every generated sheet, highlight and note: an empty plan applied over a cleaned workbook."""
    return CommandResult(plan=OutputPlan(), summary="已清除 ducha 生成的结果、标色和批注。")


COMMANDS: dict[str, Callable[[Path, ParsedWorkbook], CommandResult]] = {
    "check": run_check_command,
    "clear": run_clear_command,
}
