"""The migration's decisions for one store (docs/agentmux-store.md §7, §7b), without side effects.

``read_state`` reads the facts the decisions depend on from one snapshot of a store; ``decide``
turns them, with the credentials found, into one line per provider, the accounts the isolation
sweep will repoint, the bundle action and the rows to back-fill. The plan calls both on a
read-only connection; apply calls them again inside its write transaction, so what runs is what
the user saw.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from agentmux_companion.core import store as st
from agentmux_companion.core.contract import (
    DEFAULT_BUNDLE_NAME,
    Semantics,
    oauth_dir_of,
)
from agentmux_companion.core.credentials import AmbientCredential, Status
from agentmux_companion.core.migration.isolation import IsolationTarget
from agentmux_companion.core.migration.state import StoreState
from agentmux_companion.core.providers import ProviderRegistry


class Action(enum.StrEnum):
    """What the migration does with one provider in one store."""

    BIND = "bind"
    SKIP_EXISTING = "skip_existing"
    SKIP_NO_AMBIENT = "skip_no_ambient"
    BLOCKED = "blocked"


class BundleAction(enum.StrEnum):
    """What happens to the Default bundle."""

    CREATE = "create"
    REUSE = "reuse"
    NONE = "none"


class ProviderPlan(NamedTuple):
    """One provider's line in one store's plan.

    Attributes:
        provider: provider id.
        display_name: how people know it.
        action: bind / skip_existing / skip_no_ambient / blocked.
        reason: the action's reason in plain words.
        credential: what the ambient probe found.
        bound_in: for skip_existing, the names of the bundles that already bind it.
        reuse_account_id: for bind, the account already bound in the Default bundle, if any.
        account_dir: for bind, the folder the account will point at (the CLI's own, or AgentMux's
            copy under isolation).
        account_status: for bind, the status the account will get.
        isolation: under isolation, what the import of this login will do.
        import_failure: the import would fail: the provider is skipped with a warning, though it
            still makes the Default bundle exist (§7b: the import comes after step 3c).
        account_id: for bind, the account that will be written: the one reused, or a new id
            minted with the preview (apply writes exactly that one).
    """

    provider: str
    display_name: str
    action: Action
    reason: str
    credential: AmbientCredential
    bound_in: tuple[str, ...] = ()
    reuse_account_id: str | None = None
    account_dir: Path | None = None
    account_status: Status | None = None
    isolation: IsolationTarget | None = None
    import_failure: str | None = None
    account_id: str | None = None

    @property
    def seedable(self) -> bool:
        """Whether the provider loop reaches step 3c for it (so the Default bundle is needed)."""
        return self.action is Action.BIND or self.import_failure is not None

    @property
    def status(self) -> Status | None:
        """The status shown: the one the account will get when bound, else the ambient file's."""
        return self.account_status if self.account_status is not None else self.credential.status

    def to_json(self, minted_ids: bool = True) -> dict[str, Any]:
        """The line as JSON; ``minted_ids=False`` leaves out a new account's id (new at every preview)."""
        return {
            "provider": self.provider,
            "action": self.action.value,
            "reason": self.reason,
            "status": self.status.value if self.status else None,
            "credentials_path": str(self.credential.path),
            "fingerprint": self.credential.fingerprint,
            "account_dir": str(self.account_dir) if self.account_dir else None,
            "account_id": self.account_id if minted_ids or self.reuse_account_id else None,
            "account_reused": self.reuse_account_id is not None,
            "copy": _copy_word(self.isolation),
        }


def _copy_word(target: IsolationTarget | None) -> str | None:
    if target is None:
        return None
    if target.already_seeded:
        return "already_copied"
    return "copy" if target.will_copy else "nothing_to_copy"


