"""The dry run: what a migration would do, as one immutable object.

``build_plan`` reads (never writes) every target store and the ambient credentials and returns a
:class:`MigrationPlan`. The GUI shows it, ``plan --json`` prints it, and ``apply`` executes it,
re-deriving the same decisions inside its write transaction (``decide``), so what the user saw is
what runs.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from agentmux_companion.core import store as st
from agentmux_companion.core.contract import Semantics, new_uuid4, semantics_for, uuid4_text
from agentmux_companion.core.credentials import AmbientCredential, probe_provider
from agentmux_companion.core.migration.decide import Action, BundleAction, Decision, ProviderPlan, Repoint, decide
from agentmux_companion.core.migration.isolation import IsolationTarget, isolation_target, leftover_paths
from agentmux_companion.core.migration.state import StoreState, read_state
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.core.sha256 import sha256_digest

#: A plan is made of these: the plan's data model, importable from here with the plan.
__all__ = [
    "Action", "BundleAction", "Decision", "MigrationPlan", "ProviderPlan", "Repoint", "StorePlan", "StoreState",
    "build_plan", "decide", "now_ms", "probe_all", "read_state",
]


def now_ms() -> int:
    """The clock, in milliseconds since the epoch (AgentMux's timestamps)."""
    return time.time_ns() // 1_000_000


class StorePlan(NamedTuple):
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
        semantics: which build's migration the store gets (None when refused before deciding).
        semantics_reason: why, in words.
        repoints: Default accounts the isolation sweep points at AgentMux's own copy.
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
    semantics: Semantics | None = None
    semantics_reason: str = ""
    repoints: tuple[Repoint, ...] = ()

    @property
    def path(self) -> Path:
        """Where the store is."""
        return self.location.path

    @property
    def era(self) -> st.Era:
        """The store's schema generation, which decides whether it can be migrated."""
        return self.inspection.era

    @property
    def to_bind(self) -> tuple[ProviderPlan, ...]:
        """The providers whose login the migration would bind into the Default bundle."""
        return tuple(p for p in self.providers if p.action is Action.BIND)

    @property
    def will_write(self) -> bool:
        """Whether applying would change anything (a no-op run writes nothing, not even a backup)."""
        if self.refused:
            return False
        return bool(
            self.to_bind
            or any(r.failure is None for r in self.repoints)
            or self.bundle is BundleAction.CREATE
            or self.instances_to_backfill
            or self.agents_to_backfill
            or self.record_migration
        )

    def to_json(self, minted_ids: bool = True) -> dict[str, Any]:
        """The store's plan as JSON (``minted_ids=False``: without new accounts' ids, to compare plans)."""
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
            "semantics": self.semantics.value if self.semantics and not self.refused else None,
            "semantics_reason": self.semantics_reason if self.semantics and not self.refused else None,
            "providers": [p.to_json(minted_ids) for p in self.providers],
            "repoints": [r.to_json() for r in self.repoints],
            "warnings": list(self.warnings),
        }


class MigrationPlan(NamedTuple):
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
    notes: Mapping[str, tuple[str, ...]] = MappingProxyType({})  # shared, and read-only

    @property
    def will_write(self) -> bool:
        """Whether applying the plan would change any of its stores."""
        return any(s.will_write for s in self.stores)

    def store(self, path: Path) -> StorePlan | None:
        """The plan of the store at ``path``, or None if the plan does not cover it."""
        return next((s for s in self.stores if s.path == path), None)

    def to_json(self) -> dict[str, Any]:
        """The whole plan as the JSON document ``plan --json`` prints."""
        return {
            "home": str(self.home),
            "now_ms": self.now_ms,
            "backups_dir": str(self.backups_dir),
            "will_write": self.will_write,
            "stores": [s.to_json() for s in self.stores],
        }


# --------------------------------------------------------------------------------------------
# Building the plan


def probe_all(registry: ProviderRegistry, home: Path, at_ms: int) -> tuple[AmbientCredential, ...]:
    """The ambient probe of every provider of the registry, in registry order."""
    return tuple(probe_provider(p, home, at_ms) for p in registry.providers)


