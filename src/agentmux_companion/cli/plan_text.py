"""The plan and the migration's results in words.

Shared by ``plan``, ``migrate``, ``demo`` and the GUI launcher's no-display fallback.

Each thing is said once: a refused store shows its reason, before anything else and instead of a
provider table; a provider's note appears only when this plan found something of that provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from agentmux_companion.cli.output import Column, Console, Fit
from agentmux_companion.core.contract import Semantics

if TYPE_CHECKING:
    from agentmux_companion.core.migration.plan import MigrationPlan, StorePlan
    from agentmux_companion.core.migration.results import StoreResult

PLAN_COLUMNS = (Column("PROVIDER", min_width=8), Column("ACTION", min_width=6), Column("STATUS", min_width=7),
                Column("FINGERPRINT", Fit.PATH, min_width=11), Column("REASON", Fit.WRAP, min_width=20))

_BUNDLE_WORDS = {"create": "will be created", "reuse": "exists and is reused as it is", "none": "not needed"}

#: The migration's counts in words, in AgentMux's order; a count core adds later is shown by its name.
STAT_WORDS = {
    "providers_examined": "providers examined",
    "providers_seeded": "seeded",
    "providers_skipped_existing": "already bound",
    "providers_skipped_no_ambient": "no credentials",
    "providers_repointed": "repointed",
    "instances_backfilled": "agent rows back-filled",
}


def refusal(console: Console, where: str, message: str) -> None:
    """A store's refusal, said once and on stderr (scripts read it there).

    Among the human output it stands in place under its store's heading; with ``--json`` or
    ``-q`` it names the store.
    """
    if console.quiet or console.json:
        console.error(f"{where}: {message}")
    else:
        console.message(f"Refused: {message}", indent="  ", hang="    ")


def render_plan(plan: MigrationPlan, console: Console) -> None:
    """The human form of the plan."""
    console.line(f"Ambient credentials looked for in {plan.home}", hang="  ")
    for store_plan in plan.stores:
        _render_store(plan, store_plan, console)
    for provider, note in relevant_notes(plan):
        console.line()
        console.line(f"note ({provider}): {note}", hang="  ")


def _render_store(plan: MigrationPlan, store_plan: StorePlan, console: Console) -> None:
    console.line()
    console.line(f"Store: {store_plan.location.label} ({store_plan.era.value})")
    console.path_line(store_plan.path, indent="  ")
    if store_plan.refused:
        refusal(console, str(store_plan.path), store_plan.refused)
        return
    if store_plan.agentmux_running:
        console.line("! AgentMux appears to be running and caches its state: close it first, or restart it "
                     "afterwards.", indent="  ", hang="    ")
    if store_plan.semantics is not None:
        console.line(semantics_words(store_plan), indent="  ", hang="  ")
    rows = []
    for line in store_plan.providers:
        status = line.status.value if line.status else "-"
        rows.append([line.provider, line.action.value, status, line.credential.fingerprint or "-", line.reason])
    console.table(PLAN_COLUMNS, rows, indent="  ", detail_below=True)
    console.line(f"Default bundle: {_BUNDLE_WORDS[store_plan.bundle.value]}", indent="  ")
    agents = f" (+ {store_plan.agents_to_backfill} db_agents rows)" if store_plan.agents_to_backfill else ""
    console.line(f"Agent rows to back-fill: {store_plan.instances_to_backfill}{agents}", indent="  ")
    if store_plan.record_migration:
        console.line("Records migration 0008_default_bundle in db_migrations", indent="  ")
    if store_plan.will_write:
        console.line(f"A backup is taken first, into {plan.backups_dir}", indent="  ", hang="    ")
    else:
        console.line("Nothing to do.", indent="  ")
    for warning in store_plan.warnings:
        console.line(f"warning: {warning}", indent="  ", hang="    ")


def semantics_words(store_plan: StorePlan) -> str:
    """What the store's semantics mean for the user, in one or two sentences (§7b)."""
    if store_plan.semantics is Semantics.ISOLATED:
        return (f"Copy-once: {store_plan.semantics_reason}. AgentMux will use its own copy of each login; "
                "whichever side renews a login first may leave the other asking you to sign in again.")
    return (f"Pointer: {store_plan.semantics_reason}. AgentMux will use each CLI's own login folder, "
            "as that build expects.")


def relevant_notes(plan: MigrationPlan) -> list[tuple[str, str]]:
    """The registry's notes for providers this plan found something of (a login or its folder).

    A note explains a provider's known reality (Codex keeps its login elsewhere); with no trace
    of that provider on this machine it is noise.
    """
    found = {c.provider for c in plan.credentials if c.present or c.config_dir.exists()}
    return [(provider, note) for provider, notes in plan.notes.items() if provider in found for note in notes]


def stats_words(stats: dict[str, Any]) -> Iterable[str]:
    """The counts of a migrated store, in words ("seeded 2"), known ones first."""
    for key, words in STAT_WORDS.items():
        if key in stats:
            yield f"{words} {stats[key]}"
    for key, value in stats.items():
        if key not in STAT_WORDS and key != "default_bundle_created":
            yield f"{key.replace('_', ' ')} {value}"


def render_results(results: Sequence[StoreResult], console: Console, plan: MigrationPlan | None = None) -> None:
    """What the migration did, per store; stores the plan already showed as refused are not repeated."""
    refused_in_plan = {s.path for s in plan.stores if s.refused} if plan is not None else set()
    for result in results:
        if result.path in refused_in_plan:
            continue
        console.line()
        console.path_line(result.path)
        console.line(f"  {result.outcome.replace('_', ' ')}")
        if result.message:
            if result.outcome in ("refused", "changed", "busy"):
                refusal(console, str(result.path), result.message)
            else:
                console.line(result.message, indent="  ", hang="    ")
        if result.outcome == "migrated":
            stats = result.stats.to_json()
            console.line(", ".join(stats_words(stats)), indent="  ", hang="    ")
            console.line(f"Default bundle created: {'yes' if stats.get('default_bundle_created') else 'no'}",
                         indent="  ")
            console.line("backup:", indent="  ")
            console.path_line(result.backup, indent="    ")
        for warning in result.warnings:
            console.line(f"warning: {warning}", indent="  ", hang="    ")
