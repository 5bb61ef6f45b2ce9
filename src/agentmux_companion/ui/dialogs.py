"""The companion's dialogs: one confirmation for every write, About, and the text they show.

Every write (migrate, undo, restore, keyring copy, keyring remove) goes through
:class:`ConfirmDialog` with a :class:`Confirmation` that says in plain words what will change.
Its buttons are verbs ("Migrate 2 stores" / "Cancel"); Cancel is the default, so Enter or Esc
never writes. When AgentMux is running, the dialog says so first and offers to wait. Dialogs are
opened non-blocking (``open()``): the event loop keeps running and the tests can answer them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import NamedTuple

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from agentmux_companion.ui.messages import escape
from agentmux_companion.ui.widgets import wrapped_label

#: Where people read about the companion (AgentMux's project; the companion ships with it).
HOMEPAGE = "https://github.com/agentmuxai/agentmux"
LICENCE = "Apache-2.0"


class WriteKind(enum.StrEnum):
    """The writes the companion makes; each is confirmed the same way."""

    MIGRATE = "migrate"
    UNDO = "undo"
    RESTORE = "restore"
    KEYRING_COPY = "keyring_copy"
    KEYRING_REMOVE = "keyring_remove"


class Choice(enum.Enum):
    """How a confirmation was answered."""

    CANCEL = "cancel"
    PROCEED = "proceed"
    WAIT = "wait"  # wait for AgentMux to close, then ask again


class Confirmation(NamedTuple):
    """What a confirmation says.

    Attributes:
        kind: which write.
        title: the window title, a question in the user's words.
        verb: the proceed button's text ("Migrate 2 stores").
        changes: one line per thing that will change, in plain words.
        reassurance: what protects the user (backup, undo), one sentence.
        agentmux_running: say first that AgentMux is running and offer to wait.
    """

    kind: WriteKind
    title: str
    verb: str
    changes: tuple[str, ...]
    reassurance: str = ""
    agentmux_running: bool = False
    details: tuple[str, ...] = ()


class ConfirmDialog(QDialog):
    """Asks before a write; emits :attr:`chosen` once with the answer.

    Signals:
        chosen(object): the :class:`Choice`.
    """

    chosen = Signal(object)

    def __init__(self, confirmation: Confirmation, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.confirmation = confirmation
        self._answered = False
        self.setWindowTitle(confirmation.title)
        self.setAccessibleName(confirmation.title)
        self.setModal(True)
        layout = QVBoxLayout(self)
        self.running_label: QLabel | None = None
        if confirmation.agentmux_running:
            self.running_label = wrapped_label(self.tr(
                "<b>AgentMux is running.</b> It keeps its own copy of the store while it runs: close it "
                "first, or wait here and the companion asks again once it has closed."),
                self.tr("AgentMux is running"))
            layout.addWidget(self.running_label)
        self.changes_label = wrapped_label(
            "<br>".join(f"• {escape(line)}" for line in confirmation.changes), self.tr("What will change"))
        self.changes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(wrapped_label(f"<b>{escape(confirmation.title)}</b>", self.tr("Question")))
        layout.addWidget(self.changes_label)
        if confirmation.reassurance:
            layout.addWidget(wrapped_label(escape(confirmation.reassurance), self.tr("What protects you")))

        self.buttons = QDialogButtonBox()
        verb = confirmation.verb if not confirmation.agentmux_running else self.tr("{0} anyway").format(
            confirmation.verb)
        self.proceed_button = self._button(verb, QDialogButtonBox.ButtonRole.AcceptRole)
        self.wait_button: QPushButton | None = None
        if confirmation.agentmux_running:
            self.wait_button = self._button(self.tr("&Wait for AgentMux to close"),
                                            QDialogButtonBox.ButtonRole.ActionRole)
            self.wait_button.clicked.connect(lambda: self._answer(Choice.WAIT))
        self.cancel_button = self._button(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        self.proceed_button.clicked.connect(lambda: self._answer(Choice.PROCEED))
        self.cancel_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        # Cancel is the default: Enter (and Esc) never writes.
        self.cancel_button.setAutoDefault(True)
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()

    def _button(self, text: str, role: QDialogButtonBox.ButtonRole) -> QPushButton:
        button = QPushButton(text.replace("&&", "&"))
        button.setAutoDefault(False)
        button.setAccessibleName(text.replace("&", ""))
        self.buttons.addButton(button, role)
        return button

    def _answer(self, choice: Choice) -> None:
        if self._answered:
            return
        self._answered = True
        self.chosen.emit(choice)
        if choice is Choice.CANCEL:
            super().reject()
        else:
            self.accept()

    @Slot()
    def reject(self) -> None:  # Esc, Cancel and the title bar's close
        """Esc, Cancel and the title bar's close all answer Cancel, which writes nothing."""
        self._answer(Choice.CANCEL)


class AboutDialog(QDialog):
    """Version, homepage, licence, and where the log and backups are."""

    def __init__(self, version: str, log_dir: str, backups_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("About AgentMux Companion"))
        self.setAccessibleName(self.tr("About AgentMux Companion"))
        text = self.tr(
            "<b>AgentMux Companion {0}</b><br>Moves the logins that AI coding tools keep in your home folder "
            "into AgentMux's Default bundle, with a backup and undo.<br><br>"
            "Homepage: <a href=\"{1}\">{1}</a><br>Licence: {2}<br>Log folder: {3}<br>Backups: {4}").format(
            escape(version), HOMEPAGE, LICENCE, escape(log_dir), escape(backups_dir))
        self.label = wrapped_label(text, self.tr("About"))
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.label.setOpenExternalLinks(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAccessibleName(self.tr("Close"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(buttons)


def ask(
    confirmation: Confirmation,
    parent: QWidget | None,
    on_proceed: Callable[[], None],
    on_wait: Callable[[], None] | None = None,
) -> ConfirmDialog:
    """Open the confirmation (non-blocking) and call ``on_proceed`` or ``on_wait`` with the answer."""
    from agentmux_companion.ui.icons import app_icon

    dialog = ConfirmDialog(confirmation, parent if parent is not None and parent.isVisible() else None)
    dialog.setWindowIcon(app_icon())

    def chosen(choice: Choice) -> None:
        if choice is Choice.PROCEED:
            on_proceed()
        elif choice is Choice.WAIT and on_wait is not None:
            on_wait()

    dialog.chosen.connect(chosen)
    dialog.open()
    return dialog