class Repoint(NamedTuple):
    """An account of the Default bundle that the isolation sweep points at AgentMux's copy (§7b).

    Attributes:
        provider: the binding's provider.
        display_name: how people know it.
        account_id: the account rewritten.
        from_dir: the CLI's own folder it points at now.
        isolation: the import and the folder it will point at.
        failure: the import would fail: the account is left alone, with a warning.
    """

    provider: str
    display_name: str
    account_id: str
    from_dir: str
    isolation: IsolationTarget
    failure: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The line as JSON (the account already exists, so its id is the same at every preview)."""
        return {
            "provider": self.provider,
            "account_id": self.account_id,
            "from_dir": self.from_dir,
            "to_dir": str(self.isolation.dest),
            "status": self.isolation.status.value,
            "copy": _copy_word(self.isolation),
            "failure": self.failure,
        }


class Decision(NamedTuple):
    """The outcome of §7 (and §7b) for one store, before anything is written."""

    providers: tuple[ProviderPlan, ...]
    bundle: BundleAction
    instances_to_backfill: int
    agents_to_backfill: int
    record_migration: bool
    blocked: str | None
    repoints: tuple[Repoint, ...] = ()


# --------------------------------------------------------------------------------------------
# Deciding (pure)


def _unstorable(folder: Path) -> str | None:
    """Why a folder's path cannot go into the store's JSON text (not valid UTF-8), or None."""
    try:
        str(folder).encode("utf-8")
    except UnicodeEncodeError:
        return (f"the path of {str(folder)!a} is not valid UTF-8 text, so AgentMux's store cannot hold it; "
                "this provider is left alone (a folder name with valid characters fixes it)")
    return None


def _provider_lines(
    state: StoreState,
    credentials: Sequence[AmbientCredential],
    registry: ProviderRegistry,
    semantics: Semantics,
    targets: Mapping[str, IsolationTarget],
) -> list[ProviderPlan]:
    """Step 3 for every OAuth provider in registry order."""
    by_provider = {c.provider: c for c in credentials}
    lines: list[ProviderPlan] = []
    for provider in registry.oauth_providers:
        credential = by_provider[provider.id]
        name = provider.display_name
        if provider.id in state.covered:
            names = state.covered[provider.id]
            where = ", ".join(f"'{n}'" for n in names)
            lines.append(ProviderPlan(provider.id, name, Action.SKIP_EXISTING, f"already bound in bundle {where}",
                                      credential, bound_in=names))
            continue
        if not credential.present:
            lines.append(ProviderPlan(provider.id, name, Action.SKIP_NO_AMBIENT,
                                      f"no ambient credentials: {credential.reason}", credential))
            continue
        reuse = state.default_bindings.get(provider.id)
        keeps = "; keeps its existing account" if reuse else ""
        folder = targets[provider.id].dest if semantics is Semantics.ISOLATED and targets else credential.config_dir
        unstorable = _unstorable(folder)
        if unstorable:
            lines.append(ProviderPlan(provider.id, name, Action.BLOCKED, unstorable, credential))
            continue
        if semantics is Semantics.ISOLATED:
            target = targets[provider.id]
            if target.failure:
                lines.append(ProviderPlan(provider.id, name, Action.BLOCKED, f"skipped: {target.failure}",
                                          credential, isolation=target, import_failure=target.failure))
                continue
            how = "uses AgentMux's existing copy in" if target.already_seeded else "copies the login once into"
            reason = f"{how} {target.dest} and binds that copy (login {target.status.value}){keeps}"
            lines.append(ProviderPlan(provider.id, name, Action.BIND, reason, credential, reuse_account_id=reuse,
                                      account_dir=target.dest, account_status=target.status, isolation=target))
            continue
        status = credential.status or Status.UNKNOWN
        reason = f"bind {credential.config_dir} into the Default bundle (login {status.value}){keeps}"
        lines.append(ProviderPlan(provider.id, name, Action.BIND, reason, credential, reuse_account_id=reuse,
                                  account_dir=credential.config_dir, account_status=status))
    return lines


def _sweep(
    state: StoreState, registry: ProviderRegistry, home: Path | None, targets: Mapping[str, IsolationTarget]
) -> tuple[Repoint, ...]:
    """§7b's sweep: Default accounts that still point at a CLI's own folder."""
    if home is None:
        return ()
    found = []
    for provider_id, account_id in sorted(state.default_bindings.items()):
        provider = registry.get(provider_id)
        folder = oauth_dir_of(state.default_secret_refs.get(account_id, ""))
        if provider is None or folder is None or folder != str(provider.config_dir(home)):
            continue
        target = targets[provider_id]
        found.append(Repoint(provider_id, provider.display_name, account_id, folder, target, target.failure))
    return tuple(found)


def _with_repoints(lines: list[ProviderPlan], repoints: Sequence[Repoint]) -> list[ProviderPlan]:
    # A provider already bound whose Default account the sweep repoints says so on its line.
    by_provider = {r.provider: r for r in repoints}
    updated = []
    for line in lines:
        repoint = by_provider.get(line.provider)
        if repoint is not None and line.action is Action.SKIP_EXISTING:
            if repoint.failure:
                extra = f"; its account stays on {repoint.from_dir}: {repoint.failure}"
            else:
                extra = f"; its account will point at AgentMux's own copy in {repoint.isolation.dest}"
            line = ProviderPlan(line.provider, line.display_name, line.action, line.reason + extra, line.credential,
                                bound_in=line.bound_in, isolation=repoint.isolation)
        updated.append(line)
    return updated


def decide(
    state: StoreState,
    inspection: st.StoreInspection,
    credentials: Sequence[AmbientCredential],
    registry: ProviderRegistry,
    write_refusal: str | None = None,
    semantics: Semantics = Semantics.AMBIENT,
    home: Path | None = None,
    targets: Mapping[str, IsolationTarget] | None = None,
) -> Decision:
    """Apply §7 steps 2-4 (and §7b's import and sweep under isolation) to a store's state.

    Args:
        state: the store's facts (``read_state``).
        inspection: the store's era and tables.
        credentials: ambient probes of the registry's providers (any order).
        registry: the provider registry (its order is the migration's order).
        write_refusal: set when the store cannot be written (read-only); binds become blocked.
        semantics: which build's migration the store gets (§7b).
        home: the home folder, for the sweep's comparison with each CLI's folder.
        targets: under isolation, what the import of each provider's login will do.
    """
    targets = targets or {}
    lines = _provider_lines(state, credentials, registry, semantics, targets)
    repoints = _sweep(state, registry, home, targets) if semantics is Semantics.ISOLATED else ()
    lines = _with_repoints(lines, repoints)
    live_repoints = tuple(r for r in repoints if r.failure is None)

    seeding = any(line.seedable for line in lines)
    blocked = None
    if seeding and not state.default_exists and state.default_name_taken_by is not None:
        blocked = (
            f"another bundle (id '{state.default_name_taken_by}') is already named "
            f"'{DEFAULT_BUNDLE_NAME}', so the Default bundle cannot be created; rename that bundle "
            "in AgentMux and run again. Nothing was written"
        )
    elif (seeding or live_repoints) and write_refusal:
        blocked = write_refusal
    if blocked:
        lines = [
            ProviderPlan(line.provider, line.display_name, Action.BLOCKED, blocked, line.credential)
            if line.action is Action.BIND else line
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
        repoints=repoints,
    )
