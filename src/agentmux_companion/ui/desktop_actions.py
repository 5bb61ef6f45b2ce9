"""The tray menu's desktop actions: open folders, Start at login, About — each one reports failure.

"Open …" asks the desktop to show a folder; when no opener answers (no ``xdg-open``, a headless
session) the user is told, with the path to copy, instead of nothing happening. In the demo,
Start at login is sealed: the real autostart entry would start the real companion at login, so the
demo neither reads nor writes it (see :attr:`DesktopActions.demo`).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl

from agentmux_companion import __version__
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.ui.messages import Level, MessageFunnel, UserMessage

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from agentmux_companion.ui.autostart import Autostart
    from agentmux_companion.ui.dialogs import AboutDialog

log = logging.getLogger(__name__)


class DesktopActions(QObject):
    """Opens folders, toggles Start at login and shows About for the controller."""

    def __init__(self, paths: AppPaths, funnel: MessageFunnel, demo: bool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.funnel = funnel
        self.demo = demo
        self.about_dialog: AboutDialog | None = None
        self._autostart: Autostart | None = None

    @property
    def autostart(self) -> Autostart:
        """The OS's start-at-login entry (created when the menu first needs it; never in the demo)."""
        if self.demo:
            raise RuntimeError("the demo never touches the real start-at-login entry")
        if self._autostart is None:
            from agentmux_companion.ui import autostart

            self._autostart = autostart.for_this_platform(_real_home())
        return self._autostart

    def autostart_enabled(self) -> bool:
        """Whether Start at login is on (always off in the demo, which never reads the real entry)."""
        return False if self.demo else self.autostart.is_enabled()

    def toggle_autostart(self) -> None:
        """The tray's Start at login check mark: flip the OS entry (nothing in the demo)."""
        if self.demo:
            return
        self.set_autostart(not self.autostart.is_enabled())

    def set_autostart(self, enabled: bool) -> bool:
        """Turn Start at login on or off; False (and a message) when the OS entry cannot be changed."""
        if self.demo:
            return False
        try:
            self.autostart.set_enabled(enabled)
        except OSError as exc:
            self.funnel.post(UserMessage(Level.ERROR, self.tr("Start at login could not be changed"), str(exc)))
            return False
        log.info("start at login %s (%s)", "on" if enabled else "off", self.autostart.location)
        return True

    def open_log(self) -> None:
        """Open the log file, or its folder when there is no log yet."""
        self.open_folder(self.paths.log_file if self.paths.log_file.exists() else self.paths.log_dir,
                         self.tr("the log"))

    def open_agentmux_folder(self) -> None:
        """Open AgentMux's data folder, or the home folder when AgentMux has none yet."""
        root = self.paths.agentmux_root
        self.open_folder(root if root.exists() else self.paths.home, self.tr("AgentMux's folder"))

    def open_folder(self, path: Path, what: str) -> bool:
        """Ask the desktop to open ``path``; say so when it cannot."""
        from PySide6.QtGui import QDesktopServices

        if QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            return True
        log.warning("no program opened %s", path)
        self.funnel.post(UserMessage(Level.WARNING, self.tr("Could not open {0}").format(what), self.tr(
            "No program on this desktop opened it. It is here:\n{0}").format(path)))
        return False

    def show_about(self, parent: QWidget | None) -> None:
        """Open the About dialog (version, homepage, licence, log and backup folders) over ``parent``."""
        from agentmux_companion.ui.dialogs import AboutDialog
        from agentmux_companion.ui.icons import app_icon

        dialog = AboutDialog(__version__, str(self.paths.log_dir), str(self.paths.backups_dir), parent)
        dialog.setWindowIcon(app_icon())
        self.about_dialog = dialog
        dialog.open()


def _real_home() -> Path:
    # The start-at-login entry belongs to the person using the desktop, even under --home.
    value = os.environ.get("HOME") or os.environ.get("USERPROFILE")
    return Path(value) if value else Path.home()
