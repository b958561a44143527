"""Excel entry points called by the 督查助手 ribbon (placeholder until the live adapter lands).

Every ribbon button runs `RunPython "import ducha.excel as x; x.run('<button id>')"`; the button ids are
`ducha.addin_tools.BUTTONS`.
"""

from __future__ import annotations


def run(command: str) -> None:
    """Carry out the ribbon command named by a button id (check, score, flag, run_all, ...)."""
    raise NotImplementedError(f"ribbon command {command!r} is not implemented yet")
