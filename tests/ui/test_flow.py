"""The main path through the GUI: launch, scan, the plan, migrate, the result, undo."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from agentmux_companion.core.migration.plan import build_plan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.core.sandbox import DemoSandbox, claude_credentials, write_credentials
from agentmux_companion.ui.controller import ControllerOptions
from agentmux_companion.ui.icons import TrayState
from agentmux_companion.ui.keyring_health import Health
from agentmux_companion.ui.plan_window import PlanWindow
from tests.ui.conftest import MakeController, answer, bundles, start_and_scan, window_with_plan


def test_launch_scan_migrate_result_undo(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox, paths: AppPaths, registry: ProviderRegistry
) -> None:
    controller, window = window_with_plan(qtbot, make_controller)
    assert window.isVisible()
    assert controller.state is TrayState.ACTION_NEEDED
    assert "Claude Code" in controller.status_line
    assert "Codex" in controller.status_line

    # The window shows the very plan object the scan built, and it says what the CLI's plan says.
    assert window.plan is controller.plan
    assert controller.plan is not None
    cli_plan = build_plan(paths, registry, None, controller.plan.now_ms, include_all=True)
    # The same decisions (a new account's id is minted afresh with every preview).
    assert [s.to_json(minted_ids=False) for s in controller.plan.stores] == [
        s.to_json(minted_ids=False) for s in cli_plan.stores]

    # Stores: the newest version is checked, the older one is listed unchecked.
    assert window.plan_page.stores_list.count() == 2
    assert window.checked_store_paths() == [sandbox.store]
    assert window.plan_page.stores_list.item(0).text() == "stable 0.33.4 — ready to migrate"
    assert "older version" in window.plan_page.stores_list.item(1).text()

    rows = window.provider_rows()
    assert [r[0] for r in rows] == ["Claude Code", "Codex", "OpenClaw"]
    claude, codex, openclaw = rows
    assert claude[1:3] == ("valid", "Will be added to the Default bundle")
    assert ".claude into the Default bundle" in claude[3]
    assert codex[1:3] == ("expired", "Will be added to the Default bundle")
    assert openclaw[1:3] == ("not found", "Nothing to add")
    # Files, fingerprints and table names are under Details, not in the plain view.
    details = window.plan_page.details.body.text()
    assert str(sandbox.home / ".claude" / ".credentials.json") in details
    assert "sha256:" in details
    assert "db_agent_instances" in details
    assert not window.plan_page.details.body.isVisible()
    # The "Why" shown adds to the row: neither the action nor the file again
    # (the core's full reason, as the CLI prints it, is the tooltip).
    shown_why = [item.text() for row in range(3) if (item := window.plan_page.providers_table.item(row, 3)) is not None]
    assert shown_why == [
        "A login was found and no bundle uses it yet.",
        "A login was found and no bundle uses it yet. Its token has expired; the CLI renews it with its "
        "refresh token on next use.",
        "Not signed in to this CLI on this computer.",
    ]
    for row, why in zip(rows, shown_why, strict=True):
        assert row[2] not in why
        assert ".credentials.json" not in why
        assert "Default bundle" not in why
    assert window.plan_page.bundle_value.text() == "will be created"
    assert window.plan_page.agents_value.text() == "8 agent records (6 agents, 2 older copies)"
    assert window.plan_page.backup_value.full_text() == str(paths.backups_dir)
    assert window.migrate_button.isEnabled()
    assert not window.migrate_button.isDefault()

    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000) as migrated:
        qtbot.mouseClick(window.migrate_button, Qt.MouseButton.LeftButton)
        dialog = answer(qtbot, controller)
    assert dialog.proceed_button.accessibleName() == "Migrate 1 store"
    (result,) = migrated.args[0]
    assert result.outcome == "migrated"
    assert controller.state is TrayState.DONE
    assert ("default", "Default") in bundles(sandbox.store)
    assert window.result_page.isVisible()
    text = window.result_page.result_label.text()
    assert "migrated" in text
    assert "Logins added to the Default bundle: 2" in text
    assert "8 agent records (6 agents, 2 older copies) now use it" in text
    assert result.backup
    assert Path(result.backup).is_file()
    assert window.result_page.undo_button.isVisible()
    assert window.result_page.open_backup_button.isVisible()

    # The rescan after our own write finds nothing left; the tray keeps saying "done".
    reused = "exists and is kept as it is"
    qtbot.waitUntil(lambda: not controller.runner.busy and window.plan_page.bundle_value.text() == reused)
    assert controller.state is TrayState.DONE

    with qtbot.waitSignal(controller.undo_finished, timeout=20_000):
        qtbot.mouseClick(window.result_page.undo_button, Qt.MouseButton.LeftButton)
        answer(qtbot, controller)
    assert ("default", "Default") not in bundles(sandbox.store)
    undone = window.result_page.result_label.text()
    # Counted as the migration counted: the same 8 agent records.
    assert "undone" in undone
    assert "8 agent records given back their former bundle" in undone
    # Undo puts the store back, so the migration is offered again.
    qtbot.waitUntil(lambda: controller.state is TrayState.ACTION_NEEDED, timeout=20_000)

    # The log has the run, and no token from the demo's credential files.
    log_text = paths.log_file.read_text(encoding="utf-8")
    assert "migrate" in log_text
    assert "DEMO-not-a-real-token" not in log_text
    assert "codex-DEMO-access-token" not in log_text


def test_keyboard_only(qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox) -> None:
    controller, window = window_with_plan(qtbot, make_controller)
    window.activateWindow()
    # These tests have no D-Bus session: once the background check says so, the keyring option is
    # unavailable and Tab skips it (test_keyring_ui.py covers it with a real keyring).
    qtbot.waitUntil(lambda: controller.keyring.backend.health is Health.UNAVAILABLE, timeout=20_000)
    assert not window.plan_page.keyring_checkbox.isEnabled()
    window.plan_page.stores_list.setFocus()

    order = []
    for _ in range(4):
        focused = QApplication.focusWidget()
        assert focused is not None
        order.append(focused)
        QTest.keyClick(focused, Qt.Key.Key_Tab)
    # Reading order: stores, logins, then Details (the keyring option is unavailable here).
    page = window.plan_page
    assert order[:4] == [page.stores_list, page.providers_table, page.backup_value.copy_button, page.details.toggle]

    # Space unchecks the chosen store (Migrate becomes unavailable), Space again checks it.
    window.plan_page.stores_list.setFocus()
    QTest.keyClick(window.plan_page.stores_list, Qt.Key.Key_Space)
    assert window.checked_store_paths() == []
    assert not window.migrate_button.isEnabled()
    QTest.keyClick(window.plan_page.stores_list, Qt.Key.Key_Space)
    assert window.checked_store_paths() == [sandbox.store]

    # The Migrate button by keyboard: Space on it asks first; Enter in the confirmation is Cancel.
    window.migrate_button.setFocus()
    QTest.keyClick(window.migrate_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: controller.dialog is not None and controller.dialog.isVisible())
    assert controller.dialog is not None
    QTest.keyClick(controller.dialog, Qt.Key.Key_Return)
    assert not controller.dialog.isVisible()
    assert ("default", "Default") not in bundles(sandbox.store)
    QTest.keyClick(window.migrate_button, Qt.Key.Key_Space)
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        answer(qtbot, controller)
    assert ("default", "Default") in bundles(sandbox.store)

    # Esc closes the window; without a tray that quits the app.
    qtbot.waitUntil(lambda: not controller.runner.busy)
    with qtbot.waitSignal(controller.quit_requested, timeout=5_000):
        QTest.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isVisible()


def test_the_result_page_is_built_with_the_first_result_and_tabs_in_reading_order(
        qtbot: QtBot, make_controller: MakeController) -> None:
    # Not on the way to the first plan (plan_window.PlanWindow.result_page); once a result is
    # shown, Tab goes through its buttons, then the window's own, and back round.
    _controller, window = window_with_plan(qtbot, make_controller)
    window.activateWindow()
    assert window.pages.count() == 2
    window.show_result("Migrated", "done", backup=True, undo=True, finish=True, autostart_on=True)
    assert window.pages.count() == 3
    assert window.pages.currentWidget() is window.result_page
    page = window.result_page
    page.text_area.setFocus()
    seen = tab_round(window, 10)
    # Reading order: the result's text, its buttons, then the window's own row left to right
    # (Migrate is hidden on a result, the banner too with no message), and round again.
    assert seen == ["text_area", "open_backup_button", "backups_button", "undo_button", "back_button",
                    "stop_autostart", "finish_button", "more_button", "rescan_button", "close_button"]
    assert tab_round(window, 1) == ["text_area"]


def test_the_window_buttons_tab_left_to_right(qtbot: QtBot, make_controller: MakeController) -> None:
    # The row at the bottom, as it reads: More (without a tray), Migrate, Rescan, Close.
    _controller, window = window_with_plan(qtbot, make_controller)
    window.activateWindow()
    window.more_button.setFocus()
    assert tab_round(window, 4) == ["more_button", "migrate_button", "rescan_button", "close_button"]


def tab_round(window: PlanWindow, presses: int) -> list[str]:
    """The window's attribute names (or the page's) of the widgets that had the focus, pressing Tab each time."""
    page = window.result_page if window.pages.count() == 3 else window.plan_page
    names = {id(w): n for n, w in [*vars(page).items(), *vars(window).items()] if hasattr(w, "setFocus")}
    seen = []
    for _ in range(presses):
        focused = QApplication.focusWidget()
        assert focused is not None
        seen.append(names.get(id(focused), type(focused).__name__))
        QTest.keyClick(focused, Qt.Key.Key_Tab)
    return seen


def test_accessible_names(qtbot: QtBot, make_controller: MakeController) -> None:
    from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QLabel, QWidget

    controller = make_controller(options=ControllerOptions(use_tray=False))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None

    def unnamed_controls() -> list[str]:
        # Every button and list, and every other control Tab can reach, on the page shown;
        # labels say their own text. Buttons inside Qt's own item views (header corner buttons)
        # are Qt's business.
        focusable = [w for w in window.findChildren(QWidget) if w.focusPolicy().value & Qt.FocusPolicy.TabFocus.value]
        interactive = window.findChildren(QAbstractButton) + window.findChildren(QAbstractItemView) + focusable
        unnamed = {w for w in interactive if not w.accessibleName() and not isinstance(w, QLabel)
                   and w.parent() is not window.plan_page.providers_table and w.isVisibleTo(window)}
        return sorted(w.objectName() or type(w).__name__ for w in unnamed)

    assert unnamed_controls() == []
    window.show_result("Migrated", "done", backup=True, undo=True, finish=True, autostart_on=True)
    assert unnamed_controls() == []


def test_no_tray_opens_the_window_and_closing_quits(qtbot: QtBot, make_controller: MakeController) -> None:
    # Offscreen there is no system tray, as on GNOME without AppIndicator.
    controller = make_controller(options=ControllerOptions(use_tray=None))
    start_and_scan(qtbot, controller)
    assert controller.tray is None
    window = controller.window
    assert window is not None
    assert window.isVisible()
    assert window.more_button.isVisible()  # the tray's menu is reachable from the window
    with qtbot.waitSignal(controller.quit_requested, timeout=5_000):
        qtbot.mouseClick(window.close_button, Qt.MouseButton.LeftButton)


def test_tray_mode_first_launch_opens_the_window_once(qtbot: QtBot, make_controller: MakeController) -> None:
    first = make_controller(options=ControllerOptions(use_tray=True))
    start_and_scan(qtbot, first)
    assert first.tray is not None
    assert first.window is not None
    assert first.window.isVisible()
    assert "Ready to add" in first.tray.icon.toolTip()
    # Closing the window does not quit while the tray lives.
    with qtbot.assertNotEmitted(first.quit_requested):
        first.window.reject()
    first.shutdown()

    second = make_controller(options=ControllerOptions(use_tray=True))
    start_and_scan(qtbot, second)
    assert second.state is TrayState.ACTION_NEEDED
    assert second.window is None  # not the first launch any more: the tray and a notification only


def test_a_plan_that_arrives_as_the_companion_shuts_down_starts_no_watch(
    qtbot: QtBot, make_controller: MakeController
) -> None:
    # The first plan's watch follows it a turn later (Scanning.follow); a shutdown in
    # between (a quit in the same turn) stopped the watching for good, and it must stay stopped.
    controller = make_controller(options=ControllerOptions(use_tray=False))
    with qtbot.waitSignal(controller.scan_finished, timeout=20_000):
        controller.start()
    controller.shutdown()
    qtbot.waitUntil(lambda: controller.scanning.plans_followed > 0)
    assert controller.watcher.files() == []


def test_changes_on_disk_trigger_a_rescan(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    controller, window = window_with_plan(qtbot, make_controller)
    assert str(sandbox.home / ".claude" / ".credentials.json") in controller.watcher.files()
    assert window.provider_rows()[2][2] == "Nothing to add"
    scans = controller.scans_started

    # A notification that changes nothing (our own reads touch SQLite's -shm files) is ignored.
    controller.watcher.check()
    assert controller.scans_started == scans

    # OpenClaw's CLI logs in: the file appears, the watcher notices, the plan updates.
    with qtbot.waitSignal(controller.scan_finished, timeout=20_000):
        login = claude_credentials("oc-access-x", "oc-refresh-x", 4_102_444_800_000)
        write_credentials(sandbox.home, "openclaw", login)
    assert window.provider_rows()[2][2] == "Will be added to the Default bundle"
    assert controller.scans_started == scans + 1
