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

import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from agentmux_companion.core import ledger
from agentmux_companion.core import store as st
from agentmux_companion.core.backup import backup_path_for, backup_store
from agentmux_companion.core.credentials import AmbientCredential
from agentmux_companion.core.errors import CompanionError, StoreBusy, StoreChanged, StoreRefused
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.plan import (
    BACKFILL_CONDITIONS,
    DEFAULT_BUNDLE_DESCRIPTION,
    DEFAULT_BUNDLE_ID,
    DEFAULT_BUNDLE_NAME,
    MIGRATION_ID,
    Action,
    BundleAction,
    MigrationPlan,
    StorePlan,
    decide,
    now_ms,
    probe_all,
    read_state,
)
from agentmux_companion.core.providers import ProviderRegistry

ACCOUNT_COLUMNS = (
    "id", "name", "provider", "kind", "display_name", "secret_ref", "context", "status",
    "created_at", "updated_at",
)
BUNDLE_COLUMNS = ("id", "name", "description", "is_blank", "created_at", "updated_at")

ProgressCallback = Callable[[str], None]


def secret_ref_oauth_config_dir(config_dir: Path) -> str:
    """The exact ``secret_ref`` text AgentMux writes (docs/agentmux-store.md §4).

    Compact JSON, tag first, raw UTF-8 (no ``\\u`` escapes), backslashes escaped; AgentMux later
    deduplicates accounts by comparing this text byte for byte.
    """
    return json.dumps(
        {"backend": "oauth_config_dir", "dir": str(config_dir)},
        separators=(",", ":"),
        ensure_ascii=False,
    )


def rfc3339_utc(at_ms: int) -> str:
    """``applied_at`` as AgentMux's runner writes it (chrono's to_rfc3339: ``+00:00``, ms)."""
    seconds, millis = divmod(at_ms, 1000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{text}.{millis:03d}+00:00" if millis else f"{text}+00:00"


@dataclass(frozen=True)
class MigrationStats:
    """The six result counts of docs/agentmux-store.md §7 step 5."""

    providers_examined: int = 0
    providers_skipped_existing: int = 0
    providers_skipped_no_ambient: int = 0
    providers_seeded: int = 0
    instances_backfilled: int = 0
    default_bundle_created: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StoreResult:
    """What happened to one store.

    Attributes:
        path: the store.
        era: its era.
        outcome: migrated / nothing_to_do / refused / busy.
        stats: the six counts (zero unless migrated).
        backup: the backup file ('' when nothing was written).
        run_id: the ledger run ('' when nothing was written).
        agents_backfilled: db_agents instance rows back-filled.
        migration_recorded: whether a db_migrations row was added.
        warnings: per-provider failures and odd credential files.
        message: the refusal or busy message, else ''.
    """

    path: Path
    era: st.Era
    outcome: str
    stats: MigrationStats = field(default_factory=MigrationStats)
    backup: str = ""
    run_id: str = ""
    agents_backfilled: int = 0
    migration_recorded: bool = False
    warnings: tuple[str, ...] = ()
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "era": self.era.value,
            "outcome": self.outcome,
            "stats": self.stats.to_json(),
            "backup": self.backup or None,
            "run_id": self.run_id or None,
            "agents_backfilled": self.agents_backfilled,
            "migration_recorded": self.migration_recorded,
            "warnings": list(self.warnings),
            "message": self.message or None,
        }



def _stats_for(plan_lines: Sequence[Any], seeded: int, instances: int, bundle_created: bool) -> MigrationStats:
    return MigrationStats(
        providers_examined=len(plan_lines),
        providers_skipped_existing=sum(1 for p in plan_lines if p.action is Action.SKIP_EXISTING),
        providers_skipped_no_ambient=sum(1 for p in plan_lines if p.action is Action.SKIP_NO_AMBIENT),
        providers_seeded=seeded,
        instances_backfilled=instances,
        default_bundle_created=bundle_created,
    )


