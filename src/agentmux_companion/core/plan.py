"""The dry run: what a migration would do, as one immutable object.

``build_plan`` reads (never writes) every target store and the ambient credentials and returns a
:class:`MigrationPlan`. The GUI shows it, ``plan --json`` prints it, and ``apply`` executes it,
re-deriving the same decisions inside its write transaction (``decide``), so what the user saw is
what runs.
"""

from __future__ import annotations

import enum
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentmux_companion.core import store as st
from agentmux_companion.core.credentials import AmbientCredential, probe_provider
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry

DEFAULT_BUNDLE_ID = "default"
DEFAULT_BUNDLE_NAME = "Default"
DEFAULT_BUNDLE_DESCRIPTION = "Seeded from ambient OAuth credentials on first launch."
BLANK_BUNDLE_ID = "blank"
MIGRATION_ID = "0008_default_bundle"
LEGACY_IDENTITY_IDS = ("", BLANK_BUNDLE_ID)
#: Which rows the back-fill rewrites, per table (docs/agentmux-store.md §3, §7 step 4): legacy identity_ids,
#: and in db_agents only instance rows (not templates, and with a definition).
BACKFILL_CONDITIONS = {
    st.INSTANCES: "identity_id IN ('', 'blank')",
    st.AGENTS: "identity_id IN ('', 'blank') AND is_template = 0 AND definition_id <> ''",
}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Action(enum.StrEnum):
    """What the migration does with one provider in one store."""

    BIND = "bind"
    SKIP_EXISTING = "skip_existing"
    SKIP_NO_AMBIENT = "skip_no_ambient"
    BLOCKED = "blocked"


class BundleAction(enum.StrEnum):
    CREATE = "create"
    REUSE = "reuse"
    NONE = "none"


@dataclass(frozen=True)
class StoreState:
    """The facts of a store that the migration's decisions depend on (docs/agentmux-store.md §7).

    Read once from a consistent snapshot: during planning from a read-only connection, during
    apply from inside the write transaction.
    """

    covered: Mapping[str, tuple[str, ...]]
    default_exists: bool
    default_name_taken_by: str | None
    default_bindings: Mapping[str, str]
    instances_to_backfill: int
    agents_to_backfill: int
    migration_recorded: bool


@dataclass(frozen=True)
class ProviderPlan:
    """One provider's line in one store's plan.

    Attributes:
        provider: provider id.
        display_name: how people know it.
        action: bind / skip_existing / skip_no_ambient / blocked.
        reason: the action's reason in plain words.
        credential: what the ambient probe found.
        bound_in: for skip_existing, the names of the bundles that already bind it.
        reuse_account_id: for bind, the account already bound in the Default bundle, if any.
    """

    provider: str
    display_name: str
    action: Action
    reason: str
    credential: AmbientCredential
    bound_in: tuple[str, ...] = ()
    reuse_account_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "action": self.action.value,
            "reason": self.reason,
            "status": self.credential.status.value if self.credential.status else None,
            "credentials_path": str(self.credential.path),
            "fingerprint": self.credential.fingerprint,
        }


