"""Where messages, crashes and the keyring's results appear: the panel, the window or the tray.

One rule: say it where the user is. The keyring panel when it is open, else the plan window when
it is open (or there is no tray), else a tray notification, kept in the window for when it opens.
Bugs open the crash dialog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot

from agentmux_companion.ui.icons import app_icon
from agentmux_companion.ui.messages import CrashReport, Level, UserMessage

if TYPE_CHECKING:
    from agentmux_companion.ui.controller_port import ControllerPort
    from agentmux_companion.ui.keyring_controller import KeyringController
    from agentmux_companion.ui.keyring_health import BackendHealth
    from agentmux_companion.ui.keyring_model import CopyOutcome, KeyringOverview
    from agentmux_companion.ui.workers import JobFailure


class MessageRouting(QObject):
    """Routes the funnel's messages and the keyring's outcomes to the right view."""

    def __init__(self, controller: ControllerPort, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.c = controller
        controller.funnel.message_posted.connect(self._on_message_posted)
        controller.funnel.crashed.connect(self._on_crashed)

    def connect_keyring(self, keyring: KeyringController) -> None:
        """Route the keyring controller's results and failures to the windows that show them."""
        keyring.backend_checked.connect(self._on_keyring_backend_checked)
        keyring.overview_changed.connect(self._on_keyring_overview_changed)
        keyring.copy_finished.connect(self._on_keyring_copy_finished)
        keyring.failed.connect(self._on_keyring_failed)

    @Slot(object)
    def _on_message_posted(self, message: UserMessage) -> None:
        c = self.c
        panel = c.keyring_panel
        if panel is not None and panel.isVisible():
            panel.show_message(message)  # the panel is where the user is working on the keyring
            return
        if c.window is not None and (c.window.isVisible() or c.tray is None):
            c.window.show_message(message)
            return
        c.notify_if_window_closed(message.title, message.text, error=message.level is Level.ERROR)
        c.ensure_window().show_message(message)  # kept for when the window opens

    @Slot(object)
    def _on_crashed(self, report: CrashReport) -> None:
        from agentmux_companion.ui.crash_dialog import CrashDialog

        c = self.c
        dialog = CrashDialog(report, str(c.paths.log_file), c.parent_widget())
        dialog.setWindowIcon(app_icon())
        dialog.open_log_requested.connect(c.desktop.open_log)
        c.crash_dialog = dialog
        dialog.open()

    @Slot(object)
    def _on_keyring_backend_checked(self, backend: BackendHealth) -> None:
        if self.c.window is not None and not self.c.demo:
            self.c.window.show_keyring_backend(backend)

    @Slot(object)
    def _on_keyring_overview_changed(self, overview: KeyringOverview) -> None:
        self.c.keyring_accounts = len(overview.rows)

    @Slot(object)
    def _on_keyring_copy_finished(self, outcome: CopyOutcome) -> None:
        from agentmux_companion.ui.keyring_model import CopyOrigin
        from agentmux_companion.ui.keyring_words import copy_result_html

        if outcome.origin is CopyOrigin.PLAN and self.c.window is not None:
            self.c.window.show_keyring_result(copy_result_html(outcome.report, self.c.registry))
        self.c.keyring_copy_finished.emit(outcome)

    @Slot(object)
    def _on_keyring_failed(self, _failure: JobFailure) -> None:
        c = self.c
        if c.keyring_copy_origin_is_plan and c.window is not None:
            message = c.funnel.last_message
            reason = message.text if message is not None else ""
            c.window.show_keyring_result(self.tr("<b>Not copied to the keyring.</b> {0}").format(reason))
