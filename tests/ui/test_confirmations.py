"""Every write is confirmed the same way (issue #12, "Writes without asking").

No key in a list or table writes, and a running AgentMux is said first with an offer to wait.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from agentmux_companion.core.migration.plan import MigrationPlan, build_plan
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.core.sandbox import DemoSandbox
from agentmux_companion.ui.controller import ControllerOptions
from agentmux_companion.ui.dialogs import ConfirmDialog
from tests.ui.conftest import MakeController, answer, bundles, start_and_scan, window_with_plan

DEFAULT = ("default", "Default")


def press_enter_everywhere(qtbot: QtBot, widgets: list[QWidget]) -> None:
    for widget in widgets:
        widget.setFocus()
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            QTest.keyClick(widget, key)
            qtbot.wait(20)


def test_enter_in_every_list_and_table_never_writes(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    controller, window = window_with_plan(qtbot, make_controller)
    window.activateWindow()
    page = window.plan_page
    assert window.migrate_button.isEnabled()
    press_enter_everywhere(qtbot, [page.stores_list, page.providers_table])
    # Nothing asked, nothing written, and no button waits to be pressed by Enter.
    assert controller.dialog is None
    assert not controller.runner.busy
    assert DEFAULT not in bundles(sandbox.store)
    assert not any(b.isDefault() for b in window.findChildren(type(window.migrate_button)))

    # On the result page too: Enter in its text never undoes.
    controller.migrate([sandbox.store])
    qtbot.waitUntil(lambda: window.result_page.isVisible() and not controller.runner.busy, timeout=20_000)
    press_enter_everywhere(qtbot, [window.result_page.result_label, page.stores_list])
    assert controller.dialog is None
    assert DEFAULT in bundles(sandbox.store)


def test_migrate_asks_in_plain_words_with_verb_buttons_and_cancel_is_the_default(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    controller, window = window_with_plan(qtbot, make_controller)
    qtbot.mouseClick(window.migrate_button, Qt.MouseButton.LeftButton)
    dialog = controller.dialog
    assert isinstance(dialog, ConfirmDialog)
    assert dialog.isVisible()
    assert dialog.parent() is window
    assert dialog.windowTitle() == "Migrate 1 store?"
    assert [b.accessibleName() for b in (dialog.proceed_button, dialog.cancel_button)] == ["Migrate 1 store", "Cancel"]
    assert dialog.cancel_button.isDefault()
    assert not dialog.proceed_button.isDefault()
    changes = dialog.changes_label.text()
    assert "stable 0.33.4: add your Claude Code, Codex login(s) to the Default bundle" in changes
    assert "8 agent records (6 agents, 2 older copies) will use it" in changes  # the plan's count
    assert dialog.running_label is None  # AgentMux is not running here

    # Enter in the confirmation is Cancel: nothing is written.
    QTest.keyClick(dialog, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    assert not controller.runner.busy
    assert DEFAULT not in bundles(sandbox.store)
    # Esc too.
    qtbot.mouseClick(window.migrate_button, Qt.MouseButton.LeftButton)
    assert controller.dialog is not dialog
    assert controller.dialog is not None
    QTest.keyClick(controller.dialog, Qt.Key.Key_Escape)
    assert DEFAULT not in bundles(sandbox.store)


def test_undo_in_the_window_and_in_the_tray_ask_the_same_way(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=True, debounce_ms=50))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    assert controller.tray is not None
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        controller.migrate([sandbox.store])
    qtbot.waitUntil(lambda: not controller.runner.busy and bool(controller.undoable), timeout=20_000)

    # The window's Undo no longer reverts at once: it asks, and Cancel keeps the migration.
    qtbot.mouseClick(window.result_page.undo_button, Qt.MouseButton.LeftButton)
    in_window = answer(qtbot, controller, proceed=False)
    assert DEFAULT in bundles(sandbox.store)
    assert not controller.runner.busy

    controller.tray.rebuild_menu()
    undo = controller.tray.action("undo")
    assert undo is not None
    undo.trigger()
    with qtbot.waitSignal(controller.undo_finished, timeout=20_000):
        in_tray = answer(qtbot, controller)
    assert type(in_window) is type(in_tray) is ConfirmDialog
    for dialog in (in_window, in_tray):
        assert dialog.windowTitle() == "Undo the last migration?"
        assert dialog.proceed_button.accessibleName() == "Undo 1 store"
        assert "stable 0.33.4: put back as it was before the migration" in dialog.changes_label.text()
        # The same counts as the migration's result: 2 logins, 8 agent records.
        assert ("2 logins leave the Default bundle; 8 agent records get their former bundle back"
                in dialog.changes_label.text())
    assert DEFAULT not in bundles(sandbox.store)


def running_builder(paths: AppPaths, registry: ProviderRegistry, running: list[bool]) -> Callable[..., MigrationPlan]:
    """The real plan, with AgentMux reported running while ``running[0]`` (a real process cannot be faked)."""
    def build(_progress: Callable[[str], None]) -> MigrationPlan:
        plan = build_plan(paths, registry, None, None, include_all=True)
        stores = tuple(s._replace(agentmux_running=running[0]) for s in plan.stores)
        return plan._replace(stores=stores)

    return build


def test_agentmux_running_is_said_first_and_the_user_can_wait(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox, paths: AppPaths, registry: ProviderRegistry
) -> None:
    running = [True]
    controller = make_controller(options=ControllerOptions(use_tray=False, debounce_ms=50, agentmux_wait_ms=50),
                                 plan_builder=running_builder(paths, registry, running))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    qtbot.mouseClick(window.migrate_button, Qt.MouseButton.LeftButton)
    dialog = controller.dialog
    assert isinstance(dialog, ConfirmDialog)
    assert dialog.running_label is not None
    # Said first, before what will change; the choices are to wait, go ahead anyway, or cancel.
    layout = dialog.layout()
    assert layout is not None
    assert layout.indexOf(dialog.running_label) < layout.indexOf(dialog.changes_label)
    assert "AgentMux is running" in dialog.running_label.text()
    assert dialog.wait_button is not None
    assert dialog.proceed_button.accessibleName() == "Migrate 1 store anyway"
    assert dialog.cancel_button.isDefault()

    # Wait: nothing is written while AgentMux runs; the companion looks again by itself.
    qtbot.mouseClick(dialog.wait_button, Qt.MouseButton.LeftButton)
    scans = controller.scans_started
    qtbot.waitUntil(lambda: controller.scans_started >= scans + 2, timeout=10_000)
    assert DEFAULT not in bundles(sandbox.store)
    assert controller.dialog is dialog  # not asked again while it still runs

    # AgentMux closes: the confirmation comes back, without the warning, and migrates when answered.
    running[0] = False
    qtbot.waitUntil(lambda: controller.dialog is not dialog and controller.dialog is not None
                    and controller.dialog.isVisible(), timeout=10_000)
    assert controller.dialog.running_label is None
    with qtbot.waitSignal(controller.migrate_finished, timeout=20_000):
        answer(qtbot, controller)
    assert DEFAULT in bundles(sandbox.store)
    modal = QApplication.activeModalWidget()
    assert modal is None or not modal.isVisible()

