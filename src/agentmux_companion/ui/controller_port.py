"""What the controller's helpers (writes, the tray menu, message routing) may use of it.

A :class:`typing.Protocol`, so the helpers name the controller's surface without importing the
controller, which imports them: no import cycle, and each helper's reach is written down here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtWidgets import QWidget

    from agentmux_companion.core.migration.plan import MigrationPlan
    from agentmux_companion.core.paths import AppPaths
    from agentmux_companion.core.providers import ProviderRegistry
    from agentmux_companion.ui.crash_dialog import CrashDialog
    from agentmux_companion.ui.desktop_actions import DesktopActions
    from agentmux_companion.ui.dialogs import ConfirmDialog
    from agentmux_companion.ui.icons import TrayState
    from agentmux_companion.ui.keyring_controller import KeyringController
    from agentmux_companion.ui.keyring_panel import KeyringPanel
    from agentmux_companion.ui.messages import MessageFunnel
    from agentmux_companion.ui.options import ControllerOptions
    from agentmux_companion.ui.plan_window import PlanWindow
    from agentmux_companion.ui.tray import TrayIcon
    from agentmux_companion.ui.workers import JobFailure, JobRunner


class ControllerPort(Protocol):
    """The controller as its helpers see it."""

    paths: AppPaths
    registry: ProviderRegistry
    options: ControllerOptions
    funnel: MessageFunnel
    runner: JobRunner
    plan: MigrationPlan | None
    window: PlanWindow | None
    tray: TrayIcon | None
    dialog: ConfirmDialog | None
    crash_dialog: CrashDialog | None
    undoable: frozenset[Path]
    keyring_accounts: int
    status_line: str
    writes_started: int
    migrate_finished: SignalInstance
    undo_finished: SignalInstance
    keyring_copy_finished: SignalInstance
    quit_requested: SignalInstance

    @property
    def demo(self) -> bool: ...

    @property
    def desktop(self) -> DesktopActions: ...

    @property
    def keyring(self) -> KeyringController: ...

    @property
    def keyring_copy_origin_is_plan(self) -> bool: ...

    @property
    def keyring_panel(self) -> KeyringPanel | None: ...

    def ensure_window(self) -> PlanWindow: ...

    def show_window(self) -> None: ...

    def parent_widget(self) -> QWidget | None: ...

    def scan(self) -> None: ...

    def show_about(self) -> None: ...

    def show_keyring_panel(self) -> None: ...

    def show_backups_window(self) -> None: ...

    def confirm_undo_last(self) -> None: ...

    def request_rescan_after_work(self) -> None: ...

    def on_job_failed(self, failure: JobFailure) -> None: ...

    def on_job_done(self) -> None: ...

    def publish_outcome(self, state: TrayState, line: str) -> None: ...

    def publish_state(self, state: TrayState, line: str) -> None: ...

    def notify_if_window_closed(self, title: str, text: str, error: bool = False) -> None: ...
