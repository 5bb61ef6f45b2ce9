"""The plan window as the controller opens it: built on first need, wired, brought forward.

The window is a view (:mod:`.plan_window`): it lays out and reports clicks. Which click does
what (Migrate and Undo through :mod:`.writes`, Rescan, Finish, closing it without a tray quits),
what it shows when it opens part-way through the controller's life (a plan, a scan, other work
under way, the keyring's health if already known) and how it comes to the front are decided
here, once, so the controller only asks for "the window". This module is imported with the
window, when it is first needed, never on the way to the tray; it reaches the controller through
:class:`~.controller_port.ControllerPort` (no import cycle). Like the window, it names PySide6's
``Qt`` namespace only off the way to the first plan (:mod:`.qt_values`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from agentmux_companion.ui.plan_window import PlanWindow

if TYPE_CHECKING:
    from agentmux_companion.ui.controller_port import ControllerPort


def _tr(text: str) -> str:
    # The controller's translation context: these words were the controller's and keep their translations.
    return QCoreApplication.translate("Controller", text)


def _fill_more_menu(menu: QMenu, c: ControllerPort) -> None:
    # The tray menu's module (and the tray icon's) loads when the menu first opens, not with the window.
    from agentmux_companion.ui.tray_menu import fill_more_menu

    fill_more_menu(menu, c.menu_entries())


def build_plan_window(c: ControllerPort) -> tuple[PlanWindow, QMenu]:
    """A new plan window wired to ``c``, showing what ``c`` knows now, and its *More* menu.

    The *More* menu holds the tray menu's entries and is put in the window only when there is
    no tray (then it is the only way to them).
    """
    window = PlanWindow()
    if c.options.demo_dir is not None:
        window.set_demo(str(c.options.demo_dir), _tr("Start at login and the keyring copy"))
    window.migrate_requested.connect(lambda paths: c.writes.request_migrate(paths))
    window.undo_requested.connect(lambda: c.writes.request_undo(c.writes.last_migrated))
    window.open_backup_requested.connect(lambda: c.writes.open_backup())
    window.backups_requested.connect(c.show_backups_window)
    window.finish_requested.connect(c.finish)
    window.rescan_requested.connect(c.scan)

    def on_closed() -> None:
        if c.tray is None:  # without a tray the window is the companion: closing it quits
            c.quit_requested.emit()

    window.closed.connect(on_closed)
    if not c.demo:
        window.show_keyring_backend(c.keyring_health)
    more_menu = QMenu(window)
    more_menu.aboutToShow.connect(lambda: _fill_more_menu(more_menu, c))
    window.set_more_menu(more_menu if c.tray is None else None)
    if c.plan is not None:
        window.show_plan(c.plan)
    elif c.scans_started:
        window.show_scanning()
    if c.runner.busy and not c.scan_running:
        window.show_working(c.status_line)
    return window, more_menu


def bring_forward(window: PlanWindow) -> None:
    """Restore the window if minimized, show it if hidden, and raise it above the others."""
    if window.isMinimized():
        from PySide6.QtCore import Qt  # here only: a window opened for the first time is not minimized

        window.setWindowState((window.windowState() & ~Qt.WindowState.WindowMinimized)
                              | Qt.WindowState.WindowActive)
    window.show()
    if QGuiApplication.platformName() != "offscreen":  # offscreen has no window stacking
        window.raise_()
        window.activateWindow()
