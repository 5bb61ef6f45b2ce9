"""The companion's controller: scan, decide what the tray and the window say, migrate, undo.

Views (the tray icon, the plan window, dialogs) lay out and report clicks; this controller owns
them and decides. Every core call that touches the disk runs in a :class:`~.workers.Job`; results
come back as signal arguments on the GUI thread. Errors go through the
:class:`~.messages.MessageFunnel`. Every write is confirmed first (:func:`.dialogs.ask`). The
keyring snapshot has its own controller (:mod:`.keyring_controller`), the desktop actions theirs
(:mod:`.desktop_actions`); watching files is :mod:`.change_watcher`, the tray's words
:mod:`.tray_state`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from agentmux_companion.core import store as st
from agentmux_companion.core.errors import StoreRefused
from agentmux_companion.core.migration.plan import MigrationPlan, build_plan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.ui.change_watcher import ChangeWatcher, watch_paths
from agentmux_companion.ui.icons import TrayState, app_icon
from agentmux_companion.ui.keyring_health import CHECKING
from agentmux_companion.ui.message_routing import MessageRouting
from agentmux_companion.ui.messages import MessageFunnel, message_for_error
from agentmux_companion.ui.options import (
    KEYRING_CHECK_DELAY_MS,
    MENU_FACTS_DELAY_MS,
    ControllerOptions,
    PlanBuilder,
)
from agentmux_companion.ui.tray_state import MenuFacts, MenuFactsReader, keyring_stores, state_for
from agentmux_companion.ui.workers import Job, JobFailure, JobRunner

if TYPE_CHECKING:
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
        self.plan_builder = plan_builder or self._build_plan
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
        self.scans_started = 0
        self.outcome: tuple[TrayState, str] | None = None  # the last write's, kept until there is work again
        self._scan_job: Job | None = None
        self._rescan_pending = False
        self._reported_refusals: set[tuple[Path, str]] = set()
        self.writes_started = 0
        self.settings = QSettings(str(paths.config_dir / "gui.ini"), QSettings.Format.IniFormat)
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
        self.watcher = ChangeWatcher(self.options.debounce_ms, self)
        self.watcher.changed.connect(self.scan)
        self.runner.busy_changed.connect(self._on_busy_changed)
        self.routing = MessageRouting(self, self)

    # ------------------------------------------------------------------------------------------
    # Parts created when first needed

    @property
    def demo(self) -> bool:
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
        return self._keyring.panel if self._keyring is not None else None

    @property
    def has_tray(self) -> bool:
        return self.tray is not None

    # ------------------------------------------------------------------------------------------
    # Start-up and windows

    def start(self) -> None:
        """Scan in the background and show the tray (or, without one, the window) meanwhile."""
        # The scan first: its worker reads the files and the stores while this thread builds the
        # window (SQLite and file reads let go of the interpreter), so the plan is there sooner.
        self.scan()
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
        if self.window is None:
            from agentmux_companion.ui.plan_window import PlanWindow

            window = PlanWindow()
            window.setWindowIcon(app_icon())
            if self.options.demo_dir is not None:
                window.set_demo(str(self.options.demo_dir), self.tr("Start at login and the keyring copy"))
            window.migrate_requested.connect(lambda paths: self.writes.request_migrate(paths))
            window.undo_requested.connect(lambda: self.writes.request_undo(self.writes.last_migrated))
            window.open_backup_requested.connect(lambda: self.writes.open_backup())
            window.finish_requested.connect(self.finish)
            window.rescan_requested.connect(self.scan)
            window.closed.connect(self._on_window_closed)
            if not self.demo:
                window.show_keyring_backend(self._keyring.backend if self._keyring is not None else CHECKING)
            self.more_menu = QMenu(window)
            self.more_menu.aboutToShow.connect(self._on_more_menu_about_to_show)
            window.set_more_menu(self.more_menu if self.tray is None else None)
            if self.plan is not None:
                window.show_plan(self.plan)
            elif self.scans_started:
                window.show_scanning()
            if self.runner.busy and self._scan_job is None:
                window.show_working(self.status_line)
            self.window = window
        return self.window

    @Slot()
    def show_window(self) -> None:
        """Open the window, or bring it forward: restored if minimized, shown if hidden, raised."""
        window = self.ensure_window()
        if window.isMinimized():
            window.setWindowState((window.windowState() & ~Qt.WindowState.WindowMinimized)
                                  | Qt.WindowState.WindowActive)
        window.show()
        if QGuiApplication.platformName() != "offscreen":  # offscreen has no window stacking
            window.raise_()
            window.activateWindow()
        if self.plan is not None and not self.demo:
            # Each time the window comes up: the keyring may have been unlocked or started since.
            self.keyring_check_timer.start()

    def parent_widget(self) -> QWidget | None:
        """Where a dialog belongs: the shown window, else nothing (a top-level dialog)."""
        return self.window if self.window is not None and self.window.isVisible() else None

    @Slot()
    def _on_keyring_check_timeout(self) -> None:
        self.keyring.check_backend()

    @Slot()
    def _on_window_closed(self) -> None:
        if self.tray is None:
            self.quit_requested.emit()

    @Slot(bool)
    def finish(self, remove_autostart: bool) -> None:
        """The result's Finish: quit, and remove Start at login when the user asked to."""
        if remove_autostart:
            self.desktop.set_autostart(False)
        self.quit_requested.emit()

    def shutdown(self) -> None:
        """Stop watching and let running jobs finish (a write is never cut in half)."""
        self.watcher.stop()
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

    @Slot()
    def _on_more_menu_about_to_show(self) -> None:
        from agentmux_companion.ui.tray_menu import fill_more_menu

        if self.more_menu is not None:
            fill_more_menu(self.more_menu, self.menu_entries())

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
        return keyring_stores(self.plan) if self.plan is not None else []

    # ------------------------------------------------------------------------------------------
    # Scanning

    def _build_plan(self, progress: Callable[[str], None]) -> MigrationPlan:
        progress(self.tr("Looking for AgentMux stores and logins…"))
        locations = st.explicit_locations(self.options.stores) if self.options.stores else None
        # Every store found is shown (older versions unchecked), so the user can choose.
        return build_plan(self.paths, self.registry, locations, None, include_all=True)

    @Slot()
    def scan(self) -> None:
        """Rescan in the background; a request during other work runs once that work is done."""
        if self.runner.busy:
            self._rescan_pending = True
            return
        self._rescan_pending = False
        self.scans_started += 1
        job = Job("scan", self.plan_builder, self)
        job.finished.connect(self._on_scan_finished)
        job.failed.connect(self.on_job_failed)
        job.done.connect(self.on_job_done)
        self._scan_job = job
        if self.window is not None:
            self.window.show_scanning()
        self.runner.start(job)

    @Slot(object)
    def _on_scan_finished(self, plan: MigrationPlan) -> None:
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
        self._report_refusals(plan)
        if state is TrayState.ACTION_NEEDED and previous_state is not TrayState.ACTION_NEEDED:
            self._on_something_to_migrate(first)
        self.watcher.watch(self.watch_paths(plan))
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

    def _report_refusals(self, plan: MigrationPlan) -> None:
        current = {(s.path, s.refused) for s in plan.stores if s.location.default_target and s.refused}
        for path, reason in sorted(current - self._reported_refusals):
            log.info("store %s refused: %s", path, reason)
            self.funnel.post(message_for_error(StoreRefused(reason)))
        self._reported_refusals = current

    def _on_something_to_migrate(self, first_scan: bool) -> None:
        shown_before = self.settings.value("plan_window_shown", False, type=bool)
        if first_scan and self.options.first_launch_window and not shown_before:
            self.settings.setValue("plan_window_shown", True)
            self.settings.sync()
            self.show_window()
        if self.tray is not None and not self.window_open():
            # Only when the window is not there to say it already.
            self.tray.notify(self.tr("AgentMux Companion"),
                             self.tr("{0}. Open the companion to review the migration.").format(self.status_line))

    def window_open(self) -> bool:
        return self.window is not None and self.window.isVisible() and not self.window.isMinimized()

    def watch_paths(self, plan: MigrationPlan) -> list[Path]:
        return watch_paths(self.paths, plan, self.options.extra_watch_paths, discovery=self.options.stores is None)

    # ------------------------------------------------------------------------------------------
    # Jobs (the writes themselves run in .writes)

    def request_rescan_after_work(self) -> None:
        self._rescan_pending = True

    @Slot(object)
    def on_job_failed(self, failure: JobFailure) -> None:
        self.funnel.error(failure.error, failure.details)
        self.publish_outcome(TrayState.ERROR, self.tr("Something went wrong; see the window"))

    @Slot()
    def on_job_done(self) -> None:
        if self.sender() is self._scan_job:
            self._scan_job = None
        if self.window is not None and not self.runner.busy:
            self.window.show_idle()

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if not busy and self._rescan_pending:
            self.scan()  # after our own writes, and after changes noticed meanwhile, look again once

    # ------------------------------------------------------------------------------------------
    # State and messages

    def publish_outcome(self, state: TrayState, line: str) -> None:
        self.outcome = (state, line)
        self.publish_state(state, line)

    def publish_state(self, state: TrayState, line: str) -> None:
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
