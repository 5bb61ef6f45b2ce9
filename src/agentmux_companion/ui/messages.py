"""The message funnel: every error and notice the GUI shows goes through here.

A :class:`~agentmux_companion.core.errors.CompanionError` is a known condition and becomes a clear
message (a title in the user's words plus the core's explanation). Any other exception is a bug:
it becomes a crash report with copyable, redacted details. Nothing else in the UI decides how an
error looks, so the wording stays consistent and no traceback reaches a normal message.
"""

from __future__ import annotations

import enum
import logging
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QCoreApplication, QObject, Signal

from agentmux_companion.core.errors import (
    CompanionError,
    KeyringUnavailable,
    StoreBusy,
    StoreChanged,
    StoreRefused,
    UndoRefused,
    UsageError,
)
from agentmux_companion.core.log import redact

if TYPE_CHECKING:
    from agentmux_companion.core.migration.results import StoreResult

log = logging.getLogger(__name__)


def escape(text: str) -> str:
    """``text`` safe inside a rich-text QLabel (the values shown come from files and stores)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Level(enum.StrEnum):
    """How serious a message is; it picks the banner's icon and the log level."""
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class UserMessage(NamedTuple):
    """Something to tell the user.

    Attributes:
        level: how serious it is (drives the icon and the tray state).
        title: one short line in plain words.
        text: the explanation, already redacted.
    """

    level: Level
    title: str
    text: str


class CrashReport(NamedTuple):
    """A bug: a short summary and the redacted details (traceback, versions) to copy."""

    summary: str
    details: str


def message_for_error(error: CompanionError) -> UserMessage:
    """The message for a known error; the most specific class decides the title."""
    text = redact(error.message)
    if isinstance(error, StoreChanged):
        return UserMessage(Level.WARNING, QCoreApplication.translate(
            "Messages", "The store changed since the preview"), text + "\n" + QCoreApplication.translate(
            "Messages", "Nothing was written. Review the updated plan and migrate again."))
    if isinstance(error, StoreBusy):
        return UserMessage(Level.ERROR, QCoreApplication.translate(
            "Messages", "The AgentMux store is busy"), text + "\n" + QCoreApplication.translate(
            "Messages", "Another program (usually AgentMux itself) is writing to it. Close AgentMux "
            "or wait a moment, then try again."))
    if isinstance(error, StoreRefused):
        return UserMessage(Level.ERROR, QCoreApplication.translate(
            "Messages", "This store cannot be migrated"), text)
    if isinstance(error, UndoRefused):
        return UserMessage(Level.ERROR, QCoreApplication.translate(
            "Messages", "Undo is not possible"), text)
    if isinstance(error, KeyringUnavailable):
        return UserMessage(Level.ERROR, QCoreApplication.translate(
            "Messages", "The keyring cannot be used"), text)
    if isinstance(error, UsageError):
        return UserMessage(Level.WARNING, QCoreApplication.translate(
            "Messages", "That cannot be done"), text)
    return UserMessage(Level.ERROR, QCoreApplication.translate(
        "Messages", "Something needs your attention"), text)


_OUTCOME_ERRORS: dict[str, type[CompanionError]] = {
    "busy": StoreBusy,
    "refused": StoreRefused,
    "changed": StoreChanged,
}


def message_for_result(result: StoreResult) -> UserMessage | None:
    """The message for a store the migration did not write (apply reports those as outcomes)."""
    if result.error is not None:  # the typed error apply stopped on
        return message_for_error(result.error)
    error_class = _OUTCOME_ERRORS.get(result.outcome)
    if error_class is None:
        return None
    return message_for_error(error_class(result.message))


class MessageFunnel(QObject):
    """Where the UI reports things; views subscribe to show them.

    Signals:
        message_posted(object): a :class:`UserMessage` to show (banner, notification).
        crashed(object): a :class:`CrashReport` for the crash dialog.
    """

    message_posted = Signal(object)
    crashed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.last_message: UserMessage | None = None
        self.last_crash: CrashReport | None = None

    def post(self, message: UserMessage) -> None:
        """Log a message for the user and send it to whichever view shows messages now."""
        self.last_message = message
        log.info("message (%s): %s: %s", message.level.value, message.title, message.text)
        self.message_posted.emit(message)

    def error(self, error: BaseException, details: str = "") -> None:
        """Report an exception: a clear message when it is known, the crash dialog when it is a bug."""
        if isinstance(error, CompanionError):
            self.post(message_for_error(error))
            return
        self.crash(f"{type(error).__name__}: {error}", details)

    def crash(self, summary: str, details: str) -> None:
        """Report a bug: log it, and open the crash dialog with a redacted report to copy.

        Args:
            summary: One line naming the error.
            details: The traceback; redacted before it is kept or shown.
        """
        from agentmux_companion import __version__

        log.error("bug: %s\n%s", summary, details)
        header = f"AgentMux Companion {__version__}\n"
        report = CrashReport(redact(summary), redact(header + details))
        self.last_crash = report
        self.crashed.emit(report)
