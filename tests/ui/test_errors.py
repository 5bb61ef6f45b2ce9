"""Every known error reaches the user as a clear message; a bug reaches the crash dialog."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from agentmux_companion.core import store as st
from agentmux_companion.core.errors import (
    CompanionError,
    KeyringUnavailable,
    StoreBusy,
    StoreChanged,
    StoreRefused,
    UndoRefused,
    UsageError,
)
from agentmux_companion.core.migration.plan import MigrationPlan
from agentmux_companion.core.sandbox import DemoSandbox, StoreShape
from agentmux_companion.core.scan_ahead import ScanAhead
from agentmux_companion.ui.controller import ControllerOptions
from agentmux_companion.ui.icons import TrayState
from agentmux_companion.ui.messages import Level, message_for_error
from tests.helpers.schema import create_store
from tests.ui.conftest import MakeController, answer, bundles, start_and_scan


@pytest.mark.parametrize(
    ("shape", "state", "words"),
    [
        (StoreShape.PRE_BUNDLE, TrayState.ERROR, st.PRE_BUNDLE_REASON),
        (StoreShape.EARLY_CHAIN, TrayState.ERROR, st.PRE_BUNDLE_REASON),
        (StoreShape.POST_BUNDLE, TrayState.NOTHING_TO_DO, st.POST_BUNDLE_REASON),
    ],
)
def test_store_of_the_wrong_era(
    qtbot: QtBot, make_controller: MakeController, tmp_path: Path, shape: StoreShape, state: TrayState, words: str
) -> None:
    store = create_store(tmp_path / "other" / "objects.db", shape)
    controller = make_controller(options=ControllerOptions(use_tray=False, stores=[store]))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    assert controller.state is state
    assert window.banner.isVisible()
    assert window.banner.title.text() == "<b>This store cannot be migrated</b>"
    assert window.banner.text.text() == words
    assert window.plan_page.refused_label.isVisible()
    assert words in window.plan_page.refused_label.text()
    assert "cannot be migrated" in window.plan_page.stores_list.item(0).text()
    assert not window.migrate_button.isEnabled()
    assert controller.funnel.last_crash is None


@pytest.fixture
def store_lock(sandbox: DemoSandbox) -> Iterator[sqlite3.Connection]:
    """Another writer holding the store, as a busy AgentMux would (BEGIN IMMEDIATE)."""
    conn = sqlite3.connect(str(sandbox.store), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


def test_busy_store(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox, store_lock: sqlite3.Connection
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=False, busy_timeout_ms=200))
    start_and_scan(qtbot, controller)  # reading a WAL store is not blocked by a writer
    window = controller.window
    assert window is not None
    assert window.migrate_button.isEnabled()
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000) as finished:
        qtbot.mouseClick(window.migrate_button, Qt.MouseButton.LeftButton)
        answer(qtbot, controller)
    (result,) = finished.args[0]
    assert result.outcome == "busy"
    assert controller.state is TrayState.ERROR
    assert window.banner.title.text() == "<b>The AgentMux store is busy</b>"
    assert "Close AgentMux or wait a moment" in window.banner.text.text()
    assert "not migrated" in window.result_page.result_label.text()
    assert not window.result_page.undo_button.isVisible()
    assert not window.result_page.finish_button.isVisible()
    store_lock.execute("ROLLBACK")
    assert bundles(sandbox.store) == [("b-work", "Work"), ("blank", "__blank__")]


@pytest.fixture
def read_only(sandbox: DemoSandbox) -> Iterator[Callable[[], None]]:
    """Make the demo store read-only for real (chmod; as root, where chmod does not bind, chattr +i)."""
    store = sandbox.store
    made_immutable = False

    def apply() -> None:
        nonlocal made_immutable
        store.chmod(0o444)
        if os.access(store, os.W_OK):
            subprocess.run(["chattr", "+i", str(store)], check=True)
            made_immutable = True
        assert not os.access(store, os.W_OK), "could not make the store read-only"

    yield apply
    if made_immutable:
        subprocess.run(["chattr", "-i", str(store)], check=True)
    store.chmod(0o644)


def test_read_only_store(
    qtbot: QtBot, make_controller: MakeController, read_only: Callable[[], None]
) -> None:
    read_only()
    controller = make_controller(options=ControllerOptions(use_tray=False))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    assert controller.state is TrayState.ERROR
    assert window.banner.title.text() == "<b>This store cannot be migrated</b>"
    assert "is read-only; nothing was written" in window.banner.text.text()
    assert [r[2] for r in window.provider_rows()][:2] == ["Cannot be added", "Cannot be added"]
    assert not window.migrate_button.isEnabled()


@pytest.mark.parametrize(
    ("error", "title"),
    [
        (StoreChanged("x"), "The store changed since the preview"),
        (StoreBusy("x"), "The AgentMux store is busy"),
        (StoreRefused("x"), "This store cannot be migrated"),
        (UndoRefused("x"), "Undo is not possible"),
        (KeyringUnavailable("x"), "The keyring cannot be used"),
        (UsageError("x"), "That cannot be done"),
        (CompanionError("x"), "Something needs your attention"),
    ],
)
@pytest.mark.usefixtures("qtbot")
def test_each_known_error_has_its_own_title(error: CompanionError, title: str) -> None:
    message = message_for_error(error)
    assert message.title == title
    assert message.text.startswith("x")
    assert message.level in (Level.WARNING, Level.ERROR)


def test_undo_refused_is_a_message_not_a_crash(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=False))
    start_and_scan(qtbot, controller)
    with qtbot.waitSignal(controller.funnel.message_posted, timeout=20_000) as posted:
        controller.undo([sandbox.store])  # nothing was migrated: undo refuses
    assert posted.args[0].title == "Undo is not possible"
    assert controller.funnel.last_crash is None


@pytest.mark.parametrize("scanned_ahead", [False, True], ids=["a scan", "the first scan, run ahead of the GUI"])
def test_a_bug_opens_the_crash_dialog_with_redacted_details(
    qtbot: QtBot, make_controller: MakeController, scanned_ahead: bool
) -> None:
    secret = "sk-ant-oat01-THIS-MUST-NOT-LEAK-123456"

    def broken_scan(_progress: Callable[[str], None]) -> MigrationPlan:
        raise RuntimeError(f"unexpected shape near {secret}")

    controller = make_controller(options=ControllerOptions(use_tray=False), plan_builder=broken_scan)
    # The launcher's first scan fails on its own thread; its job reports it like any scan's.
    first_scan = ScanAhead(lambda: broken_scan(lambda _step: None)) if scanned_ahead else None
    with qtbot.waitSignal(controller.funnel.crashed, timeout=20_000):
        controller.start(first_scan)
    dialog = controller.crash_dialog
    assert dialog is not None
    assert dialog.isVisible()
    details = dialog.details.toPlainText()
    assert "RuntimeError" in details
    assert "broken_scan" in details
    assert "Traceback" in details
    assert secret not in details
    assert secret not in dialog.report.summary
    assert controller.state is TrayState.ERROR
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    copied = QGuiApplication.clipboard().text()
    assert "RuntimeError" in copied
    assert secret not in copied
    log_text = controller.paths.log_file.read_text(encoding="utf-8")
    assert "RuntimeError" in log_text
    assert secret not in log_text
