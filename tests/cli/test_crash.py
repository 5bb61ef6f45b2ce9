"""Crash consistency: ``migrate`` killed with SIGKILL at random instants.

The store is left either untouched or fully migrated, never in between, and the companion
recovers from it afterwards.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from agentmux_companion.core.migration.apply import apply_plan
from agentmux_companion.core.migration.plan import build_plan
from agentmux_companion.core.migration.undo import undo_last
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import StoreShape
from agentmux_companion.core.store import explicit_locations
from tests.helpers import schema
from tests.helpers.stores import (
    LEGACY_SPEC,
    NOW_MS,
    build_store,
    cli_command,
    dump_store,
    normalize_dump,
    write_all_creds,
)

INSTANCES = 20_000
KILLS = 20  # per semantics
REGISTRY = load_registry()


def paths_for(home: Path, companion: Path) -> AppPaths:
    return AppPaths.resolve(home, env={**os.environ, "AGENTMUX_COMPANION_DIR": str(companion)})


def migrate_in_process(home: Path, companion: Path, store: Path) -> str:
    paths = paths_for(home, companion)
    [result] = apply_plan(build_plan(paths, REGISTRY, explicit_locations([store]), NOW_MS), paths, REGISTRY)
    return result.outcome


def start_migrate(store: Path, home: Path, companion: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cli_command("migrate", "--yes", "--store", store, "--home", home, "--now-ms", NOW_MS),
        env={**os.environ, "AGENTMUX_COMPANION_DIR": str(companion)},
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def wait_for_ledger(companion: Path, process: subprocess.Popen[bytes]) -> float:
    """Poll until the run has recorded itself in the ledger (just before it opens the store)."""
    ledger = paths_for(Path("/unused"), companion).ledger_path
    while not ledger.exists() and process.poll() is None:
        time.sleep(0.001)
    return time.monotonic()


def integrity(store: Path) -> str:
    with closing(sqlite3.connect(str(store))) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def copies(home: Path) -> dict[str, bytes]:
    """AgentMux's own copies of the logins and their sentinels (copy-once semantics, §7b)."""
    folder = home / ".agentmux"
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()} \
        if folder.exists() else {}


@pytest.mark.slow
@pytest.mark.parametrize("shape", [StoreShape.WITH_AGENTS, StoreShape.WITH_MIGRATIONS], ids=["ambient", "isolated"])
def test_sigkill_at_random_points_leaves_store_untouched_or_migrated(
    tmp_path: Path, private_home: Path, shape: StoreShape
) -> None:
    write_all_creds(private_home, ["claude", "codex"])
    pristine = build_store(tmp_path / "pristine" / "objects.db", shape, LEGACY_SPEC)
    with closing(sqlite3.connect(str(pristine))) as conn:
        schema.add_instances(conn, ["" if i % 2 else "b-work" for i in range(INSTANCES)], prefix="bulk")
        conn.commit()
    original = dump_store(pristine)
    normal_original = normalize_dump(original, original)

    # The fully migrated reference, once, on a copy; and the length of a whole run, to spread
    # the kills over it (the measurement only picks delays; nothing is asserted on time).
    reference = tmp_path / "reference" / "objects.db"
    reference.parent.mkdir()
    shutil.copy2(pristine, reference)
    started = time.monotonic()
    process = start_migrate(reference, private_home, tmp_path / "reference-companion")
    writing_after = wait_for_ledger(tmp_path / "reference-companion", process) - started
    assert process.wait(timeout=60) == 0
    duration = time.monotonic() - started
    migrated = normalize_dump(dump_store(reference), original)
    assert migrated != normal_original
    migrated_copies = copies(private_home)
    assert bool(migrated_copies) == (shape is StoreShape.WITH_MIGRATIONS)
    # Undo the reference, so that every iteration starts without copies.
    undo_last(paths_for(private_home, tmp_path / "reference-companion"), reference)
    assert copies(private_home) == {}

    rng = random.Random(20260528)
    seen: Counter[str] = Counter()
    for iteration in range(KILLS):
        folder = tmp_path / f"kill-{iteration}"
        store = folder / "objects.db"
        folder.mkdir()
        shutil.copy2(pristine, store)
        companion = folder / "companion"
        process = start_migrate(store, private_home, companion)
        if iteration % 3 == 0:
            # Anywhere in the run, start-up included...
            time.sleep(rng.uniform(0, duration * 1.1))
        else:
            # ...but mostly inside the writing part, which starts when the run enters the ledger.
            wait_for_ledger(companion, process)
            time.sleep(rng.uniform(0, (duration - writing_after) * 1.0))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)

        assert integrity(store) == "ok", f"iteration {iteration}"
        state = normalize_dump(dump_store(store), original)
        assert state in (normal_original, migrated), f"iteration {iteration}: store half-migrated"
        if state == migrated:  # a committed run has all its copies, byte for byte
            assert copies(private_home) == migrated_copies, iteration
        seen["untouched" if state == normal_original else "migrated"] += 1
        seen["finished before the kill" if process.returncode == 0 else "killed"] += 1

        # The companion recovers: a later migrate completes, and undo reverses it exactly.
        outcome = migrate_in_process(private_home, companion, store)
        assert outcome == ("migrated" if state == normal_original else "nothing_to_do"), iteration
        assert normalize_dump(dump_store(store), original) == migrated
        # The ledger records a run's changes before the store commits, so even a kill between
        # the two commits leaves a run that the precise undo can settle and reverse.
        undo_last(paths_for(private_home, companion), store)
        assert dump_store(store) == original, iteration
        # ...and the files the runs made outside the store are gone with it, the killed run's too.
        assert copies(private_home) == {}, iteration
    record: dict[str, Any] = dict(seen)
    print(f"crash loop: {record} over {KILLS} kills, run length {duration:.3f}s")
    assert seen["untouched"] + seen["migrated"] == KILLS
