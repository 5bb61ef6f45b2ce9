"""The layout holds at 1024×700, at 1× and at 2× scale, in every state (issue #12).

The logins table keeps its rows, nothing is cut off, long paths elide in the middle with the full
path to hand.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from agentmux_companion.core.migration.plan import plan_every_store
from agentmux_companion.core.paths import AppPaths
from agentmux_companion.core.providers import ProviderRegistry
from agentmux_companion.core.sandbox import DemoSandbox
from agentmux_companion.ui.controller import ControllerOptions
from tests.ui.conftest import MakeController, window_with_plan
from tests.ui.layout_check import check

ROOT = Path(__file__).resolve().parents[2]


def test_layout_holds_at_1024_by_700(make_controller: MakeController, sandbox: DemoSandbox) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=False, debounce_ms=50))
    controller.start()
    assert check(controller, sandbox.store) == []


def test_layout_holds_at_2x_scale() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QT_SCALE_FACTOR": "2"}
    result = subprocess.run([sys.executable, "-m", "tests.ui.layout_check"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.stdout.splitlines()[:1] == ["scale 2.0"], result.stderr
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_long_path_elides_in_the_middle_with_the_full_path_to_copy(
    qtbot: QtBot, make_controller: MakeController
) -> None:
    from PySide6.QtGui import QGuiApplication

    controller = make_controller(options=ControllerOptions(use_tray=False))
    window = controller.ensure_window()
    window.show()
    path = "/home/someone/" + "very-long-folder-name/" * 12 + "backups"
    label = window.plan_page.backup_value
    label.set_path(path)
    qtbot.waitUntil(lambda: "…" in label.label.text())
    shown = label.label.text()
    assert shown.startswith("/home/some")
    assert shown.endswith("backups")
    assert len(shown) < len(path)
    assert label.label.toolTip() == path
    # Elided again to each new width of the window (the page refits it: no resize handler).
    window.resize(720, window.height())
    qtbot.waitUntil(lambda: len(label.label.text()) < len(shown))
    narrow = label.label.text()
    assert label.label.fontMetrics().horizontalAdvance(narrow) <= label.label.width()
    window.resize(1400, window.height())
    qtbot.waitUntil(lambda: len(label.label.text()) > len(narrow))
    label.copy_button.click()
    assert QGuiApplication.clipboard().text() == path


def test_the_logins_table_fits_its_rows_again_when_the_window_is_resized(
        qtbot: QtBot, make_controller: MakeController) -> None:
    # The page fits the rows to the wrapped "Why" column's width each time it changes.
    _controller, window = window_with_plan(qtbot, make_controller)
    table = window.plan_page.providers_table
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: table.columnWidth(3) > 500)
    qtbot.wait(50)
    wide = [table.rowHeight(row) for row in range(table.rowCount())]
    window.resize(720, 900)
    qtbot.waitUntil(lambda: [table.rowHeight(row) for row in range(table.rowCount())] != wide, timeout=5_000)
    narrow = [table.rowHeight(row) for row in range(table.rowCount())]
    assert max(narrow) > max(wide)  # the reasons wrap onto more lines


def test_the_first_plan_lays_the_window_out_once_after_it_is_filled(
        qtbot: QtBot, make_controller: MakeController, paths: AppPaths, registry: ProviderRegistry) -> None:
    # widgets.set_shown: Qt lays the whole window out there and then each time a child of a shown
    # window is shown, even one already on screen; the first fill of the window that says
    # "Looking for…" did that for each line it showed. Now it is laid out once, when the fill is
    # done: the notes have their old height when show_plan returns, their new one after.
    from PySide6.QtWidgets import QApplication

    controller = make_controller(options=ControllerOptions(use_tray=False))
    window = controller.ensure_window()
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)
    notes = window.plan_page.notes_label
    before = notes.geometry()
    window.show_plan(plan_every_store(paths, registry))
    assert notes.text()
    assert notes.geometry() == before
    QApplication.processEvents()
    assert notes.geometry().height() > before.height()


def test_set_shown_shows_and_hides_as_set_visible_does() -> None:
    from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

    from agentmux_companion.ui.widgets import set_shown

    window = QWidget()
    children = [QLabel(str(n)) for n in range(4)]
    column = QVBoxLayout(window)
    for child in children:
        column.addWidget(child)
    set_shown(children[0], False)  # before the window is shown: it stays hidden when it is
    set_shown(children[1], True)
    window.show()
    assert [child.isVisible() for child in children] == [False, True, True, True]
    set_shown(children[0], True)
    set_shown(children[2], False)
    set_shown(children[3], True)  # on screen already: nothing to do
    assert [child.isVisible() for child in children] == [True, True, False, True]
    window.hide()
    window.deleteLater()


def test_a_fit_still_pending_when_the_page_is_deleted_is_dropped(qtbot: QtBot) -> None:
    # The page fits its rows a turn after its table's columns change (_on_section_resized). A
    # window closed and deleted in between (a test's or the user's, at the end of a resize) used
    # to get that call anyway: "Internal C++ object already deleted", raised in the event loop,
    # which the companion reports as a bug. Seen once in the whole UI suite, in the demo test.
    import shiboken6
    from PySide6.QtCore import QCoreApplication

    from agentmux_companion.ui.plan_page import PlanPage

    page = PlanPage()
    page.providers_table.horizontalHeader().resizeSection(0, 180)  # asks for a fit a turn later
    shiboken6.delete(page)
    QCoreApplication.processEvents()
    qtbot.wait(20)
