"""The first scan run ahead of the GUI: its plan, its error, and the bound on waiting for it."""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

import pytest

from agentmux_companion.core.migration.plan import MigrationPlan, plan_every_store
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import load_registry
from agentmux_companion.core.sandbox import build_demo_sandbox
from agentmux_companion.core.scan_ahead import ScanAhead


def test_the_plan_scanned_ahead_is_the_plan_a_scan_gives(tmp_path: Path) -> None:
    sandbox = build_demo_sandbox(tmp_path / "demo", 1_800_000_000_000)
    paths = AppPaths.resolve(home=sandbox.home, agentmux_root=sandbox.agentmux_root, env={})
    registry = load_registry()
    ahead: ScanAhead[MigrationPlan] = ScanAhead(lambda: plan_every_store(paths, registry))
    assert ahead.wait()
    ahead_plan = ahead.result()
    here = plan_every_store(paths, registry)
    assert [(s.path, s.will_write, s.agents_to_backfill) for s in ahead_plan.stores] == \
        [(s.path, s.will_write, s.agents_to_backfill) for s in here.stores]
    # Every store found, as the window shows them: the demo's current version's and an older one's.
    assert [s.location.default_target for s in ahead_plan.stores] == [True, False]
    assert ahead.result() is ahead_plan  # collected again: the same plan, not a second scan


def test_an_error_is_raised_where_the_result_is_collected_with_its_own_traceback() -> None:
    def broken_scan() -> MigrationPlan:
        raise OSError("the disk went away")

    ahead: ScanAhead[MigrationPlan] = ScanAhead(broken_scan)
    assert ahead.wait()
    with pytest.raises(OSError, match="the disk went away") as raised:
        ahead.result()
    frames = [frame.name for frame in traceback.extract_tb(raised.value.__traceback__)]
    assert "broken_scan" in frames  # where it went wrong, not only where it was collected


def test_waiting_is_bounded_and_the_result_still_comes() -> None:
    started, release = threading.Event(), threading.Event()

    def held_scan() -> str:  # as a scan waiting for a store another program holds
        started.set()
        release.wait(30)
        return "plan"

    ahead = ScanAhead(held_scan)
    assert started.wait(10)
    assert not ahead.wait(0.05)  # the launcher goes on without it
    release.set()
    assert ahead.result() == "plan"  # and the first scan's job collects it
    assert ahead.wait(0)
