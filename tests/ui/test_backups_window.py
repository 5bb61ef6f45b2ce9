"""The "Backups…" window.

The catalog in plain words, a restore that asks first and names what will change, and Show in
folder; reading and restoring run in jobs, never on the GUI thread.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from agentmux_companion.core.migration.apply import apply_plan
from agentmux_companion.core.migration.plan import build_plan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.core.sandbox import DemoSandbox
from agentmux_companion.core.store import explicit_locations
from tests.helpers.stores import dump_store
from tests.ui.conftest import MakeController, UrlRecorder, window_with_plan


def test_backups_window_lists_restores_and_shows_in_folder(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox, paths: AppPaths,
    registry: ProviderRegistry, opened_urls: UrlRecorder,
) -> None:
    original = dump_store(sandbox.store)
    plan = build_plan(paths, registry, explicit_locations([sandbox.store]), None)
    [result] = apply_plan(plan, paths, registry)
    assert result.outcome == "migrated"

    controller = make_controller()
    controller.show_backups_window()
    window = controller.backups_window
    assert window is not None
    assert window.isVisible()
    qtbot.waitUntil(lambda: window.list.count() == 1, timeout=10_000)
    text = window.list.item(0).text()
    assert text.startswith("Before migrating — ")
    assert " kB — verified" in text
    assert str(sandbox.store.resolve()) in text
    assert window.restore_button.isEnabled()
    assert window.show_button.isEnabled()

    qtbot.mouseClick(window.show_button, Qt.MouseButton.LeftButton)
    assert [u.toLocalFile() for u in opened_urls.urls] == [str(Path(result.backup).parent)]

    # Enter in the list presses nothing.
    window.list.setFocus()
    qtbot.keyClick(window.list, Qt.Key.Key_Return)
    assert window.dialog is None
    qtbot.mouseClick(window.restore_button, Qt.MouseButton.LeftButton)
    box = window.dialog
    assert box is not None
    assert box.isVisible()
    # The one confirmation of every write: a verb, and Cancel the default.
    assert box.proceed_button.accessibleName() == "Restore the backup"
    assert box.cancel_button.isDefault()
    question = box.changes_label.text()
    first_line = text.splitlines()[0]
    assert first_line in question
    assert str(sandbox.store.resolve()) in question
    assert "1 migration(s) made since will count as undone" in question
    assert "is lost" in question
    assert dump_store(sandbox.store) != original  # nothing happens before the answer
    with qtbot.waitSignal(window.restored, timeout=20_000):
        qtbot.mouseClick(box.proceed_button, Qt.MouseButton.LeftButton)
    assert dump_store(sandbox.store) == original
    assert "Restored" in window.outcome.text()
    qtbot.waitUntil(lambda: window.list.count() == 2, timeout=10_000)
    assert window.list.item(0).text().startswith("Before restoring — ")
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=20_000)


def test_a_refused_restore_is_said_in_the_window(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox, paths: AppPaths,
    registry: ProviderRegistry,
) -> None:
    plan = build_plan(paths, registry, explicit_locations([sandbox.store]), None)
    [result] = apply_plan(plan, paths, registry)
    assert result.outcome == "migrated"
    migrated = dump_store(sandbox.store)
    # AgentMux upgrades the store since: the backup would downgrade it.
    with closing(sqlite3.connect(str(sandbox.store))) as conn:
        conn.execute("PRAGMA user_version = 99")
    upgraded = dump_store(sandbox.store)
    assert upgraded != migrated
    controller = make_controller()
    controller.show_backups_window()
    window = controller.backups_window
    assert window is not None
    qtbot.waitUntil(lambda: window.list.count() == 1, timeout=10_000)
    qtbot.mouseClick(window.restore_button, Qt.MouseButton.LeftButton)
    assert window.dialog is not None
    qtbot.mouseClick(window.dialog.proceed_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Nothing was changed" in window.outcome.text(), timeout=20_000)
    assert "downgrade" in window.outcome.text()
    assert dump_store(sandbox.store) == upgraded
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=20_000)


def test_the_result_view_opens_the_backups_window(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    """Issue #10: the Backups window is reached from the result of a migration too."""
    controller, window = window_with_plan(qtbot, make_controller)
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        controller.migrate([sandbox.store])
    button = window.result_page.backups_button
    assert button.isVisible()
    assert button.accessibleName() == "Backups"
    button.click()
    backups = controller.backups_window
    assert backups is not None
    qtbot.waitUntil(backups.isVisible, timeout=10_000)
