"""The keyring snapshot in the GUI: backend health, copy, status and remove, all off the GUI thread.

Every keyring call can block (D-Bus, a locked keyring waiting for a prompt), so each one runs in
a :class:`~.workers.Job` on a runner of its own: one thread, so keyring calls queue behind each
other instead of piling up on a stuck daemon, and separate from the migration's runner, so a slow
keyring never makes the tray say "working" or holds back a scan. The core functions bound every
call with the adapter's timeout; their typed errors reach the user through the message funnel.

What this module hands to views is plain, immutable data (:class:`BackendHealth`,
:class:`KeyringOverview`, the core's ``CopyReport``); the views choose the words.

``keyring`` itself is imported only inside the jobs (the core imports it where it is used). This
module is not on the way to the first window either: the controller creates the
:class:`KeyringController` when the background check or the keyring panel first needs it; the
plan window's keyring option needs only :mod:`.keyring_health`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from agentmux_companion.core.errors import KeyringUnavailable
from agentmux_companion.core.keyring.removal import Removal
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.ui.keyring_health import CHECKING, BackendHealth, Health, health_of
from agentmux_companion.ui.keyring_model import CopyOrigin, CopyOutcome, KeyringOverview, RemoveOutcome
from agentmux_companion.ui.messages import Level, MessageFunnel, UserMessage
from agentmux_companion.ui.workers import Job, JobFailure, JobRunner

if TYPE_CHECKING:
    from agentmux_companion.core.keyring.copy import AccountCopy
    from agentmux_companion.core.paths import AppPaths
    from agentmux_companion.ui.dialogs import ConfirmDialog
    from agentmux_companion.ui.keyring_panel import KeyringPanel

log = logging.getLogger(__name__)



# --------------------------------------------------------------------------------------------
# The controller


class KeyringController(QObject):
    """Runs the keyring snapshot's work for the GUI and reports the results.

    Signals:
        backend_checked(object): a :class:`BackendHealth` (also sent as CHECKING when a check starts).
        overview_changed(object): a :class:`KeyringOverview`.
        copy_finished(object): a :class:`CopyOutcome`.
        remove_finished(object): a :class:`RemoveOutcome`.
        progress(str): a step of the running job, in words.
        busy_changed(bool): whether keyring work is running.
        failed(object): a job failed; the :class:`~.workers.JobFailure` (already sent to the funnel).
    """

    backend_checked = Signal(object)
    overview_changed = Signal(object)
    copy_finished = Signal(object)
    remove_finished = Signal(object)
    progress = Signal(str)
    busy_changed = Signal(bool)
    failed = Signal(object)

    def __init__(
        self,
        paths: AppPaths,
        registry: ProviderRegistry,
        funnel: MessageFunnel,
        timeout_s: float,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self.registry = registry
        self.funnel = funnel
        self.timeout_s = timeout_s
        # One thread: keyring calls wait for each other rather than stack up on a stuck daemon.
        self.runner = JobRunner(self, max_threads=1)
        self.runner.busy_changed.connect(self.busy_changed)
        self.backend: BackendHealth = CHECKING
        self.overview: KeyringOverview | None = None
        self._last_copies: dict[str, AccountCopy] = {}
        self._checks_running = 0
        self.panel: KeyringPanel | None = None
        self.dialog: ConfirmDialog | None = None
        self.copy_origin: CopyOrigin | None = None
        self._stores: list[Path] = []

    @property
    def busy(self) -> bool:
        """Whether a copy or a removal is under way (a background health check does not count)."""
        return self.runner.is_running("keyring-copy", "keyring-remove")

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until the keyring jobs return (each keyring call is time-bounded, so they do)."""
        return self.runner.wait_for_done(msecs)

    # ------------------------------------------------------------------------------------------
    # The panel (this controller owns it) and the confirmations of its writes

    def show_panel(self, store_paths: Sequence[Path]) -> KeyringPanel:
        """Show the panel, with the state read afresh in the background."""
        from PySide6.QtGui import QGuiApplication

        self._stores = list(store_paths)
        if self.panel is None:
            from agentmux_companion.ui.icons import app_icon
            from agentmux_companion.ui.keyring_panel import KeyringPanel

            panel = KeyringPanel()
            panel.setWindowIcon(app_icon())
            panel.copy_requested.connect(self.request_copy)
            panel.remove_requested.connect(self.request_remove)
            panel.refresh_requested.connect(self.refresh_panel)
            panel.show_backend(self.backend)
            if self.overview is not None:
                panel.show_overview(self.overview)
            self.panel = panel
        self.panel.show()
        if QGuiApplication.platformName() != "offscreen":
            self.panel.raise_()
            self.panel.activateWindow()
        self.refresh_panel()
        return self.panel

    @Slot()
    def refresh_panel(self) -> None:
        """Read the keyring overview again (the panel's Refresh), saying so in the panel."""
        if self.panel is not None:
            self.panel.show_working(self.tr("Checking the keyring…"))
        self.refresh(self._stores)

    @Slot()
    def request_copy(self) -> None:
        """The panel's Copy: confirm, then copy every bound login."""
        from agentmux_companion.ui import confirmations
        from agentmux_companion.ui.dialogs import ask

        logins = self.overview.bound_count if self.overview is not None else 0
        self.dialog = ask(confirmations.keyring_copy(logins), self.panel,
                          lambda: self.copy(self._stores, origin=CopyOrigin.PANEL))

    @Slot()
    def request_remove(self) -> None:
        """The panel's Remove copies…: confirm, then delete exactly the copies the companion made."""
        from agentmux_companion.ui import confirmations
        from agentmux_companion.ui.dialogs import ask

        copies = self.overview.recorded_count if self.overview is not None else 0
        self.dialog = ask(confirmations.keyring_remove(copies), self.panel, lambda: self.remove(self._stores))

    # ------------------------------------------------------------------------------------------
    # Jobs

    def check_backend(self) -> None:
        """Find the backend in use and its health (detection talks to D-Bus: a job)."""
        if self._checks_running:
            return
        timeout = self.timeout_s

        def check_job(_progress: Callable[[str], None]) -> BackendHealth:
            from agentmux_companion.core.keyring.backend import backend_report

            return health_of(backend_report(timeout_s=timeout))

        self._checks_running += 1
        self.backend_checked.emit(CHECKING if self.backend.health is Health.CHECKING else self.backend)
        job = Job("keyring-backend", check_job, self)
        job.finished.connect(self._on_backend_checked)
        job.failed.connect(self._on_job_failed)
        job.done.connect(self._on_check_done)
        self.runner.start(job)

    def refresh(self, store_paths: Sequence[Path]) -> None:
        """Gather the panel's overview: backend, bound accounts, recorded copies and their state."""
        make_overview = self._overview_function(store_paths)
        job = Job("keyring-status", lambda progress: make_overview(progress), self)
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_overview)
        job.failed.connect(self._on_job_failed)
        self.runner.start(job)

    def copy(self, store_paths: Sequence[Path], origin: CopyOrigin = CopyOrigin.PANEL) -> None:
        """Copy the bound OAuth logins of ``store_paths`` into the keyring, then read the overview.

        Args:
            store_paths: The stores whose bound OAuth accounts are copied.
            origin: who asked (the plan window after a migration, or the keyring panel); passed
                back in the :class:`CopyOutcome` so the right view shows the result.
        """
        if self.busy:
            return
        self.copy_origin = origin
        if self.panel is not None:
            self.panel.show_working(self.tr("Copying the logins to the keyring…"))
        paths, timeout, stores = self.paths, self.timeout_s, list(store_paths)
        make_overview = self._overview_function(stores)

        def copy_job(progress: Callable[[str], None]) -> CopyOutcome:
            from agentmux_companion.core.keyring.copy import copy_bound_accounts

            progress(QCoreApplication.translate("KeyringPanel", "Opening the keyring…"))
            report = copy_bound_accounts(paths, stores, timeout_s=timeout, progress=progress)
            attempts = {c.account.account_id: c for c in report.copies}
            return CopyOutcome(report, make_overview(progress, attempts), origin)

        job = Job("keyring-copy", copy_job, self)
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_copy_finished)
        job.failed.connect(self._on_job_failed)
        self.runner.start(job)

    def remove(self, store_paths: Sequence[Path]) -> None:
        """Delete exactly the recorded copies from the keyring, then read the overview."""
        if self.busy:
            return
        if self.panel is not None:
            self.panel.show_working(self.tr("Removing the keyring copies…"))
        paths, timeout = self.paths, self.timeout_s
        make_overview = self._overview_function(store_paths)

        def remove_job(progress: Callable[[str], None]) -> RemoveOutcome:
            from agentmux_companion.core.keyring.removal import remove_copies

            progress(QCoreApplication.translate("KeyringPanel", "Opening the keyring…"))
            report = remove_copies(paths, timeout_s=timeout, progress=progress)
            return RemoveOutcome(report, make_overview(progress))

        job = Job("keyring-remove", remove_job, self)
        job.progress.connect(self._on_progress)
        job.finished.connect(self._on_remove_finished)
        job.failed.connect(self._on_job_failed)
        self.runner.start(job)

    def _overview_function(
        self, store_paths: Sequence[Path]
    ) -> Callable[..., KeyringOverview]:
        """A function for a worker thread that reads the overview (captures no widget)."""
        paths, registry, timeout, stores = self.paths, self.registry, self.timeout_s, list(store_paths)
        last = dict(self._last_copies)

        def make(progress: Callable[[str], None], attempts: Mapping[str, AccountCopy] | None = None) -> KeyringOverview:
            from agentmux_companion.core.keyring.backend import backend_report
            from agentmux_companion.core.keyring.view import keyring_view

            progress(QCoreApplication.translate("KeyringPanel", "Checking the keyring…"))
            backend = health_of(backend_report(timeout_s=timeout))
            # Asking a keyring known to be unusable would only wait for the same failure again.
            view = keyring_view(paths, registry, stores, check_keyring=backend.usable, timeout_s=timeout,
                                last_copies={**last, **(attempts or {})})
            error = view.keyring_error
            if error is None and not backend.usable and view.recorded_count:
                error = backend.reason
            return KeyringOverview(backend, view.rows, error)

        return make

    # ------------------------------------------------------------------------------------------
    # Outcomes (GUI thread)

    @Slot(object)
    def _on_backend_checked(self, health: BackendHealth) -> None:
        self._set_backend(health)

    @Slot()
    def _on_check_done(self) -> None:
        self._checks_running = max(0, self._checks_running - 1)

    def _set_backend(self, health: BackendHealth) -> None:
        self.backend = health
        if self.panel is not None:
            self.panel.show_backend(health)
        log.info("keyring backend: %s %s (%s)", health.health.value, health.name or "-", health.reason)
        self.backend_checked.emit(health)

    @Slot(str)
    def _on_progress(self, text: str) -> None:
        if self.panel is not None:
            self.panel.show_progress(text)
        self.progress.emit(text)

    @Slot(object)
    def _on_overview(self, overview: KeyringOverview) -> None:
        self.overview = overview
        self._set_backend(overview.backend)
        if self.panel is not None:
            self.panel.show_overview(overview)
            if not self.busy:
                self.panel.show_idle()
        self.overview_changed.emit(overview)

    @Slot(object)
    def _on_copy_finished(self, outcome: CopyOutcome) -> None:
        report = outcome.report
        self._last_copies.update({c.account.account_id: c for c in report.copies})
        for copy in report.copies:
            log.info("keyring copy %s: %s", copy.account.keyring_account, copy.outcome.value)
        self._on_overview(outcome.overview)
        problems = [c for c in report.copies if not c.ok]
        if not report.copies:
            self.funnel.post(UserMessage(Level.INFO, QCoreApplication.translate(
                "KeyringPanel", "Nothing to copy to the keyring"), QCoreApplication.translate(
                "KeyringPanel", "No AgentMux store binds a CLI login yet. Migrate first, then copy.")))
        elif problems:
            lines = [f"{_provider_name(self.registry, c.account.provider)}: {c.message}" for c in problems]
            self.funnel.post(UserMessage(Level.WARNING, QCoreApplication.translate(
                "KeyringPanel", "Some logins were not copied to the keyring"), "\n".join(lines)))
        if self.panel is not None:
            from agentmux_companion.ui.keyring_words import copy_result_html

            self.panel.show_idle()
            self.panel.show_result(copy_result_html(report, self.registry))
        self.copy_finished.emit(outcome)
        self.copy_origin = None

    @Slot(object)
    def _on_remove_finished(self, outcome: RemoveOutcome) -> None:
        self._last_copies.clear()
        self._on_overview(outcome.overview)
        left = [c for c in outcome.report.copies if c.outcome not in (Removal.REMOVED, Removal.ALREADY_GONE)]
        if left:
            lines = [f"{_provider_name(self.registry, c.record.provider)}: {c.message}" for c in left]
            self.funnel.post(UserMessage(Level.WARNING, QCoreApplication.translate(
                "KeyringPanel", "Some keyring entries were left in place"), "\n".join(lines)))
        if self.panel is not None:
            removed = sum(c.entries_deleted for c in outcome.report.copies)
            self.panel.show_idle()
            self.panel.show_result(self.tr("Removed 1 keyring entry made by the companion.") if removed == 1 else
                                   self.tr("Removed {0} keyring entries made by the companion.").format(removed))
        self.remove_finished.emit(outcome)

    @Slot(object)
    def _on_job_failed(self, failure: JobFailure) -> None:
        if isinstance(failure.error, KeyringUnavailable) and self.backend.health is Health.CHECKING:
            self._set_backend(BackendHealth(Health.UNAVAILABLE, "", failure.error.message))
        self.funnel.error(failure.error, failure.details)
        self.failed.emit(failure)
        self.copy_origin = None
        if self.panel is not None:
            self.panel.show_idle()


def _provider_name(registry: ProviderRegistry, provider_id: str) -> str:
    provider = registry.get(provider_id)
    return provider.display_name if provider is not None else provider_id
