"""Typed errors.

A :class:`CompanionError` is a *known* condition (a store of the wrong era, a busy store, a locked
keyring, an unreadable file): the CLI prints its message and exits with its code, the GUI shows it
in the message funnel. Any other exception is a bug and reaches a traceback or the crash dialog.
"""

from __future__ import annotations

import enum
import errno
import sqlite3


class ExitCode(enum.IntEnum):
    """The command line's exit codes: a contract that installers and scripts depend on.

    One source for the CLI, the GUI launcher and the documentation (README, ``--help``): each
    member carries its meaning (``ExitCode.REFUSED.meaning``), which the help epilogue and
    docs/cli.md are generated from; attribute docstrings would be gone at run time.
    """

    meaning: str

    def __new__(cls, value: int, meaning: str) -> ExitCode:
        """Make a member that is its exit code as an int, carrying a one-line meaning for the docs and ``--help``."""
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    OK = 0, "Done, or nothing to do."
    UNEXPECTED = 1, "An unexpected error: a bug, reported with a traceback or the crash dialog."
    USAGE = 2, "The command was called wrongly, or needs a confirmation it cannot ask for."
    REFUSED = 3, "Refused: nothing written (store missing, wrong era, corrupt, read-only, no room, ...)."
    BUSY = 4, "The store stayed locked by another program past the busy timeout: nothing written."
    WARNINGS = 5, "Done, with warnings (a provider skipped by a failure, an odd credentials file)."
    DECLINED = 6, "The user answered no at a confirmation prompt: nothing written."


class CompanionError(Exception):
    """A known failure with a message written for the user.

    Attributes:
        exit_code: the CLI's exit code for this failure (:class:`ExitCode`).
    """

    exit_code: ExitCode = ExitCode.UNEXPECTED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(CompanionError):
    """The command was called wrongly, or needs a confirmation it cannot ask for."""

    exit_code = ExitCode.USAGE


class StoreRefused(CompanionError):
    """A store cannot be migrated (missing, wrong era, corrupt, read-only, Default name taken).

    Nothing has been written when this is raised.
    """

    exit_code = ExitCode.REFUSED


class UnsafePath(StoreRefused):
    """A folder or file of the companion is a link, not a folder, or not the user's: refused.

    Nothing is written through it; the message names the path and what is wrong with it.
    """


class BackupRefused(StoreRefused):
    """A backup cannot be taken (no room, the disk filled up, a write failed); nothing written."""


class StoreChanged(StoreRefused):
    """The store changed between the preview and the write; nothing was written."""


class StoreBusy(CompanionError):
    """Another writer (or AgentMux's migration lock) held the store past the busy timeout."""

    exit_code = ExitCode.BUSY


class UndoRefused(CompanionError):
    """Undo cannot reverse a run precisely (rows changed since, no record); nothing written."""

    exit_code = ExitCode.REFUSED


class KeyringUnavailable(CompanionError):
    """The OS keyring cannot be used: no backend, insecure backend, locked, or timed out."""

    exit_code = ExitCode.REFUSED


class NoRoom(StoreRefused):
    """A disk (or a file-size limit) had no room for what had to be written; nothing was written."""


class CompanionFilesUnusable(StoreRefused):
    """The companion's own files (ledger, backups folder) cannot be used as they are."""


class StoreWriteRefused(StoreRefused):
    """AgentMux's store refused a write (a trigger, a constraint, damage); nothing was written."""


_NO_ROOM_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


def known_error(exc: BaseException, where: str) -> CompanionError | None:
    """The known failure behind an ``OSError`` or a SQLite error, in words; None for a bug.

    Args:
        exc: what was raised.
        where: what was being written, for the message ("the backup", "the store", ...).
    """
    if isinstance(exc, CompanionError):
        return exc
    if isinstance(exc, OSError):
        if exc.errno in _NO_ROOM_ERRNOS:
            return NoRoom(f"there is no room to write {where} ({exc.strerror}: {exc.filename or ''}); free some "
                          "space (or raise the file-size limit) and run again. Nothing was written")
        if exc.errno == errno.ENAMETOOLONG:
            return CompanionFilesUnusable(
                f"a path is too long for this system while writing {where} ({exc.filename}); point "
                "AGENTMUX_COMPANION_DIR at a shorter folder and run again. Nothing was written")
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return StoreRefused(
                f"{where} cannot be written ({exc.strerror}: {exc.filename or ''}). Nothing was written")
        return None
    if isinstance(exc, sqlite3.Error):
        text = str(exc)
        lowered = text.lower()
        if "full" in lowered:
            return NoRoom(f"there is no room to write {where} ({text}); free some space (or raise the file-size "
                          "limit) and run again. Nothing was written")
        if "locked" in lowered or "busy" in lowered:
            return StoreBusy(f"{where} is busy: another program kept it locked ({text}). Nothing was written; "
                             "close AgentMux and try again")
        if "readonly" in lowered or "read-only" in lowered:
            return StoreRefused(f"{where} is read-only ({text}). Nothing was written")
        damaged = ("malformed", "not a database", "disk i/o")
        if isinstance(exc, sqlite3.IntegrityError) or any(word in lowered for word in damaged):
            return StoreWriteRefused(
                f"{where} refused the change ({text}); this store has a rule or damage the migration cannot get "
                "past. Nothing was written; start AgentMux once, or restore a backup, and run again")
    return None
