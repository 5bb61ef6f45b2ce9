"""Readable and accessible (issue #12).

Contrast from the palette roles in use, no disabled grey for information, a Tab order through
every control, names and descriptions, and plain words.
"""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from agentmux_companion.core.sandbox import DemoSandbox
from agentmux_companion.ui.controller import ControllerOptions
from agentmux_companion.ui.keyring_health import Health
from agentmux_companion.ui.plan_window import PlanWindow
from agentmux_companion.ui.widgets import contrast_ratio
from tests.ui.conftest import MakeController, start_and_scan, window_with_plan
from tests.ui.screenshot_scenario import dark_palette

WCAG_BODY = 4.5
INSIDER_WORDS = ("identity-bundle era", "back-fill", "db_agents", "0008_default_bundle", "acct:", "db_")


def palettes() -> dict[str, QPalette]:
    from PySide6.QtWidgets import QStyleFactory

    fusion = QStyleFactory.create("Fusion")
    assert fusion is not None
    return {"light": fusion.standardPalette(), "dark": dark_palette()}


def shown_labels(window: QWidget) -> list[QLabel]:
    return [w for w in window.findChildren(QLabel) if w.isVisibleTo(window) and w.text()
            and w.styleSheet() == ""]  # badges draw their own fixed colours (white on saturated)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_is_at_least_4_5_to_1(qtbot: QtBot, make_controller: MakeController, scheme: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    previous = app.palette()
    app.setPalette(palettes()[scheme])
    try:
        controller = make_controller(options=ControllerOptions(use_tray=False))
        start_and_scan(qtbot, controller)
        window = controller.window
        assert window is not None
        qtbot.waitUntil(lambda: controller.keyring.backend.health is not Health.CHECKING, timeout=20_000)
        labels = shown_labels(window)
        assert len(labels) >= 8
        failures = []
        for label in labels:
            # Information is never drawn disabled (the disabled grey is about 1.6:1 on light palettes).
            assert label.isEnabled(), f"{label.accessibleName()!r} is drawn in the disabled grey"
            palette = label.palette()
            foreground = palette.color(QPalette.ColorGroup.Active, label.foregroundRole())
            background = palette.color(QPalette.ColorGroup.Active, window.backgroundRole())
            ratio = contrast_ratio(foreground, background)
            if ratio < WCAG_BODY:
                failures.append(f"{label.accessibleName() or label.text()[:30]}: {ratio:.2f}")
        assert failures == []
    finally:
        app.setPalette(previous)


@pytest.mark.parametrize("use_tray", [True, False])
def test_tab_cycles_through_every_control_including_stores(
    qtbot: QtBot, make_controller: MakeController, use_tray: bool
) -> None:
    # With a tray, "More" is hidden: on the old code Tab then cycled Migrate → Rescan → Close for ever.
    controller = make_controller(options=ControllerOptions(use_tray=use_tray))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    window.activateWindow()
    qtbot.waitUntil(lambda: controller.keyring.backend.health is not Health.CHECKING, timeout=20_000)
    stores = window.plan_page.stores_list
    stores.setFocus()
    seen: list[QWidget] = []
    for _ in range(40):
        current = QApplication.focusWidget()
        assert current is not None
        qtbot.keyClick(current, "\t")
        focused = QApplication.focusWidget()
        assert focused is not None
        if focused is stores:
            break
        seen.append(focused)
    else:
        pytest.fail(f"Tab never came back to Stores: {[w.accessibleName() for w in seen]}")
    def inside_an_item_view(widget: QWidget) -> bool:
        # Qt's own parts of an item view (its viewport, header, corner button) are Qt's business.
        parent = widget.parent()
        return isinstance(parent, QAbstractItemView) or (
            parent is not None and isinstance(parent.parent(), QAbstractItemView))

    reachable = [w for w in window.findChildren(QWidget)
                 if w.isVisibleTo(window) and w.isEnabled() and w.focusPolicy() & w.focusPolicy().TabFocus
                 and not inside_an_item_view(w)]
    missing = [w.accessibleName() or type(w).__name__ for w in reachable if w not in seen and w is not stores]
    assert missing == []


