"""The keyring's health as the views show it, and the words for it.

Split from :mod:`.keyring_controller` so the plan window can show its keyring option ("checking…")
without importing the keyring snapshot's machinery: that loads when the background check or the
keyring panel first needs it, after the window is up.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, NamedTuple

from PySide6.QtCore import QCoreApplication

from agentmux_companion.ui.messages import escape

if TYPE_CHECKING:
    from agentmux_companion.core.keyring.backend import BackendReport

#: keyring's "there is no keyring" backends: a report naming one of these means unavailable,
#: not merely insecure (the reason then says why there is none: no D-Bus session, no daemon).
_NO_BACKEND_CLASSES = ("", "keyring.backends.fail.Keyring")
_CHAINER_CLASS = "keyring.backends.chainer.ChainerBackend"


class Health(enum.StrEnum):
    """How the keyring stands, for the option in the plan window and the keyring panel."""

    CHECKING = "checking"  # not known yet: the check runs in the background
    SECURE = "secure"  # a secure OS store; copies can be made
    INSECURE = "insecure"  # a backend exists but is not a secure OS store; the companion refuses it
    UNAVAILABLE = "unavailable"  # no keyring can be reached (no D-Bus session, no daemon, timeout)


class BackendHealth(NamedTuple):
    """The keyring backend in use, in the form the views show it.

    Attributes:
        health: secure, insecure, unavailable or still checking.
        name: keyring's name for the backend ('' when there is none).
        reason: what the store is, or why it cannot be used (the core's words, no secret).
    """

    health: Health
    name: str = ""
    reason: str = ""

    @property
    def usable(self) -> bool:
        """Whether the backend is a secure keyring the companion will write to."""
        return self.health is Health.SECURE


CHECKING = BackendHealth(Health.CHECKING)


def _tr(text: str) -> str:
    return QCoreApplication.translate("KeyringPanel", text)


def health_of(report: BackendReport) -> BackendHealth:
    """The core's :class:`BackendReport` as what the user needs to know about it."""
    if report.secure:
        return BackendHealth(Health.SECURE, report.name, report.reason)
    missing = report.class_path in _NO_BACKEND_CLASSES or (
        report.class_path == _CHAINER_CLASS and not report.chained)
    return BackendHealth(Health.UNAVAILABLE if missing else Health.INSECURE, "" if missing else report.name,
                         report.reason)


def snapshot_words() -> str:
    """What the copy is, in the words both the panel and the plan window use."""
    return _tr("The copy is a snapshot: it goes stale when the CLI refreshes its token, and then needs copying "
               "again. AgentMux keeps using the CLI's own folder; nothing is switched to the copy.")


def health_words(backend: BackendHealth) -> str:
    """One line: the backend's name and whether the companion will use it (rich text)."""
    if backend.health is Health.CHECKING:
        return _tr("<b>Keyring:</b> checking…")
    if backend.health is Health.SECURE:
        return _tr("<b>Keyring:</b> {0} — secure").format(escape(backend.name))
    if backend.health is Health.INSECURE:
        return _tr("<b>Keyring:</b> {0} — not secure, so it is not used").format(escape(backend.name))
    return _tr("<b>Keyring:</b> unavailable")


def reason_words(backend: BackendHealth) -> str:
    """The backend's reason as a sentence under the health line ('' while checking)."""
    if backend.health is Health.CHECKING or not backend.reason:
        return ""
    if backend.health is Health.SECURE:
        return backend.reason[:1].upper() + backend.reason[1:] + "."
    if backend.health is Health.INSECURE:
        return _tr("Why not: {0}").format(backend.reason)
    return _tr("Why: {0}").format(backend.reason)
