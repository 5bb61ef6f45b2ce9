"""Sweeping what runs killed while writing a backup left behind: run at the start of every command.

A backup is written as ``<name>.partial`` while its writer holds an exclusive ``flock`` on it
(see :mod:`backup`). A partial file whose lock no process holds belongs to a dead run; one whose
lock is held belongs to a run still at work and is left alone. On Windows, where there is no
``flock``, a file another process has open cannot be deleted, which tells the same.
"""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path

from agentmux_companion.core.paths import O_CLOEXEC, O_NOFOLLOW, AppPaths

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

PARTIAL_SUFFIX = ".partial"
#: Files SQLite may leave beside a partial backup when its writer dies.
SIDE_SUFFIXES = ("-journal", "-wal", "-shm")


def sweep(paths: AppPaths) -> list[Path]:
    """Remove what runs that died while writing a backup left behind; returns what it removed.

    A partial file whose lock no process holds belongs to a dead run: it goes, with its SQLite
    journal, and (if the run had got that far) the final file and catalog row still marked
    ``writing``. Links and anything that is not a real folder of the user are skipped, never
    followed. Cheap when there is nothing to sweep: run at the start of every command.
    """
    removed: list[Path] = []
    root = paths.backups_dir
    if not _real_folder(root):
        return removed
    for folder in sorted(root.iterdir()):
        if not _real_folder(folder):
            continue
        for entry in sorted(folder.iterdir()):
            if entry.name.endswith(PARTIAL_SUFFIX) and _writer_is_gone(entry):
                try:
                    os.unlink(entry)
                except OSError:
                    continue  # Windows: still open, so its writer is alive
                removed.append(entry)
                for suffix in SIDE_SUFFIXES:
                    with suppress(OSError):
                        os.unlink(str(entry) + suffix)
                final = entry.with_name(entry.name[: -len(PARTIAL_SUFFIX)])
                # Loaded only when there is something to sweep: this runs at every command's start.
                from agentmux_companion.core import backup_catalog as catalog

                row = catalog.by_path(paths.ledger_path, final.resolve())
                if row is not None and row.state == "writing":
                    with suppress(FileNotFoundError):
                        os.unlink(final)
                    catalog.drop(paths.ledger_path, row.id)
            elif any(entry.name.endswith(PARTIAL_SUFFIX + suffix) for suffix in SIDE_SUFFIXES):
                partial = Path(str(entry)[: str(entry).rindex(PARTIAL_SUFFIX) + len(PARTIAL_SUFFIX)])
                if not os.path.lexists(partial):
                    with suppress(FileNotFoundError):
                        os.unlink(entry)
                        removed.append(entry)
    return removed


def _real_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _writer_is_gone(partial: Path) -> bool:
    try:
        info = os.lstat(partial)
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode):
        return False  # not ours: a link or other thing is left for the user to see
    if fcntl is None:
        return True  # Windows: unlinking a file another process has open fails, and is skipped
    try:
        fd = os.open(partial, os.O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a live run holds it
    finally:
        os.close(fd)
    return True
