"""The preview is a promise: what differs between the plan the user saw and what would run now.

Apply re-derives the whole decision inside its write transaction and compares it with the plan,
field by field. Each difference is said in plain words ("the Claude Code login changed after the
preview: it was valid, it is now expired"), and any difference stops the store with nothing
written. The counts of rows to back-fill are checked by the back-fill itself (its own row count),
so the promise costs no second scan of a large table.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentmux_companion.core.contract import Semantics
from agentmux_companion.core.decide import Action, Decision, ProviderPlan, Repoint
from agentmux_companion.core.plan import StorePlan

_ACTION_WORDS = {
    Action.BIND: "be bound into the Default bundle",
    Action.SKIP_EXISTING: "be skipped (already bound)",
    Action.SKIP_NO_AMBIENT: "be skipped (no login found)",
    Action.BLOCKED: "be left alone",
}


def _login(line: ProviderPlan) -> str:
    return f"the {line.display_name} login"


def _fingerprint(line: ProviderPlan) -> str | None:
    # What the account's status is read from: AgentMux's existing copy, or the CLI's file.
    if line.isolation is not None and line.isolation.already_seeded:
        return line.isolation.credential.fingerprint
    return line.credential.fingerprint


def _provider_differences(seen: ProviderPlan, now: ProviderPlan) -> list[str]:
    found = []
    if seen.action is not now.action:
        found.append(
            f"{seen.display_name} would now {_ACTION_WORDS[now.action]} instead of "
            f"{_ACTION_WORDS[seen.action].removeprefix('be ')}: {now.reason}"
        )
        return found
    if seen.credential.present != now.credential.present:
        what = "appeared" if now.credential.present else "disappeared"
        found.append(f"{_login(seen)} {what} after the preview ({now.credential.path})")
    elif _fingerprint(seen) != _fingerprint(now):
        found.append(f"{_login(seen)} changed after the preview (its file is not the one the preview read)")
    if seen.status != now.status:
        was = seen.status.value if seen.status else "not found"
        is_now = now.status.value if now.status else "not found"
        found.append(f"{_login(seen)} changed after the preview: it was {was}, it is now {is_now}")
    if seen.account_dir != now.account_dir:
        found.append(
            f"{seen.display_name}'s account would now point at {now.account_dir} instead of {seen.account_dir}"
        )
    if seen.reuse_account_id != now.reuse_account_id:
        before = f"reuse account {seen.reuse_account_id}" if seen.reuse_account_id else "make a new account"
        after = f"reuse account {now.reuse_account_id}" if now.reuse_account_id else "make a new account"
        found.append(f"{seen.display_name} would now {after} instead of: {before}")
    return found


def _repoint_key(repoint: Repoint) -> tuple[object, ...]:
    return (repoint.provider, repoint.account_id, repoint.isolation.dest, repoint.isolation.status, repoint.failure)


def differences(plan: StorePlan, decision: Decision, semantics: Semantics) -> list[str]:
    """Every way in which ``decision`` (now) differs from what ``plan`` promised, in words."""
    found: list[str] = []
    if plan.semantics is not semantics:
        found.append(f"the store now gets {semantics.value} semantics instead of "
                     f"{plan.semantics.value if plan.semantics else 'none'}")
    seen_lines = {line.provider: line for line in plan.providers}
    for now in decision.providers:
        seen = seen_lines.get(now.provider)
        if seen is None:
            found.append(f"{now.display_name} was not in the preview")
            continue
        found += _provider_differences(seen, now)
    if [_repoint_key(r) for r in plan.repoints] != [_repoint_key(r) for r in decision.repoints]:
        found.append("the accounts of the Default bundle to point at AgentMux's own copies changed: "
                     f"{_names(plan.repoints)} before, {_names(decision.repoints)} now")
    if plan.bundle is not decision.bundle:
        found.append(f"the Default bundle would now be '{decision.bundle.value}' instead of '{plan.bundle.value}'")
    if plan.record_migration != decision.record_migration:
        found.append("the store's record of this migration changed after the preview (AgentMux may have run it)")
    return found


def backfill_difference(what: str, promised: int, found: int) -> str | None:
    """The back-fill's own row count against the preview's, in words (None when they agree)."""
    if promised == found:
        return None
    return f"{found} {what} would be given the Default bundle, where the preview counted {promised}"


def _names(repoints: Sequence[Repoint]) -> str:
    return ", ".join(f"{r.display_name} ({r.account_id})" for r in repoints) or "none"
