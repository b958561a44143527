"""Checks the plan implies across answers: contradicting household answers, the 「参数」 settings, and which
sample-composition rules the inspection mode (督查方式) makes binding.
"""

from __future__ import annotations

import numpy as np

from ducha.checks.registry import check
from ducha.model.findings import Code, Finding, Severity, make_finding
from ducha.model.parameters import (
    DEFAULT_SETTINGS,
    SETTING_CATEGORY,
    SETTING_NAMES,
    setting_key,
    setting_text,
    setting_value,
)
from ducha.model.schema import ANSWER_CONFLICTS, BASIC
from ducha.reading.workbook import ParsedWorkbook

RANDOM_MODE = "随机暗访"
# The checks of the random sample's composition (方案 三(二)): binding for 随机暗访, advisory for the other modes.
COMPOSITION_CODES = (Code.SAMPLE_TOWNSHIP_COUNT, Code.SAMPLE_TOWNSHIP_NO_TASK, Code.SAMPLE_HOUSEHOLD_COUNT,
                     Code.SAMPLE_INTERVIEW_COUNT)


@check
def check_answer_conflicts(parsed: ParsedWorkbook) -> list[Finding]:
    """参加新农合=否 with 基本医疗有保障=是, 住危房=是 with 住房安全有保障=是, 义务教育阶段子女数=0 with
    义务教育有保障=否: a warning at the guarantee's cell naming the other cell."""
    table = parsed.tables["households"]
    needed = {key for c in ANSWER_CONFLICTS for key in (c.guarantee, c.detail)}
    if not table.rows or not needed <= set(table.values):
        return []
    v = table.values
    # `conflicting_answers` over whole columns: one comparison per column instead of a record per household
    hits = [(c, np.not_equal(v[c.detail], None) & (v[c.detail] == c.detail_value) & (v[c.guarantee] == c.claimed))
            for c in ANSWER_CONFLICTS]
    found = []
    for i in np.flatnonzero(np.logical_or.reduce([hit for _, hit in hits])).tolist():
        for c, hit in hits:
            if hit[i]:
                other = f"{table.letter(c.detail)}{table.rows[i]}"
                found.append(table.finding(Code[c.code], c.guarantee, i, other=other))
    return found


@check
def check_parameter_settings(parsed: ParsedWorkbook) -> list[Finding]:
    """Each 设置 row of 「参数」 names a known setting and gives one of its options."""
    table = parsed.tables.get("parameters")
    if table is None or not table.rows or "name" not in table.values or "option" not in table.values:
        return []
    found = []
    for i in range(len(table.rows)):
        if table.values["category"][i] != SETTING_CATEGORY:
            continue
        key, option = setting_key(table.values["name"][i]), table.values["option"][i]
        if key is None:
            reason = f"没有名为「{table.values['name'][i]}」的设置，应为 {'、'.join(SETTING_NAMES.values())}"
            found.append(table.finding(Code.SETTING_INVALID, "name", i, reason=reason, default="不适用"))
            continue
        try:
            setting_value(key, str(option).strip()) if option is not None else None
        except ValueError as error:
            found.append(table.finding(Code.SETTING_INVALID, "option", i, reason=str(error),
                                  default=setting_text(key, getattr(DEFAULT_SETTINGS, key))))
    return found


def apply_inspection_mode(parsed: ParsedWorkbook, findings: list[Finding]) -> list[Finding]:
    """`findings` with the sample-composition findings made advisory (提示, saying why) unless 督查方式 is 随机暗访,
    plus one 提示 at the mode's cell. A blank mode keeps every rule binding."""
    mode = parsed.basic.get("mode")
    codes = {c.code for c in COMPOSITION_CODES}
    if mode in (None, RANDOM_MODE) or not any(f.code in codes for f in findings):
        return findings
    note = f"（督查方式为「{mode}」，此项只约束随机暗访，仅作提示）"
    relaxed = [f.model_copy(update={"severity": Severity.INFO, "message": f.message + note}) if f.code in codes else f
               for f in findings]
    cell = parsed.basic.cells.get("mode", "")
    return [*relaxed, make_finding(Code.MODE_COMPOSITION_RELAXED, sheet=parsed.sheet_names["basic"], cell=cell,
                                   field=BASIC.field("mode").header, value=mode)]
