"""The tray icon and its menu (a view: the controller supplies the menu's entries and the state).

The menu is rebuilt from :class:`MenuEntry` values every time it opens, so the status line, the
enabled items and the "Start at login" check mark are always current. The same entries also fill
the plan window's "More" menu when there is no tray.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from agentmux_companion.ui.icons import TrayState, state_icon


class MenuEntry(NamedTuple):
    """One line of the tray menu.

    Attributes:
        key: a stable identifier (tests and the accessibility tree use it).
        text: the label, already translated; empty for a separator.
        on_triggered: what choosing it does; None for the status line and separators.
        enabled: whether it can be chosen now.
        checkable, checked: for toggles such as "Start at login".
    """

    key: str
    text: str = ""
    on_triggered: Callable[[], None] | None = None
    enabled: bool = True
    checkable: bool = False
    checked: bool = False

    @property
    def is_separator(self) -> bool:
        """Whether this entry is a separator line (an entry without text)."""
        return not self.text


SEPARATOR = MenuEntry("separator")


def fill_menu(menu: QMenu, entries: Sequence[MenuEntry]) -> None:
    """Replace ``menu``'s actions with ``entries``."""
    menu.clear()
    for entry in entries:
        if entry.is_separator:
            menu.addSeparator()
            continue
        action = QAction(entry.text, menu)
        action.setObjectName(entry.key)
        action.setEnabled(entry.enabled and entry.on_triggered is not None)
        if entry.checkable:
            action.setCheckable(True)
            action.setChecked(entry.checked)
        if entry.on_triggered is not None:
            callback = entry.on_triggered
            action.triggered.connect(lambda _checked=False, cb=callback: cb())
        menu.addAction(action)


class TrayIcon(QObject):
    """The system tray icon.

    Signals:
        activated(): the icon was clicked (opens the plan window).
        notified(str, str): a notification was shown (title, text).
    """

    activated = Signal()
    notified = Signal(str, str)

    def __init__(self, entries: Callable[[], Sequence[MenuEntry]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries = entries
        self.icon = QSystemTrayIcon(self)
        self.menu = QMenu()
        self.menu.setAccessibleName(self.tr("AgentMux Companion menu"))
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.state = TrayState.WORKING
        self.icon.setIcon(state_icon(self.state))
        self.rebuild_menu()

    def show(self) -> None:
        """Show the icon in the system tray."""
        self.icon.show()

    def hide(self) -> None:
        """Take the icon out of the system tray."""
        self.icon.hide()

    def set_state(self, state: TrayState, tooltip: str) -> None:
        """Show ``state``'s icon and ``tooltip``."""
        self.state = state
        self.icon.setIcon(state_icon(state))
        self.icon.setToolTip(tooltip)

    def notify(self, title: str, text: str, error: bool = False) -> None:
        """Show a desktop notification from the tray icon (for ten seconds) and emit ``notified``."""
        kind = QSystemTrayIcon.MessageIcon.Critical if error else QSystemTrayIcon.MessageIcon.Information
        self.icon.showMessage(title, text, kind, 10_000)
        self.notified.emit(title, text)

    @Slot()
    def rebuild_menu(self) -> None:
        """Fill the menu again from the current entries (labels, enabled states, check marks)."""
        fill_menu(self.menu, self._entries())

    def action(self, key: str) -> QAction | None:
        """The menu's action with ``key`` (after a rebuild)."""
        return next((a for a in self.menu.actions() if a.objectName() == key), None)

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.activated.emit()
