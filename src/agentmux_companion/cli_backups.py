"""``agentmux-companion backups list|prune``, and the backup chores every command does.

Kept apart from ``cli.py`` (and importing only ``core``), so it moves as it is into a ``cli/``
package: ``cli.py`` adds the parser, dispatches ``backups`` here, and calls the two chores around
every command (the sweep of partial files before, the wait for backup checks after).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.store import StoreLocation

log = logging.getLogger("agentmux_companion.cli")

EXIT_OK, EXIT_USAGE, EXIT_WARNINGS = 0, 2, 5

#: ``cli._confirm``: asks (or takes ``--yes``), raising UsageError when the answer is not yes.
Confirm = Callable[[str, bool], None]


class CommandContext(Protocol):
    """What a command gets from ``cli.Context``."""

    args: argparse.Namespace
    paths: AppPaths
    json: bool
    out: TextIO
    err: TextIO

    @property
    def explicit(self) -> list[StoreLocation] | None: ...

    def emit_json(self, document: Any) -> None: ...


def add_parser(sub: Any, common: argparse.ArgumentParser, parser_class: type[argparse.ArgumentParser]) -> None:
    """The ``backups`` subcommand with its actions ``list`` and ``prune``."""
    from agentmux_companion.core.backup_prune import DEFAULT_KEEP

    p = sub.add_parser("backups", help="the backups the companion took: list, prune")
    actions = p.add_subparsers(dest="backups_action", metavar="ACTION", parser_class=parser_class, required=True)
    actions.add_parser("list", parents=[common], help="every backup: store, why, run, when, size, verified")
    pp = actions.add_parser("prune", parents=[common], help=(
        "delete old backups; keeps the pre-migration backup of every run not undone and of each store's "
        "last run, plus the newest --keep others per store"))
    pp.add_argument("--keep", type=int, default=DEFAULT_KEEP, metavar="N",
                    help=f"other backups to keep per store (default {DEFAULT_KEEP})")
    pp.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def sweep_partial_backups(paths: AppPaths) -> None:
    """What a run killed while writing a backup left behind goes at the start of every command."""
    from agentmux_companion.core.backup import sweep_partials

    for removed in sweep_partials(paths):
        log.info("removed %s, left by a run that was killed while writing a backup", removed)


def after_backup_checks(err: TextIO, code: int) -> int:
    """Wait for the integrity checks of the backups this command wrote; warn about failures."""
    from agentmux_companion.core.backup import finish_checks

    warnings = finish_checks()
    for warning in warnings:
        err.write(f"warning: {warning}\n")
        log.warning("%s", warning)
    return EXIT_WARNINGS if warnings and code == EXIT_OK else code


def run(ctx: CommandContext, confirm: Confirm) -> int:
    """``backups list`` or ``backups prune``."""
    from agentmux_companion.core import backup_catalog as catalog

    stores = [loc.path for loc in ctx.explicit] if ctx.explicit else None
    if ctx.args.backups_action == "prune":
        return _prune(ctx, stores, confirm)
    wanted = {str(s.resolve()) for s in stores} if stores is not None else None
    entries = [e for e in catalog.entries(ctx.paths.ledger_path) if wanted is None or e.store_path in wanted]
    if ctx.json:
        ctx.emit_json({"backups": [e.to_json() for e in entries]})
        return EXIT_OK
    if not entries:
        ctx.out.write(f"No backups are recorded (they go into {ctx.paths.backups_dir}).\n")
        return EXIT_OK
    for store_path in dict.fromkeys(e.store_path for e in entries):
        ctx.out.write(f"Store: {store_path}\n")
        for e in (e for e in entries if e.store_path == store_path):
            run_words = f" (run {e.run_id[:8]})" if e.run_id else ""
            ctx.out.write(f"  {e.describe()}{run_words}\n    {e.path}\n")
    return EXIT_OK


def _prune(ctx: CommandContext, stores: list[Path] | None, confirm: Confirm) -> int:
    from agentmux_companion.core.backup_catalog import human_size
    from agentmux_companion.core.backup_prune import plan_prune, prune
    from agentmux_companion.core.errors import UsageError

    if ctx.args.keep < 0:
        raise UsageError("--keep must be 0 or more")
    plan = plan_prune(ctx.paths, stores, ctx.args.keep)
    if not plan.delete:
        if ctx.json:
            ctx.emit_json({"deleted": [], "kept": [e.path for e, _why in plan.keep]})
        else:
            ctx.out.write("Nothing to prune: every backup is kept by the policy.\n")
        return EXIT_OK
    size = sum(e.bytes for e in plan.delete)
    if not ctx.json:
        for e in plan.delete:
            ctx.out.write(f"delete: {e.describe()}\n    {e.path}\n")
        for e, why in plan.keep:
            ctx.out.write(f"keep:   {e.describe()} ({why})\n")
    confirm(f"Delete {len(plan.delete)} backup(s), {human_size(size)}?", ctx.args.yes)
    deleted = prune(ctx.paths, plan)
    if ctx.json:
        ctx.emit_json({"deleted": deleted, "kept": [e.path for e, _why in plan.keep]})
    else:
        ctx.out.write(f"Deleted {len(deleted)} backup(s), {human_size(size)}.\n")
    return EXIT_OK
