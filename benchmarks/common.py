"""Shared pieces of the benchmarks: building big stores to the contract, timing, printing."""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from agentmux_companion.core import sandbox


def build_store(path: Path, instances: int, legacy_fraction: float = 0.5) -> Path:
    """A bundle-era store (with db_migrations) holding ``instances`` agent rows.

    ``legacy_fraction`` of them have a legacy identity_id ('' or 'blank', alternating); the rest
    use a user bundle. Built with one recursive-CTE insert so a million rows take seconds.
    """
    sandbox.create_store(path, sandbox.StoreShape.WITH_MIGRATIONS)
    legacy_every = max(1, round(1 / legacy_fraction)) if legacy_fraction else 0
    with closing(sqlite3.connect(str(path))) as conn:
        sandbox.add_bundle(conn, "b-work", "Work")
        sandbox.add_instances(conn, [], definition="def-1")
        legacy = (
            f"CASE WHEN x % {legacy_every} = 0 THEN (CASE WHEN x % (2 * {legacy_every}) = 0 "
            "THEN '' ELSE 'blank' END) ELSE 'b-work' END"
            if legacy_every
            else "'b-work'"
        )
        conn.execute(
            "INSERT INTO db_agent_instances (id, definition_id, identity_id, started_at) "
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
            f"SELECT printf('inst-%08d', x), 'def-1', {legacy}, x FROM c",
            (instances,),
        )
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median_of(runs: int, fn: Callable[[], object]) -> float:
    return statistics.median(timed(fn) for _ in range(runs))


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ratio_text(value: float, target: float | None = None) -> str:
    """``value`` as a ratio ("1.43×"), with as many places as it takes to show its side of ``target``.

    Two places hide it near the target: 1.504 printed as "1.50×" beside the verdict "over the
    1.5× target" reads as a contradiction. Past two places, up to five, until the printed figure
    falls on the same side of the target as the value itself.
    """
    places = 2
    if target is not None:
        while places < 5 and verdict(round(value, places), target) != verdict(value, target):
            places += 1
    return f"{value:.{places}f}×"


def verdict(value: float, target: float) -> str:
    """"within" a target (at most it) or "over" it: the one comparison every table and sentence uses."""
    return "within" if value <= target else "over"
