"""Scanning for the GUI: when the stores and logins are looked at again, and what is told, once.

A scan runs as a :class:`~.workers.Job`; a request while other work runs (a write, a restore, a
scan) is held and runs once when that work is done, so bursts of file changes and a write's own
changes cost one scan, not many. The files a plan depends on are watched
(:mod:`.change_watcher`): a change is a scan request like any other. Of each plan, two pieces of
news are told once rather than at every scan: a default store newly refused (one message each),
and newly "something to migrate" (the window on the very first launch, else a notification when
the window is not there to say it). Both, and the watch, follow a plan once it is on screen
(:meth:`Scanning.follow`): a turn later for the first, so the first plan waits for none of them.

What a new plan means for the tray, the window and the writes stays the controller's
(:meth:`Controller.on_plan`); this module reaches it through :class:`~.controller_port.ControllerPort`,
so it needs no import of the controller, which imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, Slot

from agentmux_companion.core.errors import StoreRefused
from agentmux_companion.core.migration.plan import MigrationPlan, plan_every_store
from agentmux_companion.ui.change_watcher import ChangeWatcher, watch_paths
from agentmux_companion.ui.messages import message_for_error
from agentmux_companion.ui.options import PlanBuilder
from agentmux_companion.ui.workers import Job

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

    from agentmux_companion.core.scan_ahead import ScanAhead
    from agentmux_companion.ui.controller_port import ControllerPort

log = logging.getLogger(__name__)


def _tr(text: str) -> str:
    # The controller's translation context: these words were the controller's and keep their translations.
    return QCoreApplication.translate("Controller", text)


class Scanning(QObject):
    """The controller's scans: started, held while other work runs, and their news told once.

    Attributes:
        started: how many scans were started (tests wait on it).
        job: the scan running now, or None.
        rescan_pending: a scan was asked for while other work ran; it runs when that is done.
        watcher: the files and folders a plan depends on; a change asks for a scan.
        plans_followed: how many plans were followed (:meth:`follow`; tests wait on it).
    """

    def __init__(self, controller: ControllerPort, plan_builder: PlanBuilder | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.plan_builder = plan_builder or self._build_plan
        self.started = 0
        self.job: Job | None = None
        self.rescan_pending = False
        self._reported_refusals: set[tuple[Path, str]] = set()
        self.plans_followed = 0
        self._stopped = False
        self._settings: QSettings | None = None  # opened when the first news is told (settings)
        self.watcher = ChangeWatcher(controller.options.debounce_ms, self)
        self.watcher.changed.connect(self.scan)
        controller.runner.busy_changed.connect(self._on_busy_changed)

    def _build_plan(self, progress: Callable[[str], None]) -> MigrationPlan:
        c = self.controller
        progress(_tr("Looking for AgentMux stores and logins…"))
        # Every store found is shown (older versions unchecked), so the user can choose.
        return plan_every_store(c.paths, c.registry, c.options.stores)

    @Slot()
    def scan(self) -> None:
        """Rescan in the background; a request during other work runs once that work is done."""
        if self.controller.runner.busy:
            self.rescan_pending = True
            return
        self._start(self.plan_builder)

    def scan_first(self, ahead: ScanAhead[MigrationPlan] | None) -> None:
        """The first scan: the one the launcher started ahead of the GUI (its job collects it), if any."""
        if ahead is None:
            self.scan()
        else:
            self._start(lambda _progress: ahead.result())

    def _start(self, plan_builder: PlanBuilder) -> None:
        c = self.controller
        self.rescan_pending = False
        self.started += 1
        job = Job("scan", plan_builder, self)
        job.finished.connect(c.on_plan)
        job.failed.connect(c.on_job_failed)
        job.done.connect(self._on_scan_done)  # before the controller's: it asks whether a scan still runs
        job.done.connect(c.on_job_done)
        self.job = job
        if c.window is not None:
            c.window.show_scanning()
        c.runner.start(job)

    @Slot()
    def _on_scan_done(self) -> None:
        if self.sender() is self.job:
            self.job = None

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if not busy and self.rescan_pending:
            self.scan()  # after our own writes, and after changes noticed meanwhile, look again once

    @property
    def settings(self) -> QSettings:
        """The GUI's own settings file (whether the plan window was ever shown), opened when first needed."""
        if self._settings is None:
            from PySide6.QtCore import QSettings

            self._settings = QSettings(str(self.controller.paths.config_dir / "gui.ini"), QSettings.Format.IniFormat)
        return self._settings

    def follow(self, news: bool, *, first: bool) -> None:
        """What follows the plan on screen: refused stores told, ``news`` announced, its files watched.

        The controller calls it a turn after the first plan (which goes on screen before what it
        does not show), at once after the others; after :meth:`stop`, it does nothing.
        """
        self.plans_followed += 1
        plan = self.controller.plan
        if plan is None or self._stopped:
            return
        self.report_refusals(plan)
        if news:
            self.announce_work(first)
        self.watch(plan)

    def watch(self, plan: MigrationPlan) -> None:
        """Watch what ``plan`` depends on (the CLIs' login files, the stores, discovery's folders)."""
        c = self.controller
        self.watcher.watch(watch_paths(c.paths, plan, c.options.extra_watch_paths, discovery=c.options.stores is None))

    def report_refusals(self, plan: MigrationPlan) -> None:
        """One message for each default store that is newly refused (not again at every scan)."""
        current = {(s.path, s.refused) for s in plan.stores if s.location.default_target and s.refused}
        for path, reason in sorted(current - self._reported_refusals):
            log.info("store %s refused: %s", path, reason)
            self.controller.funnel.post(message_for_error(StoreRefused(reason)))
        self._reported_refusals = current

    def announce_work(self, first_scan: bool) -> None:
        """There is newly something to migrate: say so, once.

        On the very first launch the window opens; later a notification says it, when the window
        is not there to.
        """
        c = self.controller
        settings = self.settings
        shown_before = settings.value("plan_window_shown", False, type=bool)
        if first_scan and c.options.first_launch_window and not shown_before:
            settings.setValue("plan_window_shown", True)
            settings.sync()
            c.show_window()
        if c.tray is not None and not c.window_open():
            # Only when the window is not there to say it already.
            c.tray.notify(_tr("AgentMux Companion"),
                          _tr("{0}. Open the companion to review the migration.").format(c.status_line))

    def stop(self) -> None:
        """Stop watching (shutting down); a plan that still arrives is not followed."""
        self._stopped = True
        self.watcher.stop()
