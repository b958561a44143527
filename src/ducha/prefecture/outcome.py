"""What became of one item of an intake batch: for the intake's summary table and its receipt."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ducha.prefecture import archive as store


@dataclass
class Outcome:
    """What became of one item of the batch (for the summary table and the receipt)."""

    name: str
    source: str
    kind: str  # archive event kind: accepted / conflict / duplicate / rejected / ignored
    reason: str = ""
    county: str | None = None
    month: str | None = None
    group: str | None = None
    version: int | None = None
    total: float | None = None
    errors: int = 0
    submission_id: int | None = None
    superseded: int | None = None
    receipt: Path | None = None

    @property
    def status_text(self) -> str:
        if self.kind == store.ACCEPTED and self.superseded:
            return f"已接收（第 {self.version} 版，取代旧版）"
        return store.STATUS_NAMES.get(self.kind, self.kind)
