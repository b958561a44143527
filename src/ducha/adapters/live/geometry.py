"""Rectangles of cells for the live adapter: addresses, covering a set of cells with few rectangles, and multi-area
addresses short enough to pass to Excel at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from openpyxl.utils import get_column_letter, range_boundaries

Rect = tuple[int, int, int, int]  # first row, first column, last row, last column (1-based, inclusive)
ADDRESS_LIMIT = 255  # characters of a multi-area address passed to Excel at once


def parse_rect(ref: str) -> Rect:
    """'B2:D5' -> (2, 2, 5, 4); a single cell gives a one-cell rectangle."""
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    return min_row, min_col, max_row, max_col


def rect_address(rect: Rect) -> str:
    r1, c1, r2, c2 = rect
    first = f"{get_column_letter(c1)}{r1}"
    return first if (r1, c1) == (r2, c2) else f"{first}:{get_column_letter(c2)}{r2}"


def cells_of(rect: Rect) -> Iterator[tuple[int, int]]:
    r1, c1, r2, c2 = rect
    for r in range(r1, r2 + 1):
        for c in range(c1, c2 + 1):
            yield r, c


def rectangles(cells: Iterable[tuple[int, int]]) -> list[Rect]:
    """Cover a set of cells with few rectangles: vertical runs per column, merged across neighbouring columns."""
    rows_by_column: dict[int, list[int]] = defaultdict(list)
    for r, c in set(cells):
        rows_by_column[c].append(r)
    done: list[Rect] = []
    open_runs: dict[tuple[int, int], int] = {}  # (first row, last row) -> first column, open in `previous`
    previous = 0
    for c in sorted(rows_by_column):
        current = {}
        for run in consecutive_runs(sorted(rows_by_column[c])):
            current[run] = open_runs.pop(run) if previous == c - 1 and run in open_runs else c
        done += [(r1, c1, r2, previous) for (r1, r2), c1 in open_runs.items()]
        open_runs, previous = current, c
    done += [(r1, c1, r2, previous) for (r1, r2), c1 in open_runs.items()]
    return sorted(done)


def consecutive_runs(sorted_numbers: list[int]) -> Iterator[tuple[int, int]]:
    start = previous = None
    for n in sorted_numbers:
        if previous is not None and n == previous + 1:
            previous = n
            continue
        if start is not None:
            yield start, previous
        start = previous = n
    if start is not None:
        yield start, previous


def union_chunks(rects: Iterable[Rect], limit: int = ADDRESS_LIMIT) -> list[str]:
    """Multi-area addresses ('A1:B2,D5,...') no longer than `limit` characters each."""
    chunks: list[str] = []
    current = ""
    for rect in rects:
        address = rect_address(rect)
        if current and len(current) + 1 + len(address) > limit:
            chunks.append(current)
            current = ""
        current = f"{current},{address}" if current else address
    if current:
        chunks.append(current)
    return chunks
