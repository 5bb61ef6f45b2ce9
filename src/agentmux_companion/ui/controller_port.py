"""What the controller's helpers (writes, scanning, the window's wiring, the tray menu,
message routing) may use of it.

A :class:`typing.Protocol`, so the helpers name the controller's surface without importing the
controller, which imports them: no import cycle, and each helper's reach is written down here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings, SignalInstance
    from PySide6.QtWidgets import QWidget

    from agentmux_companion.core.migration.plan import MigrationPlan
    from agentmux_companion.core.paths import AppPaths
    from agentmux_companion.core.providers import ProviderRegistry
    from agentmux_companion.ui.crash_dialog import CrashDialog
    from agentmux_companion.ui.desktop_actions import DesktopActions
    from agentmux_companion.ui.dialogs import ConfirmDialog
    from agentmux_companion.ui.icons import TrayState
    from agentmux_companion.ui.keyring_controller import KeyringController
    from agentmux_companion.ui.keyring_health import BackendHealth
    from agentmux_companion.ui.keyring_panel import KeyringPanel
    from agentmux_companion.ui.messages import MessageFunnel
    from agentmux_companion.ui.options import ControllerOptions
    from agentmux_companion.ui.plan_window import PlanWindow
    from agentmux_companion.ui.tray import MenuEntry, TrayIcon
    from agentmux_companion.ui.workers import JobFailure, JobRunner


class WritesPort(Protocol):
    """The controller's :class:`~.writes.Writes` as the window's wiring sees them (writes imports
    this module, so it is named here by its shape, not imported)."""

    last_migrated: list[Path]

    def request_migrate(self, store_paths: Sequence[Path]) -> None: ...

    def request_undo(self, store_paths: Sequence[Path]) -> None: ...

    def open_backup(self) -> None: ...


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
    settings: QSettings
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

    @property
    def keyring_health(self) -> BackendHealth: ...

    @property
    def writes(self) -> WritesPort: ...

    @property
    def scans_started(self) -> int: ...

    @property
    def scan_running(self) -> bool: ...

    def ensure_window(self) -> PlanWindow: ...

    def show_window(self) -> None: ...

    def finish(self, remove_autostart: bool) -> None: ...

    def menu_entries(self) -> list[MenuEntry]: ...

    def parent_widget(self) -> QWidget | None: ...

    def scan(self) -> None: ...

    def on_plan(self, plan: MigrationPlan) -> None: ...

    def window_open(self) -> bool: ...

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
