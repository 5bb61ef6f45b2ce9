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
    def demo(self) -> bool:
        """Whether this is the demo sandbox, where actions that would touch the real profile are sealed."""
        ...

    @property
    def desktop(self) -> DesktopActions:
        """Open folders, Start at login, About (created, with its module, when first needed)."""
        ...

    @property
    def keyring(self) -> KeyringController:
        """The keyring snapshot's controller (created, with its module, when first needed)."""
        ...

    @property
    def keyring_copy_origin_is_plan(self) -> bool:
        """Whether the keyring copy under way was asked for by the plan window (after a migration)."""
        ...

    @property
    def keyring_panel(self) -> KeyringPanel | None:
        """The keyring panel, if it has been opened."""
        ...

    def ensure_window(self) -> PlanWindow:
        """The plan window, created and wired to the writes on first use (not shown)."""
        ...

    def show_window(self) -> None:
        """Open the window, or bring it forward: restored if minimized, shown if hidden, raised."""
        ...

    def parent_widget(self) -> QWidget | None:
        """Where a dialog belongs: the shown window, else nothing (a top-level dialog)."""
        ...

    def scan(self) -> None:
        """Rescan in the background; a request during other work runs once that work is done."""
        ...

    def show_about(self) -> None:
        """Show the About dialog over the window, if it is open."""
        ...

    def show_keyring_panel(self) -> None:
        """The tray's "Copy to keyring…" (sealed in the demo: it would write to the real keyring)."""
        ...

    def show_backups_window(self) -> None:
        """The tray's "Backups…": the backups catalog, Restore (asks first) and Show in folder."""
        ...

    def confirm_undo_last(self) -> None:
        """The tray's "Undo last migration…": the same confirmation as the window's Undo."""
        ...

    def request_rescan_after_work(self) -> None:
        """Scan again once the running job is done (a write changed what the plan shows)."""
        ...

    def on_job_failed(self, failure: JobFailure) -> None:
        """Say that a background job failed, in the window's message area and the tray's state."""
        ...

    def on_job_done(self) -> None:
        """A background job ended: the window leaves its busy state once nothing else runs."""
        ...

    def publish_outcome(self, state: TrayState, line: str) -> None:
        """Record the last action's result as the state to show, then show it (see :meth:`publish_state`)."""
        ...

    def publish_state(self, state: TrayState, line: str) -> None:
        """Show ``state`` and ``line`` in the tray icon and its tooltip, and tell listeners."""
        ...

    def notify_if_window_closed(self, title: str, text: str, error: bool = False) -> None:
        """A tray notification, only when the window is not open to say it."""
        ...
