"""What one live run did: the sheets written, the cells marked, the notes written or left out, and the features
the engine could not apply."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger("ducha.live")

NOTE_LIMIT = 20  # notes per run: each note is one Excel call; the 「检查结果」 sheet lists every finding anyway


@dataclass
class LiveReport:
    """What apply_plan_live did, for the clerk's message and the log."""

    sheets: list[str] = field(default_factory=list)
    marked_cells: int = 0
    rules: int = 0
    notes_written: int = 0
    notes_left_out: int = 0
    notes_kept: int = 0  # cells that already had somebody else's note
    unsupported: list[str] = field(default_factory=list)

    def skip(self, feature: str, error: BaseException | None = None) -> None:
        """Record a feature the engine could not apply (English, for the log)."""
        if feature not in self.unsupported:
            self.unsupported.append(feature)
            log.info("not applied on this engine: %s (%s)", feature, error or "unsupported")

    def remarks(self) -> list[str]:
        """Chinese lines for the clerk about what could not be done."""
        lines = []
        if self.notes_left_out:
            lines.append(f"批注只加在前 {NOTE_LIMIT} 个问题单元格上，其余 {self.notes_left_out} 个请看「检查结果」。")
        if self.notes_kept:
            lines.append(f"{self.notes_kept} 个问题单元格已有他人批注，未改动，问题说明请看「检查结果」。")
        if "notes" in self.unsupported:
            lines.append("此 Excel 版本不支持由程序添加批注，问题说明请看「检查结果」。")
        return lines
