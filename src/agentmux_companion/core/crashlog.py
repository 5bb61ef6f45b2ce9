"""A hard crash leaves a trace, and the next start says so (qutebrowser's pattern).

A segfault or an abort inside Qt or SQLite kills the process before any Python handler runs: no
traceback, no log line, no crash dialog. :func:`enable_crash_log` points :mod:`faulthandler` at
``<log dir>/crash.log``, which stays empty while all goes well; after a hard crash it holds every
thread's Python stack. The next start finds the file non-empty, rotates it to ``crash.log.1``
(older ones to ``.2`` and ``.3``) and returns a :class:`PreviousCrash`, so the CLI can print one
line on stderr and the GUI can show it.

The file is the companion's own: created 0600 in a 0700 folder, never through a symbolic link
(a link, FIFO or device where ``crash.log`` should be is left alone and crash logging stays off).
The CLI and the GUI may run at the same time: both append to the same file, and neither
truncates it. A stack trace holds file names, line numbers and function names, never values,
so no secret can reach it.

Call :func:`enable_crash_log` once, early, right after the paths are known. It never raises:
a crash log that cannot be set up is a warning, not a reason not to start.
"""

from __future__ import annotations

import errno
import faulthandler
import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

from agentmux_companion.core.paths import ensure_private_dir

log = logging.getLogger(__name__)

CRASH_LOG_NAME = "crash.log"
#: Rotated logs kept: crash.log.1 (the newest) to crash.log.3.
KEPT_CRASH_LOGS = 3
#: A faulthandler report is a few KB; a bigger file is read only this far.
READ_LIMIT_BYTES = 64 * 1024

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

#: The open crash log; faulthandler writes to its descriptor, which must stay open.
_crash_file: BinaryIO | None = None


class HasLogDir(Protocol):
    """Anything with the companion's log folder: ``AppPaths`` is one."""

    @property
    def log_dir(self) -> Path:
        """The folder the crash log is written to."""
        ...


class PreviousCrash(NamedTuple):
    """A run that ended in a hard crash, found at the next start.

    Attributes:
        log_path: where its report is now (the rotated ``crash.log.1``).
        text: the report faulthandler wrote (at most ``READ_LIMIT_BYTES`` of it).
    """

    log_path: Path
    text: str

    @property
    def headline(self) -> str:
        """The first line faulthandler wrote, e.g. ``Fatal Python error: Segmentation fault``."""
        for line in self.text.splitlines():
            if line.strip():
                return line.strip()
        return "no details"

    @property
    def message(self) -> str:
        """One line for stderr or a notification."""
        return f"The previous run crashed ({self.headline}); its report is in {self.log_path}"


def enable_crash_log(paths: HasLogDir) -> PreviousCrash | None:
    """Report a crash of the previous run, then send this run's hard crashes to ``crash.log``.

    Args:
        paths: the companion's paths (only ``log_dir`` is used).

    Returns:
        The previous run's crash, when its report was waiting in ``crash.log``; else None.
    """
    global _crash_file
    log_dir = paths.log_dir
    crash_log = log_dir / CRASH_LOG_NAME
    try:
        ensure_private_dir(log_dir)
        previous = _take_previous_report(crash_log)
        crash_file = _open_private_for_append(crash_log)
    except OSError as exc:
        log.warning("crash log not enabled: %s", exc)
        return None
    faulthandler.enable(file=crash_file, all_threads=True)
    if _crash_file is not None:
        _crash_file.close()
    _crash_file = crash_file
    return previous


def _take_previous_report(crash_log: Path) -> PreviousCrash | None:
    """Read and rotate a non-empty ``crash.log``; None when there is none or it is empty."""
    try:
        fd = os.open(crash_log, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "is a symbolic link; left alone", str(crash_log)) from exc
        raise
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "is not a regular file; left alone", str(crash_log))
        data = file.read(READ_LIMIT_BYTES)
    if not data.strip():
        return None
    rotated = _rotate(crash_log)
    return PreviousCrash(rotated, data.decode("utf-8", errors="replace"))


def _rotate(crash_log: Path) -> Path:
    """Move ``crash.log`` to ``crash.log.1``, shifting older reports up and dropping the oldest."""
    for number in range(KEPT_CRASH_LOGS - 1, 0, -1):
        older = crash_log.with_name(f"{crash_log.name}.{number}")
        if older.is_file() and not older.is_symlink():
            os.replace(older, crash_log.with_name(f"{crash_log.name}.{number + 1}"))
    newest = crash_log.with_name(f"{crash_log.name}.1")
    os.replace(crash_log, newest)
    return newest


def _open_private_for_append(crash_log: Path) -> BinaryIO:
    """Open (creating it 0600) the crash log for appending, refusing a link or a non-file."""
    fd = os.open(crash_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _NONBLOCK | _CLOEXEC, 0o600)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "is not a regular file; left alone", str(crash_log))
        if os.name == "posix" and stat.S_IMODE(info.st_mode) != 0o600:
            os.fchmod(fd, 0o600)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "ab", buffering=0)
