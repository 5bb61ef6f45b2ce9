"""`migrate` on a store of 1,000,000 agent instances (half legacy) against one plain SQL statement.

Both run in this process on identical copies of the same store, with the same connection settings
as AgentMux (WAL, busy_timeout, foreign_keys). The plain statement is the back-fill alone —
``UPDATE db_agent_instances SET identity_id = 'default' WHERE identity_id IN ('', 'blank')`` in one
transaction — the least any tool can do. The migration does that plus everything that makes it
safe: the re-check of the plan inside the transaction, the bundle/account/binding writes, the undo
journal of every back-filled row, integrity and foreign-key checks. Its online backup is timed
separately (it is a full copy of the store, so it costs what copying the file costs).
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from agentmux_companion.core import sandbox
from agentmux_companion.core import store as st
from agentmux_companion.core.apply import apply_plan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.plan import build_plan
from agentmux_companion.core.providers import load_registry
from benchmarks.common import build_store, table

NOW_MS = sandbox.DEMO_NOW_MS


def plain_statement(path: Path) -> tuple[float, int]:
    """The baseline, timed from opening the store to closing it, as the migration is.

    Closing matters: the last connection to a WAL database checkpoints the WAL into the file.
    """
    started = time.perf_counter()
    with closing(st.open_for_write(path)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        count = conn.execute(
            "UPDATE db_agent_instances SET identity_id = 'default' WHERE identity_id IN ('', 'blank')"
        ).rowcount
        conn.execute("COMMIT")
    return time.perf_counter() - started, count


def migrate(path: Path, work: Path) -> tuple[float, float, int, dict[str, float]]:
    """Returns (total seconds, backup seconds, rows back-filled, seconds per phase)."""
    home = work / "home"
    login = sandbox.claude_credentials("bench-access", "bench-refresh", NOW_MS + 3_600_000)
    sandbox.write_credentials(home, "claude", login)
    paths = AppPaths.resolve(home=home, env={"AGENTMUX_COMPANION_DIR": str(work / "companion")})
    registry = load_registry()
    marks: list[tuple[str, float]] = []

    def progress(message: str) -> None:
        marks.append((message.split(" ")[0], time.perf_counter()))

    plan = build_plan(paths, registry, st.explicit_locations([path]), NOW_MS)
    started = time.perf_counter()
    [result] = apply_plan(plan, paths, registry, progress=progress)
    total = time.perf_counter() - started
    if result.outcome != "migrated":
        raise SystemExit(f"migration did not run: {result.outcome} {result.message}")
    phases: dict[str, float] = {}
    for (name, at), (_next, until) in itertools.pairwise(marks):
        phases[name] = phases.get(name, 0.0) + until - at
    return total, phases["Backing"], result.stats.instances_backfilled, phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="runs of each, alternating; medians reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-migrate-") as tmp:
        work = Path(tmp)
        original = build_store(work / "original" / "objects.db", args.instances)
        size_mb = os.path.getsize(original) / 1e6
        plain_runs, total_runs, backup_runs, phase_runs = [], [], [], []
        for run in range(args.runs):
            copies = []
            for name in ("plain", "migrate"):
                target = work / f"{name}-{run}" / "objects.db"
                target.parent.mkdir()
                shutil.copy2(original, target)
                copies.append(target)
            plain_s, plain_rows = plain_statement(copies[0])
            total_s, backup_s, rows, phases = migrate(copies[1], work / f"work-{run}")
            if rows != plain_rows:
                raise SystemExit(f"row counts differ: plain {plain_rows}, migrate {rows}")
            plain_runs.append(plain_s)
            total_runs.append(total_s)
            backup_runs.append(backup_s)
            phase_runs.append(phases)
            for copy in copies:
                shutil.rmtree(copy.parent)
        plain_s, total_s, backup_s = (statistics.median(v) for v in (plain_runs, total_runs, backup_runs))
        migration_s = statistics.median(t - b for t, b in zip(total_runs, backup_runs, strict=True))
        print(f"## migrate on {args.instances:,} agent instances ({rows:,} legacy), store {size_mb:.0f} MB\n")
        print(f"Median of {args.runs} runs each, alternating, on fresh copies of the same store.\n")
        print(table(
            ["what", "seconds", "vs plain UPDATE"],
            [
                ["plain `UPDATE` (baseline: one statement, one transaction)", f"{plain_s:.3f}", "1.00×"],
                ["**migration itself** (without its backup)", f"{migration_s:.3f}",
                 f"**{migration_s / plain_s:.2f}×**"],
                ["online backup of the store, before the first write", f"{backup_s:.3f}", f"{backup_s / plain_s:.2f}×"],
                ["migration in all (`apply_plan`)", f"{total_s:.3f}", f"{total_s / plain_s:.2f}×"],
            ],
        ))
        names = list(phase_runs[0])
        print("\nPhases of the migration (median seconds):\n")
        print(table(
            ["phase", "seconds"],
            [[n, f"{statistics.median(p.get(n, 0.0) for p in phase_runs):.3f}"] for n in names],
        ))
        print(f"\nPython {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
