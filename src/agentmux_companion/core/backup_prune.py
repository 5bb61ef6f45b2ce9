"""Pruning backups: an explicit policy, applied only when the user asks (``backups prune``).

The policy, per store:

1. Keep the pre-migration backup of every migration run that is not undone (it is that run's
   way back, and what tells undo which agent rows the run back-filled).
2. Keep the pre-migration backup of the store's last migration, undone or not: it is what
   ``undo --from-backup`` without a FILE restores.
3. Keep the newest ``keep`` of the other backups (safety copies taken before an undo or a
   restore, and the backups of older undone runs).
4. Everything else in the catalog may go. Backups still being written are never touched, and
   files the catalog does not know are left alone.
"""

from __future__ import annotations

import os
from collections import defaultdict
from contextlib import suppress
from pathlib import Path
from typing import NamedTuple

from agentmux_companion.core import backup_catalog as catalog
from agentmux_companion.core.migration import ledger
from agentmux_companion.core.paths import AppPaths

#: How many of the other backups of each store ``backups prune`` keeps unless told otherwise.
DEFAULT_KEEP = 2

_LIVE = ("committed", "undoing", "started")


class PrunePlan(NamedTuple):
    """What pruning would delete and keep, each with the reason it is kept."""

    delete: tuple[catalog.CatalogEntry, ...]
    keep: tuple[tuple[catalog.CatalogEntry, str], ...]


def plan_prune(paths: AppPaths, stores: list[Path] | None, keep: int = DEFAULT_KEEP) -> PrunePlan:
    """Apply the policy (module docstring) to the catalog; nothing is deleted here.

    Args:
        paths: Where the companion keeps its ledger and backup catalog.
        stores: only these stores' backups (all catalogued stores when None).
        keep: how many other backups of each store to keep.

    Returns:
        The backups to delete and those kept, each with the reason, for the caller to confirm.

    Raises:
        ValueError: ``keep`` is negative.
    """
    if keep < 0:
        raise ValueError("keep must not be negative")
    wanted = {str(s.resolve()) for s in stores} if stores is not None else None
    by_store: dict[str, list[catalog.CatalogEntry]] = defaultdict(list)
    for entry in catalog.entries(paths.ledger_path):
        if wanted is None or entry.store_path in wanted:
            by_store[entry.store_path].append(entry)
    runs = {r.id: r for r in ledger.all_runs(paths.ledger_path)}
    delete: list[catalog.CatalogEntry] = []
    kept: list[tuple[catalog.CatalogEntry, str]] = []
    for store_path, entries in by_store.items():  # entries: newest first
        last_run = next(
            (r for r in ledger.all_runs(paths.ledger_path)
             if r.store_path == store_path and r.kind == "migrate" and r.state != "abandoned"
             and not (r.state == "started" and not r.stats)),
            None,
        )
        others = 0
        for entry in entries:
            run = runs.get(entry.run_id)
            live = run is not None and run.state in _LIVE and not (run.state == "started" and not run.stats)
            if entry.reason == "migrate" and live:
                kept.append((entry, "the way back from a migration that is not undone"))
            elif entry.reason == "migrate" and last_run is not None and entry.run_id == last_run.id:
                kept.append((entry, "the backup taken before the store's last migration"))
            elif others < keep:
                others += 1
                kept.append((entry, f"among the newest {keep} other backup(s) of the store"))
            else:
                delete.append(entry)
    return PrunePlan(tuple(delete), tuple(kept))


def prune(paths: AppPaths, plan: PrunePlan) -> list[str]:
    """Delete what ``plan`` says (file, then catalog row); returns the paths deleted."""
    deleted: list[str] = []
    for entry in plan.delete:
        with suppress(FileNotFoundError):
            os.unlink(entry.path)
        catalog.drop(paths.ledger_path, entry.id)
        deleted.append(entry.path)
    return deleted
