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

import enum
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentmux_companion.core import isolation, ledger, promise
from agentmux_companion.core import store as st
from agentmux_companion.core.backup import PlannedBackup, backup_store, plan_backup
from agentmux_companion.core.contract import (
    ACCOUNT_COLUMNS,
    BUNDLE_COLUMNS,
    DEFAULT_BUNDLE_DESCRIPTION,
    DEFAULT_BUNDLE_ID,
    DEFAULT_BUNDLE_NAME,
    MIGRATION_ID,
    Semantics,
    oauth_secret_ref,
)
from agentmux_companion.core.credentials import Status, probe_config_dir
from agentmux_companion.core.decide import BACKFILL_CONDITIONS, Action, Decision, decide, read_state
from agentmux_companion.core.errors import (
    CompanionError,
    ExitCode,
    NoRoom,
    StoreBusy,
    StoreChanged,
    StoreRefused,
    StoreWriteRefused,
    known_error,
)
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.plan import (
    MigrationPlan,
    StorePlan,
    isolation_targets,
    now_ms,
    probe_all,
    store_semantics,
)
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.core.settle import settle_interrupted_runs

ProgressCallback = Callable[[str], None]


def rfc3339_utc(at_ms: int) -> str:
    """``applied_at`` as AgentMux's runner writes it (chrono's to_rfc3339: ``+00:00``, ms)."""
    seconds, millis = divmod(at_ms, 1000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{text}.{millis:03d}+00:00" if millis else f"{text}+00:00"


@dataclass(frozen=True)
class MigrationStats:
    """The seven result counts of the migration (§7 step 5, and §7b's ``providers_repointed``)."""

    providers_examined: int = 0
    providers_skipped_existing: int = 0
    providers_skipped_no_ambient: int = 0
    providers_seeded: int = 0
    providers_repointed: int = 0
    instances_backfilled: int = 0
    default_bundle_created: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Outcome(enum.StrEnum):
    """What happened to one store."""

    MIGRATED = "migrated"
    NOTHING_TO_DO = "nothing_to_do"
    REFUSED = "refused"
    CHANGED = "changed"
    BUSY = "busy"

    @property
    def written(self) -> bool:
        return self is Outcome.MIGRATED


@dataclass(frozen=True)
class StoreResult:
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
    stats: MigrationStats = field(default_factory=MigrationStats)
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



def _stats_for(
    plan_lines: Sequence[Any], seeded: int, instances: int, bundle_created: bool, repointed: int = 0
) -> MigrationStats:
    return MigrationStats(
        providers_examined=len(plan_lines),
        providers_skipped_existing=sum(1 for p in plan_lines if p.action is Action.SKIP_EXISTING),
        providers_skipped_no_ambient=sum(1 for p in plan_lines if p.action is Action.SKIP_NO_AMBIENT),
        providers_seeded=seeded,
        providers_repointed=repointed,
        instances_backfilled=instances,
        default_bundle_created=bundle_created,
    )


class _Writer:
    """The writes of one store's migration, inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, accounts_table: str, at_ms: int) -> None:
        self.conn = conn
        self.accounts = accounts_table
        self.at_ms = at_ms
        self.changes: dict[str, Any] = {
            "bundle_inserted": None, "accounts": [], "bindings": [], "migration_record": None,
            "backfilled": {},
        }
        self.warnings: list[str] = []

    def ensure_default_bundle(self) -> bool:
        """Contract §7 3c. Returns True when it inserted the bundle."""
        if st.fetch_row(self.conn, st.BUNDLES, ("id",), "id", DEFAULT_BUNDLE_ID):
            return False
        row = {
            "id": DEFAULT_BUNDLE_ID, "name": DEFAULT_BUNDLE_NAME,
            "description": DEFAULT_BUNDLE_DESCRIPTION, "is_blank": 0,
            "created_at": self.at_ms, "updated_at": self.at_ms,
        }
        self.conn.execute(
            f"INSERT INTO {st.BUNDLES} ({', '.join(BUNDLE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
            tuple(row[c] for c in BUNDLE_COLUMNS),
        )
        self.changes["bundle_inserted"] = row
        return True

    def seed(self, provider: str, account_dir: Path, status: Status, account_id: str) -> bool:
        """§7 3e-3g for one provider: upsert its account and bind it. True when it got bound."""
        if not self.upsert_account(provider, account_id, account_dir, status):
            return False
        return self.bind(provider, account_id)

    def upsert_account(self, provider: str, account_id: str, account_dir: Path, status: Status) -> bool:
        """§7 3f (and §7b's sweep): write the account; an update keeps its created_at."""
        after = {
            "id": account_id, "name": f"{provider}-oauth", "provider": provider, "kind": "oauth",
            "display_name": "", "secret_ref": oauth_secret_ref(account_dir),
            "context": "{}", "status": status.value, "created_at": self.at_ms, "updated_at": self.at_ms,
        }
        self.conn.execute("SAVEPOINT seed_account")
        try:
            before = st.fetch_row(self.conn, self.accounts, ACCOUNT_COLUMNS, "id", account_id)
            if before is None:
                self.conn.execute(
                    f"INSERT INTO {self.accounts} ({', '.join(ACCOUNT_COLUMNS)}) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    tuple(after[c] for c in ACCOUNT_COLUMNS),
                )
            else:
                after["created_at"] = before["created_at"]  # an update keeps created_at
                self.conn.execute(
                    f"UPDATE {self.accounts} SET name = ?, provider = ?, kind = ?, display_name = ?, "
                    "secret_ref = ?, context = ?, status = ?, updated_at = ? WHERE id = ?",
                    (after["name"], provider, "oauth", "", after["secret_ref"], "{}", status.value,
                     self.at_ms, account_id),
                )
            self.conn.execute("RELEASE seed_account")
        except sqlite3.Error as exc:
            self.conn.execute("ROLLBACK TO seed_account")
            self.conn.execute("RELEASE seed_account")
            self.warnings.append(f"{provider}: the account could not be written ({exc}); skipped")
            return False
        self.changes["accounts"].append({"id": account_id, "before": before, "after": after})
        return True

    def bind(self, provider: str, account_id: str) -> bool:
        """§7 3g: bind the account in the Default bundle, replacing an existing binding's account."""
        self.conn.execute("SAVEPOINT seed_binding")
        try:
            previous = self.conn.execute(
                f"SELECT account_id FROM {st.BINDINGS} WHERE identity_id = ? AND provider = ?",
                (DEFAULT_BUNDLE_ID, provider),
            ).fetchone()
            self.conn.execute(
                f"INSERT INTO {st.BINDINGS} (identity_id, provider, account_id) VALUES (?, ?, ?) "
                "ON CONFLICT (identity_id, provider) DO UPDATE SET account_id = excluded.account_id",
                (DEFAULT_BUNDLE_ID, provider, account_id),
            )
            self.conn.execute("RELEASE seed_binding")
        except sqlite3.Error as exc:
            self.conn.execute("ROLLBACK TO seed_binding")
            self.conn.execute("RELEASE seed_binding")
            self.warnings.append(f"{provider}: the binding could not be written ({exc}); skipped")
            return False
        self.changes["bindings"].append(
            {"provider": provider, "before": previous[0] if previous else None, "after": account_id}
        )
        return True

    def backfill(self, table: str) -> int:
        """Contract §7 step 4 on one table: one ``UPDATE``, as AgentMux's own migration does.

        Which rows it rewrote is not copied into the ledger: the run's backup, taken inside this
        same transaction, holds exactly those rows with their former identity_id, and undo reads
        them from there (and checks the count recorded here). Journaling a million row ids a
        second time would hold AgentMux's store locked half as long again (benchmarks/).
        """
        count = self.conn.execute(
            f"UPDATE main.{table} SET identity_id = ? WHERE {BACKFILL_CONDITIONS[table]}",
            (DEFAULT_BUNDLE_ID,),
        ).rowcount
        self.changes["backfilled"][table] = count
        return int(count)

    def record_migration(self, scope: str, duration_ms: int) -> None:
        row = {"id": MIGRATION_ID, "applied_at": rfc3339_utc(self.at_ms), "duration_ms": duration_ms, "scope": scope}
        self.conn.execute(
            f"INSERT INTO {st.MIGRATIONS} (id, applied_at, duration_ms, scope) VALUES (?, ?, ?, ?)",
            (row["id"], row["applied_at"], row["duration_ms"], row["scope"]),
        )
        self.changes["migration_record"] = row


def _binding_problems(conn: sqlite3.Connection) -> set[tuple[Any, ...]]:
    """Bindings whose bundle or account is missing (``foreign_key_check`` of the bindings)."""
    return {tuple(row) for row in conn.execute(f"PRAGMA main.foreign_key_check({st.BINDINGS})")}


def _verify(conn: sqlite3.Connection, accounts_table: str, has_migrations: bool,
            problems_before: set[tuple[Any, ...]]) -> list[str]:
    """Foreign-key and integrity checks of what the run wrote, before COMMIT; returns warnings.

    A problem the run made raises, and the caller rolls the run back. Broken references that were
    in the store before the run are not the run's doing (AgentMux's own migration would not refuse
    them): they are reported, and left as they are. The checks cover the tables the run inserted
    rows into (bundles, accounts, bindings, the migrations record). The back-fill is one
    ``UPDATE`` of a column without index or foreign key, so a whole-database ``quick_check`` would
    only re-read every page of the store — half again the cost of the back-fill on a big store,
    measured in benchmarks/bench_migrate.py — to find damage that predates the run.
    """
    problems = _binding_problems(conn)
    new = problems - problems_before
    if new:
        raise StoreWriteRefused(
            f"the foreign-key check failed after writing ({len(new)} broken reference(s) the run would have "
            "made); nothing was written"
        )
    tables = [st.BUNDLES, accounts_table, st.BINDINGS] + ([st.MIGRATIONS] if has_migrations else [])
    for table in tables:
        result = conn.execute(f"PRAGMA main.quick_check({table})").fetchone()[0]
        if result != "ok":
            raise StoreWriteRefused(
                f"integrity check of {table} failed after writing ({result}); nothing was written")
    if problems_before & problems:
        count = len({row[1] for row in problems_before & problems})  # one row per broken reference
        return [f"the store already had {count} binding(s) pointing at a missing bundle or account before this "
                "run; they were left as they are (AgentMux's own migration does not check them either)"]
    return []


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
                           stats=_stats_for(store_plan.providers, 0, 0, False), semantics=store_plan.semantics,
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
        if known is not None and known is not exc:
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

        problems_before = _binding_problems(conn)
        writer = _Writer(conn, self.inspection.accounts_table, self.at_ms)
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
        writer.warnings += _verify(conn, self.inspection.accounts_table, self.inspection.has_migrations,
                                   problems_before)
        result = StoreResult(
            path=self.store_plan.path,
            era=self.inspection.era,
            outcome=Outcome.MIGRATED,
            stats=_stats_for(decision.providers, seeded, instances, bundle_created, repointed),
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
        self, decision: Decision, writer: _Writer, default_exists: bool, say: ProgressCallback
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
            account_id = line.reuse_account_id or promised_ids.get(line.provider) or str(uuid.uuid4())
            if writer.seed(line.provider, folder, status, account_id):
                seeded += 1
        return seeded, bundle_created, bundle_ready

    def _sweep(self, decision: Decision, writer: _Writer, say: ProgressCallback) -> int:
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

    def _import(self, provider_id: str, writer: _Writer) -> Path | None:
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
            results.append(StoreResult(store_plan.path, store_plan.era, _outcome_of(known), message=known.message,
                                       semantics=store_plan.semantics, error=known))
    return results


def _outcome_of(error: CompanionError) -> Outcome:
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
