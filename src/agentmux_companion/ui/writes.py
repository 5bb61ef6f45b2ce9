"""Migrate and undo from the GUI: confirmed first, run in a job, the result shown once.

Each request opens the one confirmation (:mod:`.confirmations`, :func:`.dialogs.ask`). When
AgentMux is running, the confirmation says so and offers to wait: the controller then looks again
every few seconds — a timer that runs only while the user is waiting — and asks again once
AgentMux has closed. The store is never written while AgentMux runs unless the user chose to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from PySide6.QtCore import QObject, QTimer, Slot

from agentmux_companion.core.migration.results import Outcome
from agentmux_companion.ui import confirmations
from agentmux_companion.ui.dialogs import ask
from agentmux_companion.ui.icons import TrayState
from agentmux_companion.ui.messages import message_for_result
from agentmux_companion.ui.words import migrate_result_html, plural, undo_result_html
from agentmux_companion.ui.workers import Job

if TYPE_CHECKING:
    from agentmux_companion.core.migration.plan import MigrationPlan
    from agentmux_companion.core.migration.results import StoreResult, UndoResult
    from agentmux_companion.core.paths import AppPaths
    from agentmux_companion.ui.controller_port import ControllerPort

log = logging.getLogger(__name__)


class MigrateOutcome(NamedTuple):
    """A migration's results and the stores it can undo now (delivered on the GUI thread)."""
    results: tuple[StoreResult, ...]
    undoable: frozenset[Path]
    backups: Mapping[str, str] = MappingProxyType({})  # shared, and read-only
    """Each migrated store's backup in words, by store path: "Before migrating — 2 Dec 10:14 — …"."""
    backup_warnings: tuple[str, ...] = ()


