"""The companion's own files and folders: never written through a planted link, always private.

Each case plants a symbolic link where a folder or file of the companion will be, pointing at a
victim the attacker wants damaged, runs a real command, and checks that the command refused
(exit 3, the reason in words) and that the victim's content and mode are exactly as before.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from agentmux_companion.core import backup as bk
from agentmux_companion.core.log import setup_logging
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.sandbox import StoreShape
from tests.helpers.stores import LEGACY_SPEC, NOW_MS, build_store, dump_store, run_cli, write_all_creds

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links and POSIX modes")


def victim_file(tmp_path: Path) -> Path:
    victim = tmp_path / "victim" / "precious.txt"
    victim.parent.mkdir(exist_ok=True)
    victim.write_text("precious content\n", encoding="utf-8")
    victim.chmod(0o644)
    return victim


def victim_dir(tmp_path: Path) -> Path:
    victim = tmp_path / "victim-dir"
    victim.mkdir()
    (victim / "keep.txt").write_text("keep\n", encoding="utf-8")
    victim.chmod(0o755)
    return victim


def snapshot(victim: Path) -> tuple[int, dict[str, bytes]]:
    """The victim's mode and the content of everything in it (or of it)."""
    mode = stat.S_IMODE(victim.stat().st_mode)
    if victim.is_dir():
        return mode, {str(p.relative_to(victim)): (p.read_bytes() if p.is_file() else b"<dir>")
                      for p in sorted(victim.rglob("*"))}
    return mode, {"": victim.read_bytes()}


def old_backup_name(paths: AppPaths, store: Path, at_ms: int) -> Path:
    """Where the companion before the catalog put a run's backup: derived from the clock alone."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(at_ms / 1000)) + f"{at_ms % 1000:03d}Z"
    return paths.backups_dir / bk.store_slug(store) / f"{stamp}-{store.name}"


def plant(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


POSITIONS: dict[str, Callable[[AppPaths, Path], Path]] = {
    "data folder": lambda paths, _store: paths.data_dir,
    "backups folder": lambda paths, _store: paths.backups_dir,
    "store's backup folder": lambda paths, store: paths.backups_dir / bk.store_slug(store),
    "ledger": lambda paths, _store: paths.ledger_path,
    "ledger journal": lambda paths, _store: paths.ledger_path.with_name("ledger.db-journal"),
    "log folder": lambda paths, _store: paths.log_dir,
    "ledger WAL": lambda paths, _store: paths.ledger_path.with_name("ledger.db-wal"),
    "log file": lambda paths, _store: paths.log_file,
    "rotated log file": lambda paths, _store: paths.log_file.with_name(paths.log_file.name + ".1"),
}


@pytest.mark.parametrize("position", list(POSITIONS))
def test_a_link_planted_where_a_companion_file_goes_is_refused(
    tmp_path: Path, private_home: Path, position: str
) -> None:
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    original = dump_store(store)
    paths = AppPaths.resolve(private_home)
    link = POSITIONS[position](paths, store)
    victim = victim_dir(tmp_path) if "folder" in position else victim_file(tmp_path)
    if position != "data folder":
        paths.data_dir.mkdir(parents=True, exist_ok=True)
    if position == "rotated log file":
        paths.log_dir.mkdir(parents=True, exist_ok=True)
    plant(link, victim)
    before = snapshot(victim)

    result = run_cli("migrate", "--yes", "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    assert result.code == 3, (result.code, result.err)
    assert "link" in result.err
    assert str(link) in result.err
    assert snapshot(victim) == before
    assert link.is_symlink()  # left for the user to look at, not silently replaced
    assert dump_store(store) == original


@pytest.mark.parametrize("name", ["partial", "final"])
def test_links_at_the_clock_derived_backup_names_are_not_followed(
    tmp_path: Path, private_home: Path, name: str
) -> None:
    """Backup names no longer come from the clock, so a planted link cannot be aimed at.

    They used to be derived from the clock (predictable with --now-ms); a link planted there got its
    target truncated, overwritten and chmodded.
    """
    write_all_creds(private_home)
    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    paths = AppPaths.resolve(private_home)
    predicted = old_backup_name(paths, store, NOW_MS)
    if name == "partial":
        predicted = predicted.with_name(predicted.name + ".partial")
    victim = victim_file(tmp_path)
    plant(predicted, victim)
    predicted.parent.chmod(0o700)
    before = snapshot(victim)
    result = run_cli("migrate", "--yes", "--home", private_home, "--store", store, "--now-ms", NOW_MS)
    assert snapshot(victim) == before
    assert result.code in (0, 3), result.err


def test_the_backup_file_itself_is_created_without_following_a_link(tmp_path: Path, private_home: Path) -> None:
    from agentmux_companion.core.errors import UnsafePath

    store = build_store(tmp_path / "objects.db", StoreShape.WITH_AGENTS, LEGACY_SPEC)
    paths = AppPaths.resolve(private_home)
    run_id = "0f0e0d0c-0b0a-4908-8706-050403020100"
    planned = bk.plan_backup(paths, store, "migrate", run_id)
    for target in (planned.partial_path, planned.path):
        victim = victim_file(tmp_path)
        plant(target, victim)
        before = snapshot(victim)
        with pytest.raises(UnsafePath, match="link"):
            bk.plan_backup(paths, store, "migrate", run_id).write(store)
        assert snapshot(victim) == before
        target.unlink()


def test_log_rotation_keeps_the_log_private(tmp_path: Path) -> None:
    log_file = tmp_path / "log" / "companion.log"
    old_umask = os.umask(0o022)
    try:
        setup_logging(log_file)
        logger = logging.getLogger("agentmux_companion.test")
        line = "x" * 1000
        for _ in range(2500):  # past the 1 MB rotation size: at least one rollover
            logger.info(line)
    finally:
        os.umask(old_umask)
        for handler in list(logging.getLogger("agentmux_companion").handlers):
            if getattr(handler, "_companion", False):
                logging.getLogger("agentmux_companion").removeHandler(handler)
                handler.close()
    rotated = log_file.with_name(log_file.name + ".1")
    assert rotated.exists()
    for path in (log_file, rotated):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_folder_not_owned_or_not_a_folder_is_refused(tmp_path: Path) -> None:
    from agentmux_companion.core.errors import UnsafePath
    from agentmux_companion.core.paths import ensure_private_dir

    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file", encoding="utf-8")
    with pytest.raises(UnsafePath, match="not a folder"):
        ensure_private_dir(not_a_folder / "backups", top=not_a_folder)
    assert not_a_folder.read_text(encoding="utf-8") == "a file"


def test_a_folder_of_another_user_is_refused(tmp_path: Path) -> None:
    from agentmux_companion.core.errors import UnsafePath
    from agentmux_companion.core.paths import ensure_private_dir

    if os.geteuid() == 0:  # root: give a folder away
        foreign = tmp_path / "data"
        foreign.mkdir(mode=0o755)
        os.chown(foreign, 4242, 4242)
    else:  # anyone else: the file system's root is another user's (root's) folder
        foreign = Path("/")
    owner, before = foreign.stat().st_uid, snapshot(foreign) if foreign != Path("/") else None
    wanted = foreign / f"agentmux-companion-test-{os.getpid()}"
    with pytest.raises(UnsafePath, match="belongs to another user"):
        ensure_private_dir(wanted, top=foreign)
    assert not wanted.exists()
    assert foreign.stat().st_uid == owner
    if before is not None:
        assert snapshot(foreign) == before
