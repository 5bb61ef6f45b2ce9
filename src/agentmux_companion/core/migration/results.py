"""What a migration did: its seven counts, each store's typed outcome, and the run's exit code."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from agentmux_companion.core import store as st
from agentmux_companion.core.contract import Semantics
from agentmux_companion.core.errors import CompanionError, ExitCode, StoreBusy, StoreChanged
from agentmux_companion.core.migration.decide import Action


class MigrationStats(NamedTuple):
    """The seven result counts of the migration (§7 step 5, and §7b's ``providers_repointed``)."""

    providers_examined: int = 0
    providers_skipped_existing: int = 0
    providers_skipped_no_ambient: int = 0
    providers_seeded: int = 0
    providers_repointed: int = 0
    instances_backfilled: int = 0
    default_bundle_created: bool = False

    def to_json(self) -> dict[str, Any]:
        """The counts as a JSON object, one key per field."""
        return self._asdict()


class Outcome(enum.StrEnum):
    """What happened to one store."""

    MIGRATED = "migrated"
    NOTHING_TO_DO = "nothing_to_do"
    REFUSED = "refused"
    CHANGED = "changed"
    BUSY = "busy"

    @property
    def written(self) -> bool:
        """Whether the store was changed (only a migration that went through writes)."""
        return self is Outcome.MIGRATED


class StoreResult(NamedTuple):
    """What happened to one store.

    Attributes:
        path: the store.
        era: its era.
        outcome: migrated / nothing_to_do / refused / changed / busy.
        stats: the seven counts (zero unless migrated).
        backup: the backup file ('' when nothing was written).
        run_id: the ledger run ('' when nothing was written).
        agents_backfilled: db_agents instance rows back-filled.
        migration_recorded: whether a db_migrations row was added.
        warnings: per-provider failures and odd credential files.
        message: the refusal or busy message, else ''.
        semantics: which build's migration the store got (§7b).
        error: the known failure that stopped this store (refused, changed, busy), else None.
    """

    path: Path
    era: st.Era
    outcome: Outcome
    stats: MigrationStats = MigrationStats()
    backup: str = ""
    run_id: str = ""
    agents_backfilled: int = 0
    migration_recorded: bool = False
    warnings: tuple[str, ...] = ()
    message: str = ""
    semantics: Semantics | None = None
    error: CompanionError | None = None

    @property
    def exit_code(self) -> ExitCode:
        """This store's exit code: its error's, else warnings (5) or done (0)."""
        if self.error is not None:
            return self.error.exit_code
        return ExitCode.WARNINGS if self.warnings else ExitCode.OK

    def to_json(self) -> dict[str, Any]:
        """The store's result as ``migrate --json`` prints it (empty backup and run id become null)."""
        return {
            "path": str(self.path),
            "era": self.era.value,
            "semantics": self.semantics.value if self.semantics else None,
            "outcome": self.outcome,
            "stats": self.stats.to_json(),
            "backup": self.backup or None,
            "run_id": self.run_id or None,
            "agents_backfilled": self.agents_backfilled,
            "migration_recorded": self.migration_recorded,
            "warnings": list(self.warnings),
            "message": self.message or None,
        }



def stats_for(
    plan_lines: Sequence[Any], seeded: int, instances: int, bundle_created: bool, repointed: int = 0
) -> MigrationStats:
    """Count what a migration of one store did, from its plan lines and what was written.

    Args:
        plan_lines: The store's provider lines, each with its planned action.
        seeded: Providers given a new or reused account in the Default bundle.
        instances: Agent rows back-filled to the Default bundle.
        bundle_created: Whether the migration created the Default bundle.
        repointed: Default accounts pointed at AgentMux's own copy by the isolation sweep.

    Returns:
        The counts ``migrate --json`` reports.
    """
    return MigrationStats(
        providers_examined=len(plan_lines),
        providers_skipped_existing=sum(1 for p in plan_lines if p.action is Action.SKIP_EXISTING),
        providers_skipped_no_ambient=sum(1 for p in plan_lines if p.action is Action.SKIP_NO_AMBIENT),
        providers_seeded=seeded,
        providers_repointed=repointed,
        instances_backfilled=instances,
        default_bundle_created=bundle_created,
    )


def outcome_of(error: CompanionError) -> Outcome:
    """The outcome a store gets when its migration stopped with ``error`` (busy, changed or refused)."""
    if isinstance(error, StoreBusy):
        return Outcome.BUSY
    if isinstance(error, StoreChanged):
        return Outcome.CHANGED
    return Outcome.REFUSED


def exit_code_for(results: Sequence[StoreResult]) -> ExitCode:
    """The run's exit code: busy over refused over warnings over done (one mapping for CLI and GUI)."""
    codes = {r.exit_code for r in results}
    for code in (ExitCode.BUSY, ExitCode.REFUSED, ExitCode.WARNINGS):
        if code in codes:
            return code
    return ExitCode.OK


class UndoResult(NamedTuple):
    """What an undo did.

    Attributes:
        path: the store.
        run_id: the run reversed ('' for a restore from backup).
        method: ``precise`` or ``backup``.
        reverted: counts of what was put back.
        safety_backup: the backup taken of the store just before undoing.
        restored_from: for ``backup``: the file restored.
        warnings: e.g. back-filled rows that AgentMux has deleted since.
    """

    path: Path
    run_id: str
    method: str
    reverted: dict[str, int]
    safety_backup: str
    restored_from: str = ""
    warnings: tuple[str, ...] = ()

    def describe(self) -> str:
        """What was put back, in words (the CLI and the GUI show this)."""
        if self.method == "backup":
            return f"restored the whole store from {self.restored_from}"
        counts = self.reverted
        parts = []
        if counts.get("bindings"):
            parts.append(f"{_plural(counts['bindings'], 'binding')} of the Default bundle undone")
        if counts.get("accounts"):
            parts.append(f"{_plural(counts['accounts'], 'account')} removed or restored")
        if counts.get("bundle"):
            parts.append("the Default bundle removed")
        if counts.get("rows"):
            parts.append(f"{_plural(counts['rows'], 'agent row')} given back their former bundle")
        if counts.get("migration_record"):
            parts.append("the 0008_default_bundle record removed")
        return "; ".join(parts) if parts else "nothing was left to revert"

    def to_json(self) -> dict[str, Any]:
        """The undo's result as ``undo --json`` prints it (empty run id and source become null)."""
        return {
            "path": str(self.path),
            "run_id": self.run_id or None,
            "method": self.method,
            "reverted": self.reverted,
            "safety_backup": self.safety_backup,
            "restored_from": self.restored_from or None,
            "warnings": list(self.warnings),
        }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
