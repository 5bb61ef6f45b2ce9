"""What the plan window and its dialogs say, in the user's words (every string through tr()).

The window speaks of logins, agents and the Default bundle; table names, record ids and keyring
account names appear only under "Details" (:func:`store_details`). Two kinds of rows are counted
the same way everywhere (plan, confirmation, result, undo): *agent records*, which are the agents
AgentMux lists plus the older copies of them it keeps for earlier versions (docs/gui.md has the
glossary).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication

from agentmux_companion.core.credentials import FileKind, Status
from agentmux_companion.core.migration.plan import Action, BundleAction, MigrationPlan, ProviderPlan, StorePlan
from agentmux_companion.ui.messages import escape

if TYPE_CHECKING:
    from agentmux_companion.core.migration.results import StoreResult, UndoResult


def tr(text: str) -> str:
    """``text`` translated in the plan window's context."""
    return QCoreApplication.translate("PlanWindow", text)


def plural(count: int, one: str, many: str) -> str:
    """``one`` or ``many`` (each with a ``{0}`` for the count), already translated."""
    return (one if count == 1 else many).format(count)


def status_words(status: str) -> str:
    """The login status as shown in the badge."""
    words = {
        "valid": tr("valid"),
        "expired": tr("expired"),
        "needs_reauth": tr("sign in again"),
        "unknown": tr("unknown"),
        "missing": tr("not found"),
    }
    return words.get(status, status)


def action_words(action: Action) -> str:
    """What happens to a provider, in plain words."""
    return {
        Action.BIND: tr("Will be added to the Default bundle"),
        Action.SKIP_EXISTING: tr("Already set up, left as it is"),
        Action.SKIP_NO_AMBIENT: tr("Nothing to add"),
        Action.BLOCKED: tr("Cannot be added"),
    }[action]


def why_words(line: ProviderPlan) -> str:
    """Why the action, in words that add to the row (the core's full reason is the tooltip)."""
    credential = line.credential
    if line.action is Action.BIND:
        why = (tr("The Default bundle already has an account for it; that account is kept.")
               if line.reuse_account_id else tr("A login was found and no bundle uses it yet."))
        if credential.status is Status.EXPIRED:
            why += " " + (tr("Its token has expired; the CLI renews it with its refresh token on next use.")
                          if credential.has_refresh_token
                          else tr("Its token has expired and cannot be renewed: sign in to the CLI again."))
        elif credential.status is Status.NEEDS_REAUTH:
            why += " " + tr("Sign in to the CLI again so AgentMux can use it.")
        elif credential.status is Status.UNKNOWN:
            why += " " + tr("When it expires could not be read.")
        return why
    if line.action is Action.SKIP_EXISTING:
        names = ", ".join(f"“{name}”" for name in line.bound_in)
        return tr("Bundle {0} already has a login for it.").format(names)
    if line.action is Action.SKIP_NO_AMBIENT and credential.kind is FileKind.MISSING \
            and str(credential.path) in credential.reason:
        return tr("Not signed in to this CLI on this computer.")
    return line.reason  # an odd login file, or why the store cannot take it: the core's words say it


def store_line(store_plan: StorePlan) -> str:
    """One store in the Stores list: its name and what would happen to it."""
    line = store_plan.location.label
    if store_plan.refused:
        return line + " — " + tr("cannot be migrated")
    if not store_plan.will_write:
        return line + " — " + tr("nothing to do")
    if not store_plan.location.default_target:
        return line + " — " + tr("older version, not chosen by default")
    return line + " — " + tr("ready to migrate")


def agent_records(instances: int, older: int) -> str:
    """The one way agent rows are counted: the total, then what it is made of when there are two kinds."""
    total = instances + older
    text = plural(total, tr("{0} agent record"), tr("{0} agent records"))
    if older:
        text += " " + tr("({0} agents, {1} older copies)").format(instances, older)
    return text


def bundle_words(bundle: BundleAction) -> str:
    """What the migration will do to the Default bundle, in words."""
    return {
        BundleAction.CREATE: tr("will be created"),
        BundleAction.REUSE: tr("exists and is kept as it is"),
        BundleAction.NONE: tr("not needed"),
    }[bundle]


def semantics_words(store_plan: StorePlan) -> str:
    """How this store will use the logins, and why ('' when the plan does not say)."""
    semantics = store_plan.semantics
    if semantics is None or store_plan.refused:
        return ""
    if semantics.value == "isolated":
        how = tr("AgentMux gets its own copy of each login (copied once)")
    else:
        how = tr("AgentMux uses each tool's own login folder")
    reason = store_plan.semantics_reason
    return f"{how}: {reason}." if reason else how + "."


