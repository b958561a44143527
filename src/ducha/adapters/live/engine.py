"""The xlwings engine behind a book (desktop COM or remote) and the shims for what the engines do differently:
column widths, multi-area addresses, colours, and the pywin32 object for features xlwings lacks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

XL_UNDERLINE_SINGLE, XL_UNDERLINE_NONE = 2, -4142


@dataclass(frozen=True)
class Engine:
    """What the xlwings engine behind a book can do."""

    name: str

    @property
    def remote(self) -> bool:
        return self.name == "remote"

    @property
    def multi_area(self) -> bool:
        """Desktop Excel takes 'A1,C3:D4'; the remote engine silently uses only the first area."""
        return not self.remote

    def column_width(self, characters: float) -> float:
        """Desktop Excel measures widths in characters, Office.js in points."""
        if not characters:
            return 0
        return round((characters * 7 + 5) * 0.75, 2) if self.remote else characters


def engine_of(book: Any) -> Engine:
    try:
        return Engine(book.app.engine.name)
    except Exception:
        return Engine("unknown")


def com_api(obj: Any, engine: Engine) -> Any:
    """The pywin32 object behind an xlwings object on desktop Excel for Windows (features xlwings lacks)."""
    if engine.name != "excel":
        raise NotImplementedError(f"needs desktop Excel, not the {engine.name} engine")
    return obj.api


def rgb(hex_color: str) -> tuple[int, int, int]:
    return int(hex_color[0:2], 16), int(hex_color[2:4], 16), int(hex_color[4:6], 16)


def bgr(hex_color: str) -> int:
    r, g, b = rgb(hex_color)
    return r + g * 256 + b * 65536


def set_property(rng: Any, prop: str, value: Any, engine: Engine) -> None:
    if prop == "fill":
        rng.color = rgb(value)
    elif prop == "bold":
        rng.font.bold = value
    elif prop == "size":
        rng.font.size = value
    elif prop == "font_color":
        rng.font.color = rgb(value)
    elif prop == "number_format":
        rng.number_format = value
    elif prop == "wrap":
        rng.wrap_text = value
    elif prop == "valign":
        rng.vertical_alignment = value
    elif prop == "halign":
        rng.horizontal_alignment = value
    elif prop == "underline":
        com_api(rng, engine).Font.Underline = XL_UNDERLINE_SINGLE if value else XL_UNDERLINE_NONE
    else:
        raise ValueError(prop)
