"""Safe file writing: atomic replacement (temp file + rename) and timestamped backups."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

BACKUP_FOLDER = "ducha备份"


@contextlib.contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary path next to `dest`; on success it replaces `dest` in one rename, else it is removed."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f"{dest.suffix}.tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with tmp_path.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp_path, _mode_for(dest))
        os.replace(tmp_path, dest)
        _fsync_dir(dest.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def _mode_for(dest: Path) -> int:
    """The replaced file's permissions, or what a newly created file gets (mkstemp's temp file is private)."""
    try:
        return dest.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomically(dest: Path, write: Callable[[Path], None]) -> Path:
    """Call write(tmp) and move the result over `dest` in one step."""
    with atomic_path(dest) as tmp:
        write(tmp)
    return Path(dest)


def write_bytes_atomically(dest: Path, data: bytes) -> Path:
    """Write `data` to `dest` in one step (temporary file beside it, then one rename)."""
    return write_atomically(dest, lambda tmp: tmp.write_bytes(data))


def backup(path: Path, now: dt.datetime | None = None) -> Path:
    """Copy `path` into a 「ducha备份」 folder beside it, named with the time; returns the copy."""
    path = Path(path)
    stamp = (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    folder = path.parent / BACKUP_FOLDER
    folder.mkdir(exist_ok=True)
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    with atomic_path(target) as tmp:
        shutil.copy2(path, tmp)
    return target
