"""The companion's logic: scan, decide the tray state, migrate, undo, watch for changes.

Views (the tray icon, the plan window, dialogs) lay out and report clicks; this controller decides
what happens. Every core call that touches the disk runs in a :class:`~.workers.Job`; results come
back as signal arguments on the GUI thread. Errors go through the :class:`~.messages.MessageFunnel`.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QFileSystemWatcher, QObject, QSettings, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from agentmux_companion import __version__
from agentmux_companion.core import store as st
from agentmux_companion.core.errors import StoreRefused
from agentmux_companion.core.migration.plan import MigrationPlan, build_plan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.ui.icons import TrayState, app_icon
from agentmux_companion.ui.keyring_health import CHECKING
from agentmux_companion.ui.messages import (
    CrashReport,
    Level,
    MessageFunnel,
    UserMessage,
    escape,
    message_for_error,
    message_for_result,
)
from agentmux_companion.ui.workers import Job, JobFailure, JobRunner

if TYPE_CHECKING:
    # Imported where first needed: none of them is on the way to the first window with its plan
    # (the tray and the plan window are imported when shown; keyring, undo, autostart and crash
    # machinery when first used).
    from PySide6.QtWidgets import QMessageBox

    from agentmux_companion.core.migration.apply import StoreResult
    from agentmux_companion.core.migration.undo import UndoResult
    from agentmux_companion.ui.autostart import Autostart
    from agentmux_companion.ui.crash_dialog import CrashDialog
    from agentmux_companion.ui.keyring_controller import (
        CopyOutcome,
        KeyringController,
        KeyringOverview,
        RemoveOutcome,
    )
    from agentmux_companion.ui.keyring_health import BackendHealth
    from agentmux_companion.ui.keyring_panel import KeyringPanel
    from agentmux_companion.ui.plan_window import PlanWindow
    from agentmux_companion.ui.tray import MenuEntry, TrayIcon

log = logging.getLogger(__name__)

#: Builds the plan on a worker thread; tests substitute a slower or failing one.
PlanBuilder = Callable[[Callable[[str], None]], MigrationPlan]

_IGNORED_SUFFIXES = ("-shm", "-journal")

#: How long after the window is up (and the first scan is done) the keyring check starts: the
#: check loads ``keyring`` and talks to D-Bus, work that has no place on the way to the window.
KEYRING_CHECK_DELAY_MS = 300


@dataclass
class ControllerOptions:
    """How this run of the GUI behaves.

    Attributes:
        demo_dir: the demo sandbox's folder when running ``--demo``.
        stores: explicit store paths (``--store``), else discovery.
        busy_timeout_ms: how long a write waits for a busy store.
        use_tray: force the tray on or off; None asks Qt whether a tray exists.
        debounce_ms: how long file changes settle before a rescan.
        first_launch_window: open the plan window by itself on the first launch with work to do.
        extra_watch_paths: more paths whose changes trigger a rescan.
        keyring_timeout_s: the bound on each keyring call (a locked keyring can block forever);
            None: the keyring adapter's default.
    """

    demo_dir: Path | None = None
    stores: list[Path] | None = None
    busy_timeout_ms: int = st.BUSY_TIMEOUT_MS
    use_tray: bool | None = None
    debounce_ms: int = 400
    first_launch_window: bool = True
    extra_watch_paths: list[Path] = field(default_factory=list)
    keyring_timeout_s: float | None = None


@dataclass(frozen=True)
class MenuFacts:
    """What the tray menu needs beyond the plan, read after each scan.

    Attributes:
        undoable: the stores with a migration that can be undone.
        keyring_accounts: how many logins the keyring panel would list (OAuth accounts bound in
            the target stores plus recorded keyring copies).
        writes_started: how many migrations and undos the controller had started when the read
            began (facts read before a later one are stale).
    """

    undoable: frozenset[Path]
    keyring_accounts: int
    writes_started: int


@dataclass(frozen=True)
class MigrateOutcome:
    results: tuple[StoreResult, ...]
    undoable: frozenset[Path]


class Controller(QObject):
    """Runs the companion.

    Signals:
        state_changed(str, str): the tray state (a TrayState value) and its one-line status.
        scan_finished(object): a scan produced this MigrationPlan.
        migrate_finished(object): a migration produced these StoreResults (a tuple).
        undo_finished(object): an undo produced these UndoResults (a tuple).
        keyring_copy_finished(object): a keyring copy produced this CopyOutcome.
        quit_requested(): the user chose Quit, or closed the window when there is no tray.
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
        # The menu facts' own runner: reading them never makes the app "busy" (Migrate stays
        # available the moment the plan is shown).
        self.facts_runner = JobRunner(self, max_threads=1)
        self.plan: MigrationPlan | None = None
        self.undoable: frozenset[Path] = frozenset()
        self.state = TrayState.WORKING
        self.status_line = self.tr("Looking for AgentMux stores and logins…")
        self.window: PlanWindow | None = None
        self.tray: TrayIcon | None = None
        self.crash_dialog: CrashDialog | None = None
        self.dialog: QMessageBox | None = None
        self.scans_started = 0
        self._outcome_state: TrayState | None = None  # a migration's done/error, kept until rescans change things
        self._scan_job: Job | None = None
        self._rescan_pending = False
        self._reported_refusals: set[tuple[Path, str]] = set()
        self._watch_signature: tuple[tuple[str, int, int], ...] = ()
        self._autostart: Autostart | None = None
        self._writes_started = 0  # migrations and undos so far: menu facts read before one are stale
        self.settings = QSettings(str(paths.config_dir / "gui.ini"), QSettings.Format.IniFormat)

        self._keyring: KeyringController | None = None
        self.keyring_panel: KeyringPanel | None = None
        self.keyring_accounts = 0
        self._copy_after_migrate = False
        self._keyring_copy_origin: str | None = None
        # Single-shot, started only when the window is up and a plan is known: never a polling loop.
        self.keyring_check_timer = QTimer(self)
        self.keyring_check_timer.setSingleShot(True)
        self.keyring_check_timer.setInterval(KEYRING_CHECK_DELAY_MS)
        self.keyring_check_timer.timeout.connect(self._on_keyring_check_timeout)

        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._on_path_changed)
        self.watcher.directoryChanged.connect(self._on_path_changed)
        # A single-shot timer that only runs after a change notification: debouncing, not polling.
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(self.options.debounce_ms)
        self.debounce.timeout.connect(self._on_debounce_timeout)

        self.runner.busy_changed.connect(self._on_busy_changed)
        self.funnel.message_posted.connect(self._on_message_posted)
        self.funnel.crashed.connect(self._on_crashed)

    # ------------------------------------------------------------------------------------------
    # Start-up and windows

    @property
    def autostart(self) -> Autostart:
        """The OS's start-at-login entry (created when the menu first needs it)."""
        if self._autostart is None:
            from agentmux_companion.ui import autostart

            self._autostart = autostart.for_this_platform(_real_home())
        return self._autostart

    @property
    def keyring(self) -> KeyringController:
        """The keyring snapshot's controller (created, with its module, when first needed)."""
        if self._keyring is None:
            from agentmux_companion.core.keyring.backend import DEFAULT_TIMEOUT_S
            from agentmux_companion.ui.keyring_controller import KeyringController

            timeout = self.options.keyring_timeout_s
            keyring = KeyringController(self.paths, self.registry, self.funnel,
                                        DEFAULT_TIMEOUT_S if timeout is None else timeout, self)
            keyring.backend_checked.connect(self._on_keyring_backend_checked)
            keyring.overview_changed.connect(self._on_keyring_overview_changed)
            keyring.copy_finished.connect(self._on_keyring_copy_finished)
            keyring.remove_finished.connect(self._on_keyring_remove_finished)
            keyring.progress.connect(self._on_keyring_progress)
            keyring.failed.connect(self._on_keyring_failed)
            self._keyring = keyring
        return self._keyring

    @property
    def has_tray(self) -> bool:
        return self.tray is not None

    def start(self) -> None:
        """Show the tray (or, without one, the window) and scan in the background."""
        use_tray = self.options.use_tray
        if use_tray is None:
            use_tray = QSystemTrayIcon.isSystemTrayAvailable()
        if use_tray:
            from agentmux_companion.ui.tray import TrayIcon

            self.tray = TrayIcon(self.menu_entries, self)
            self.tray.activated.connect(self.show_window)
            self._publish_state(TrayState.WORKING, self.status_line)
            self.tray.show()
        else:
            log.info("no system tray: the window opens directly and closing it quits")
            self.show_window()
            self._publish_state(TrayState.WORKING, self.status_line)
        self.scan()

    def ensure_window(self) -> PlanWindow:
        if self.window is None:
            from agentmux_companion.ui.plan_window import PlanWindow

            window = PlanWindow()
            window.setWindowIcon(app_icon())
            window.set_demo(str(self.options.demo_dir) if self.options.demo_dir else None)
            window.migrate_requested.connect(self.migrate)
            window.undo_requested.connect(self.undo)
            window.open_backup_requested.connect(self._on_open_backup_requested)
            window.rescan_requested.connect(self.scan)
            window.closed.connect(self._on_window_closed)
            window.show_keyring_backend(self._keyring.backend if self._keyring is not None else CHECKING)
            self.more_menu = QMenu(window)
            self.more_menu.aboutToShow.connect(self._on_more_menu_about_to_show)
            window.more_button.setMenu(self.more_menu)
            window.more_button.setVisible(self.tray is None)
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
        window = self.ensure_window()
        window.show()
        if QGuiApplication.platformName() != "offscreen":  # offscreen has no window stacking
            window.raise_()
            window.activateWindow()
        if self.plan is not None:
            # Each time the window comes up: the keyring may have been unlocked or started since.
            self.keyring_check_timer.start()

    @Slot()
    def _on_keyring_check_timeout(self) -> None:
        self.keyring.check_backend()

    @Slot()
    def _on_window_closed(self) -> None:
        if self.tray is None:
            self.quit_requested.emit()

    def shutdown(self) -> None:
        """Stop watching and let running jobs finish (a write is never cut in half)."""
        self.debounce.stop()
        paths = self.watcher.files() + self.watcher.directories()
        if paths:
            self.watcher.removePaths(paths)
        self.keyring_check_timer.stop()
        self.runner.wait_for_done()
        self.facts_runner.wait_for_done()
        if self._keyring is not None:
            self._keyring.wait_for_done()  # every keyring call is time-bounded, so this returns
        if self.tray is not None:
            self.tray.hide()

    # ------------------------------------------------------------------------------------------
    # The tray menu: the one list of entries (adding an item is one line here)

    def menu_entries(self) -> list[MenuEntry]:
        from agentmux_companion.ui.tray import SEPARATOR, MenuEntry

        busy = self.runner.busy
        return [
            MenuEntry("status", self.status_line),
            SEPARATOR,
            MenuEntry("review", self.tr("&Review migration…"), self.show_window),
            MenuEntry("keyring", self.tr("&Copy to keyring…"), self.show_keyring_panel,
                      enabled=self.keyring_accounts > 0),
            MenuEntry("undo", self.tr("&Undo last migration…"), self.confirm_undo_last,
                      enabled=bool(self.undoable) and not busy),
            SEPARATOR,
            MenuEntry("backups", self.tr("&Backups…"), self.show_backups_window),
            MenuEntry("open_log", self.tr("Open &log"), self.open_log),
            MenuEntry("open_agentmux", self.tr("Open &AgentMux folder"), self.open_agentmux_folder),
            MenuEntry("autostart", self.tr("&Start at login"), self.toggle_autostart,
                      checkable=True, checked=self.autostart.is_enabled()),
            SEPARATOR,
            MenuEntry("about", self.tr("A&bout AgentMux Companion"), self.show_about),
            MenuEntry("quit", self.tr("&Quit"), self.quit_requested.emit),
        ]

    @Slot()
    def _on_more_menu_about_to_show(self) -> None:
        from agentmux_companion.ui.tray import fill_menu

        fill_menu(self.more_menu, [e for e in self.menu_entries() if e.key not in ("review",)])

    def show_backups_window(self) -> None:
        from agentmux_companion.ui.backups_window import show_backups_window

        self.backups_window = show_backups_window(getattr(self, "backups_window", None), self)

    def open_log(self) -> None:
        _open_path(self.paths.log_file if self.paths.log_file.exists() else self.paths.log_dir)

    def open_agentmux_folder(self) -> None:
        root = self.paths.agentmux_root
        _open_path(root if root.exists() else self.paths.home)

    @Slot(object)
    def _on_open_backup_requested(self, backup: Path) -> None:
        _open_path(Path(backup).parent)

    def toggle_autostart(self) -> None:
        enabled = not self.autostart.is_enabled()
        try:
            self.autostart.set_enabled(enabled)
        except OSError as exc:
            self.funnel.post(UserMessage(Level.ERROR, self.tr("Start at login could not be changed"), str(exc)))
            return
        log.info("start at login %s (%s)", "on" if enabled else "off", self.autostart.location)

    def show_about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        text = self.tr(
            "<b>AgentMux Companion {0}</b><br>Moves the logins that AI coding CLIs keep in your home "
            "folder into AgentMux's Default identity bundle, with a backup and undo.<br><br>"
            "Log: {1}<br>Backups: {2}").format(__version__, self.paths.log_file, self.paths.backups_dir)
        self._open_dialog(QMessageBox.Icon.Information, self.tr("About AgentMux Companion"), text,
                          QMessageBox.StandardButton.Ok)

    def _open_dialog(
        self,
        icon: QMessageBox.Icon,
        title: str,
        text: str,
        buttons: QMessageBox.StandardButton,
        on_accept: Callable[[], None] | None = None,
        parent: QWidget | None = None,
    ) -> QMessageBox:
        """A non-blocking message box (the event loop keeps running; tests can answer it).

        Its parent is ``parent`` when that is shown, else the plan window when that is shown.
        """
        from PySide6.QtWidgets import QMessageBox

        if parent is None or not parent.isVisible():
            parent = self.window if self.window is not None and self.window.isVisible() else None
        box = QMessageBox(icon, title, text, buttons, parent)
        box.setWindowIcon(app_icon())
        box.setAccessibleName(title)
        if on_accept is not None:
            def finished(result: int) -> None:
                if result in (QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Ok):
                    on_accept()

            box.finished.connect(finished)
            box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setEscapeButton(QMessageBox.StandardButton.No if on_accept else QMessageBox.StandardButton.Ok)
        box.open()
        self.dialog = box
        return box

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
        job.failed.connect(self._on_job_failed)
        job.done.connect(self._on_job_done)
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
            if first and self.window.isVisible():
                self.keyring_check_timer.start()
        state, line = self._state_for(plan)
        self._publish_state(state, line)
        self._report_refusals(plan)
        if state is TrayState.ACTION_NEEDED and previous_state is not TrayState.ACTION_NEEDED:
            self._on_something_to_migrate(first)
        self._sync_watcher(plan)
        self._read_menu_facts(plan)
        self.scan_finished.emit(plan)

    def _read_menu_facts(self, plan: MigrationPlan) -> None:
        """Read what the tray menu needs beyond the plan, in the background after the plan is shown.

        Undo's and the keyring's core modules load here, on the worker, rather than on the way to
        the plan: the menu's "Undo last migration…" and "Copy to keyring…" are the only users.
        """
        paths, stores, writes = self.paths, plan.stores, self._writes_started

        def facts_job(_progress: Callable[[str], None]) -> MenuFacts:
            from agentmux_companion.core.keyring.copy import bound_oauth_accounts
            from agentmux_companion.core.keyring.ledger import all_copies, ledger_path
            from agentmux_companion.core.migration.undo import last_undoable_run

            undoable = frozenset(s.path for s in stores if last_undoable_run(paths, s.path) is not None)
            # Read-only SQLite, no keyring: whether "Copy to keyring…" has anything to list.
            bound = bound_oauth_accounts([s.path for s in stores if s.location.default_target]).accounts
            recorded = {r.account_id for r in all_copies(ledger_path(paths))}
            return MenuFacts(undoable, len({a.account_id for a in bound} | recorded), writes)

        job = Job("menu-facts", facts_job, self)
        job.finished.connect(self._on_menu_facts_read)
        job.failed.connect(self._on_menu_facts_failed)
        self.facts_runner.start(job)

    @Slot(object)
    def _on_menu_facts_read(self, facts: MenuFacts) -> None:
        # A migration or undo started since the read has its own outcome, and a rescan follows it.
        if facts.writes_started == self._writes_started:
            self.undoable = facts.undoable
            self.keyring_accounts = facts.keyring_accounts

    @Slot(object)
    def _on_menu_facts_failed(self, failure: JobFailure) -> None:
        self.funnel.error(failure.error, failure.details)

    def _state_for(self, plan: MigrationPlan) -> tuple[TrayState, str]:
        targets = [s for s in plan.stores if s.location.default_target]
        if any(s.will_write for s in targets):
            self._outcome_state = None
            providers = sorted({p.display_name for s in targets if s.will_write for p in s.to_bind})
            if providers:
                return TrayState.ACTION_NEEDED, self.tr("Ready to add {0} to AgentMux").format(", ".join(providers))
            return TrayState.ACTION_NEEDED, self.tr("AgentMux's legacy agent rows can be migrated")
        if self._outcome_state is not None:
            return self._outcome_state, self.status_line
        refused = [s for s in targets if s.refused and s.era is not st.Era.POST_BUNDLE]
        if refused:
            return TrayState.ERROR, self.tr("The AgentMux store cannot be migrated")
        if not plan.stores:
            return TrayState.NOTHING_TO_DO, self.tr("No AgentMux store found")
        return TrayState.NOTHING_TO_DO, self.tr("Nothing to migrate")

    def _report_refusals(self, plan: MigrationPlan) -> None:
        current = {(s.path, s.refused) for s in plan.stores if s.location.default_target and s.refused}
        for path, reason in sorted(current - self._reported_refusals):
            log.info("store %s refused: %s", path, reason)
            self.funnel.post(message_for_error(StoreRefused(reason)))
        self._reported_refusals = current

    def _on_something_to_migrate(self, first_scan: bool) -> None:
        if self.tray is not None:
            self.tray.notify(self.tr("AgentMux Companion"),
                             self.tr("{0}. Open the companion to review the migration.").format(self.status_line))
        shown_before = self.settings.value("plan_window_shown", False, type=bool)
        if first_scan and self.options.first_launch_window and not shown_before:
            self.settings.setValue("plan_window_shown", True)
            self.settings.sync()
            self.show_window()

    # ------------------------------------------------------------------------------------------
    # Watching for changes (file-system notifications; nothing runs while nothing changes)

    def watch_paths(self, plan: MigrationPlan) -> list[Path]:
        """Credential files and their folders, the stores and their folders, AgentMux's root."""
        wanted: list[Path] = [self.paths.home, self.paths.agentmux_root, *self.options.extra_watch_paths]
        for credential in plan.credentials:
            wanted += [credential.config_dir, credential.path]
        for store_plan in plan.stores:
            wanted += [store_plan.path, store_plan.path.parent]
        if self.options.stores is None:
            wanted.append(self.paths.shared_dir)
        return [p for p in dict.fromkeys(wanted) if p.exists()]

    def _sync_watcher(self, plan: MigrationPlan) -> None:
        wanted = {str(p) for p in self.watch_paths(plan)}
        current = set(self.watcher.files()) | set(self.watcher.directories())
        stale = sorted(current - wanted)
        if stale:
            self.watcher.removePaths(stale)
        new = sorted(wanted - current)
        if new:
            self.watcher.addPaths(new)
        self._watch_signature = self._signature()

    def _signature(self) -> tuple[tuple[str, int, int], ...]:
        """What the watched things look like now; a notification that changes nothing is ignored.

        Our own read-only scans can make SQLite touch ``-shm`` files beside a store, which the
        folder watch reports; without this check every scan would trigger the next one.
        """
        entries: list[tuple[str, int, int]] = []
        for name in sorted(self.watcher.files()) + sorted(self.watcher.directories()):
            path = Path(name)
            candidates = [path]
            if path.is_dir():
                with contextlib.suppress(OSError):
                    candidates += sorted(p for p in path.iterdir() if not p.name.endswith(_IGNORED_SUFFIXES))
            for candidate in candidates:
                try:
                    info = candidate.stat()
                except OSError:
                    entries.append((str(candidate), -1, -1))
                    continue
                size = 0 if candidate.is_dir() else info.st_size
                mtime = 0 if candidate.is_dir() else info.st_mtime_ns
                entries.append((str(candidate), size, mtime))
        return tuple(entries)

    @Slot(str)
    def _on_path_changed(self, path: str) -> None:
        log.debug("changed: %s", path)
        self.debounce.start()

    @Slot()
    def _on_debounce_timeout(self) -> None:
        if self._signature() == self._watch_signature:
            return
        log.info("credentials or stores changed; rescanning")
        self.scan()

    # ------------------------------------------------------------------------------------------
    # Migrating and undoing

    @Slot(list)
    def migrate(self, store_paths: Sequence[Path]) -> None:
        plan = self.plan
        if plan is None or self.runner.busy:
            return
        chosen = [Path(p) for p in store_paths]
        paths, registry, timeout = self.paths, self.registry, self.options.busy_timeout_ms
        # Read when Migrate is pressed: what the user saw checked is what happens.
        self._copy_after_migrate = self.window is not None and self.window.wants_keyring_copy()

        def migrate_job(progress: Callable[[str], None]) -> MigrateOutcome:
            from agentmux_companion.core.migration.apply import apply_plan
            from agentmux_companion.core.migration.undo import last_undoable_run

            results = apply_plan(plan, paths, registry, timeout, progress=progress, only=chosen)
            undoable = frozenset(r.path for r in results if last_undoable_run(paths, r.path) is not None)
            return MigrateOutcome(tuple(results), undoable)

        self._start_work(Job("migrate", migrate_job, self), self.tr("Migrating…"), self._on_migrate_finished)

    @Slot(object)
    def _on_migrate_finished(self, outcome: MigrateOutcome) -> None:
        results = outcome.results
        for result in results:
            log.info("migrate %s: %s %s", result.path, result.outcome, result.stats.to_json())
            message = message_for_result(result)
            if message is not None:
                self.funnel.post(message)
        migrated = [r for r in results if r.outcome == "migrated"]
        failed = [r for r in results if r.outcome in ("busy", "refused", "changed")]
        if failed:
            state, line = TrayState.ERROR, self.tr("Migration did not complete; see the window")
        else:
            state = TrayState.DONE
            line = self.tr("Migrated {0} store(s)").format(len(migrated)) if migrated else self.tr("Nothing to migrate")
        self._outcome_state = state
        self._publish_state(state, line)
        if self.window is not None:
            self.window.show_results(results, outcome.undoable)
        if self.tray is not None and (self.window is None or not self.window.isVisible()):
            self.tray.notify(self.tr("AgentMux Companion"), line, error=bool(failed))
        self.undoable = self.undoable | outcome.undoable
        self._rescan_pending = True
        copy_from = [r.path for r in results if r.outcome in ("migrated", "nothing_to_do")]
        if self._copy_after_migrate and copy_from:
            self._copy_to_keyring(copy_from, origin="plan")
        self._copy_after_migrate = False
        self.migrate_finished.emit(results)

    # ------------------------------------------------------------------------------------------
    # The keyring snapshot (the work runs in KeyringController's jobs)

    def keyring_store_paths(self) -> list[Path]:
        """The stores whose bindings the keyring copy reads: the migration's targets, as in the CLI."""
        return _keyring_stores(self.plan) if self.plan is not None else []

    def show_keyring_panel(self) -> None:
        """The tray's "Copy to keyring…": the panel, with the state read afresh in the background."""
        if self.keyring_panel is None:
            from agentmux_companion.ui.keyring_panel import KeyringPanel

            panel = KeyringPanel()
            panel.setWindowIcon(app_icon())
            panel.copy_requested.connect(self._on_panel_copy_requested)
            panel.remove_requested.connect(self.confirm_remove_keyring_copies)
            panel.refresh_requested.connect(self._on_panel_refresh_requested)
            panel.show_backend(self.keyring.backend)
            if self.keyring.overview is not None:
                panel.show_overview(self.keyring.overview)
            self.keyring_panel = panel
        panel = self.keyring_panel
        panel.show()
        if QGuiApplication.platformName() != "offscreen":
            panel.raise_()
            panel.activateWindow()
        self._on_panel_refresh_requested()

    @Slot()
    def _on_panel_refresh_requested(self) -> None:
        if self.keyring_panel is not None:
            self.keyring_panel.show_working(self.tr("Checking the keyring…"))
        self.keyring.refresh(self.keyring_store_paths())

    @Slot()
    def _on_panel_copy_requested(self) -> None:
        self._copy_to_keyring(self.keyring_store_paths(), origin="panel")

    def _copy_to_keyring(self, store_paths: Sequence[Path], origin: str) -> None:
        if self.keyring.busy:
            return
        what = self.tr("Copying the logins to the keyring…")
        self._keyring_copy_origin = origin
        if origin == "plan" and self.window is not None:
            self.window.show_keyring_copying(what)
        if self.keyring_panel is not None:
            self.keyring_panel.show_working(what)
        self.keyring.copy(store_paths, origin)

    def confirm_remove_keyring_copies(self) -> None:
        """Ask first, then delete exactly the copies the companion made."""
        from PySide6.QtWidgets import QMessageBox

        self._open_dialog(
            QMessageBox.Icon.Question, self.tr("Remove keyring copies"),
            self.tr("Delete the keyring copies the companion made? Only entries still holding the companion's "
                    "copy are deleted. AgentMux keeps using the CLIs' own folders, so your logins keep working."),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            on_accept=self._remove_keyring_copies, parent=self.keyring_panel,
        )

    def _remove_keyring_copies(self) -> None:
        if self.keyring.busy:
            return
        if self.keyring_panel is not None:
            self.keyring_panel.show_working(self.tr("Removing the keyring copies…"))
        self.keyring.remove(self.keyring_store_paths())

    @Slot(object)
    def _on_keyring_backend_checked(self, backend: BackendHealth) -> None:
        if self.window is not None:
            self.window.show_keyring_backend(backend)
        if self.keyring_panel is not None:
            self.keyring_panel.show_backend(backend)

    @Slot(object)
    def _on_keyring_overview_changed(self, overview: KeyringOverview) -> None:
        self.keyring_accounts = len(overview.rows)
        if self.keyring_panel is not None:
            self.keyring_panel.show_overview(overview)
            if not self.keyring.runner.busy:
                self.keyring_panel.show_idle()

    @Slot(str)
    def _on_keyring_progress(self, text: str) -> None:
        if self.keyring_panel is not None:
            self.keyring_panel.show_progress(text)

    @Slot(object)
    def _on_keyring_copy_finished(self, outcome: CopyOutcome) -> None:
        from agentmux_companion.ui.keyring_words import copy_result_html

        html = copy_result_html(outcome.report, self.registry)
        if outcome.origin == "plan" and self.window is not None:
            self.window.show_keyring_result(html)
        if self.keyring_panel is not None:
            self.keyring_panel.show_result(html)
        self._keyring_copy_origin = None
        self.keyring_copy_finished.emit(outcome)

    @Slot(object)
    def _on_keyring_remove_finished(self, outcome: RemoveOutcome) -> None:
        if self.keyring_panel is not None:
            removed = sum(c.entries_deleted for c in outcome.report.copies)
            text = (self.tr("Removed 1 keyring entry made by the companion.") if removed == 1 else
                    self.tr("Removed {0} keyring entries made by the companion.").format(removed))
            self.keyring_panel.show_result(text)

    @Slot(object)
    def _on_keyring_failed(self, _failure: JobFailure) -> None:
        # The funnel has shown the message already; the views stop saying "working".
        if self._keyring_copy_origin == "plan" and self.window is not None:
            message = self.funnel.last_message
            reason = escape(message.text) if message is not None else ""
            self.window.show_keyring_result(self.tr("<b>Not copied to the keyring.</b> {0}").format(reason))
        self._keyring_copy_origin = None
        if self.keyring_panel is not None:
            self.keyring_panel.show_idle()

    def confirm_undo_last(self) -> None:
        """The tray's "Undo last migration…": ask first, then undo every store that has a run."""
        from PySide6.QtWidgets import QMessageBox

        targets = sorted(self.undoable)
        if not targets:
            return
        labels = "\n".join(self._label(p) for p in targets)
        self._open_dialog(
            QMessageBox.Icon.Question, self.tr("Undo last migration"),
            self.tr("Undo the last migration of:\n{0}\n\nAgentMux's store goes back to how it was before; "
                    "a safety backup is taken first.").format(labels),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            on_accept=lambda: self.undo(targets),
        )

    @Slot(list)
    def undo(self, store_paths: Sequence[Path]) -> None:
        if self.runner.busy:
            return
        targets = [Path(p) for p in store_paths]
        paths, timeout = self.paths, self.options.busy_timeout_ms

        def undo_job(progress: Callable[[str], None]) -> tuple[UndoResult, ...]:
            from agentmux_companion.core.migration.undo import undo_last

            return tuple(undo_last(paths, p, timeout, progress) for p in targets)

        self._start_work(Job("undo", undo_job, self), self.tr("Undoing…"), self._on_undo_finished)

    @Slot(object)
    def _on_undo_finished(self, results: tuple[UndoResult, ...]) -> None:
        lines = []
        for result in results:
            lines.append(self.tr("{0}: undone: {1}. Safety backup: {2}").format(
                self._label(result.path), result.describe(), result.safety_backup))
            lines.extend(result.warnings)
        text = "\n".join(lines)
        self._outcome_state = TrayState.DONE
        self._publish_state(TrayState.DONE, self.tr("Last migration undone"))
        if self.window is not None:
            self.window.show_undone(text)
        self.funnel.post(UserMessage(Level.INFO, self.tr("Migration undone"), text))
        self._rescan_pending = True
        self.undo_finished.emit(results)

    def _start_work(self, job: Job, what: str, on_finished: Callable[[Any], None]) -> None:
        """Run a migration or an undo; ``on_finished`` gets the job's result (signals carry it untyped)."""
        self._writes_started += 1
        job.progress.connect(self._on_job_progress)
        job.finished.connect(on_finished)
        job.failed.connect(self._on_job_failed)
        job.done.connect(self._on_job_done)
        self._publish_state(TrayState.WORKING, what)
        if self.window is not None:
            self.window.show_working(what)
        self.runner.start(job)

    @Slot(str)
    def _on_job_progress(self, text: str) -> None:
        if self.window is not None:
            self.window.show_progress(text)

    @Slot(object)
    def _on_job_failed(self, failure: JobFailure) -> None:
        self.funnel.error(failure.error, failure.details)
        if self.plan is None and self.window is not None:
            self.window.show_idle()
        self._publish_state(TrayState.ERROR, self.tr("Something went wrong; see the window"))
        self._outcome_state = TrayState.ERROR

    @Slot()
    def _on_job_done(self) -> None:
        if self.sender() is self._scan_job:
            self._scan_job = None
        # A scan's ``done`` can arrive after a migration has already started: stay "working".
        if self.window is not None and not self.runner.busy:
            self.window.show_idle()

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if not busy and self._rescan_pending:
            # After our own writes, and after changes noticed meanwhile, look again once.
            self.scan()

    # ------------------------------------------------------------------------------------------
    # State and messages

    def _publish_state(self, state: TrayState, line: str) -> None:
        self.state = state
        self.status_line = line
        prefix = self.tr("AgentMux Companion (demo)") if self.options.demo_dir else self.tr("AgentMux Companion")
        if self.tray is not None:
            self.tray.set_state(state, f"{prefix}: {line}")
        self.state_changed.emit(state.value, line)

    @Slot(object)
    def _on_message_posted(self, message: UserMessage) -> None:
        if self.keyring_panel is not None and self.keyring_panel.isVisible():
            # The panel is where the user is working on the keyring: say it there.
            self.keyring_panel.show_message(message)
            if self.window is not None and self.window.isVisible():
                self.window.show_message(message)
            return
        if self.window is not None and (self.window.isVisible() or self.tray is None):
            self.window.show_message(message)
            return
        if self.tray is not None:
            self.tray.notify(message.title, message.text, error=message.level is Level.ERROR)
        # Kept for when the window opens.
        self.ensure_window().show_message(message)

    @Slot(object)
    def _on_crashed(self, report: CrashReport) -> None:
        from agentmux_companion.ui.crash_dialog import CrashDialog

        parent = self.window if self.window is not None and self.window.isVisible() else None
        dialog = CrashDialog(report, str(self.paths.log_file), parent)
        dialog.setWindowIcon(app_icon())
        dialog.open_log_requested.connect(self.open_log)
        self.crash_dialog = dialog
        dialog.open()

    def _label(self, path: Path) -> str:
        if self.plan is not None:
            store_plan = self.plan.store(path)
            if store_plan is not None:
                return store_plan.location.label
        return str(path)


def _keyring_stores(plan: MigrationPlan) -> list[Path]:
    return [s.path for s in plan.stores if s.location.default_target]


def _open_path(path: Path) -> None:
    from PySide6.QtGui import QDesktopServices

    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def _real_home() -> Path:
    # The start-at-login entry belongs to the person using the desktop, even under --home/--demo.
    value = os.environ.get("HOME") or os.environ.get("USERPROFILE")
    return Path(value) if value else Path.home()
