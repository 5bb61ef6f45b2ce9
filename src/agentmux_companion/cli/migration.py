"""``plan``, ``migrate`` and ``undo``: the migration from the command line."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentmux_companion.cli.plan_text import refusal, render_plan, render_results
from agentmux_companion.core.errors import CompanionError, ExitCode, StoreRefused, UsageError

if TYPE_CHECKING:
    from agentmux_companion.cli.context import Context
    from agentmux_companion.core.migration.results import StoreResult, UndoResult

log = logging.getLogger("agentmux_companion.cli")


def cmd_plan(ctx: Context) -> ExitCode:
    """The dry run."""
    plan = ctx.plan(include_all=ctx.args.all)
    if not plan.stores:
        raise ctx.no_stores()
    if ctx.json:
        ctx.console.emit_json(plan.to_json())
        for store_plan in plan.stores:
            if store_plan.refused:
                refusal(ctx.console, str(store_plan.path), store_plan.refused)
    else:
        render_plan(plan, ctx.console)
    return ExitCode.REFUSED if any(s.refused for s in plan.stores) else ExitCode.OK


def migrate_exit_code(results: Sequence[StoreResult]) -> ExitCode:
    """Busy beats refused beats warnings beats OK (core's one mapping, shared with the GUI)."""
    from agentmux_companion.core.migration.results import exit_code_for

    return exit_code_for(results)


def migrate_json(result: StoreResult) -> dict[str, Any]:
    """The per-store document of ``migrate --json`` (README, docs/cli.md)."""
    document = result.to_json()
    document["backup"] = result.backup or None
    return document


def cmd_migrate(ctx: Context) -> ExitCode:
    """Show the plan, ask, back up and apply."""
    from agentmux_companion.core.migration.apply import apply_plan  # the write path loads only when used

    plan = ctx.plan(include_all=ctx.args.all)
    if not plan.stores:
        raise ctx.no_stores()
    if not ctx.json:
        render_plan(plan, ctx.console)
    if plan.will_write:
        writing = [s for s in plan.stores if s.will_write]
        ctx.console.end_progress()
        ctx.confirm(f"Migrate {len(writing)} store(s)?", ctx.args.yes)

    def progress(message: str) -> None:
        log.info("%s", message)
        ctx.console.progress(message)

    results = apply_plan(plan, ctx.paths, ctx.registry, ctx.args.busy_timeout_ms, progress=progress)
    ctx.console.end_progress()
    for r in results:
        log.info("migrate %s: %s %s", r.path, r.outcome, r.stats.to_json())
    if ctx.json:
        ctx.console.emit_json({"stores": [migrate_json(r) for r in results]})
        for r in results:
            if r.outcome in ("refused", "changed", "busy"):
                refusal(ctx.console, str(r.path), r.message)
    else:
        render_results(results, ctx.console, plan)
        if any(r.outcome == "migrated" for r in results):
            ctx.console.line()
            ctx.console.line("If AgentMux is running, restart it so it picks up the Default bundle.")
    return migrate_exit_code(results)


def cmd_undo(ctx: Context) -> ExitCode:
    """Reverse the last migration of each store, or restore a backup."""
    from agentmux_companion.core.migration.undo import last_undoable_run, undo_from_backup, undo_last

    from_backup = ctx.args.from_backup
    candidates = [loc for loc in ctx.default_targets()
                  if from_backup is not None or last_undoable_run(ctx.paths, loc.path) is not None]
    if not candidates:
        raise StoreRefused("nothing to undo: no migration by the companion is recorded for these stores")
    if from_backup and len(candidates) > 1:
        raise UsageError("--from-backup FILE restores one store: name it with --store PATH")
    what = "Restore the backup of" if from_backup is not None else "Undo the last migration of"
    ctx.confirm(f"{what} {len(candidates)} store(s)?", ctx.args.yes)
    results: list[UndoResult] = []
    failures: list[CompanionError] = []
    for loc in candidates:
        try:
            if from_backup is not None:
                results.append(undo_from_backup(ctx.paths, loc.path, Path(from_backup) if from_backup else None))
            else:
                results.append(undo_last(ctx.paths, loc.path))
        except CompanionError as exc:
            failures.append(exc)
            ctx.console.error(f"{loc.path}: {exc.message}")
    if ctx.json:
        ctx.console.emit_json({"stores": [r.to_json() for r in results], "errors": [f.message for f in failures]})
    else:
        render_undo(results, ctx)
    if failures:
        return max(f.exit_code for f in failures)
    return ExitCode.WARNINGS if any(r.warnings for r in results) else ExitCode.OK


def render_undo(results: Sequence[UndoResult], ctx: Context) -> None:
    """What each undo put back, in words."""
    console = ctx.console
    for r in results:
        console.path_line(r.path)
        console.line(f"undone ({r.method}): {r.describe()}", indent="  ", hang="    ")
        before = "the restore" if r.method == "backup" else "undo"  # a restore's copy is taken before it
        console.line(f"safety backup of the state before {before}:", indent="  ")
        console.path_line(r.safety_backup, indent="    ")
        for w in r.warnings:
            console.line(f"warning: {w}", indent="  ", hang="    ")
