"""The tray menu: the one list of entries, from the controller's state (adding an item is one line).

The same entries fill the plan window's *More* menu when there is no tray. In the demo, Start at
login and Copy to keyring… are disabled and say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMenu

from agentmux_companion.ui.tray import SEPARATOR, MenuEntry, fill_menu

if TYPE_CHECKING:
    from agentmux_companion.ui.controller_port import ControllerPort


def _tr(text: str) -> str:
    return QCoreApplication.translate("Controller", text)


def menu_entries(c: ControllerPort) -> list[MenuEntry]:
    """Every entry of the tray menu, enabled or not as the state says."""
    sealed = _tr(" (not in the demo)") if c.demo else ""
    return [
        # The status line opens the window: an enabled item, drawn in the normal text colour.
        MenuEntry("status", c.status_line, c.show_window),
        SEPARATOR,
        MenuEntry("review", _tr("&Review migration…"), c.show_window),
        MenuEntry("keyring", _tr("&Copy to keyring…") + sealed, c.show_keyring_panel,
                  enabled=c.keyring_accounts > 0 and not c.demo),
        MenuEntry("undo", _tr("&Undo last migration…"), c.confirm_undo_last,
                  enabled=bool(c.undoable) and not c.runner.busy),
        SEPARATOR,
        MenuEntry("backups", _tr("&Backups…"), c.show_backups_window),
        MenuEntry("open_log", _tr("Open &log"), c.desktop.open_log),
        MenuEntry("open_agentmux", _tr("Open &AgentMux folder"), c.desktop.open_agentmux_folder),
        MenuEntry("autostart", _tr("&Start at login") + sealed, c.desktop.toggle_autostart,
                  enabled=not c.demo, checkable=True, checked=c.desktop.autostart_enabled()),
        SEPARATOR,
        MenuEntry("about", _tr("A&bout AgentMux Companion"), c.show_about),
        MenuEntry("quit", _tr("&Quit"), c.quit_requested.emit),
    ]


def fill_more_menu(menu: QMenu, entries: Sequence[MenuEntry]) -> None:
    """The window's *More* menu: the tray's entries without those the window itself is."""
    fill_menu(menu, [e for e in entries if e.key not in ("review", "status")])
