"""The score as plain data for `--json`: every indicator and every household judgment with its reasons, so a
supervisor's own tools can recompute and check each number."""

from __future__ import annotations

from typing import Any

from ducha.scoring.followup import mask_id
from ducha.scoring.indicators import Indicator
from ducha.scoring.judgments import JUDGMENT_NAMES, HouseholdJudgment, Judgment
from ducha.scoring.scorecard import ScoreCard


def _indicator(ind: Indicator, scored: set[str]) -> dict[str, Any]:
    return {
        "key": ind.key, "item": ind.item, "name": ind.name, "formula": ind.formula_zh, "source": ind.source,
        "numerator": ind.numerator, "denominator": ind.denominator, "value": ind.value, "value_text": ind.value_text,
        "status": ind.status, "counts_people": ind.counts_people, "threshold": ind.threshold,
        "direction": ind.direction, "red_flag": ind.red_flag, "in_scored_item": ind.key in scored,
        "cases": list(ind.cases), "missing": [{"row": m.row, "why": m.why} for m in ind.missing],
    }


def _judgment(j: Judgment) -> dict[str, Any]:
    return {"value": j.value, "auto": j.auto, "overridden": j.overridden,
            "reasons": [r.model_dump() for r in j.reasons], "auto_reasons": [r.model_dump() for r in j.auto_reasons],
            "notes": [r.model_dump() for r in j.notes]}


def _household(j: HouseholdJudgment) -> dict[str, Any]:
    judged = {key: _judgment(jd) for key in JUDGMENT_NAMES if (jd := getattr(j, key)) is not None}
    return {"row": j.row, "township": j.township, "village": j.village, "household_type": j.household_type,
            "household_size": j.household_size, "head_name": j.head_name, "id_number": mask_id(j.id_number),
            "judgments": judged}


def evaluation_dict(judgments: list[HouseholdJudgment], indicators: list[Indicator], card: ScoreCard) -> dict[str, Any]:
    """{"indicators": [...], "judgments": [...], "basis": {...}}: every indicator (status 无样本 / 缺数据 / ok) and
    every household's judgments with reasons and notes (ID numbers masked), and what the score rests on."""
    in_scored_items = {k for item in card.items for k in item.indicators}
    basis = card.basis.model_dump(mode="json") if card.basis else None
    if basis is not None:
        basis["rubric"] = {"name": card.rubric_name, "version": card.rubric_version}
    return {"indicators": [_indicator(ind, in_scored_items) for ind in indicators],
            "judgments": [_household(j) for j in judgments], "basis": basis}