@dataclass(frozen=True)
class StorePlan:
    """What the migration would do to one store.

    Attributes:
        location: where the store is and how it was found.
        inspection: its era and tables.
        bundle: create / reuse / none.
        instances_to_backfill: ``db_agent_instances`` rows whose identity_id would become default.
        agents_to_backfill: ``db_agents`` instance rows likewise (0 without that table).
        record_migration: whether a ``0008_default_bundle`` row would be added to db_migrations.
        agentmux_running: AgentMux appears to have this store open.
        refused: why nothing will be written, or None.
        providers: one line per OAuth provider, in registry order.
        warnings: odd credential files and similar things worth saying.
    """

    location: st.StoreLocation
    inspection: st.StoreInspection
    bundle: BundleAction
    instances_to_backfill: int
    agents_to_backfill: int
    record_migration: bool
    agentmux_running: bool
    refused: str | None
    providers: tuple[ProviderPlan, ...]
    warnings: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        return self.location.path

    @property
    def era(self) -> st.Era:
        return self.inspection.era

    @property
    def to_bind(self) -> tuple[ProviderPlan, ...]:
        return tuple(p for p in self.providers if p.action is Action.BIND)

    @property
    def will_write(self) -> bool:
        """Whether applying would change anything (a no-op run writes nothing, not even a backup)."""
        if self.refused:
            return False
        return bool(
            self.to_bind
            or self.bundle is BundleAction.CREATE
            or self.instances_to_backfill
            or self.agents_to_backfill
            or self.record_migration
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "era": self.era.value,
            "label": self.location.label,
            "default_target": self.location.default_target,
            "user_version": self.inspection.user_version,
            "bundle": self.bundle.value,
            "instances_to_backfill": self.instances_to_backfill,
            "agents_to_backfill": self.agents_to_backfill,
            "record_migration": self.record_migration,
            "will_write": self.will_write,
            "agentmux_running": self.agentmux_running,
            "refused": self.refused,
            "providers": [p.to_json() for p in self.providers],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class MigrationPlan:
    """The whole preview: every store considered, and the ambient credentials found.

    Attributes:
        home: where ambient credentials were looked for.
        now_ms: the clock the statuses were computed at.
        fixed_clock: ``now_ms`` was given (``--now-ms``); apply then uses it too.
        stores: per-store plans; default targets first.
        credentials: every registry provider's ambient probe, in registry order.
        backups_dir: where backups of written stores go.
    """

    home: Path
    now_ms: int
    fixed_clock: bool
    stores: tuple[StorePlan, ...]
    credentials: tuple[AmbientCredential, ...]
    backups_dir: Path
    notes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def will_write(self) -> bool:
        return any(s.will_write for s in self.stores)

    def store(self, path: Path) -> StorePlan | None:
        return next((s for s in self.stores if s.path == path), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "home": str(self.home),
            "now_ms": self.now_ms,
            "backups_dir": str(self.backups_dir),
            "will_write": self.will_write,
            "stores": [s.to_json() for s in self.stores],
        }


# --------------------------------------------------------------------------------------------
# Reading a store's state


def read_state(conn: sqlite3.Connection, inspection: st.StoreInspection, count_rows: bool = True) -> StoreState:
    """Read what docs/agentmux-store.md §7 decides on, from one snapshot (caller holds a transaction or ro conn).

    Args:
        count_rows: count the legacy rows to back-fill. ``identity_id`` has no index in AgentMux's
            schema, so this is a full scan; apply skips it (its counts stay 0) because it counts
            what it back-fills anyway.
    """
    covered: dict[str, list[str]] = {}
    rows = conn.execute(
        f"SELECT b.provider, COALESCE(u.name, b.identity_id) FROM {st.BINDINGS} b "
        f"LEFT JOIN {st.BUNDLES} u ON u.id = b.identity_id ORDER BY b.provider, 2"
    )
    for provider, bundle_name in rows:
        covered.setdefault(provider, []).append(bundle_name)
    default_exists = (
        conn.execute(f"SELECT 1 FROM {st.BUNDLES} WHERE id = ?", (DEFAULT_BUNDLE_ID,)).fetchone()
        is not None
    )
    taken = conn.execute(
        f"SELECT id FROM {st.BUNDLES} WHERE name = ? AND id <> ?",
        (DEFAULT_BUNDLE_NAME, DEFAULT_BUNDLE_ID),
    ).fetchone()
    default_bindings = dict(
        conn.execute(
            f"SELECT provider, account_id FROM {st.BINDINGS} WHERE identity_id = ?",
            (DEFAULT_BUNDLE_ID,),
        ).fetchall()
    )
    instances = agents = 0
    if count_rows and inspection.has_instances:
        instances = conn.execute(
            f"SELECT count(*) FROM {st.INSTANCES} WHERE {BACKFILL_CONDITIONS[st.INSTANCES]}"
        ).fetchone()[0]
    if count_rows and inspection.has_agents:
        agents = conn.execute(
            f"SELECT count(*) FROM {st.AGENTS} WHERE {BACKFILL_CONDITIONS[st.AGENTS]}"
        ).fetchone()[0]
    recorded = False
    if inspection.has_migrations:
        recorded = (
            conn.execute(f"SELECT 1 FROM {st.MIGRATIONS} WHERE id = ?", (MIGRATION_ID,)).fetchone()
            is not None
        )
    return StoreState(
        covered={k: tuple(dict.fromkeys(v)) for k, v in covered.items()},
        default_exists=default_exists,
        default_name_taken_by=taken[0] if taken else None,
        default_bindings=default_bindings,
        instances_to_backfill=int(instances),
        agents_to_backfill=int(agents),
        migration_recorded=recorded,
    )


# --------------------------------------------------------------------------------------------
# Deciding (pure)


@dataclass(frozen=True)
class Decision:
    """The outcome of docs/agentmux-store.md §7 for one store, before anything is written."""

    providers: tuple[ProviderPlan, ...]
    bundle: BundleAction
    instances_to_backfill: int
    agents_to_backfill: int
    record_migration: bool
    blocked: str | None


def decide(
    state: StoreState,
    inspection: st.StoreInspection,
    credentials: Sequence[AmbientCredential],
    registry: ProviderRegistry,
    write_refusal: str | None = None,
) -> Decision:
    """Apply docs/agentmux-store.md §7 steps 2-4 to a store's state, without side effects.

    Args:
        state: the store's facts (``read_state``).
        inspection: the store's era and tables.
        credentials: ambient probes of the registry's providers (any order).
        registry: the provider registry (its order is the migration's order).
        write_refusal: set when the store cannot be written (read-only); binds become blocked.
    """
    by_provider = {c.provider: c for c in credentials}
    lines: list[ProviderPlan] = []
    for provider in registry.oauth_providers:
        credential = by_provider[provider.id]
        if provider.id in state.covered:
            names = state.covered[provider.id]
            where = ", ".join(f"'{n}'" for n in names)
            lines.append(
                ProviderPlan(
                    provider.id, provider.display_name, Action.SKIP_EXISTING,
                    f"already bound in bundle {where}", credential, bound_in=names,
                )
            )
        elif not credential.present:
            lines.append(
                ProviderPlan(
                    provider.id, provider.display_name, Action.SKIP_NO_AMBIENT,
                    f"no ambient credentials: {credential.reason}", credential,
                )
            )
        else:
            reuse = state.default_bindings.get(provider.id)
            status = credential.status.value if credential.status else "unknown"
            reason = f"bind {credential.config_dir} into the Default bundle (login {status})"
            if reuse:
                reason += "; keeps its existing account"
            lines.append(
                ProviderPlan(
                    provider.id, provider.display_name, Action.BIND, reason, credential,
                    reuse_account_id=reuse,
                )
            )

    seeding = any(line.action is Action.BIND for line in lines)
    blocked = None
    if seeding and not state.default_exists and state.default_name_taken_by is not None:
        blocked = (
            f"another bundle (id '{state.default_name_taken_by}') is already named "
            f"'{DEFAULT_BUNDLE_NAME}', so the Default bundle cannot be created; rename that bundle "
            "in AgentMux and run again. Nothing was written"
        )
    elif seeding and write_refusal:
        blocked = write_refusal
    if blocked:
        lines = [
            ProviderPlan(
                line.provider, line.display_name, Action.BLOCKED, blocked, line.credential
            )
            if line.action is Action.BIND
            else line
            for line in lines
        ]
        return Decision(tuple(lines), BundleAction.NONE, 0, 0, False, blocked)

    if state.default_exists:
        bundle = BundleAction.REUSE
    elif seeding:
        bundle = BundleAction.CREATE
    else:
        bundle = BundleAction.NONE
    backfilling = bundle is not BundleAction.NONE
    record = inspection.has_migrations and not state.migration_recorded
    if write_refusal and ((backfilling and (state.instances_to_backfill or state.agents_to_backfill)) or record):
        return Decision(tuple(lines), bundle, 0, 0, False, write_refusal)
    return Decision(
        providers=tuple(lines),
        bundle=bundle,
        instances_to_backfill=state.instances_to_backfill if backfilling else 0,
        agents_to_backfill=state.agents_to_backfill if backfilling else 0,
        record_migration=record,
        blocked=None,
    )


# --------------------------------------------------------------------------------------------
# Building the plan


def probe_all(registry: ProviderRegistry, home: Path, at_ms: int) -> tuple[AmbientCredential, ...]:
    return tuple(probe_provider(p, home, at_ms) for p in registry.providers)


def plan_store(
    location: st.StoreLocation,
    credentials: Sequence[AmbientCredential],
    registry: ProviderRegistry,
    process_running: bool,
) -> StorePlan:
    """Inspect one store read-only and decide what the migration would do to it."""
    inspection = st.inspect_store(location.path)
    running = process_running or st.store_in_use(location.path)
    if inspection.refusal is not None:
        by_provider = {c.provider: c for c in credentials}
        lines = tuple(
            ProviderPlan(
                p.id, p.display_name,
                Action.BLOCKED if by_provider[p.id].present else Action.SKIP_NO_AMBIENT,
                f"store refused: {inspection.refusal}" if by_provider[p.id].present
                else f"no ambient credentials: {by_provider[p.id].reason}",
                by_provider[p.id],
            )
            for p in registry.oauth_providers
        )
        return StorePlan(
            location, inspection, BundleAction.NONE, 0, 0, False, running,
            inspection.refusal, lines, _warnings_of(lines),
        )
    try:
        with closing(st.open_readonly(location.path)) as conn:
            state = read_state(conn, inspection)
    except sqlite3.DatabaseError as exc:
        refusal = f"{location.path} could not be read ({exc}); nothing was written"
        return StorePlan(location, inspection, BundleAction.NONE, 0, 0, False, running, refusal, (), ())
    decision = decide(state, inspection, credentials, registry, st.write_refusal(location.path))
    return StorePlan(
        location=location,
        inspection=inspection,
        bundle=decision.bundle,
        instances_to_backfill=decision.instances_to_backfill,
        agents_to_backfill=decision.agents_to_backfill,
        record_migration=decision.record_migration,
        agentmux_running=running,
        refused=decision.blocked,
        providers=decision.providers,
        warnings=_warnings_of(decision.providers),
    )


def _warnings_of(lines: Iterable[ProviderPlan]) -> tuple[str, ...]:
    # An odd credentials file matters to this store only for a provider it would bind.
    return tuple(w for line in lines if line.action in (Action.BIND, Action.BLOCKED) for w in line.credential.warnings)


def build_plan(
    paths: AppPaths,
    registry: ProviderRegistry,
    locations: Iterable[st.StoreLocation] | None = None,
    at_ms: int | None = None,
    include_all: bool = False,
) -> MigrationPlan:
    """Preview the migration for the target stores.

    Args:
        paths: where to look.
        registry: providers.
        locations: stores to plan (``--store``); default: discovery's default targets.
        at_ms: fixed clock (``--now-ms``); default: now.
        include_all: plan every discovered store, not only the default targets.
    """
    fixed = at_ms is not None
    clock = at_ms if at_ms is not None else now_ms()
    credentials = probe_all(registry, paths.home, clock)
    if locations is None:
        found = st.discover_stores(paths)
        chosen = [loc for loc in found if include_all or loc.default_target]
    else:
        chosen = list(locations)
    running = st.agentmux_process_running()
    stores = []
    for location in chosen:
        plan = plan_store(location, credentials, registry, running)
        # The shared store is a default target only when it is of the bundle era (docs/agentmux-store.md §2).
        if (
            locations is None
            and not include_all
            and location.kind is st.StoreKind.SHARED
            and not plan.era.migratable
        ):
            continue
        stores.append(plan)
    notes = {p.id: p.notes() for p in registry.providers if p.notes()}
    return MigrationPlan(
        home=paths.home,
        now_ms=clock,
        fixed_clock=fixed,
        stores=tuple(stores),
        credentials=credentials,
        backups_dir=paths.backups_dir,
        notes=notes,
    )
