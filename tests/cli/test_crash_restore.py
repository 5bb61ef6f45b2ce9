"""Crash consistency of ``undo --from-backup`` killed with SIGKILL at random instants.

The store is either as it was or wholly restored, never in between; no partial file survives the
next command; and running the restore again finishes the job.
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

import pytest

from agentmux_companion.core import sandbox as sb
from agentmux_companion.core.sandbox import StoreShape
from tests.helpers.stores import (
    LEGACY_SPEC,
    NOW_MS,
    build_store,
    cli_command,
    dump_store,
    run_cli_process,
    write_all_creds,
)

INSTANCES = 20_000
KILLS = 20


def integrity(store: Path) -> str:
    with closing(sqlite3.connect(str(store))) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


@pytest.mark.slow
def test_sigkill_at_random_points_of_a_restore(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    work = tmp_path / "work"
    store = work / "objects.db"
    companion = work / "companion"
    build_store(store, StoreShape.WITH_MIGRATIONS, LEGACY_SPEC)
    with closing(sqlite3.connect(str(store))) as conn:
        sb.add_instances(conn, ["" if i % 2 else "b-work" for i in range(INSTANCES)], prefix="bulk")
        conn.commit()
    original = dump_store(store)
    env = {**os.environ, "AGENTMUX_COMPANION_DIR": str(companion)}
    common = ("--home", private_home, "--store", store)
    assert run_cli_process("migrate", "--yes", *common, "--now-ms", NOW_MS, env=env).code == 0
    migrated = dump_store(store)
    template = tmp_path / "template"
    shutil.copytree(work, template, symlinks=True)

    started = time.monotonic()
    assert run_cli_process("undo", "--yes", "--from-backup", *common, env=env).code == 0
    duration = time.monotonic() - started
    assert dump_store(store) == original

    rng = random.Random(20261202)
    seen: Counter[str] = Counter()
    for iteration in range(KILLS):
        shutil.rmtree(work)
        shutil.copytree(template, work, symlinks=True)
        process = subprocess.Popen(cli_command("undo", "--yes", "--from-backup", *common), env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, duration * 1.1))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)

        assert integrity(store) == "ok", iteration
        state = dump_store(store)
        assert state in (migrated, original), f"iteration {iteration}: store half-restored"
        seen["untouched" if state == migrated else "restored"] += 1
        # The next command sweeps what the killed one left; running the restore again finishes.
        listed = run_cli_process("backups", "list", "--json", *common, env=env)
        assert listed.code == 0, listed.err
        assert not [p for p in companion.rglob("*") if ".partial" in p.name], iteration
        for entry in listed.json()["backups"]:
            assert Path(entry["path"]).is_file(), (iteration, entry)
        again = run_cli_process("undo", "--yes", "--from-backup", *common, env=env)
        assert again.code == 0, (iteration, again.err)
        assert dump_store(store) == original, iteration
    print(f"restore crash loop: {dict(seen)} over {KILLS} kills, restore length {duration:.3f}s")
    assert seen["untouched"] + seen["restored"] == KILLS
