"""Where ducha logs (English, for IT staff): a rotating file under the user's profile."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

LOG_ENV = "DUCHA_LOG_DIR"


def log_dir() -> Path:
    """%LOCALAPPDATA%\\ducha\\logs on Windows, ~/.local/state/ducha/logs elsewhere; DUCHA_LOG_DIR overrides."""
    if os.environ.get(LOG_ENV):
        return Path(os.environ[LOG_ENV])
    base = os.environ.get("LOCALAPPDATA") or os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local/state")
    return Path(base) / "ducha" / "logs"


def log_path() -> Path:
    return log_dir() / "ducha.log"


def setup_logging() -> None:
    """Log to the file (best effort: an unwritable profile must not stop the work)."""
    root = logging.getLogger("ducha")
    if root.handlers:
        return
    root.setLevel(logging.INFO)
    try:
        log_dir().mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(log_path(), maxBytes=2_000_000, backupCount=3,
                                                                        encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    logging.captureWarnings(True)  # library warnings (openpyxl's UserWarning, ...) go to the log, not the console
    warnings_log = logging.getLogger("py.warnings")
    warnings_log.addHandler(handler)
    warnings_log.propagate = False
