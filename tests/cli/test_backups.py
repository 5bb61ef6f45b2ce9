"""Backups as real processes see them.

Unique per run, never removed by another run, no partial file outliving a kill, a clear refusal
when the disk is full, and a catalog ``backups list`` reports as it is.
"""

from __future__ import annotations

import os
import shlex
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest

from agentmux_companion.core import sandbox as sb
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import StoreShape
from tests.helpers.stores import (
    LEGACY_SPEC,
    NOW_MS,
    build_store,
    cli_command,
    dump_store,
    run_cli,
    run_cli_process,
    write_all_creds,
)

RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"


def big_store(path: Path, rows: int) -> Path:
    build_store(path, StoreShape.WITH_MIGRATIONS, LEGACY_SPEC)
    with closing(sqlite3.connect(str(path))) as conn:
        sb.add_instances(conn, ["" if i % 2 else "b-work" for i in range(rows)], prefix="bulk")
        conn.commit()
    return path


def files_under(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if p.is_file()) if folder.exists() else []


def catalog_rows(paths: AppPaths) -> list[dict[str, object]]:
    with closing(sqlite3.connect(str(paths.ledger_path))) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(
            "SELECT path, store_path, reason, run_id, bytes, verified FROM backup_catalog "
            "WHERE state = 'ready' ORDER BY seq")]


