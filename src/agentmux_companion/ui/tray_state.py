"""What the tray says: its state and status line from the plan, and the menu's extra facts.

Decisions over core values (no widgets): the controller publishes what these return. The menu's
facts are read by a job on a runner of their own, so reading them never makes the app "busy".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from agentmux_companion.core import store as st
from agentmux_companion.core.migration.plan import MigrationPlan, StorePlan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.ui.icons import TrayState
from agentmux_companion.ui.workers import Job, JobRunner


def _tr(text: str) -> str:
    return QCoreApplication.translate("Controller", text)


def state_for(plan: MigrationPlan, outcome: tuple[TrayState, str] | None) -> tuple[TrayState, str]:
    """The tray's state and line for a plan; a last action's outcome stands until there is work again."""
    targets = [s for s in plan.stores if s.location.default_target]
    if any(s.will_write for s in targets):
        providers = sorted({p.display_name for s in targets if s.will_write for p in s.to_bind})
        if providers:
            return TrayState.ACTION_NEEDED, _tr("Ready to add {0} to AgentMux").format(", ".join(providers))
        return TrayState.ACTION_NEEDED, _tr("AgentMux's agents can be moved to the Default bundle")
    if outcome is not None:
        return outcome
    refused = [s for s in targets if s.refused and s.era is not st.Era.POST_BUNDLE]
    if refused:
        return TrayState.ERROR, _tr("The AgentMux store cannot be migrated")
    if not plan.stores:
        return TrayState.NOTHING_TO_DO, _tr("No AgentMux store found")
    return TrayState.NOTHING_TO_DO, _tr("Nothing to migrate")


def keyring_stores(plan: MigrationPlan) -> list[Path]:
    """The stores whose bindings the keyring copy reads: the migration's targets, as in the CLI."""
    return [s.path for s in plan.stores if s.location.default_target]


class MenuFacts(NamedTuple):
    """What the tray menu needs beyond the plan, read after each scan.

    Attributes:
        undoable: the stores with a migration that can be undone.
        keyring_accounts: how many logins the keyring panel would list (OAuth accounts bound in
            the target stores plus recorded keyring copies).
        writes_started: how many writes the controller had started when the read began (facts
            read before a later one are stale).
    """

    undoable: frozenset[Path]
    keyring_accounts: int
    writes_started: int


def menu_facts_reader(paths: AppPaths, stores: Sequence[StorePlan], writes: int) -> Callable[..., MenuFacts]:
    """A function for a worker thread that reads the :class:`MenuFacts` (read-only SQLite, no keyring)."""
    def read(_progress: Callable[[str], None]) -> MenuFacts:
        from agentmux_companion.core.keyring.accounts import bound_oauth_accounts
        from agentmux_companion.core.keyring.ledger import all_copies, ledger_path
        from agentmux_companion.core.migration.undo import last_undoable_run

        undoable = frozenset(s.path for s in stores if last_undoable_run(paths, s.path) is not None)
        bound = bound_oauth_accounts([s.path for s in stores if s.location.default_target]).accounts
        recorded = {r.account_id for r in all_copies(ledger_path(paths))}
        return MenuFacts(undoable, len({a.account_id for a in bound} | recorded), writes)

    return read


class MenuFactsReader(QObject):
    """Reads the :class:`MenuFacts` after each scan (the first one after the first paint).

    Signals:
        read(object): the :class:`MenuFacts` read.
        failed(object): the job's :class:`~.workers.JobFailure`.
    """

    read = Signal(object)
    failed = Signal(object)

    def __init__(self, paths: AppPaths, first_delay_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.runner = JobRunner(self, max_threads=1)
        self._pending: tuple[MigrationPlan, int] | None = None
        self.timer = QTimer(self)  # a child: it dies with the reader
        self.timer.setSingleShot(True)
        self.timer.setInterval(first_delay_ms)
        self.timer.timeout.connect(self._start_pending)

    def schedule(self, plan: MigrationPlan, writes_started: int, *, after_first_paint: bool) -> None:
        """Read the menu facts for ``plan`` on a worker, at once or after the first paint.

        Args:
            plan: The plan just shown.
            writes_started: How many writes had started when the plan was made, so an older read is dropped.
            after_first_paint: Wait the first delay so the read never slows the first window.
        """
        self._pending = (plan, writes_started)
        if after_first_paint:
            self.timer.start()
        else:
            self._start_pending()

    def stop(self) -> None:
        """Cancel a pending read and wait for a running one to end."""
        self.timer.stop()
        self.runner.wait_for_done()

    def _start_pending(self) -> None:
        if self._pending is None:
            return
        plan, writes = self._pending
        self._pending = None
        job = Job("menu-facts", menu_facts_reader(self.paths, plan.stores, writes), self)
        job.finished.connect(self.read)
        job.failed.connect(self.failed)
        self.runner.start(job)
