"""`plan` on stores of 10k, 100k and 1M agent instances, against the one query it cannot avoid.

AgentMux's schema has no index on ``db_agent_instances.identity_id`` (the companion never adds
one: it must not alter the schema), so the number of rows to back-fill is a count over the whole
table. The baseline is that bare count on a fresh connection — open, count, close — measured in
the same run on the same file. What the plan adds on top (discovery, the credential probe, era
detection, reading bundles and bindings, deciding) should stay flat as the store grows.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

from agentmux_companion.core import sandbox
from agentmux_companion.core import store as st
from agentmux_companion.core.migration.plan import build_plan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import load_registry
from benchmarks.common import build_store, table

NOW_MS = sandbox.DEMO_NOW_MS


def bare_count(path: Path) -> float:
    started = time.perf_counter()
    with closing(st.open_readonly(path)) as conn:
        conn.execute("SELECT count(*) FROM db_agent_instances WHERE identity_id IN ('', 'blank')").fetchone()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    registry = load_registry()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        work = Path(tmp)
        home = work / "home"
        login = sandbox.claude_credentials("bench-access", "bench-refresh", NOW_MS + 3_600_000)
        sandbox.write_credentials(home, "claude", login)
        paths = AppPaths.resolve(home=home, env={"AGENTMUX_COMPANION_DIR": str(work / "companion")})
        for size in sizes:
            path = build_store(work / f"s{size}" / "objects.db", size)
            locations = st.explicit_locations([path])
            build_plan(paths, registry, locations, NOW_MS)  # warm the page cache for both
            plan_runs, count_runs = [], []
            for _ in range(args.runs):
                count_runs.append(bare_count(path))
                started = time.perf_counter()
                plan = build_plan(paths, registry, locations, NOW_MS)
                plan_runs.append(time.perf_counter() - started)
            assert plan.stores[0].instances_to_backfill == size // 2
            plan_s, count_s = statistics.median(plan_runs), statistics.median(count_runs)
            rows.append([
                f"{size:,}", f"{count_s * 1000:.1f}", f"{plan_s * 1000:.1f}",
                f"{(plan_s - count_s) * 1000:.1f}", f"{plan_s / count_s:.2f}×",
            ])
    print("## `plan` against the bare legacy-row count, by store size\n")
    print(f"Median of {args.runs} runs, warm page cache, one store planned (`--store`).\n")
    print(table(
        ["agent instances", "bare count (ms)", "plan (ms)", "plan − count (ms)", "plan / count"], rows,
    ))
    print(f"\nPython {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
