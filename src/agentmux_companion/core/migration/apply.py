"""Applying a plan to a store (docs/agentmux-store.md §7), with the safety of docs/architecture.md "Writing a store".

For each store that the plan says will be written:

1. inspect it again (its era may have changed since the preview);
2. record the run as ``started`` in the ledger;
3. take AgentMux's ``migrations.lock.db`` when present, then ``BEGIN IMMEDIATE`` on the store;
4. re-read the store and re-decide; if the decisions differ from the preview, stop (nothing
   written): the user must see what runs;
5. online backup of the store as it is at that instant (inside the transaction, so it is exactly
   the state the migration starts from);
6. the writes of docs/agentmux-store.md §7, with each provider in a savepoint (warn-don't-block), recording
   every change;
7. foreign-key and integrity checks; then one COMMIT.

A kill at any instant leaves the store either untouched (no COMMIT reached) or fully migrated.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from agentmux_companion.core import store as st
from agentmux_companion.core.backup import PlannedBackup, backup_store, plan_backup
from agentmux_companion.core.contract import Semantics, new_uuid4
from agentmux_companion.core.credentials import Status, probe_config_dir
from agentmux_companion.core.errors import (
    CompanionError,
    NoRoom,
    StoreBusy,
    StoreChanged,
    StoreRefused,
    known_error,
)
from agentmux_companion.core.migration import isolation, ledger, promise
from agentmux_companion.core.migration.decide import Decision, decide
from agentmux_companion.core.migration.plan import (
    MigrationPlan,
    StorePlan,
    isolation_targets,
    now_ms,
    probe_all,
    store_semantics,
)
from agentmux_companion.core.migration.results import Outcome, StoreResult, outcome_of, stats_for
from agentmux_companion.core.migration.settle import settle_interrupted_runs
from agentmux_companion.core.migration.state import read_state
from agentmux_companion.core.migration.writer import StoreWriter, binding_problems, verify
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry

ProgressCallback = Callable[[str], None]


def apply_store(
    plan: MigrationPlan,
    store_plan: StorePlan,
    paths: AppPaths,
    registry: ProviderRegistry,
    busy_timeout_ms: int = st.BUSY_TIMEOUT_MS,
    progress: ProgressCallback | None = None,
) -> StoreResult:
    """Migrate one store as its plan says. Raises StoreRefused/StoreChanged/StoreBusy (nothing written)."""
    say = progress or (lambda _m: None)
    path = store_plan.path
    if store_plan.refused:
        raise StoreRefused(store_plan.refused)
    if not store_plan.will_write:
        # A no-op run still examined every provider: report what it found, as AgentMux's would.
        return StoreResult(path, store_plan.era, Outcome.NOTHING_TO_DO,
                           stats=stats_for(store_plan.providers, 0, 0, False), semantics=store_plan.semantics,
                           warnings=store_plan.warnings)

    inspection = st.inspect_store(path)
    if inspection.refusal:
        raise StoreRefused(inspection.refusal)
    refusal = st.write_refusal(path)
    if refusal:
        raise StoreRefused(refusal)

    at_ms = plan.now_ms if plan.fixed_clock else now_ms()
    run = _Run(plan, store_plan, registry, inspection, at_ms, ledger.new_run_id(), paths.ledger_path)
    backup = plan_backup(paths, path, "migrate", run.run_id)
    ledger.start_run(paths.ledger_path, run.run_id, path, "migrate", at_ms, backup)
    started = time.monotonic()
    committed = False
    say(f"Opening {path}")
    try:
        with st.migrations_lock(path, busy_timeout_ms), closing(st.open_for_write(path, busy_timeout_ms)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result, changes = run.migrate(conn, backup, started, say)
                backup.wait_verified()  # the backup's integrity check ran beside the writes
                # The ledger commits first: a kill between the two commits then leaves a run
                # that undo can settle by looking for its changes in the store.
                ledger.record_changes(
                    paths.ledger_path, run.run_id, changes, result.stats.to_json(), list(result.warnings)
                )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            say("Committing")
            conn.execute("COMMIT")
            committed = True
    except BaseException as exc:
        if committed:
            raise
        # Nothing was committed: the run did not happen, and neither its backup nor the files
        # it copied are needed.
        ledger.set_state(paths.ledger_path, run.run_id, "abandoned")
        backup.unlink(missing_ok=True)
        isolation.remove_run_files(paths.ledger_path, run.run_id)
        if isinstance(exc, sqlite3.OperationalError) and st.is_busy_error(exc):
            raise StoreBusy(
                f"{path} is busy: another program (probably AgentMux) kept it locked for more than "
                f"{busy_timeout_ms / 1000:g} s. Nothing was written; close AgentMux and try again"
            ) from exc
        known = known_error(exc, f"the store {path}") if isinstance(exc, (OSError, sqlite3.Error)) else None
        if known is not None:
            raise known from exc
        raise
    ledger.set_state(paths.ledger_path, run.run_id, "committed")
    say("Done")
    return result


class _Run:
    """One store's migration inside its write transaction (§7, and §7b under isolation)."""

    def __init__(
        self,
        plan: MigrationPlan,
        store_plan: StorePlan,
        registry: ProviderRegistry,
        inspection: st.StoreInspection,
        at_ms: int,
        run_id: str,
        ledger_path: Path,
    ) -> None:
        self.plan = plan
        self.store_plan = store_plan
        self.registry = registry
        self.inspection = inspection
        self.at_ms = at_ms
        self.run_id = run_id
        self.journal = isolation.FileJournal(ledger_path, run_id)
        self.semantics, _why = store_semantics(store_plan.location, inspection)

    def _decide(self, conn: sqlite3.Connection) -> tuple[Decision, bool]:
        """Re-derive the decision from the store and the files as they are now."""
        state = read_state(conn, self.inspection, count_rows=False)
        credentials = probe_all(self.registry, self.plan.home, self.at_ms)
        targets = isolation_targets(self.registry, self.plan.home, credentials, self.at_ms, self.journal.ledger_path)
        decision = decide(state, self.inspection, credentials, self.registry, semantics=self.semantics,
                          home=self.plan.home, targets=targets)
        return decision, state.default_exists

    def migrate(
        self, conn: sqlite3.Connection, backup: PlannedBackup, started: float, say: ProgressCallback
    ) -> tuple[StoreResult, dict[str, Any]]:
        """The run inside the open transaction; returns its result and the record of its changes."""
        # Runs a kill interrupted get their final state, and files that runs which never
        # committed (or were undone) left outside the store go, so this run's import starts from
        # what AgentMux would see.
        settle_interrupted_runs(self.journal.ledger_path, self.store_plan.path, conn, self.inspection.accounts_table)
        isolation.settle_finished_runs(self.journal.ledger_path, self.store_plan.path)
        decision, default_exists = self._decide(conn)
        if decision.blocked:
            raise StoreRefused(decision.blocked)
        self._keep_promise(promise.differences(self.store_plan, decision, self.semantics))

        say("Backing up")
        try:
            backup_store(self.store_plan.path, backup)
        except (OSError, sqlite3.Error) as exc:
            if isinstance(exc, sqlite3.OperationalError) and "disk i/o" in str(exc).lower():
                # Writing a fresh copy fails this way at a file-size limit or on a full disk.
                raise NoRoom(f"there is no room for the backup in {backup.parent} ({exc}: the disk may be full or "
                             "a file-size limit reached). Free some space and run again. Nothing was written") from exc
            known = known_error(exc, f"the backup into {backup.parent}")
            if known is None:
                raise
            raise known from exc

        problems_before = binding_problems(conn)
        writer = StoreWriter(conn, self.inspection.accounts_table, self.at_ms)
        seeded, bundle_created, bundle_ready = self._provider_loop(decision, writer, default_exists, say)
        repointed = self._sweep(decision, writer, say)
        instances = agents = 0
        if bundle_ready:
            if self.inspection.has_instances:
                say("Back-filling agent instances")
                instances = writer.backfill(st.INSTANCES)
            if self.inspection.has_agents:
                agents = writer.backfill(st.AGENTS)
        # The back-fill's own row counts are the check of the preview's (no second scan).
        self._keep_promise([d for d in (
            promise.backfill_difference("agent rows", self.store_plan.instances_to_backfill, instances),
            promise.backfill_difference("mirrored agent rows", self.store_plan.agents_to_backfill, agents),
        ) if d])
        recorded = False
        if decision.record_migration:
            scope = "global" if self.store_plan.location.is_shared else "channel"
            writer.record_migration(scope, int((time.monotonic() - started) * 1000))
            recorded = True

        say("Verifying")
        writer.warnings += verify(conn, self.inspection.accounts_table, self.inspection.has_migrations,
                                   problems_before)
        result = StoreResult(
            path=self.store_plan.path,
            era=self.inspection.era,
            outcome=Outcome.MIGRATED,
            stats=stats_for(decision.providers, seeded, instances, bundle_created, repointed),
            backup=str(backup),
            run_id=self.run_id,
            agents_backfilled=agents,
            migration_recorded=recorded,
            warnings=tuple(dict.fromkeys([*self.store_plan.warnings, *writer.warnings])),
            semantics=self.semantics,
        )
        return result, writer.changes

    def _keep_promise(self, changed: Sequence[str]) -> None:
        if changed:
            raise StoreChanged(
                f"{self.store_plan.path}: what would be written is no longer what the preview showed: "
                + "; ".join(changed) + ". Nothing was written; review the plan again"
            )

    def _provider_loop(
        self, decision: Decision, writer: StoreWriter, default_exists: bool, say: ProgressCallback
    ) -> tuple[int, bool, bool]:
        """§7 step 3 for the seedable providers; returns (seeded, bundle created, bundle ready)."""
        seeded = 0
        bundle_created = False
        bundle_ready = default_exists
        promised_ids = {p.provider: p.account_id for p in self.store_plan.providers}
        for line in decision.providers:
            if not line.seedable:
                continue
            if not bundle_ready:
                try:
                    bundle_created = writer.ensure_default_bundle()
                except sqlite3.IntegrityError as exc:
                    # §7 3c: if the Default bundle cannot be made, nothing is bound.
                    raise StoreRefused(f"the Default bundle could not be created ({exc}); nothing was written") from exc
                bundle_ready = True
            say(f"Binding {line.display_name}")
            provider = self.registry.get(line.provider)
            assert provider is not None  # lines come from the registry
            if self.semantics is Semantics.ISOLATED:
                folder = self._import(line.provider, writer)
                if folder is None:
                    continue
                status = probe_config_dir(provider, folder, self.at_ms).status or Status.NEEDS_REAUTH
            else:
                folder = line.credential.config_dir
                status = line.credential.status or Status.UNKNOWN
            # The account id the preview showed: the one reused, or the new one minted then.
            account_id = line.reuse_account_id or promised_ids.get(line.provider) or new_uuid4()
            if writer.seed(line.provider, folder, status, account_id):
                seeded += 1
        return seeded, bundle_created, bundle_ready

    def _sweep(self, decision: Decision, writer: StoreWriter, say: ProgressCallback) -> int:
        """§7b's sweep: Default accounts on a CLI's own folder move to AgentMux's copy."""
        repointed = 0
        for repoint in decision.repoints:
            if repoint.failure:
                continue
            say(f"Pointing {repoint.display_name} at AgentMux's own copy")
            provider = self.registry.get(repoint.provider)
            assert provider is not None  # repoints come from the registry
            folder = self._import(repoint.provider, writer)
            if folder is None:
                continue
            status = probe_config_dir(provider, folder, self.at_ms).status or Status.NEEDS_REAUTH
            if writer.upsert_account(repoint.provider, repoint.account_id, folder, status):
                repointed += 1
        return repointed

    def _import(self, provider_id: str, writer: StoreWriter) -> Path | None:
        provider = self.registry.get(provider_id)
        assert provider is not None
        try:
            return isolation.import_once(provider, self.plan.home, self.journal)
        except isolation.ImportFailed as exc:
            writer.warnings.append(str(exc))
            return None


def apply_plan(
    plan: MigrationPlan,
    paths: AppPaths,
    registry: ProviderRegistry,
    busy_timeout_ms: int = st.BUSY_TIMEOUT_MS,
    progress: ProgressCallback | None = None,
    only: Sequence[Path] | None = None,
) -> list[StoreResult]:
    """Apply every store of the plan (or those in ``only``).

    A known failure of one store (refused, changed, busy, no room, ...) becomes that store's
    result, with its typed error; it never stops the other stores or loses their results.
    """
    results = []
    for store_plan in plan.stores:
        if only is not None and store_plan.path not in only:
            continue
        try:
            results.append(apply_store(plan, store_plan, paths, registry, busy_timeout_ms, progress))
        except (CompanionError, OSError, sqlite3.Error) as exc:
            known = known_error(exc, f"the companion's files for {store_plan.path}")
            if known is None:
                raise  # a bug: it reaches the traceback / crash dialog
            results.append(StoreResult(store_plan.path, store_plan.era, outcome_of(known), message=known.message,
                                       semantics=store_plan.semantics, error=known))
    return results