def describe_backups(
    paths: AppPaths, results: Sequence[StoreResult], progress: Callable[[str], None]
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Each result's backup in the words of the Backups window, once its integrity check is done.

    Runs in the migrate job (off the GUI thread): the check of a big store's backup takes seconds
    and ends after the COMMIT, outside AgentMux's lock, so the words say "verified" truthfully.
    """
    written = [r for r in results if r.backup]
    if not written:
        return {}, ()
    from agentmux_companion.core import backup, backup_catalog

    progress("Checking the backup")
    warnings = tuple(backup.finish_checks())
    words = {}
    for result in written:
        entry = backup_catalog.by_path(paths.ledger_path, Path(result.backup).resolve())
        if entry is not None:
            words[str(result.path)] = entry.describe()
    return words, warnings


class Waiting(NamedTuple):
    """A write the user chose to hold until AgentMux closes."""

    undo: bool
    stores: tuple[Path, ...]


class Writes(QObject):
    """The controller's writes (migrate, undo) and what follows them."""

    def __init__(self, controller: ControllerPort, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.last_migrated: list[Path] = []
        self.migrated_counts: dict[Path, tuple[int, int]] = {}  # this session's: (logins, agent records)
        self.last_backup: Path | None = None
        self.waiting: Waiting | None = None
        self._copy_after_migrate = False
        self.wait_timer = QTimer(self)
        self.wait_timer.setSingleShot(True)
        self.wait_timer.setInterval(controller.options.agentmux_wait_ms)
        self.wait_timer.timeout.connect(controller.scan)

    # ------------------------------------------------------------------------------------------
    # Asking

    def request_migrate(self, store_paths: Sequence[Path]) -> None:
        """Confirm, then migrate ``store_paths``."""
        plan, c = self.controller.plan, self.controller
        if plan is None or c.runner.busy or not store_paths:
            return
        chosen = [Path(p) for p in store_paths]
        keyring = c.window is not None and c.window.wants_keyring_copy() and not c.demo
        confirmation = confirmations.migrate(plan, chosen, keyring_copy=keyring)
        c.dialog = ask(confirmation, c.parent_widget(), lambda: self.migrate(chosen, keyring),
                       lambda: self._wait(Waiting(False, tuple(chosen))))

    def request_undo(self, store_paths: Sequence[Path]) -> None:
        """Confirm, then undo the last migration of ``store_paths``."""
        c = self.controller
        targets = [Path(p) for p in store_paths]
        if not targets or c.runner.busy:
            return
        running = c.plan is not None and any(s.agentmux_running for s in c.plan.stores if s.path in set(targets))
        confirmation = confirmations.undo([self.label(p) for p in targets], agentmux_running=running,
                                          counts=[self.migrated_counts.get(p) for p in targets])
        c.dialog = ask(confirmation, c.parent_widget(), lambda: self.undo(targets),
                       lambda: self._wait(Waiting(True, tuple(targets))))

    def _wait(self, waiting: Waiting) -> None:
        self.waiting = waiting
        self.controller.status_line = self.tr("Waiting for AgentMux to close…")
        if self.controller.window is not None:
            self.controller.window.show_status(self.controller.status_line)
        self.wait_timer.start()

    def stop_waiting(self) -> None:
        """Stop waiting for AgentMux to close (the user cancelled, or it closed)."""
        self.waiting = None
        self.wait_timer.stop()

    def on_plan(self, plan: MigrationPlan) -> None:
        """A new plan: if the user is waiting for AgentMux, ask again once it has closed."""
        waiting = self.waiting
        if waiting is None:
            return
        if any(s.agentmux_running for s in plan.stores if s.path in set(waiting.stores)):
            self.wait_timer.start()
            return
        self.stop_waiting()
        log.info("AgentMux has closed; asking again")
        if waiting.undo:
            self.request_undo(waiting.stores)
        else:
            self.request_migrate([p for p in waiting.stores if plan.store(p) is not None])

    # ------------------------------------------------------------------------------------------
    # Running

    def start_work(self, job: Job, what: str, on_finished: Callable[[Any], None]) -> None:
        """Run a migration or an undo; ``on_finished`` gets the job's result."""
        c = self.controller
        c.writes_started += 1
        job.progress.connect(self._on_job_progress)
        job.finished.connect(on_finished)
        job.failed.connect(c.on_job_failed)
        job.done.connect(c.on_job_done)
        c.publish_state(TrayState.WORKING, what)
        if c.window is not None:
            c.window.show_working(what)
        c.runner.start(job)

    @Slot(str)
    def _on_job_progress(self, text: str) -> None:
        if self.controller.window is not None:
            self.controller.window.show_progress(text)

    def label(self, path: Path) -> str:
        """How the plan names the store at ``path``, or the path when the plan does not cover it."""
        plan = self.controller.plan
        store_plan = plan.store(path) if plan is not None else None
        return store_plan.location.label if store_plan is not None else str(path)

    def labels(self) -> dict[str, str]:
        """The plan's store labels by path, for the workers' messages."""
        plan = self.controller.plan
        return {str(s.path): s.location.label for s in plan.stores} if plan is not None else {}

    # ------------------------------------------------------------------------------------------
    # Migrating

    def migrate(self, chosen: Sequence[Path], keyring_copy: bool = False) -> None:
        """Migrate now (confirmed already)."""
        c = self.controller
        plan = c.plan
        if plan is None or c.runner.busy:
            return
        paths, registry, timeout, only = c.paths, c.registry, c.options.busy_timeout_ms, list(chosen)
        self._copy_after_migrate = keyring_copy

        def migrate_job(progress: Callable[[str], None]) -> MigrateOutcome:
            from agentmux_companion.core.migration.apply import apply_plan
            from agentmux_companion.core.migration.undo import last_undoable_run

            results = apply_plan(plan, paths, registry, timeout, progress=progress, only=only)
            undoable = frozenset(r.path for r in results if last_undoable_run(paths, r.path) is not None)
            backups, warnings = describe_backups(paths, results, progress)
            return MigrateOutcome(tuple(results), undoable, backups, warnings)

        self.start_work(Job("migrate", migrate_job, self), self.tr("Migrating…"), self._on_migrate_finished)

    @Slot(object)
    def _on_migrate_finished(self, outcome: MigrateOutcome) -> None:
        c = self.controller
        results = outcome.results
        for result in results:
            log.info("migrate %s: %s %s", result.path, result.outcome, result.stats.to_json())
        migrated = [r for r in results if r.outcome is Outcome.MIGRATED]
        failed = [r for r in results if r.outcome in (Outcome.BUSY, Outcome.REFUSED, Outcome.CHANGED)]
        if failed:
            state, line = TrayState.ERROR, self.tr("Migration did not complete; see the window")
        elif migrated:
            state, line = TrayState.DONE, plural(len(migrated), self.tr("Migrated {0} store"),
                                                  self.tr("Migrated {0} stores"))
        else:
            state, line = TrayState.DONE, self.tr("Nothing to migrate")
        c.publish_outcome(state, line)
        self.last_migrated = [r.path for r in migrated if r.path in outcome.undoable]
        for r in migrated:
            records = r.stats.instances_backfilled + r.agents_backfilled
            self.migrated_counts[r.path] = (r.stats.providers_seeded, records)
        self.last_backup = next((Path(r.backup) for r in results if r.backup), None)
        if c.window is not None:
            html = migrate_result_html(results, self.labels(), outcome.backups, outcome.backup_warnings)
            c.window.show_result(line, html, backup=self.last_backup is not None,
                                 undo=bool(self.last_migrated), finish=bool(migrated) and not failed,
                                 autostart_on=c.desktop.autostart_enabled())
        for result in failed:  # after the result is shown: a message of this state, not a stale one
            message = message_for_result(result)
            if message is not None:
                c.funnel.post(message)
        if not failed:
            c.notify_if_window_closed(self.tr("AgentMux Companion"), line)
        c.undoable = c.undoable | outcome.undoable
        c.request_rescan_after_work()
        copy_from = [r.path for r in results if r.outcome in (Outcome.MIGRATED, Outcome.NOTHING_TO_DO)]
        if self._copy_after_migrate and copy_from:
            from agentmux_companion.ui.keyring_model import CopyOrigin

            c.keyring.copy(copy_from, origin=CopyOrigin.PLAN)
        self._copy_after_migrate = False
        c.migrate_finished.emit(results)

    def open_backup(self) -> None:
        """Open the folder of the last migration's backup."""
        if self.last_backup is not None:
            self.controller.desktop.open_folder(self.last_backup.parent, self.tr("the backup folder"))

    # ------------------------------------------------------------------------------------------
    # Undoing

    def undo(self, store_paths: Sequence[Path]) -> None:
        """Undo now (confirmed already)."""
        c = self.controller
        if c.runner.busy:
            return
        targets = [Path(p) for p in store_paths]
        paths, timeout = c.paths, c.options.busy_timeout_ms

        def undo_job(progress: Callable[[str], None]) -> tuple[UndoResult, ...]:
            from agentmux_companion.core.migration.undo import undo_last

            return tuple(undo_last(paths, p, timeout, progress) for p in targets)

        self.start_work(Job("undo", undo_job, self), self.tr("Undoing…"), self._on_undo_finished)

    @Slot(object)
    def _on_undo_finished(self, results: tuple[UndoResult, ...]) -> None:
        c = self.controller
        line = self.tr("Last migration undone")
        c.publish_outcome(TrayState.DONE, line)
        self.last_migrated = []
        html = undo_result_html(results, self.labels())
        if c.window is not None:
            c.window.show_result(line, html, backup=False, undo=False, finish=False)
        c.notify_if_window_closed(self.tr("Migration undone"), line)
        c.undoable = c.undoable - {r.path for r in results}
        for r in results:
            self.migrated_counts.pop(r.path, None)
        c.request_rescan_after_work()
        c.undo_finished.emit(results)
