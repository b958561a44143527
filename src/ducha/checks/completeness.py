"""Completeness: answered ÷ required-and-relevant fields, per sheet and per village."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ducha.checks.tables import VillageKey, village_keys
from ducha.model.schema import BASIC, COUNTY, Sheet
from ducha.reading.workbook import ParsedWorkbook


@dataclass(frozen=True)
class Completeness:
    """Answered ÷ required-and-relevant fields for one scope (a sheet or a village)."""

    scope: str
    answered: int
    required: int

    @property
    def ratio(self) -> float | None:
        return self.answered / self.required if self.required else None

    def text(self) -> str:
        if not self.required:
            return "无应填项"
        return f"{self.answered}/{self.required}（{self.answered / self.required:.1%}）"


def _form_completeness(sheet: Sheet, values: dict[str, Any], cells: dict[str, str], key_item: str | None,
                       name: str) -> Completeness:
    required = [f for f in sheet.fields if f.needed_for(key_item)]
    answered = sum(1 for f in required if values.get(f.key) is not None)
    return Completeness(name, answered, len(required))


def completeness(parsed: ParsedWorkbook) -> tuple[list[Completeness], list[Completeness]]:
    """(per sheet, per village) completeness."""
    key_item = parsed.basic.get("key_item")
    per_sheet = [
        _form_completeness(BASIC, parsed.basic.values, parsed.basic.cells, key_item, parsed.sheet_names["basic"]),
    ]
    per_village: dict[VillageKey, list[int]] = defaultdict(lambda: [0, 0])
    for key in ("sampling", "households", "villages", "interviews"):
        table = parsed.tables[key]
        per_sheet.append(Completeness(table.sheet_name, sum(table.required_answered), sum(table.required_total)))
        if key == "sampling":
            continue
        for village, answered, total in zip(village_keys(table), table.required_answered, table.required_total,
                                            strict=True):
            if village is not None:
                per_village[village][0] += answered
                per_village[village][1] += total
    per_sheet.append(_form_completeness(COUNTY, parsed.county.values, parsed.county.cells, key_item,
                                        parsed.sheet_names["county"]))
    villages = [Completeness(f"{t}{v}", a, r) for (t, v), (a, r) in sorted(per_village.items())]
    return per_sheet, villages
