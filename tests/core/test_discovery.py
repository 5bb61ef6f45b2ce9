"""Store discovery (docs/agentmux-store.md §2): every layout, version ordering, the environment, default targets."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentmux_companion.core.migration.plan import build_plan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import StoreShape
from agentmux_companion.core.store import (
    StoreKind,
    StoreLocation,
    agentmux_process_running,
    discover_stores,
    version_key,
)
from tests.helpers.stores import NOW_MS, build_store, channel_store_path


def test_version_ordering() -> None:
    ordered = ["0.9.0", "0.10.0-rc.1", "0.10.0-rc.2", "0.10.0-rc.10", "0.10.0", "0.10.2",
               "v0.11.0-beta.1", "0.11.0", "1.0.0-alpha", "1.0.0-beta", "1.0.0"]
    assert sorted(reversed(ordered), key=version_key) == ordered
    assert version_key("0.10.2") > version_key("0.9.0")
    assert version_key("0.10.2") > version_key("0.10.2-rc.1")
    assert version_key("v1.2.3") == version_key("1.2.3")


def paths_for(home: Path, **env: str) -> AppPaths:
    return AppPaths.resolve(home, env={"HOME": str(home), **env})


def test_channel_stores_newest_version_is_the_target(private_home: Path) -> None:
    root = private_home / ".agentmux"
    for version in ("0.9.0", "0.10.2", "0.10.2-rc.1", "0.10.0"):
        build_store(channel_store_path(root, version), StoreShape.WITH_AGENTS)
    for version in ("0.11.0", "0.12.0-beta.1"):
        build_store(channel_store_path(root, version, "beta"), StoreShape.WITH_AGENTS)
    (channel_store_path(root, "0.99.0").parent).mkdir(parents=True)  # a version without a store
    found = discover_stores(paths_for(private_home))
    assert found[0] == StoreLocation(channel_store_path(root, "0.10.2"), StoreKind.CHANNEL, "stable", "0.10.2",
                                     default_target=True)
    assert [s.default_target for s in found].count(True) == 1
    assert {(s.channel, s.version) for s in found} == {
        ("stable", "0.9.0"), ("stable", "0.10.2"), ("stable", "0.10.2-rc.1"), ("stable", "0.10.0"),
        ("beta", "0.11.0"), ("beta", "0.12.0-beta.1")}
    # The channel in use comes first, newest version first, then the other channels.
    assert [s.version for s in found] == ["0.10.2", "0.10.2-rc.1", "0.10.0", "0.9.0", "0.12.0-beta.1", "0.11.0"]

    # AGENTMUX_CHANNEL picks the channel in use.
    beta = discover_stores(paths_for(private_home, AGENTMUX_CHANNEL="beta"))
    assert (beta[0].channel, beta[0].version, beta[0].default_target) == ("beta", "0.12.0-beta.1", True)
    assert [s.default_target for s in beta].count(True) == 1


def test_older_versions_layout_and_dev_builds(private_home: Path) -> None:
    root = private_home / ".agentmux"
    old = root / "versions" / "0.8.1" / "data" / "db" / "objects.db"
    build_store(old, StoreShape.FLAT)
    dev_branch = root / "dev" / "main" / "data" / "db" / "objects.db"
    dev_clone = root / "dev" / "feature-x" / "clone2" / "data" / "db" / "objects.db"
    build_store(dev_branch, StoreShape.WITH_AGENTS)
    build_store(dev_clone, StoreShape.WITH_AGENTS)

    found = discover_stores(paths_for(private_home))
    by_path = {s.path: s for s in found}
    # Only the older layout for the stable channel: it is the one the user runs.
    assert by_path[old] == StoreLocation(old, StoreKind.LEGACY_VERSIONS, "stable", "0.8.1", default_target=True)
    assert by_path[dev_branch].kind is StoreKind.DEV
    assert by_path[dev_branch].version == "main"
    assert by_path[dev_clone].version == "feature-x/clone2"
    assert not by_path[dev_branch].default_target
    assert not by_path[dev_clone].default_target
    assert found[-1].kind is StoreKind.DEV  # developer builds are listed last

    # A newer channels-layout store takes over; the same version in both layouts: channels wins.
    newer = channel_store_path(root, "0.9.0")
    build_store(newer, StoreShape.WITH_AGENTS)
    assert [s.path for s in discover_stores(paths_for(private_home)) if s.default_target] == [newer]
    same = root / "versions" / "0.9.0" / "data" / "db" / "objects.db"
    build_store(same, StoreShape.WITH_AGENTS)
    assert [s.path for s in discover_stores(paths_for(private_home)) if s.default_target] == [newer]


def test_shared_store_and_environment_overrides(private_home: Path, tmp_path: Path) -> None:
    root = private_home / ".agentmux"
    shared = build_store(root / "shared" / "store.db", StoreShape.SHARED)
    channel = build_store(channel_store_path(root, "0.33.0"), StoreShape.WITH_MIGRATIONS)
    found = discover_stores(paths_for(private_home))
    assert [(s.path, s.default_target) for s in found] == [(channel, True), (shared, True)]
    assert found[1].kind is StoreKind.SHARED
    assert found[1].is_shared

    # AGENTMUX_SHARED_DIR replaces <root>/shared.
    elsewhere = build_store(tmp_path / "shared-elsewhere" / "store.db", StoreShape.SHARED_RENAMED)
    found = discover_stores(paths_for(private_home, AGENTMUX_SHARED_DIR=str(elsewhere.parent)))
    assert [s.path for s in found] == [channel, elsewhere]

    # AGENTMUX_HOME_OVERRIDE replaces the root; an explicit root (--agentmux-root) wins over it.
    other_root = tmp_path / "other-root"
    other = build_store(channel_store_path(other_root, "1.0.0"), StoreShape.ACCOUNTS_RENAMED)
    by_env = paths_for(private_home, AGENTMUX_HOME_OVERRIDE=str(other_root))
    assert by_env.agentmux_root == other_root
    assert by_env.shared_dir == other_root / "shared"
    assert [s.path for s in discover_stores(by_env)] == [other]
    explicit = AppPaths.resolve(private_home, root, env={"AGENTMUX_HOME_OVERRIDE": str(other_root)})
    assert explicit.agentmux_root == root
    assert channel in [s.path for s in discover_stores(explicit)]


def test_home_resolution_follows_home_then_userprofile(tmp_path: Path) -> None:
    assert AppPaths.resolve(env={"HOME": str(tmp_path / "a")}).home == tmp_path / "a"
    assert AppPaths.resolve(env={"USERPROFILE": str(tmp_path / "b")}).home == tmp_path / "b"
    resolved = AppPaths.resolve(env={"HOME": str(tmp_path / "a")})
    assert resolved.agentmux_root == tmp_path / "a" / ".agentmux"
    assert resolved.channel == "stable"


@pytest.mark.parametrize(
    ("shape", "targeted"),
    [(StoreShape.SHARED, True), (StoreShape.SHARED_RENAMED, True), (StoreShape.POST_BUNDLE, False),
     (StoreShape.PRE_BUNDLE, False)],
)
def test_shared_store_is_a_default_target_only_of_the_bundle_era(
    private_home: Path, shape: StoreShape, targeted: bool
) -> None:
    root = private_home / ".agentmux"
    shared = build_store(root / "shared" / "store.db", shape)
    channel = build_store(channel_store_path(root, "0.40.0"), StoreShape.WITH_MIGRATIONS)
    old = build_store(channel_store_path(root, "0.39.0"), StoreShape.WITH_MIGRATIONS)
    paths = paths_for(private_home)
    plan = build_plan(paths, load_registry(), None, NOW_MS)
    assert [s.path for s in plan.stores] == ([channel, shared] if targeted else [channel])
    everything = build_plan(paths, load_registry(), None, NOW_MS, include_all=True)
    assert {s.path for s in everything.stores} == {channel, shared, old}



@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; other systems ask ps or tasklist")
@pytest.mark.parametrize(("name", "is_agentmux"), [
    ("agentmux", True), ("agentmuxsrv", True), ("agentmux-rs", True),
    ("agentmux-companion", False), ("agentmuxer", False),
])
def test_running_agentmux_is_told_by_its_process_name(tmp_path: Path, name: str, is_agentmux: bool) -> None:
    # A real process under that name: a copy of `sleep`.
    program = tmp_path / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    before = agentmux_process_running()
    process = subprocess.Popen([str(program), "30"])
    try:
        deadline = time.monotonic() + 5
        while not _process_started(process.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert agentmux_process_running() is (is_agentmux or before)
    finally:
        process.kill()
        process.wait()
    assert agentmux_process_running() is before  # gone again (unless a real AgentMux runs here)


def _process_started(pid: int) -> bool:
    # Until exec, /proc/<pid>/comm still holds the parent's name.
    try:
        return Path(f"/proc/{pid}/exe").resolve().name != Path(sys.executable).resolve().name
    except OSError:
        return False