def test_controls_have_names_and_descriptions(qtbot: QtBot, make_controller: MakeController) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=False))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    for widget in (window.plan_page.stores_list, window.plan_page.providers_table, window.migrate_button,
                   window.plan_page.keyring_checkbox, window.plan_page.details.toggle, window.banner.copy_button):
        assert widget.accessibleName(), type(widget).__name__
        assert widget.accessibleDescription(), type(widget).__name__
    interactive = window.findChildren(QAbstractButton) + window.findChildren(QAbstractItemView)
    unnamed = [w for w in interactive if not w.accessibleName() and w.isVisibleTo(window)
               and not isinstance(w.parent(), QAbstractItemView)]
    assert unnamed == []


def plain_texts(window: PlanWindow) -> str:
    """What the window says outside the Details disclosure."""
    texts = [window.windowTitle()]
    details = window.plan_page.details.body
    for label in window.findChildren(QLabel):
        if label.isVisibleTo(window) and label is not details:
            texts.append(label.text())
    lists = window.plan_page.stores_list
    texts += [lists.item(row).text() for row in range(lists.count())]
    table = window.plan_page.providers_table
    texts += [item.text() for r in range(table.rowCount()) for c in range(table.columnCount())
              if (item := table.item(r, c)) is not None]
    texts += [header.text() for c in range(table.columnCount()) if (header := table.horizontalHeaderItem(c))]
    return "\n".join(texts)


def test_the_window_speaks_plain_words_and_keeps_the_technical_ones_under_details(
    qtbot: QtBot, make_controller: MakeController
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=False))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    shown = plain_texts(window)
    assert [w for w in INSIDER_WORDS if w in shown] == []
    assert "agents" in window.plan_page.agents_value.text()
    window.plan_page.details.toggle.click()
    assert window.plan_page.details.body.isVisible()
    details = window.plan_page.details.body.text()
    assert "db_agent_instances" in details
    assert "db_agents" in details
    assert "db_identity_bundles" in details
    # How the store will use the logins (the plan's semantics), in words, with its reason.
    semantics = window.plan_page.semantics_value.text()
    assert semantics.startswith("AgentMux uses each tool's own login folder: this store is at version 4")


def test_the_codex_note_only_when_a_codex_login_is_there(
    qtbot: QtBot, make_controller: MakeController, sandbox: DemoSandbox
) -> None:
    controller = make_controller(options=ControllerOptions(use_tray=False))
    start_and_scan(qtbot, controller)
    window = controller.window
    assert window is not None
    assert "Codex:" in window.plan_page.notes_label.text()  # the demo has a Codex login
    shutil.rmtree(sandbox.home / ".codex")
    with qtbot.waitSignal(controller.scan_finished, timeout=20_000):
        controller.scan()
    assert "Codex" not in window.plan_page.notes_label.text()


def test_the_check_boxes_are_restyled_when_the_palette_changes(
        qtbot: QtBot, make_controller: MakeController, monkeypatch: pytest.MonkeyPatch) -> None:
    # A light/dark switch restyles the unchecked boxes (plan_window.PaletteWatch, from the first
    # plan on), which keep the palette they were styled with otherwise.
    # Counted on the class, before the window: the watch takes the page's method when it starts.
    from agentmux_companion.ui.plan_page import PlanPage

    restyled: list[bool] = []
    original = PlanPage.style_check_boxes

    def counting_restyle(page: PlanPage) -> None:
        restyled.append(True)
        original(page)

    monkeypatch.setattr(PlanPage, "style_check_boxes", counting_restyle)
    _controller, _window = window_with_plan(qtbot, make_controller)
    qtbot.wait(50)
    restyled.clear()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    previous = app.palette()
    try:
        app.setPalette(dark_palette())
        qtbot.waitUntil(lambda: bool(restyled), timeout=5_000)
    finally:
        app.setPalette(previous)
