"""ui/qt_values.py: the first window's Qt values without PySide6's ``Qt`` namespace, checked against it.

That the first plan is shown without building the namespace is checked in a fresh process
(tests/ui/test_app.py); here, in this one, the namespace is free to use as the reference.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTableWidget, QToolButton
from pytestqt.qtbot import QtBot

from agentmux_companion.ui import qt_values
from agentmux_companion.ui.widgets import Disclosure, PathLabel, elided_in_the_middle
from tests.ui.conftest import MakeController, window_with_plan


@pytest.mark.parametrize(("ours", "qts"), [
    (qt_values.CHECK_STATE_ROLE, Qt.ItemDataRole.CheckStateRole),
    (qt_values.ACCESSIBLE_TEXT_ROLE, Qt.ItemDataRole.AccessibleTextRole),
    (qt_values.SIZE_HINT_ROLE, Qt.ItemDataRole.SizeHintRole),
    (qt_values.USER_ROLE, Qt.ItemDataRole.UserRole),
    (qt_values.UNCHECKED, Qt.CheckState.Unchecked),
    (qt_values.CHECKED, Qt.CheckState.Checked),
])
def test_each_value_is_qts_own(ours: int, qts: Qt.ItemDataRole | Qt.CheckState) -> None:
    assert ours == qts.value


def test_an_enum_property_set_by_its_keys_reads_back_as_the_enum(qtbot: QtBot) -> None:
    label = QLabel("x")
    qtbot.addWidget(label)
    qt_values.set_enum_property(label, "alignment", "AlignLeft|AlignTop")
    qt_values.set_enum_property(label, "textInteractionFlags", "TextSelectableByMouse")
    assert label.alignment() == Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
    assert label.textInteractionFlags() == Qt.TextInteractionFlag.TextSelectableByMouse


@pytest.mark.parametrize(("name", "keys"), [
    ("alignment", "AlignSideways"),  # no such key
    ("alinment", "AlignLeft"),  # no such property: Qt would add a dynamic one and say False
])
def test_a_property_or_key_qt_does_not_have_raises(qtbot: QtBot, name: str, keys: str) -> None:
    label = QLabel("x")
    qtbot.addWidget(label)
    with pytest.raises(ValueError, match=name):
        qt_values.set_enum_property(label, name, keys)


def test_the_window_built_without_the_namespace_has_each_setting(
        qtbot: QtBot, make_controller: MakeController) -> None:
    _controller, window = window_with_plan(qtbot, make_controller)
    page = window.plan_page
    assert page.providers_table.textElideMode() == Qt.TextElideMode.ElideMiddle
    assert page.backup_value.label.textInteractionFlags() == Qt.TextInteractionFlag.TextSelectableByMouse
    assert window.result_page.result_label.textInteractionFlags() == Qt.TextInteractionFlag.TextSelectableByMouse
    assert page.details.body.textFormat() == Qt.TextFormat.PlainText
    # A store that can be migrated is a checked, user-checkable item; Migrate acts on it.
    item = page.stores_list.item(0)
    assert item.flags() & Qt.ItemFlag.ItemIsUserCheckable
    assert item.checkState() == Qt.CheckState.Checked
    assert window.checked_store_paths() == [page.current_store_path()]


def test_details_opens_and_closes_with_its_arrow(qtbot: QtBot) -> None:
    details = Disclosure("Details")
    qtbot.addWidget(details)
    assert details.toggle.arrowType() == Qt.ArrowType.RightArrow
    assert details.toggle.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    details.toggle.setChecked(True)
    assert details.toggle.arrowType() == Qt.ArrowType.DownArrow
    assert not details.body.isHidden()
    details.toggle.setChecked(False)
    assert details.toggle.arrowType() == Qt.ArrowType.RightArrow
    assert details.body.isHidden()


PATHS = [
    "/home/someone/.local/share/agentmux-companion/backups",
    "/home/üser/ökonomie/backups/2026/a very long folder name/with spaces/backups",
    "C:\\Users\\someone\\AppData\\Local\\AgentMux\\agentmux-companion\\backups",
]


@pytest.mark.usefixtures("qtbot")  # a QApplication, for the font
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("width", [40, 90, 160, 260])
def test_a_path_elided_in_the_middle_fits_and_keeps_both_ends_as_qt_does(path: str, width: int) -> None:
    metrics = QLabel().fontMetrics()
    ours = elided_in_the_middle(path, metrics, width)
    qts = metrics.elidedText(path, Qt.TextElideMode.ElideMiddle, width)
    assert metrics.horizontalAdvance(ours) <= width
    head, ellipsis, tail = ours.partition("…")
    assert ellipsis == "…"
    assert path.startswith(head)
    assert path.endswith(tail)
    # As much of the path as fits: within a character of what Qt keeps, never less.
    assert len(qts) <= len(ours) <= len(qts) + 1


@pytest.mark.usefixtures("qtbot")
def test_a_path_that_fits_is_left_whole_and_no_room_gives_nothing() -> None:
    metrics = QLabel().fontMetrics()
    assert elided_in_the_middle(PATHS[0], metrics, metrics.horizontalAdvance(PATHS[0])) == PATHS[0]
    assert elided_in_the_middle(PATHS[0], metrics, metrics.horizontalAdvance("…")) == "…"
    assert elided_in_the_middle(PATHS[0], metrics, 0) == ""
    assert elided_in_the_middle("", metrics, 0) == ""


def test_a_table_keeps_qts_elision_for_its_cells(qtbot: QtBot) -> None:
    # The property route reaches the same C++ setter as setTextElideMode would.
    table = QTableWidget()
    qtbot.addWidget(table)
    qt_values.set_enum_property(table, "textElideMode", "ElideRight")
    assert table.textElideMode() == Qt.TextElideMode.ElideRight
    button = QToolButton()
    qtbot.addWidget(button)
    qt_values.set_enum_property(button, "arrowType", "UpArrow")
    assert button.arrowType() == Qt.ArrowType.UpArrow


def test_a_path_label_elides_to_its_width_each_time_it_is_refitted(qtbot: QtBot) -> None:
    # widgets.PathLabel: elided when set and at each refit (its owner's call when its width
    # changes), with elided_in_the_middle, not Qt's elidedText.
    label = PathLabel("Backup folder")
    qtbot.addWidget(label)
    label.resize(900, 40)
    label.show()
    qtbot.waitExposed(label)
    label.set_path(PATHS[1])
    assert label.label.text() == PATHS[1]
    label.resize(260, 40)
    qtbot.waitUntil(lambda: label.label.width() < 260)
    label.refit()
    narrow = label.label.text()
    assert "…" in narrow
    assert label.label.fontMetrics().horizontalAdvance(narrow) <= label.label.width()
    assert label.full_text() == PATHS[1]
    label.resize(900, 40)
    qtbot.waitUntil(lambda: label.label.width() > 260)
    label.refit()
    assert label.label.text() == PATHS[1]

