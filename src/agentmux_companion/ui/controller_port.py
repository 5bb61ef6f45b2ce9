"""What the controller's helpers may use of it.

The helpers are the writes, scanning, the window's wiring, the tray menu and message routing.
This is a :class:`typing.Protocol`, so the helpers name the controller's surface without
importing the controller, which imports them: no import cycle, and each helper's reach is
written down here.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    from agentmux_companion.ui.keyring_health import BackendHealth
    from agentmux_companion.ui.keyring_panel import KeyringPanel
    from agentmux_companion.ui.messages import MessageFunnel
    from agentmux_companion.ui.options import ControllerOptions
    from agentmux_companion.ui.plan_window import PlanWindow
    from agentmux_companion.ui.tray import MenuEntry, TrayIcon
    from agentmux_companion.ui.workers import JobFailure, JobRunner


class WritesPort(Protocol):
    """The controller's :class:`~.writes.Writes` as the window's wiring sees them.

    Writes imports this module, so it is named here by its shape, not imported.
    """

    last_migrated: list[Path]

    def request_migrate(self, store_paths: Sequence[Path]) -> None:
        """Ask to migrate these stores (confirmed first)."""
        ...

    def request_undo(self, store_paths: Sequence[Path]) -> None:
        """Ask to undo the last migration of these stores (confirmed first)."""
        ...

    def open_backup(self) -> None:
        """Show the last write's backup in the file manager."""
        ...


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
    def demo(self) -> bool:
        """Whether this is the demo, with the real keyring sealed off."""
        ...

    @property
    def desktop(self) -> DesktopActions:
        """Open folders, Start at login, About."""
        ...

    @property
    def keyring(self) -> KeyringController:
        """The keyring snapshot's controller (started on first use)."""
        ...

    @property
    def keyring_copy_origin_is_plan(self) -> bool:
        """Whether the keyring copy under way was asked for by the plan window."""
        ...

    @property
    def keyring_panel(self) -> KeyringPanel | None:
        """The keyring panel, if it was built."""
        ...

    @property
    def keyring_health(self) -> BackendHealth:
        """The keyring's health as last checked, without starting its controller."""
        ...

    @property
    def writes(self) -> WritesPort:
        """Migrate and undo, each confirmed first."""
        ...

    @property
    def scans_started(self) -> int:
        """How many scans have started so far."""
        ...

    @property
    def scan_running(self) -> bool:
        """Whether a scan job is under way."""
        ...

    def ensure_window(self) -> PlanWindow:
        """The plan window, built and wired on first need."""
        ...

    def show_window(self) -> None:
        """Open the window, or bring it forward."""
        ...

    def finish(self, remove_autostart: bool) -> None:
        """Quit, removing Start at login when asked to."""
        ...

    def menu_entries(self) -> list[MenuEntry]:
        """The tray menu's entries, from the current state."""
        ...

    def parent_widget(self) -> QWidget | None:
        """Where a dialog belongs: the shown window, else nothing."""
        ...

    def scan(self) -> None:
        """Rescan in the background (held while other work runs)."""
        ...

    def on_plan(self, plan: MigrationPlan) -> None:
        """Take a scan's new plan: window, tray and watch list follow it."""
        ...

    def window_open(self) -> bool:
        """Whether the window is on screen (shown, not minimized)."""
        ...

    def show_about(self) -> None:
        """Show the About box."""
        ...

    def show_keyring_panel(self) -> None:
        """Open the keyring copy panel (not in the demo)."""
        ...

    def show_backups_window(self) -> None:
        """Open the backups catalog window."""
        ...

    def confirm_undo_last(self) -> None:
        """Ask to undo the last migration, as the window's Undo does."""
        ...

    def request_rescan_after_work(self) -> None:
        """Rescan once the work under way is done."""
        ...

    def on_job_failed(self, failure: JobFailure) -> None:
        """Report a failed job in the window and on the tray."""
        ...

    def on_job_done(self) -> None:
        """Return the window to idle once no job runs."""
        ...

    def publish_outcome(self, state: TrayState, line: str) -> None:
        """Show a write's outcome until a plan needs action again."""
        ...

    def publish_state(self, state: TrayState, line: str) -> None:
        """Show a state and status line on the tray and the window."""
        ...

    def notify_if_window_closed(self, title: str, text: str, error: bool = False) -> None:
        """A tray notification, only when the window is not open to say it."""
        ...
