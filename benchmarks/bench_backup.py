"""Backups and restores on a store of 1,000,000 agent instances, against the bare SQLite calls.

Baselines, measured in the same run on the same store:

- **backup**: SQLite's online backup API into a new file and a switch to a rollback journal,
  nothing else (what the companion did before the catalog). The catalogued backup adds the room
  check, the ``O_EXCL`` partial file and its lock, fsync, the store's identity, the final hard
  link and the catalog rows; then, on a thread, ``PRAGMA quick_check`` of the copy (awaited before
  the caller's COMMIT) and the full ``integrity_check`` and SHA-256 (after the caller's writes).
- **restore**: the backup API from the backup file onto the store (the previous restore, which
  checked the schema in one transaction and copied in another). The checked restore does the
  backup's integrity check and digest first, then under one write lock: the digest again, the
  identity and schema checks, a safety copy (itself a catalogued backup), and the table-by-table
  copy in one transaction.
- **sweep** at the start of every command, with 50 backups on disk, against starting with none.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from agentmux_companion.core import store as st
from agentmux_companion.core.backup import plan_backup
from agentmux_companion.core.backup_sweep import sweep
from agentmux_companion.core.migration.restore import restore_store
from agentmux_companion.core.paths import AppPaths
from benchmarks.common import build_store, table


def bare_backup(store: Path, target: Path) -> float:
    started = time.perf_counter()
    with closing(st.open_readonly(store)) as source, closing(sqlite3.connect(str(target))) as copy:
        source.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")
    return time.perf_counter() - started


def bare_restore(backup: Path, store: Path) -> float:
    started = time.perf_counter()
    with closing(sqlite3.connect(str(backup))) as source, closing(st.open_for_write(store)) as target:
        source.backup(target)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each, alternating; medians reported")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        work = Path(tmp)
        store = build_store(work / "store" / "objects.db", args.instances)
        size_mb = os.path.getsize(store) / 1e6
        paths = AppPaths.resolve(home=work / "home", env={"AGENTMUX_COMPANION_DIR": str(work / "companion")})
        figures: dict[str, list[float]] = {
            k: [] for k in ("bare_backup", "backup", "gate", "verified", "bare_restore", "restore")
        }
        for run in range(args.runs):
            target = work / f"bare-{run}.db"
            figures["bare_backup"].append(bare_backup(store, target))
            started = time.perf_counter()
            planned = plan_backup(paths, store, "migrate", f"00000000-0000-4000-8000-{run:012d}")
            planned.write(store)
            figures["backup"].append(time.perf_counter() - started)
            planned.wait_verified()
            figures["gate"].append(time.perf_counter() - started)
            planned.finish_check()
            figures["verified"].append(time.perf_counter() - started)

            figures["bare_restore"].append(bare_restore(target, store))
            started = time.perf_counter()
            restore_store(paths, store, planned.path, lambda _conn: None, lambda _conn, _run: False)
            figures["restore"].append(time.perf_counter() - started)
            target.unlink()

        for index in range(50):
            shutil.copyfile(planned.path, planned.path.with_name(f"copy-{index}.db"))
        empty = AppPaths.resolve(home=work / "home", env={"AGENTMUX_COMPANION_DIR": str(work / "none")})
        sweep_none = statistics.median(_timed_sweep(empty) for _ in range(20))
        sweep_full = statistics.median(_timed_sweep(paths) for _ in range(20))

        med = {k: statistics.median(v) for k, v in figures.items()}
        print(f"## backups and restores of a store of {args.instances:,} agent instances, {size_mb:.0f} MB\n")
        print(f"Median of {args.runs} runs each, alternating, on the same store.\n")
        print(table(
            ["what", "seconds", "vs baseline"],
            [
                ["bare backup API copy (baseline)", f"{med['bare_backup']:.3f}", "1.00×"],
                ["**catalogued backup**: until the caller goes on with its writes", f"{med['backup']:.3f}",
                 f"**{med['backup'] / med['bare_backup']:.2f}×**"],
                ["… and its quick_check verdict (awaited before the caller's COMMIT)", f"{med['gate']:.3f}",
                 f"{med['gate'] / med['bare_backup']:.2f}×"],
                ["… and its full integrity_check and digest (after the caller's writes)", f"{med['verified']:.3f}",
                 f"{med['verified'] / med['bare_backup']:.2f}×"],
                ["bare backup API restore (baseline)", f"{med['bare_restore']:.3f}", "1.00×"],
                ["**checked restore under one lock** (with its safety copy)", f"{med['restore']:.3f}",
                 f"**{med['restore'] / med['bare_restore']:.2f}×**"],
                ["command start: sweep with no backups (baseline)", f"{sweep_none * 1000:.2f} ms", "1.00×"],
                ["command start: sweep with 53 backups on disk", f"{sweep_full * 1000:.2f} ms",
                 f"{sweep_full / sweep_none:.2f}×"],
            ],
        ))
        print(f"\nPython {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs")
    return 0


def _timed_sweep(paths: AppPaths) -> float:
    started = time.perf_counter()
    sweep(paths)
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
