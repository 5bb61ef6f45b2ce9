"""One truthful state: plan, progress or the last action's result (issue #12).

No stale banner, the same counts everywhere, no notification over the open window, and Finish
after a success.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from agentmux_companion.core.sandbox import DemoSandbox
from agentmux_companion.ui.controller import ControllerOptions
from agentmux_companion.ui.icons import TrayState
from agentmux_companion.ui.plan_page import PlanPage
from agentmux_companion.ui.plan_window import WindowState
from tests.ui.conftest import MakeController, answer, start_and_scan, window_with_plan


def test_the_window_shows_one_state_and_no_stale_banner(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    controller, window = window_with_plan(qtbot, make_controller)
    assert window.state is WindowState.PLAN
    assert window.plan_page.isVisible()
    assert not window.result_page.isVisible()
    assert not window.progress.isVisible()

    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        controller.migrate([sandbox.store])
    assert window.state is WindowState.RESULT
    assert window.result_page.isVisible()
    assert not window.plan_page.isVisible()  # the result replaces the plan: nothing squeezed
    migrated = window.result_page.result_label.text()
    assert "8 agent records (6 agents, 2 older copies) now use it" in migrated
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=20_000)

    window.result_page.undo_button.click()
    with qtbot.waitSignal(controller.undo_finished, timeout=20_000):
        answer(qtbot, controller)
    assert window.state is WindowState.RESULT
    undone = window.result_page.result_label.text()
    # The undo's result replaces the migration's: no "migrated" left under an "undone" banner.
    assert "undone" in undone
    assert "migrated" not in undone
    assert "8 agent records given back their former bundle" in undone  # counted as the migration counted
    assert not window.banner.isVisible()
    assert window.status_label.text() == "Last migration undone"

    # Back to the plan: the undo put everything back, so the plan offers the migration again.
    qtbot.waitUntil(lambda: controller.state is TrayState.ACTION_NEEDED and not controller.runner.busy,
                    timeout=20_000)
    assert window.state is WindowState.RESULT  # a rescan under the result does not replace it
    window.result_page.back_button.click()
    assert window.state is WindowState.PLAN
    assert window.migrate_button.isEnabled()
    assert window.status_label.text().startswith("2 logins can be added")


def test_a_message_of_an_earlier_state_goes_when_the_state_changes(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    controller, window = window_with_plan(qtbot, make_controller)
    with qtbot.waitSignal(controller.funnel.message_posted, timeout=20_000):
        controller.undo([sandbox.store])  # nothing migrated yet: undo refuses, the banner says so
    qtbot.waitUntil(lambda: not controller.runner.busy)
    assert window.banner.isVisible()
    assert window.state is WindowState.PLAN
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        controller.migrate([sandbox.store])
    assert window.state is WindowState.RESULT
    assert not window.banner.isVisible()


def test_no_notification_while_the_window_is_open(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=True, debounce_ms=50))
    shown: list[tuple[str, str]] = []
    controller.start()
    assert controller.tray is not None
    controller.tray.notified.connect(lambda title, text: shown.append((title, text)))
    qtbot.waitUntil(lambda: controller.scanning.plans_followed > 0 and not controller.runner.busy, timeout=20_000)
    # The first launch opens the window itself: the "Ready to add … Open the companion" balloon
    # would only cover it.
    assert controller.window is not None
    assert controller.window.isVisible()
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        controller.migrate([sandbox.store])
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=20_000)
    assert shown == []

    # With the window closed, the tray does tell.
    controller.window.reject()
    controller.undo([sandbox.store])
    qtbot.waitUntil(lambda: bool(shown), timeout=20_000)
    assert shown[0][0] == "Migration undone"


def test_after_a_successful_migration_finish_quits_and_can_remove_start_at_login(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox, private_home: Path
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=True, debounce_ms=50))
    start_and_scan(qtbot, controller)
    assert controller.desktop.set_autostart(True)
    entry = private_home / ".config" / "autostart" / "agentmux-companion.desktop"
    assert entry.is_file()
    window = controller.window
    assert window is not None
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        controller.migrate([sandbox.store])
    page = window.result_page
    assert page.finish_button.isVisible()
    assert page.stop_autostart.isVisible()
    assert page.stop_autostart.isChecked()
    qtbot.waitUntil(lambda: not controller.runner.busy, timeout=20_000)
    with qtbot.waitSignal(controller.quit_requested, timeout=5_000):
        qtbot.mouseClick(page.finish_button, Qt.MouseButton.LeftButton)
    assert not entry.exists()


def test_the_result_names_its_backup_as_the_backups_window_does(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    """Issue #10: the result view after a migrate names its backup in the Backups window's words."""
    from agentmux_companion.core import backup_catalog

    controller, window = window_with_plan(qtbot, make_controller)
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        controller.migrate([sandbox.store])
    text = window.result_page.result_label.text()
    [entry] = backup_catalog.entries(controller.paths.ledger_path)
    assert entry.verified
    assert f"Backup: {entry.describe()}" in text
    assert entry.describe().startswith("Before migrating — ")
    assert entry.describe().endswith("— verified")



def test_each_plan_and_each_store_choice_fills_the_logins_table_once(
    qtbot: QtBot, make_controller: MakeController
) -> None:
    """The first plan, a rescan's plan and a change of store each fill the table once.

    No rows built and thrown away: at start-up that was a second table of badges on the way to the plan.
    """
    controller, _window = window_with_plan(qtbot, make_controller)
    plan = controller.plan
    assert plan is not None
    assert len(plan.stores) > 1
    page = PlanPage()
    qtbot.addWidget(page)
    inserted: list[int] = []
    page.providers_table.model().rowsInserted.connect(lambda _parent, first, last: inserted.append(last - first + 1))

    def logins_of_shown_store() -> int:
        shown = page.current_store_path()
        assert shown is not None
        store = plan.store(shown)
        assert store is not None
        return len(store.providers)

    page.show_plan(plan)  # the first plan: the first store is chosen and shown
    assert logins_of_shown_store() > 0
    assert sum(inserted) == logins_of_shown_store() == page.providers_table.rowCount()

    inserted.clear()
    page.show_plan(plan)  # a rescan: the chosen store stays chosen
    assert sum(inserted) == logins_of_shown_store() == page.providers_table.rowCount()

    inserted.clear()
    first = page.current_store_path()
    page.stores_list.setCurrentRow(1)  # the user picks another store
    assert page.current_store_path() != first
    assert sum(inserted) == logins_of_shown_store() == page.providers_table.rowCount()