class _Writer:
    """The writes of one store's migration, inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, accounts_table: str, run_id: str, at_ms: int) -> None:
        self.conn = conn
        self.accounts = accounts_table
        self.run_id = run_id
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

    def seed(self, credential: AmbientCredential, reuse_account_id: str | None) -> bool:
        """Contract §7 3d-3g for one provider. Returns True when it got bound."""
        provider = credential.provider
        account_id = reuse_account_id or str(uuid.uuid4())
        status = credential.status.value if credential.status else "unknown"
        after = {
            "id": account_id, "name": f"{provider}-oauth", "provider": provider, "kind": "oauth",
            "display_name": "", "secret_ref": secret_ref_oauth_config_dir(credential.config_dir),
            "context": "{}", "status": status, "created_at": self.at_ms, "updated_at": self.at_ms,
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
                    (after["name"], provider, "oauth", "", after["secret_ref"], "{}", status,
                     self.at_ms, account_id),
                )
            self.conn.execute("RELEASE seed_account")
        except sqlite3.Error as exc:
            self.conn.execute("ROLLBACK TO seed_account")
            self.conn.execute("RELEASE seed_account")
            self.warnings.append(f"{provider}: the account could not be written ({exc}); skipped")
            return False
        self.changes["accounts"].append({"id": account_id, "before": before, "after": after})

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


def _verify(conn: sqlite3.Connection, accounts_table: str, has_migrations: bool) -> None:
    """Foreign-key and integrity checks of what the run inserted, before COMMIT.

    A failure raises, and the caller rolls the run back. The checks cover the tables the run
    inserted rows into (bundles, accounts, bindings, the migrations record). The back-fill is one
    ``UPDATE`` of a column without index or foreign key, so a whole-database ``quick_check`` would
    only re-read every page of the store — half again the cost of the back-fill on a big store,
    measured in benchmarks/bench_migrate.py — to find damage that predates the run.
    """
    problems = conn.execute(f"PRAGMA main.foreign_key_check({st.BINDINGS})").fetchall()
    if problems:
        raise CompanionError(
            f"foreign-key check failed after writing ({len(problems)} problem(s)); nothing was written"
        )
    tables = [st.BUNDLES, accounts_table, st.BINDINGS] + ([st.MIGRATIONS] if has_migrations else [])
    for table in tables:
        result = conn.execute(f"PRAGMA main.quick_check({table})").fetchone()[0]
        if result != "ok":
            raise CompanionError(f"integrity check of {table} failed after writing ({result}); nothing was written")


def _same_decisions(plan: StorePlan, lines: Sequence[Any], bundle: BundleAction) -> bool:
    seen = [(p.provider, p.action) for p in plan.providers]
    now = [(p.provider, p.action) for p in lines]
    return seen == now and plan.bundle is bundle


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
        return StoreResult(path, store_plan.era, "nothing_to_do", stats=_stats_for(store_plan.providers, 0, 0, False))

    inspection = st.inspect_store(path)
    if inspection.refusal:
        raise StoreRefused(inspection.refusal)
    refusal = st.write_refusal(path)
    if refusal:
        raise StoreRefused(refusal)

    at_ms = plan.now_ms if plan.fixed_clock else now_ms()
    credentials = probe_all(registry, plan.home, at_ms)
    run_id = ledger.new_run_id()
    backup = backup_path_for(paths.backups_dir, path, at_ms)
    ledger.start_run(paths.ledger_path, run_id, path, "migrate", at_ms, backup)
    started = time.monotonic()
    committed = False
    say(f"Opening {path}")
    try:
        with st.migrations_lock(path, busy_timeout_ms), closing(st.open_for_write(path, busy_timeout_ms)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result, changes = _migrate_in_transaction(
                    conn, plan, store_plan, inspection, credentials, registry, run_id, at_ms,
                    backup, started, say,
                )
                # The ledger commits first: a kill between the two commits then leaves a run
                # that undo can settle by looking for its changes in the store.
                ledger.record_changes(
                    paths.ledger_path, run_id, changes, result.stats.to_json(), list(result.warnings)
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
        # Nothing was committed: the run did not happen, and its backup is not needed.
        ledger.set_state(paths.ledger_path, run_id, "abandoned")
        backup.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.OperationalError) and st.is_busy_error(exc):
            raise StoreBusy(
                f"{path} is busy: another program (probably AgentMux) kept it locked for more than "
                f"{busy_timeout_ms / 1000:g} s. Nothing was written; close AgentMux and try again"
            ) from exc
        raise
    ledger.set_state(paths.ledger_path, run_id, "committed")
    say("Done")
    return result


def _migrate_in_transaction(
    conn: sqlite3.Connection,
    plan: MigrationPlan,
    store_plan: StorePlan,
    inspection: st.StoreInspection,
    credentials: Sequence[AmbientCredential],
    registry: ProviderRegistry,
    run_id: str,
    at_ms: int,
    backup: Path,
    started: float,
    say: ProgressCallback,
) -> tuple[StoreResult, dict[str, Any]]:
    """The run inside the open transaction; returns its result and the record of its changes."""
    state = read_state(conn, inspection, count_rows=False)
    decision = decide(state, inspection, credentials, registry)
    if decision.blocked:
        raise StoreRefused(decision.blocked)
    if not _same_decisions(store_plan, decision.providers, decision.bundle):
        raise StoreChanged(
            f"{store_plan.path} changed after the preview (AgentMux or another tool wrote to it); "
            "nothing was written. Review the plan again"
        )

    say("Backing up")
    backup_store(store_plan.path, backup)

    writer = _Writer(conn, inspection.accounts_table, run_id, at_ms)
    seeded = 0
    bundle_created = False
    bundle_ready = state.default_exists
    for line in decision.providers:
        if line.action is not Action.BIND:
            continue
        if not bundle_ready:
            try:
                bundle_created = writer.ensure_default_bundle()
            except sqlite3.IntegrityError as exc:
                # Contract §7 3c: if the Default bundle cannot be made, nothing is bound.
                raise StoreRefused(
                    f"the Default bundle could not be created ({exc}); nothing was written"
                ) from exc
            bundle_ready = True
        say(f"Binding {line.display_name}")
        if writer.seed(line.credential, line.reuse_account_id):
            seeded += 1

    instances = 0
    agents = 0
    if bundle_ready:
        if inspection.has_instances:
            say("Back-filling agent instances")
            instances = writer.backfill(st.INSTANCES)
        if inspection.has_agents:
            agents = writer.backfill(st.AGENTS)
    recorded = False
    if decision.record_migration:
        scope = "global" if store_plan.location.is_shared else "channel"
        writer.record_migration(scope, int((time.monotonic() - started) * 1000))
        recorded = True

    say("Verifying")
    _verify(conn, inspection.accounts_table, inspection.has_migrations)
    stats = _stats_for(decision.providers, seeded, instances, bundle_created)
    warnings = list(store_plan.warnings) + writer.warnings
    result = StoreResult(
        path=store_plan.path,
        era=inspection.era,
        outcome="migrated",
        stats=stats,
        backup=str(backup),
        run_id=run_id,
        agents_backfilled=agents,
        migration_recorded=recorded,
        warnings=tuple(warnings),
    )
    return result, writer.changes


def apply_plan(
    plan: MigrationPlan,
    paths: AppPaths,
    registry: ProviderRegistry,
    busy_timeout_ms: int = st.BUSY_TIMEOUT_MS,
    progress: ProgressCallback | None = None,
    only: Sequence[Path] | None = None,
) -> list[StoreResult]:
    """Apply every store of the plan (or those in ``only``); one store's refusal doesn't stop others."""
    results = []
    for store_plan in plan.stores:
        if only is not None and store_plan.path not in only:
            continue
        try:
            results.append(apply_store(plan, store_plan, paths, registry, busy_timeout_ms, progress))
        except StoreBusy as exc:
            results.append(StoreResult(store_plan.path, store_plan.era, "busy", message=exc.message))
        except StoreRefused as exc:
            outcome = "changed" if isinstance(exc, StoreChanged) else "refused"
            results.append(StoreResult(store_plan.path, store_plan.era, outcome, message=exc.message))
    return results
