"""Typed errors.

A :class:`CompanionError` is a *known* condition (a store of the wrong era, a busy store, a locked
keyring, an unreadable file): the CLI prints its message and exits with its code, the GUI shows it
in the message funnel. Any other exception is a bug and reaches a traceback or the crash dialog.
"""

from __future__ import annotations


class CompanionError(Exception):
    """A known failure with a message written for the user.

    Attributes:
        exit_code: the CLI's exit code for this failure (see design.md, "Exit codes").
    """

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(CompanionError):
    """The command was called wrongly, or needs a confirmation it cannot ask for."""

    exit_code = 2


class StoreRefused(CompanionError):
    """A store cannot be migrated (missing, wrong era, corrupt, read-only, Default name taken).

    Nothing has been written when this is raised.
    """

    exit_code = 3


class StoreChanged(StoreRefused):
    """The store changed between the preview and the write; nothing was written."""


class StoreBusy(CompanionError):
    """Another writer (or AgentMux's migration lock) held the store past the busy timeout."""

    exit_code = 4


class UndoRefused(CompanionError):
    """Undo cannot reverse a run precisely (rows changed since, no record); nothing written."""

    exit_code = 3


class KeyringUnavailable(CompanionError):
    """The OS keyring cannot be used: no backend, insecure backend, locked, or timed out."""

    exit_code = 3