def store_details(plan: MigrationPlan, store_plan: StorePlan) -> str:
    """The technical facts for the Details disclosure (plain text)."""
    lines = [
        tr("Store file: {0}").format(store_plan.path),
        tr("Store version: {0} (user_version {1})").format(store_plan.era.value, store_plan.inspection.user_version),
        tr("Rows to back-fill: {0} in db_agent_instances, {1} in db_agents").format(
            store_plan.instances_to_backfill, store_plan.agents_to_backfill),
        tr("Default bundle: id “default” in db_identity_bundles ({0})").format(store_plan.bundle.value),
    ]
    semantics = store_plan.semantics
    if semantics is not None:
        lines.append(tr("Semantics: {0}").format(semantics.value))
    if store_plan.record_migration:
        lines.append(tr("A 0008_default_bundle row is added to db_migrations."))
    for line in store_plan.providers:
        credential = line.credential
        fingerprint = credential.fingerprint or "—"
        lines.append(f"{line.display_name}: {line.action.value}; {credential.path}; {fingerprint}")
        account = line.account_id or line.reuse_account_id
        if account and line.action is Action.BIND:
            lines.append(tr("  account record {0} (keyring entry agentmux/acct:{0})").format(account))
    lines.append(tr("Backups go to: {0}").format(plan.backups_dir))
    return "\n".join(lines)


def relevant_notes(plan: MigrationPlan, store_plan: StorePlan) -> list[str]:
    """The providers' notes worth saying for this store: only for a provider whose login was found."""
    found = {p.provider: p.display_name for p in store_plan.providers if p.credential.kind is not FileKind.MISSING}
    notes = [f"{found[provider]}: {note}" for provider, items in plan.notes.items() if provider in found
             for note in items]
    return notes + list(store_plan.warnings)


def plan_status(plan: MigrationPlan) -> str:
    """The window's one-line summary of the plan."""
    targets = [s for s in plan.stores if s.location.default_target]
    if not plan.stores:
        return tr("No AgentMux store was found, so there is nothing to migrate.")
    binding = sorted({p.display_name for s in targets if not s.refused for p in s.to_bind})
    if any(s.will_write for s in targets):
        if binding:
            return plural(len(binding), tr("{0} login can be added to AgentMux's Default bundle: "),
                          tr("{0} logins can be added to AgentMux's Default bundle: ")) + ", ".join(binding) + "."
        return tr("AgentMux's agents can be moved to the Default bundle.")
    if any(s.refused for s in targets):
        return tr("The AgentMux store cannot be migrated; see below.")
    return tr("Nothing to do: AgentMux already uses these logins.")


def migrate_result_html(
    results: Sequence[StoreResult],
    label: dict[str, str],
    backups: Mapping[str, str] | None = None,
    backup_warnings: Sequence[str] = (),
) -> str:
    """A migration's outcome per store (rich text), counted as the plan counts.

    Args:
        results: the stores' results.
        label: each store's name for people, by path.
        backups: each migrated store's backup in words (as the Backups window names it).
        backup_warnings: backups that failed their integrity check after they were written.
    """
    from agentmux_companion.core.migration.results import Outcome  # after a migration only: off the start path

    lines = []
    for result in results:
        name = escape(label.get(str(result.path), str(result.path)))
        if result.outcome is Outcome.MIGRATED:
            s = result.stats
            lines.append(tr("<b>{0}: migrated.</b>").format(name))
            lines.append(escape(tr(
                "Logins added to the Default bundle: {0}; already set up: {1}; not found: {2}.").format(
                s.providers_seeded, s.providers_skipped_existing, s.providers_skipped_no_ambient)))
            lines.append(escape(tr("The Default bundle was {0}; {1} now use it.").format(
                tr("created") if s.default_bundle_created else tr("kept"),
                agent_records(s.instances_backfilled, result.agents_backfilled))))
            if backups and str(result.path) in backups:
                lines.append(escape(tr("Backup: {0}").format(backups[str(result.path)])))
        elif result.outcome is Outcome.NOTHING_TO_DO:
            lines.append(tr("<b>{0}:</b> nothing to do.").format(name))
        else:
            lines.append(tr("<b>{0}: not migrated.</b> {1}").format(name, escape(result.message)))
        lines.extend(escape(tr("Note: {0}").format(w)) for w in result.warnings)
    lines.extend(escape(tr("Warning: {0}").format(w)) for w in backup_warnings)
    if any(r.outcome is Outcome.MIGRATED for r in results):
        lines.append(escape(tr("If AgentMux is running, restart it so it picks up the Default bundle.")))
    return "<br>".join(lines)


def undo_result_html(results: Sequence[UndoResult], label: dict[str, str]) -> str:
    """An undo's outcome per store (rich text), counted as the migration counted."""
    lines = []
    for result in results:
        name = escape(label.get(str(result.path), str(result.path)))
        if result.method == "backup":
            lines.append(tr("<b>{0}: put back</b> from the backup taken before the migration.").format(name))
        else:
            counts = result.reverted
            parts = [plural(counts.get("bindings", 0), tr("{0} login removed from the Default bundle"),
                            tr("{0} logins removed from the Default bundle"))]
            if counts.get("rows"):
                parts.append(plural(counts["rows"], tr("{0} agent record given back its former bundle"),
                                    tr("{0} agent records given back their former bundle")))
            if counts.get("bundle"):
                parts.append(tr("the Default bundle removed"))
            lines.append(tr("<b>{0}: undone.</b> {1}.").format(name, escape("; ".join(parts))))
        lines.append(escape(tr("A safety backup of the store as it was just before: {0}").format(result.safety_backup)))
        lines.extend(escape(tr("Note: {0}").format(w)) for w in result.warnings)
    return "<br>".join(lines)
