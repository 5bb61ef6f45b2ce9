"""``agentmux-companion backups list|prune``, and the backup chores every command does."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from agentmux_companion.core.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from agentmux_companion.cli.context import Context
    from agentmux_companion.core.paths import AppPaths

log = logging.getLogger("agentmux_companion.cli")


def sweep_partial_backups(paths: AppPaths) -> None:
    """What a run killed while writing a backup left behind goes at the start of every command."""
    from agentmux_companion.core.backup_sweep import sweep

    for removed in sweep(paths):
        log.info("removed %s, left by a run that was killed while writing a backup", removed)


def after_backup_checks(ctx: Context, code: int) -> int:
    """Wait for the integrity checks of the backups this command wrote; warn about failures."""
    backup = sys.modules.get("agentmux_companion.core.backup")
    if backup is None:  # this command wrote no backup (and start-up need not load that module)
        return code
    warnings = backup.finish_checks()
    for warning in warnings:
        ctx.console.err.write(f"warning: {warning}\n")
        log.warning("%s", warning)
    return int(ExitCode.WARNINGS) if warnings and code == ExitCode.OK else code


def cmd_backups(ctx: Context) -> ExitCode:
    """``backups list`` or ``backups prune``."""
    from agentmux_companion.core import backup_catalog as catalog

    stores = [loc.path for loc in ctx.explicit] if ctx.explicit else None
    if ctx.args.backups_action == "prune":
        return _prune(ctx, stores)
    wanted = {str(s.resolve()) for s in stores} if stores is not None else None
    entries = [e for e in catalog.entries(ctx.paths.ledger_path) if wanted is None or e.store_path in wanted]
    console = ctx.console
    if ctx.json:
        console.emit_json({"backups": [e.to_json() for e in entries]})
        return ExitCode.OK
    if not entries:
        console.line(f"No backups are recorded (they go into {ctx.paths.backups_dir}).")
        return ExitCode.OK
    for store_path in dict.fromkeys(e.store_path for e in entries):
        console.line("Store:")
        console.path_line(store_path, indent="  ")
        for e in (e for e in entries if e.store_path == store_path):
            run_words = f" (run {e.run_id[:8]})" if e.run_id else ""
            console.line(f"{e.describe()}{run_words}", indent="  ", hang="    ")
            console.path_line(e.path, indent="    ")
    return ExitCode.OK


def _prune(ctx: Context, stores: list[Path] | None) -> ExitCode:
    from agentmux_companion.core.backup_catalog import human_size
    from agentmux_companion.core.backup_prune import plan_prune, prune

    if ctx.args.keep < 0:
        raise UsageError("--keep must be 0 or more")
    console = ctx.console
    plan = plan_prune(ctx.paths, stores, ctx.args.keep)
    if not plan.delete:
        if ctx.json:
            console.emit_json({"deleted": [], "kept": [e.path for e, _why in plan.keep]})
        else:
            console.line("Nothing to prune: every backup is kept by the policy.")
        return ExitCode.OK
    size = sum(e.bytes for e in plan.delete)
    if not ctx.json:
        for e in plan.delete:
            console.line(f"delete: {e.describe()}", hang="    ")
            console.path_line(e.path, indent="    ")
        for e, why in plan.keep:
            console.line(f"keep:   {e.describe()} ({why})", hang="    ")
    ctx.confirm(f"Delete {len(plan.delete)} backup(s), {human_size(size)}?", ctx.args.yes)
    deleted = prune(ctx.paths, plan)
    if ctx.json:
        console.emit_json({"deleted": deleted, "kept": [e.path for e, _why in plan.keep]})
    else:
        console.line(f"Deleted {len(deleted)} backup(s), {human_size(size)}.")
    return ExitCode.OK