def isolation_targets(
    registry: ProviderRegistry, home: Path, credentials: Sequence[AmbientCredential], at_ms: int, ledger_path: Path
) -> dict[str, IsolationTarget]:
    """What the copy-once import would do for each provider (read only; §7b)."""
    by_provider = {c.provider: c for c in credentials}
    leftovers = leftover_paths(ledger_path)
    return {p.id: isolation_target(p, home, by_provider[p.id], at_ms, leftovers) for p in registry.providers}


def new_account_id(store: Path, provider: str, fixed_clock: int | None) -> str:
    """A new account's id: a random UUID4, or with a fixed clock one derived from the run's inputs.

    Either way it has the form AgentMux mints (lowercase, hyphenated, version 4).
    """
    if fixed_clock is None:
        return new_uuid4()
    return uuid4_text(sha256_digest(f"{store.resolve()}\0{provider}\0{fixed_clock}".encode())[:16])


def store_semantics(location: st.StoreLocation, inspection: st.StoreInspection) -> tuple[Semantics, str]:
    """Which build's migration a bundle-era store gets, and why (§7b)."""
    return semantics_for(location.is_shared, inspection.user_version, inspection.has_migrations)


def plan_store(
    location: st.StoreLocation,
    credentials: Sequence[AmbientCredential],
    registry: ProviderRegistry,
    process_running: bool,
    home: Path | None = None,
    targets: Mapping[str, IsolationTarget] | None = None,
    fixed_clock: int | None = None,
) -> StorePlan:
    """Inspect one store read-only and decide what the migration would do to it.

    Args:
        location: The store and how it was found.
        credentials: Each OAuth provider's ambient login, as probed in ``home``.
        registry: The providers the companion knows.
        process_running: AgentMux is running (then nothing is written; the plan says why).
        home: The user's home, to find Default accounts still pointing at a CLI's own folder (the
            copy-once sweep); None: no sweep.
        targets: The predicted import of each provider's login for copy-once stores, by provider id.
        fixed_clock: the ``--now-ms`` clock, when given: new account ids are then derived from it,
            so that a reproducible preview names the same ids every time.
    """
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
    semantics, why = store_semantics(location, inspection)
    decision = decide(state, inspection, credentials, registry, st.write_refusal(location.path),
                      semantics=semantics, home=home, targets=targets)
    # New accounts get their id now, so the preview names the exact rows apply will write.
    providers = tuple(
        line._replace(account_id=line.reuse_account_id or new_account_id(location.path, line.provider, fixed_clock))
        if line.action is Action.BIND else line
        for line in decision.providers
    )
    return StorePlan(
        location=location,
        inspection=inspection,
        bundle=decision.bundle,
        instances_to_backfill=decision.instances_to_backfill,
        agents_to_backfill=decision.agents_to_backfill,
        record_migration=decision.record_migration,
        agentmux_running=running,
        refused=decision.blocked,
        providers=providers,
        warnings=_warnings_of(decision.providers, decision.repoints, decision.blocked),
        semantics=semantics,
        semantics_reason=why,
        repoints=decision.repoints,
    )


def _warnings_of(
    lines: Iterable[ProviderPlan], repoints: Iterable[Repoint] = (), blocked: str | None = None
) -> tuple[str, ...]:
    # An odd credentials file matters to this store only for a provider it would bind.
    found = [w for line in lines if line.action in (Action.BIND, Action.BLOCKED) for w in line.credential.warnings]
    found += [f"{line.provider}: {line.import_failure}; skipped" for line in lines if line.import_failure]
    found += [f"{line.provider}: {line.reason}" for line in lines if line.action is Action.BLOCKED
              and line.import_failure is None and not blocked]
    found += [f"{r.provider}: {r.failure}; its account was left as it is" for r in repoints if r.failure]
    return tuple(found)


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
    targets = isolation_targets(registry, paths.home, credentials, clock, paths.ledger_path)
    stores = []
    for location in chosen:
        plan = plan_store(location, credentials, registry, running, paths.home, targets, at_ms)
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


def plan_every_store(paths: AppPaths, registry: ProviderRegistry,
                     store_paths: Sequence[Path] | None = None) -> MigrationPlan:
    """The GUI's plan: every store found, or exactly the ``--store`` ones.

    Older versions of the store are planned too: the window shows them unchecked.
    """
    locations = st.explicit_locations(store_paths) if store_paths else None
    return build_plan(paths, registry, locations, None, include_all=True)
