"""Typed errors.

A :class:`CompanionError` is a *known* condition (a store of the wrong era, a busy store, a locked
keyring, an unreadable file): the CLI prints its message and exits with its code, the GUI shows it
in the message funnel. Any other exception is a bug and reaches a traceback or the crash dialog.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The command line's exit codes: a contract that installers and scripts depend on.

    One source for the CLI, the GUI launcher and the documentation (README, ``--help``): each
    member carries its meaning (``ExitCode.REFUSED.meaning``), which the help epilogue and
    docs/cli.md are generated from; attribute docstrings would be gone at run time.
    """

    meaning: str

    def __new__(cls, value: int, meaning: str) -> ExitCode:
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
