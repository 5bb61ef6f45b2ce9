"""Slow work never blocks the event loop: a timer keeps firing and clicks are handled meanwhile.

No durations are asserted. Each test holds the work back with a real obstacle (a scan waiting on
an event, a store locked by another writer) and checks that, while the worker is provably still
inside that work, the GUI thread went on processing timer events and input.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from agentmux_companion.core.migration.plan import MigrationPlan, build_plan, plan_every_store
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.core.sandbox import DemoSandbox
from agentmux_companion.core.scan_ahead import ScanAhead
from agentmux_companion.ui.controller import ControllerOptions
from agentmux_companion.ui.icons import TrayState
from tests.ui.conftest import MakeController, answer, bundles, start_and_scan


class Ticker:
    """Counts QTimer ticks: they only arrive while the GUI thread's event loop runs."""

    def __init__(self) -> None:
        self.ticks = 0
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        self.ticks += 1


def test_a_slow_scan_keeps_the_window_responsive(
    qtbot: QtBot, make_controller: MakeController, paths: AppPaths, registry: ProviderRegistry
) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_scan(progress: Callable[[str], None]) -> MigrationPlan:
        del progress  # the plan builder's signature; this scan reports no steps
        entered.set()
        release.wait(60)
        return build_plan(paths, registry, include_all=True)

    controller = make_controller(options=ControllerOptions(use_tray=False), plan_builder=slow_scan)
    ticker = Ticker()
    ticker.timer.start()
    controller.start()
    qtbot.waitUntil(entered.is_set)
    start = ticker.ticks
    qtbot.waitUntil(lambda: ticker.ticks >= start + 10)
    window = controller.window
    assert window is not None
    assert window.isVisible()
    assert controller.runner.busy
    assert controller.state is TrayState.WORKING
    assert not release.is_set()
    # Input is handled too: Rescan during a scan is accepted (and queued), Migrate is not offered.
    qtbot.mouseClick(window.rescan_button, Qt.MouseButton.LeftButton)
    assert controller.scanning.rescan_pending
    assert not window.migrate_button.isEnabled()
    with qtbot.waitSignal(controller.scan_finished, timeout=20_000):
        release.set()
    ticker.timer.stop()
    assert controller.state is TrayState.ACTION_NEEDED


def test_a_first_scan_still_running_when_the_window_opens_is_collected_by_its_job(
    qtbot: QtBot, make_controller: MakeController, paths: AppPaths, registry: ProviderRegistry
) -> None:
    # The launcher waits for its first scan only so long (core/scan_ahead.py): one held longer,
    # by a busy store say, is still running when the window opens, and the plan comes when it ends.
    entered, release = threading.Event(), threading.Event()

    def held_scan() -> MigrationPlan:
        entered.set()
        release.wait(60)
        return plan_every_store(paths, registry)

    first_scan = ScanAhead(held_scan)
    assert entered.wait(10)
    assert not first_scan.wait(0.01)
    controller = make_controller(options=ControllerOptions(use_tray=False))
    ticker = Ticker()
    ticker.timer.start()
    controller.start(first_scan)
    start = ticker.ticks
    qtbot.waitUntil(lambda: ticker.ticks >= start + 10)
    window = controller.window
    assert window is not None
    assert window.isVisible()
    assert window.status_label.text() == "Looking for AgentMux stores and logins…"
    assert not window.migrate_button.isEnabled()
    assert controller.scan_running
    with qtbot.waitSignal(controller.scan_finished, timeout=20_000) as finished:
        release.set()
    ticker.timer.stop()
    assert finished.args[0] is first_scan.result()  # that scan's plan, not a second scan's
    assert controller.scans_started == 1
    assert controller.state is TrayState.ACTION_NEEDED
    assert window.provider_rows()


def test_a_locked_store_during_migrate_keeps_the_window_responsive(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=False, busy_timeout_ms=60_000))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None

    blocker = sqlite3.connect(str(sandbox.store), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # AgentMux writing: our BEGIN IMMEDIATE waits for it
    try:
        ticker = Ticker()
        ticker.timer.start()
        qtbot.mouseClick(window.migrate_button, Qt.MouseButton.LeftButton)
        answer(qtbot, controller)
        qtbot.waitUntil(lambda: window.progress.label.text().startswith("Opening"))
        start = ticker.ticks
        qtbot.waitUntil(lambda: ticker.ticks >= start + 10)
        assert controller.runner.busy
        assert controller.state is TrayState.WORKING
        assert window.progress.isVisible()
        assert not window.migrate_button.isEnabled()
        # The window still reacts to clicks while the worker waits for the lock.
        qtbot.mouseClick(window.rescan_button, Qt.MouseButton.LeftButton)
        assert controller.scanning.rescan_pending
        with qtbot.waitSignal(controller.migrate_finished, timeout=30_000) as finished:
            blocker.execute("ROLLBACK")  # AgentMux is done: the migration goes ahead
        ticker.timer.stop()
    finally:
        if blocker.in_transaction:
            blocker.execute("ROLLBACK")
        blocker.close()
    (result,) = finished.args[0]
    assert result.outcome == "migrated"
    assert ("default", "Default") in bundles(sandbox.store)
