"""The companion's controller: scan, decide what the tray and the window say, migrate, undo.

Views (the tray icon, the plan window, dialogs) lay out and report clicks; this controller owns
them and decides. Every core call that touches the disk runs in a :class:`~.workers.Job`; results
come back as signal arguments on the GUI thread. Errors go through the
:class:`~.messages.MessageFunnel`. Every write is confirmed first (:func:`.dialogs.ask`). The
keyring snapshot has its own controller (:mod:`.keyring_controller`), the desktop actions theirs
(:mod:`.desktop_actions`), migrate and undo :mod:`.writes`; when to scan (and what a scan tells
once) is :mod:`.scanning`, the tray's words :mod:`.tray_state`. What is left here is what a new
plan means for the tray and the window, and the parts' lifetimes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from agentmux_companion.core.migration.plan import MigrationPlan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.ui.change_watcher import ChangeWatcher
from agentmux_companion.ui.icons import TrayState
from agentmux_companion.ui.keyring_health import CHECKING, BackendHealth
from agentmux_companion.ui.message_routing import MessageRouting
from agentmux_companion.ui.messages import MessageFunnel
from agentmux_companion.ui.options import (
    KEYRING_CHECK_DELAY_MS,
    MENU_FACTS_DELAY_MS,
    ControllerOptions,
    PlanBuilder,
)
from agentmux_companion.ui.scanning import Scanning
from agentmux_companion.ui.tray_state import MenuFacts, MenuFactsReader, keyring_stores, state_for
from agentmux_companion.ui.workers import JobFailure, JobRunner

if TYPE_CHECKING:
    from agentmux_companion.core.scan_ahead import ScanAhead

    # Imported where first needed: none of them is on the way to the first window with its plan.
    from agentmux_companion.ui.backups_window import BackupsWindow
    from agentmux_companion.ui.crash_dialog import CrashDialog
    from agentmux_companion.ui.desktop_actions import DesktopActions
    from agentmux_companion.ui.dialogs import ConfirmDialog
    from agentmux_companion.ui.keyring_controller import KeyringController
    from agentmux_companion.ui.keyring_panel import KeyringPanel
    from agentmux_companion.ui.plan_window import PlanWindow
    from agentmux_companion.ui.tray import MenuEntry, TrayIcon
    from agentmux_companion.ui.writes import Writes

log = logging.getLogger(__name__)


class Controller(QObject):
    """Runs the companion.

    Signals:
        state_changed(str, str): the tray state (a TrayState value) and its one-line status.
        scan_finished(object): a scan produced this MigrationPlan.
        migrate_finished(object): a migration produced these StoreResults (a tuple).
        undo_finished(object): an undo produced these UndoResults (a tuple).
        keyring_copy_finished(object): a keyring copy produced this CopyOutcome.
        quit_requested(): the user chose Quit or Finish, or closed the window when there is no tray.
    """

    state_changed = Signal(str, str)
    scan_finished = Signal(object)
    migrate_finished = Signal(object)
    undo_finished = Signal(object)
    keyring_copy_finished = Signal(object)
    quit_requested = Signal()

    def __init__(
        self,
        paths: AppPaths,
        registry: ProviderRegistry,
        options: ControllerOptions | None = None,
        funnel: MessageFunnel | None = None,
        plan_builder: PlanBuilder | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.registry = registry
        self.options = options or ControllerOptions()
        self.funnel = funnel or MessageFunnel(self)
        self.runner = JobRunner(self)
        self.plan: MigrationPlan | None = None
        self.undoable: frozenset[Path] = frozenset()
        self.keyring_accounts = 0
        self.state = TrayState.WORKING
        self.status_line = self.tr("Looking for AgentMux stores and logins…")
        self.window: PlanWindow | None = None
        self.tray: TrayIcon | None = None
        self.crash_dialog: CrashDialog | None = None
        self.dialog: ConfirmDialog | None = None
        self.outcome: tuple[TrayState, str] | None = None  # the last write's, kept until there is work again
        self.writes_started = 0
        self._desktop: DesktopActions | None = None
        self._keyring: KeyringController | None = None
        self._writes: Writes | None = None
        self.more_menu: QMenu | None = None
        self.backups_window: BackupsWindow | None = None

        # Single-shot, started only when the window is up and a plan is known: never a polling loop.
        self.keyring_check_timer = QTimer(self)
        self.keyring_check_timer.setSingleShot(True)
        self.keyring_check_timer.setInterval(KEYRING_CHECK_DELAY_MS)
        self.keyring_check_timer.timeout.connect(self._on_keyring_check_timeout)
        self.facts = MenuFactsReader(paths, MENU_FACTS_DELAY_MS, self)
        self.facts.read.connect(self._on_menu_facts_read)
        self.facts.failed.connect(lambda failure: self.funnel.error(failure.error, failure.details))
        self.scanning = Scanning(self, plan_builder, self)
        self.routing = MessageRouting(self, self)

    # ------------------------------------------------------------------------------------------
    # Parts created when first needed

    @property
    def demo(self) -> bool:
        """Whether this is the demo (a sandbox folder): the real keyring is sealed off then."""
        return self.options.demo_dir is not None

    @property
    def desktop(self) -> DesktopActions:
        """Open folders, Start at login, About (created, with its module, when first needed)."""
        if self._desktop is None:
            from agentmux_companion.ui.desktop_actions import DesktopActions

            self._desktop = DesktopActions(self.paths, self.funnel, demo=self.demo, parent=self)
        return self._desktop

    @property
    def writes(self) -> Writes:
        """Migrate and undo, each confirmed first (created, with its module, when first needed)."""
        if self._writes is None:
            from agentmux_companion.ui.writes import Writes

            self._writes = Writes(self, self)
        return self._writes

    @property
    def keyring(self) -> KeyringController:
        """The keyring snapshot's controller (created, with its module, when first needed)."""
        if self._keyring is None:
            from agentmux_companion.core.keyring.backend import DEFAULT_TIMEOUT_S
            from agentmux_companion.ui.keyring_controller import KeyringController

            timeout = self.options.keyring_timeout_s
            keyring = KeyringController(self.paths, self.registry, self.funnel,
                                        DEFAULT_TIMEOUT_S if timeout is None else timeout, self)
            self._keyring = keyring
            self.routing.connect_keyring(keyring)
        return self._keyring

    @property
    def keyring_copy_origin_is_plan(self) -> bool:
        """Whether the keyring copy under way was asked for by the plan window (after a migration)."""
        from agentmux_companion.ui.keyring_model import CopyOrigin

        return self._keyring is not None and self._keyring.copy_origin is CopyOrigin.PLAN

    @property
    def keyring_panel(self) -> KeyringPanel | None:
        """The keyring panel, if its controller was started and built it."""
        return self._keyring.panel if self._keyring is not None else None

    @property
    def keyring_health(self) -> BackendHealth:
        """The keyring's health as last checked, without starting the keyring's controller."""
        return self._keyring.backend if self._keyring is not None else CHECKING

    @property
    def has_tray(self) -> bool:
        """Whether a tray icon is shown (without one, closing the window quits)."""
        return self.tray is not None

    @property
    def scans_started(self) -> int:
        """How many scans have started so far (tests wait on it)."""
        return self.scanning.started

    @property
    def scan_running(self) -> bool:
        """Whether a scan job is under way."""
        return self.scanning.job is not None

    @property
    def watcher(self) -> ChangeWatcher:
        """What watches the files the plan depends on."""
        return self.scanning.watcher

    # ------------------------------------------------------------------------------------------
    # Start-up and windows

    def start(self, first_scan: ScanAhead[MigrationPlan] | None = None) -> None:
        """Scan in the background and show the tray (or, without one, the window) meanwhile.

        ``first_scan``: the first scan, started by the launcher before the window's modules loaded
        (:mod:`agentmux_companion.core.scan_ahead`); the first scan's job collects its plan.
        """
        self.scanning.scan_first(first_scan)
        use_tray = self.options.use_tray
        if use_tray is None:
            use_tray = QSystemTrayIcon.isSystemTrayAvailable()
        if use_tray:
            from agentmux_companion.ui.tray import TrayIcon

            self.tray = TrayIcon(self.menu_entries, self)
            self.tray.activated.connect(self.show_window)
            self.publish_state(TrayState.WORKING, self.status_line)
            self.tray.show()
        else:
            log.info("no system tray: the window opens directly and closing it quits")
            self.show_window()
            self.publish_state(TrayState.WORKING, self.status_line)

    def ensure_window(self) -> PlanWindow:
        """The plan window, built and wired on first need (:mod:`.window_wiring`)."""
        if self.window is None:
            from agentmux_companion.ui.window_wiring import build_plan_window

            self.window, self.more_menu = build_plan_window(self)
        return self.window

    @Slot()
    def show_window(self) -> None:
        """Open the window, or bring it forward: restored if minimized, shown if hidden, raised."""
        from agentmux_companion.ui.window_wiring import bring_forward

        bring_forward(self.ensure_window())
        if self.plan is not None and not self.demo:
            # Each time the window comes up: the keyring may have been unlocked or started since.
            self.keyring_check_timer.start()

    def parent_widget(self) -> QWidget | None:
        """Where a dialog belongs: the shown window, else nothing (a top-level dialog)."""
        return self.window if self.window is not None and self.window.isVisible() else None

    @Slot()
    def _on_keyring_check_timeout(self) -> None:
        self.keyring.check_backend()

    @Slot(bool)
    def finish(self, remove_autostart: bool) -> None:
        """The result's Finish: quit, and remove Start at login when the user asked to."""
        if remove_autostart:
            self.desktop.set_autostart(False)
        self.quit_requested.emit()

    def shutdown(self) -> None:
        """Stop watching and let running jobs finish (a write is never cut in half)."""
        self.scanning.stop()
        self.keyring_check_timer.stop()
        if self._writes is not None:
            self._writes.stop_waiting()
        self.runner.wait_for_done()
        self.facts.stop()
        if self._keyring is not None:
            self._keyring.wait_for_done()  # every keyring call is time-bounded, so this returns
        if self.tray is not None:
            self.tray.hide()

    # ------------------------------------------------------------------------------------------
    # What the tray menu calls

    def menu_entries(self) -> list[MenuEntry]:
        """The tray menu's entries, from the current state (``ui/tray_menu.py``)."""
        from agentmux_companion.ui.tray_menu import menu_entries

        return menu_entries(self)

    def migrate(self, store_paths: list[Path]) -> None:
        """Migrate without asking (the confirmation's answer; tests and scripts call it directly)."""
        keyring = self.window is not None and self.window.wants_keyring_copy() and not self.demo
        self.writes.migrate(store_paths, keyring)

    def show_backups_window(self) -> None:
        """The tray's "Backups…": the backups catalog, Restore (asks first) and Show in folder."""
        from agentmux_companion.ui.backups_window import show_backups_window

        self.backups_window = show_backups_window(self.backups_window, self)

    def undo(self, store_paths: list[Path]) -> None:
        """Undo without asking (the confirmation's answer)."""
        self.writes.undo(store_paths)

    def show_about(self) -> None:
        """The tray's "About", over the window when it is shown."""
        self.desktop.show_about(self.parent_widget())

    def confirm_undo_last(self) -> None:
        """The tray's "Undo last migration…": the same confirmation as the window's Undo."""
        self.writes.request_undo(sorted(self.undoable))

    def show_keyring_panel(self) -> None:
        """The tray's "Copy to keyring…" (sealed in the demo: it would write to the real keyring)."""
        if self.demo:
            return
        self.keyring.show_panel(self.keyring_store_paths())

    def keyring_store_paths(self) -> list[Path]:
        """The stores whose bindings a keyring copy reads (none before the first plan)."""
        return keyring_stores(self.plan) if self.plan is not None else []

    # ------------------------------------------------------------------------------------------
    # Scanning

    @Slot()
    def scan(self) -> None:
        """Rescan in the background; a request during other work runs once that work is done."""
        self.scanning.scan()

    @Slot(object)
    def on_plan(self, plan: MigrationPlan) -> None:
        """A scan produced ``plan``: the window, the tray's state and the watch list follow it."""
        first = self.plan is None
        previous_state = self.state
        self.plan = plan
        if self.window is not None:
            self.window.show_plan(plan)
            if first and self.window.isVisible() and not self.demo:
                self.keyring_check_timer.start()
        state, line = state_for(plan, self.outcome)
        if state is TrayState.ACTION_NEEDED:
            self.outcome = None
        self.publish_state(state, line)
        news = state is TrayState.ACTION_NEEDED and previous_state is not TrayState.ACTION_NEEDED
        if first:  # on screen before what it does not show (Scanning.follow)
            QTimer.singleShot(0, self, lambda: self.scanning.follow(news, first=True))
        else:
            self.scanning.follow(news, first=False)
        # The first read waits for the first paint: its job loads undo's and the keyring's core.
        self.facts.schedule(plan, self.writes_started, after_first_paint=first)
        if self._writes is not None:
            self._writes.on_plan(plan)
        self.scan_finished.emit(plan)

    @Slot(object)
    def _on_menu_facts_read(self, facts: MenuFacts) -> None:
        # A write started since the read has its own outcome, and a rescan follows it.
        if facts.writes_started == self.writes_started:
            self.undoable = facts.undoable
            self.keyring_accounts = facts.keyring_accounts

    def window_open(self) -> bool:
        """Whether the window is on screen to say things (shown, not minimized)."""
        return self.window is not None and self.window.isVisible() and not self.window.isMinimized()

    # ------------------------------------------------------------------------------------------
    # Jobs (the writes themselves run in .writes)

    def request_rescan_after_work(self) -> None:
        """Rescan once the work under way is done (it changed what a scan sees)."""
        self.scanning.rescan_pending = True

    @Slot(object)
    def on_job_failed(self, failure: JobFailure) -> None:
        """A job failed: say so in the window and on the tray."""
        self.funnel.error(failure.error, failure.details)
        self.publish_outcome(TrayState.ERROR, self.tr("Something went wrong; see the window"))

    @Slot()
    def on_job_done(self) -> None:
        """A job ended: the window goes back to idle once no job runs."""
        if self.window is not None and not self.runner.busy:
            self.window.show_idle()

    # ------------------------------------------------------------------------------------------
    # State and messages

    def publish_outcome(self, state: TrayState, line: str) -> None:
        """Show a write's outcome; it stays until a plan needs action again."""
        self.outcome = (state, line)
        self.publish_state(state, line)

    def publish_state(self, state: TrayState, line: str) -> None:
        """Show ``state`` and ``line`` on the tray and to whoever listens (the window)."""
        self.state = state
        self.status_line = line
        prefix = self.tr("AgentMux Companion (demo)") if self.demo else self.tr("AgentMux Companion")
        if self.tray is not None:
            self.tray.set_state(state, f"{prefix}: {line}")
        self.state_changed.emit(state.value, line)

    def notify_if_window_closed(self, title: str, text: str, error: bool = False) -> None:
        """A tray notification, only when the window is not open to say it."""
        if self.tray is not None and not self.window_open():
            self.tray.notify(title, text, error=error)


__all__ = ["Controller", "ControllerOptions", "PlanBuilder"]