def test_a_failed_run_at_the_same_millisecond_keeps_the_other_runs_backup(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home, ["claude"])
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    original = dump_store(store)
    first = run_cli("migrate", "--yes", "--json", "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    assert first.code == 0, first.err
    backup = Path(first.json()["stores"][0]["backup"])
    # A second run at the same (fixed) millisecond has codex to bind, but the store is busy.
    write_all_creds(private_home, ["codex"])
    with closing(sqlite3.connect(str(store), isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        second = run_cli_process("migrate", "--yes", "--busy-timeout-ms", "200", "--home", private_home,
                                 "--store", store, "--now-ms", NOW_MS)
        holder.execute("ROLLBACK")
    assert second.code == 4, second.err
    assert backup.is_file(), "the busy run deleted the backup another run made"
    result = run_cli("undo", "--yes", "--home", private_home, "--store", store)
    assert result.code == 0, result.err
    assert dump_store(store) == original


def test_concurrent_runs_keep_every_backup(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    stores = [build_store(tmp_path / f"s{i}" / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC) for i in range(2)]
    processes = [
        subprocess.Popen(cli_command("migrate", "--yes", "--home", private_home, "--store", stores[i % 2],
                                     "--now-ms", NOW_MS, "--busy-timeout-ms", "20000"),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for i in range(6)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    codes = [p.returncode for p in processes]
    assert all(code in (0, 3) for code in codes), (codes, errors)  # 3: changed since the preview
    paths = AppPaths.resolve(private_home)
    rows = catalog_rows(paths)
    on_disk = files_under(paths.backups_dir)
    assert sorted(str(p) for p in on_disk) == sorted(str(r["path"]) for r in rows)
    assert len({r["path"] for r in rows}) == len(rows)
    for store in stores:
        assert run_cli("undo", "--yes", "--home", private_home, "--store", store).code == 0


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and flock are POSIX")
def test_a_kill_during_the_backup_leaves_no_partial_file_after_the_next_command(
    tmp_path: Path, private_home: Path
) -> None:
    write_all_creds(private_home)
    store = big_store(tmp_path / "objects.db", 150_000)
    original = dump_store(store)
    paths = AppPaths.resolve(private_home)
    killed_mid_backup = 0
    for _attempt in range(3):
        process = subprocess.Popen(cli_command("migrate", "--yes", "--home", private_home, "--store", store),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while process.poll() is None and not files_under(paths.backups_dir, "*.partial"):
            time.sleep(0.0005)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_mid_backup += 1
        process.wait(timeout=60)
        assert dump_store(store) == original
    assert killed_mid_backup, "no run was caught during its backup"
    assert files_under(paths.backups_dir, "*.partial")
    result = run_cli_process("stores", "--home", private_home, "--store", store)
    assert result.code == 0, result.err
    assert files_under(paths.backups_dir, "*.partial*") == []
    assert [p for p in files_under(paths.backups_dir) if "journal" in p.name] == []


def _limit_file_size(limit: int) -> None:
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE and SIGXFSZ are POSIX")
def test_a_full_disk_during_the_backup_exits_3_and_leaves_the_store_untouched(
    tmp_path: Path, private_home: Path
) -> None:
    write_all_creds(private_home)
    store = big_store(tmp_path / "objects.db", 30_000)
    assert store.stat().st_size > 2_000_000
    original = dump_store(store)
    completed = subprocess.run(
        cli_command("migrate", "--yes", "--home", private_home, "--store", store),
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False,
        preexec_fn=lambda: _limit_file_size(1_000_000),
    )
    assert completed.returncode == 3, completed.stderr
    assert "backup" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert dump_store(store) == original
    paths = AppPaths.resolve(private_home)
    assert files_under(paths.backups_dir) == []


@pytest.mark.linux_only
def test_no_room_for_the_backup_is_refused_before_writing(tmp_path: Path, private_home: Path) -> None:
    """The companion's folder on a small file system, and a bigger store.

    A 3 MB tmpfs, mounted in a private mount namespace with ``unshare`` so nothing outside the test
    sees it.
    """
    write_all_creds(private_home)
    store = big_store(tmp_path / "objects.db", 40_000)
    original = dump_store(store)
    companion = tmp_path / "companion"
    companion.mkdir()
    command = " ".join(shlex.quote(str(a)) for a in cli_command(
        "migrate", "--yes", "--home", private_home, "--store", store))
    script = f"mount -t tmpfs -o size=3m tmpfs {shlex.quote(str(companion))} && exec {command}"
    unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    completed = subprocess.run([*unshare, "sh", "-c", script], capture_output=True, text=True, timeout=120,
                               stdin=subprocess.DEVNULL, check=False,
                               env={**os.environ, "AGENTMUX_COMPANION_DIR": str(companion)})
    assert completed.returncode == 3, completed.stderr
    err = completed.stderr
    assert "no room" in err
    assert "needs about" in err
    assert "MB" in err
    assert str(companion) in err
    assert dump_store(store) == original
    assert files_under(companion) == []  # the tmpfs is gone with its namespace; nothing was left here


def test_backups_list_matches_the_catalog_after_migrate_undo_restore(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    original = dump_store(store)
    common = ("--home", private_home, "--store", store)
    migrated = run_cli("migrate", "--yes", "--json", *common)
    run_id = migrated.json()["stores"][0]["run_id"]
    assert run_cli("undo", "--yes", *common).code == 0
    assert run_cli("undo", "--yes", "--from-backup", *common).code == 0
    assert dump_store(store) == original

    listed = run_cli("backups", "list", "--json", *common)
    assert listed.code == 0, listed.err
    backups = listed.json()["backups"]
    paths = AppPaths.resolve(private_home)
    rows = catalog_rows(paths)
    assert [(b["path"], b["store"], b["reason"], b["run_id"], b["bytes"], b["verified"]) for b in backups] == [
        (r["path"], r["store_path"], r["reason"], r["run_id"] or None, r["bytes"], bool(r["verified"]))
        for r in reversed(rows)
    ]
    assert [b["reason"] for b in backups] == ["restore", "undo", "migrate"]
    assert backups[2]["run_id"] == run_id
    assert backups[1]["run_id"] == run_id
    import re

    for b in backups:
        assert re.match(RFC3339, b["created_at"]), b["created_at"]
        assert Path(b["path"]).stat().st_size == b["bytes"]
        assert b["verified"] is True
        assert b["store"] == str(store.resolve())
    text = run_cli("backups", "list", *common)
    assert text.code == 0
    assert "Before migrating" in text.out
    assert "verified" in text.out


def test_prune_keeps_the_backup_of_a_live_run_and_asks_first(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    common = ("--home", private_home, "--store", store)
    for _ in range(3):  # migrate, undo, migrate, undo, migrate: the last run is live
        assert run_cli("migrate", "--yes", *common).code == 0
        if _ < 2:
            assert run_cli("undo", "--yes", *common).code == 0
    paths = AppPaths.resolve(private_home)
    before = files_under(paths.backups_dir)
    assert len(before) == 5
    refused = run_cli_process("backups", "prune", "--keep", "0", *common)
    assert refused.code == 2
    assert files_under(paths.backups_dir) == before  # no terminal, no --yes
    pruned = run_cli("backups", "prune", "--keep", "0", "--yes", "--json", *common)
    assert pruned.code == 0, pruned.err
    [kept] = run_cli("backups", "list", "--json", *common).json()["backups"]
    live_backup = run_cli("migrate", "--yes", "--json", *common)  # nothing to do: still migrated
    assert live_backup.json()["stores"][0]["outcome"] == "nothing_to_do"
    assert kept["reason"] == "migrate"
    assert Path(kept["path"]).is_file()
    assert sorted(pruned.json()["deleted"]) == sorted(str(p) for p in before if p != Path(kept["path"]))
    assert files_under(paths.backups_dir) == [Path(kept["path"])]
    assert run_cli("undo", "--yes", *common).code == 0  # the live run is still undoable


def test_a_store_whose_backup_fails_its_integrity_check_is_not_migrated(tmp_path: Path, private_home: Path) -> None:
    """Damage the migration itself would not notice shows in the backup's integrity check.

    A freelist pointing past the end of the file: the run rolls back and keeps no backup.
    """
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC, wal=False)
    with closing(sqlite3.connect(str(store))) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with open(store, "r+b") as handle:
        handle.seek(32)
        handle.write((pages + 3).to_bytes(4, "big"))
        handle.write((2).to_bytes(4, "big"))
    damaged = dump_store(store)
    result = run_cli("migrate", "--yes", "--home", private_home, "--store", store)
    assert result.code == 3, (result.code, result.err)
    assert "integrity check" in result.err
    assert "Nothing was written" in result.err
    assert dump_store(store) == damaged
    paths = AppPaths.resolve(private_home)
    assert files_under(paths.backups_dir) == []
    assert catalog_rows(paths) == []


def index_out_of_step(store: Path) -> None:
    """Damage only the full integrity_check sees.

    An index whose entries no longer match its table (quick_check, and the migration's own checks,
    do not compare the two).
    """
    with closing(sqlite3.connect(str(store))) as conn:
        conn.execute("UPDATE db_agent_instances SET working_directory = 'elsewhere-' || id")
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX idx_agent_instances_status ON "
                     "db_agent_instances(working_directory)' WHERE name = 'idx_agent_instances_status'")
        conn.commit()
    with closing(sqlite3.connect(str(store))) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok"


def test_a_backup_failing_the_full_check_is_kept_marked_not_verified(tmp_path: Path, private_home: Path) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    index_out_of_step(store)
    result = run_cli_process("migrate", "--yes", "--json", "--home", private_home, "--store", store)
    assert result.code == 5, result.err
    assert "failed SQLite's integrity check after it was written" in result.err
    backup = result.json()["stores"][0]["backup"]
    listed = run_cli("backups", "list", "--json", "--home", private_home, "--store", store).json()["backups"]
    assert [(b["path"], b["verified"]) for b in listed] == [(backup, False)]
    text = run_cli("backups", "list", "--home", private_home, "--store", store).out
    assert "not verified" in text


def test_the_programs_quick_exit_leaves_every_write_finished(tmp_path: Path, private_home: Path) -> None:
    # The program freezes its objects out of Python's last collections (cli.console_main): a
    # migration run as a real process must still end with its backup checked and catalogued,
    # its run committed in the ledger, the store closed cleanly and its log flushed.
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    result = run_cli_process("migrate", "--yes", "--json", "--home", private_home, "--store", store)
    assert result.code == 0, result.err
    outcome = result.json()["stores"][0]
    paths = AppPaths.resolve(home=private_home)
    last_logged = paths.log_file.read_text(encoding="utf-8").rstrip().splitlines()[-1]
    assert f"migrate {store}: migrated" in last_logged
    listed = run_cli("backups", "list", "--json", "--home", private_home, "--store", store).json()["backups"]
    assert [(b["path"], b["verified"]) for b in listed] == [(outcome["backup"], True)]
    with closing(sqlite3.connect(str(paths.ledger_path))) as ledger:
        states = ledger.execute("SELECT state FROM companion_runs WHERE id = ?", (outcome["run_id"],)).fetchall()
    assert states == [("committed",)]
    assert not store.with_name(store.name + "-wal").exists()  # the last connection closed and checkpointed
